import { badField, serveRequests, type ServiceKit } from '@membergraph/platform';
import { MemberRpc, birthMonthRequest, type BirthMonthReply } from '@membergraph/contracts';
import type { MemberConfig } from '../config';
import { birthMonthOfMember } from '../services/birthday.service';

/**
 * The month (1-12) of a member's birthday, for the wallet's birthday-month bonus: read from the
 * plain month-day column (nothing decrypted, no PII beyond the month leaves). Null when the member
 * gave no birthday, is erased, or does not exist, so the caller cannot tell those apart.
 */
export async function birthMonthRequestHandler(kit: ServiceKit<MemberConfig>, raw: unknown): Promise<BirthMonthReply> {
  const parsed = birthMonthRequest.safeParse(raw);
  if (!parsed.success) throw badField('memberId', 'memberId must be a member id');
  return { month: await birthMonthOfMember(kit.ds.manager, parsed.data.memberId) };
}

/** Serves `rpc.member.birth_month` with the queue group `<prefix>member`, so replicas answer each request once. */
export function serveBirthMonth(kit: ServiceKit<MemberConfig>) {
  return serveRequests(kit.bus, MemberRpc.BirthMonth, (raw: unknown) => birthMonthRequestHandler(kit, raw), kit.log, `${kit.bus.prefix}member`);
}
