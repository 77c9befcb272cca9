import type { ServiceKit } from '@membergraph/platform';
import type { PointsConfig } from '../config';
import { runHoldExpiry } from './points-hold.service';

/** The operator recorded on RELEASE entries the sweeper writes. */
export const SWEEPER_OPERATOR = 'system:hold-sweeper';

/**
 * Releases expired holds every HOLD_SWEEP_INTERVAL_MS. One sweep at a time per replica; several
 * replicas may sweep at once (the run re-reads holds under the account locks). A failed sweep is
 * logged and the next tick tries again.
 */
export class HoldSweeper {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(private readonly kit: ServiceKit<PointsConfig>) {}

  start(): void {
    const every = this.kit.config.HOLD_SWEEP_INTERVAL_MS;
    if (every === 0 || this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = runHoldExpiry(this.kit, new Date(), SWEEPER_OPERATOR)
        .then(() => undefined)
        .catch((err: unknown) => this.kit.log.error({ err }, 'hold sweep failed'))
        .finally(() => {
          this.running = undefined;
        });
    }, every);
    this.timer.unref();
  }

  /** Stops ticking and waits for a sweep in flight, so the database can close under it. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
