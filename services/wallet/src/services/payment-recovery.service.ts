import { affectedRows } from '@membergraph/platform';
import { drive, type CheckoutDeps } from './checkout.service';
import { restoreCoupon, settleRefund } from './payment-refund.service';

const OPEN = ['PENDING', 'CAPTURING', 'RELEASING'];
const BATCH = 100;

/**
 * Finishes checkouts whose driver is gone: at start and then every PAYMENT_RECOVERY_INTERVAL_MS,
 * every unfinished payment whose lease ran out (or whose holds expired before capture) is claimed
 * with a guarded UPDATE (so replicas do not both take it) and driven: forward once capture has
 * started, otherwise back.
 */
export class PaymentRecovery {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private stopped = true;

  constructor(private readonly deps: CheckoutDeps) {}

  start(): void {
    this.stopped = false;
    this.kick();
    const every = this.deps.kit.config.PAYMENT_RECOVERY_INTERVAL_MS;
    if (every > 0) this.timer = setInterval(() => this.kick(), every);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  private kick() {
    if (this.running || this.stopped) return;
    this.running = this.runOnce()
      .catch((err) => {
        this.deps.kit.log.error({ err }, 'payment recovery pass failed');
        return 0;
      })
      .finally(() => {
        this.running = undefined;
      });
  }

  /** One pass; returns how many payments it drove. */
  async runOnce(): Promise<number> {
    const { ds, config, log } = this.deps.kit;
    const now = new Date();
    const rows: Array<{ id: string }> = await ds.query(
      `SELECT id FROM wallet_payment
        WHERE status IN (?) AND (lease_until < ? OR (status = 'PENDING' AND expires_at < ?))
        ORDER BY created_at LIMIT ?`,
      [OPEN, now, now, BATCH],
    );
    let driven = 0;
    for (const { id } of rows) {
      if (this.stopped) break;
      const claimedAt = new Date();
      const claim = await ds.query(
        `UPDATE wallet_payment SET lease_until = ?
          WHERE id = ? AND status IN (?) AND (lease_until < ? OR (status = 'PENDING' AND expires_at < ?))`,
        [new Date(claimedAt.getTime() + config.PAYMENT_LEASE_MS), id, OPEN, claimedAt, claimedAt],
      );
      if (affectedRows(claim) !== 1) continue;
      try {
        const p = await drive(this.deps, id, 'recover');
        log.info({ paymentId: id, status: p.status, reason: p.failureReason }, 'payment recovered');
        driven++;
      } catch (err) {
        log.error({ err, paymentId: id }, 'payment recovery failed; retried on the next pass');
      }
    }
    return driven + (await this.settleRefunds());
  }

  /**
   * Points give-backs and coupon restores that refunds left pending (the request that made them got
   * no answer, or crashed after commit). Both calls are idempotent, so a replica or the original
   * request doing the same at once is harmless; the age filter keeps the loop off fresh ones.
   */
  private async settleRefunds(): Promise<number> {
    const { ds, config, log } = this.deps.kit;
    const before = new Date(Date.now() - config.RPC_TIMEOUT_MS);
    const refunds: Array<{ id: string }> = await ds.query(`SELECT id FROM wallet_payment_refund WHERE points_step = 'PENDING' AND created_at < ? ORDER BY created_at LIMIT ?`, [before, BATCH]);
    const coupons: Array<{ id: string }> = await ds.query(`SELECT id FROM wallet_payment WHERE coupon_step = 'RESTORE_PENDING' AND updated_at < ? ORDER BY updated_at LIMIT ?`, [before, BATCH]);
    let done = 0;
    for (const { id } of refunds) {
      if (this.stopped) break;
      try {
        await settleRefund(this.deps, id);
        done++;
      } catch (err) {
        log.error({ err, refundId: id }, 'refund settlement failed; retried on the next pass');
      }
    }
    for (const { id } of coupons) {
      if (this.stopped) break;
      try {
        await restoreCoupon(this.deps, id);
        done++;
      } catch (err) {
        log.error({ err, paymentId: id }, 'coupon restore failed; retried on the next pass');
      }
    }
    return done;
  }
}
