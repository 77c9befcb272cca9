import { currentTraceparent } from '@membergraph/platform';
import type { MemberRow } from '../entities/member.entity';
import { registerMember, registerMembers, type Registration, type RegistryDeps, type ValidRegistration } from './member-registry.service';

interface Waiting {
  registration: Registration;
  resolve: (row: MemberRow) => void;
  reject: (err: unknown) => void;
}

/** Registrations one unit of work writes at most. */
const MAX_BATCH = 64;
/** Batches written at the same time (one commits while the next is being written). */
const CONCURRENCY = 2;

/**
 * Group commit for staff registrations. A registration arriving while earlier ones are being
 * written waits for the next batch, and a batch is ONE unit of work (`registerMembers`: one
 * multi-row INSERT each of members, audit entries and events, one commit) instead of one per
 * member: a statement round trip costs more CPU here than the rest of a registration, so this is
 * what lets registrations scale under load. With nothing in flight a registration is written at
 * once, alone: no added latency when it is quiet. Every member still commits together with its
 * audit entry and events. A batch that fails (a taken phone or email: duplicate key) rolls back
 * whole and is re-run one registration per unit of work, so each request gets its own answer
 * (CONFLICT only for the taken one).
 */
export class RegistrationQueue {
  private readonly waiting: Waiting[] = [];
  private writing = 0;

  constructor(private readonly deps: RegistryDeps) {}

  /** Registers a validated member; resolves once its unit of work has committed. */
  register(actor: string, input: ValidRegistration): Promise<MemberRow> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ registration: { actor, input, traceparent: currentTraceparent() }, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.writing < CONCURRENCY && this.waiting.length) {
      const batch = this.waiting.splice(0, MAX_BATCH);
      this.writing++;
      void this.write(batch).finally(() => {
        this.writing--;
        this.pump();
      });
    }
  }

  private async write(batch: Waiting[]): Promise<void> {
    const { kit } = this.deps;
    if (batch.length > 1) {
      try {
        const rows = await kit.uow((em) => registerMembers(this.deps, em, batch.map((w) => w.registration)));
        batch.forEach((w, i) => w.resolve(rows[i]!));
        return;
      } catch {
        // Rolled back whole: one by one below, each with its own outcome.
      }
    }
    await Promise.all(
      batch.map(({ registration: { actor, input, traceparent }, resolve, reject }) =>
        kit.uow((em) => registerMember(this.deps, em, actor, input, traceparent)).then(resolve, reject),
      ),
    );
  }
}
