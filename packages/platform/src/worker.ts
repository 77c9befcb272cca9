import type { Logger } from './telemetry';
import type { Worker } from './service';

/**
 * A {@link Worker} that runs `task` every `everyMs` (0 = never), one run at a time in this replica;
 * a failed run is logged and the next tick tries again. `stop()` waits for a run in flight, so the
 * database can close under it.
 */
export class IntervalWorker implements Worker {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly name: string,
    private readonly everyMs: number,
    private readonly log: Logger,
    private readonly task: () => Promise<unknown>,
  ) {}

  start(): void {
    if (this.everyMs === 0 || this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.task()
        .then(() => undefined)
        .catch((err: unknown) => this.log.error({ err }, `${this.name} failed`))
        .finally(() => {
          this.running = undefined;
        });
    }, this.everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
