import { audit, type ServiceKit } from '@membergraph/platform';
import type { MemberConfig } from '../config';
import { evalDateOf, evaluateMember, loadLadder, membersAboveEntry } from '../services/tier.service';

const BATCH = 200;

export interface TierEvaluationSummary {
  asOf: Date;
  evaluated: number;
  downgraded: number;
  protected: number;
  alreadyEvaluated: number;
}

/**
 * The periodic tier evaluation for the day of `asOf`. Like an event handler it is an edge: it opens
 * one unit of work per member, so a crash half-way keeps what was done and a re-run of the day
 * picks up the rest (members already evaluated that day are skipped). Only members above the entry
 * tier can move down, so only they are read.
 */
export async function runTierEvaluation(kit: ServiceKit<MemberConfig>, actor: string, asOf: Date): Promise<TierEvaluationSummary> {
  const ladder = await loadLadder(kit.ds.manager);
  const summary: TierEvaluationSummary = { asOf, evaluated: 0, downgraded: 0, protected: 0, alreadyEvaluated: 0 };
  let after = '';
  for (;;) {
    const ids = await membersAboveEntry(kit.ds.manager, ladder, after, BATCH);
    for (const id of ids) {
      const outcome = await kit.uow((em) => evaluateMember(kit, em, id, ladder, asOf));
      if (outcome === 'GONE') continue;
      if (outcome === 'ALREADY_EVALUATED') {
        summary.alreadyEvaluated++;
        continue;
      }
      summary.evaluated++;
      if (outcome === 'DOWNGRADE') summary.downgraded++;
      if (outcome === 'PROTECTED') summary.protected++;
    }
    if (ids.length < BATCH) break;
    after = ids.at(-1)!;
  }
  await kit.uow((em) => audit(em, actor, 'tier.evaluation_run', evalDateOf(asOf), { ...summary, asOf: asOf.toISOString() }));
  kit.log.info({ ...summary }, 'tier evaluation done');
  return summary;
}
