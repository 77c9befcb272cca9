import type { ServiceKit, Worker } from '@membergraph/platform';
import type { MarketingConfig } from '../config';
import { runCouponLockExpiry } from './coupon-lock.service';

/**
 * Releases lapsed coupon locks every LOCK_SWEEP_INTERVAL_MS (0: never). One sweep at a time per
 * replica; replicas may sweep at once (rows are claimed with SKIP LOCKED). A failed sweep is logged
 * and the next tick tries again.
 */
export class CouponLockSweeper implements Worker {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(private readonly kit: ServiceKit<MarketingConfig>) {}

  start(): void {
    const every = this.kit.config.LOCK_SWEEP_INTERVAL_MS;
    if (every === 0 || this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = runCouponLockExpiry(this.kit, new Date())
        .then(() => undefined)
        .catch((err: unknown) => this.kit.log.error({ err }, 'coupon lock sweep failed'))
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
