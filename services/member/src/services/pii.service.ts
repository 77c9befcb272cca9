import { blindIndex, decrypt, encrypt, newWrappedDataKey, parseKey, unwrapDataKey, Role, type Principal } from '@membergraph/platform';
import type { MemberRow } from '../entities/member.entity';
import { maskName, maskPhone } from '../domain/mask';

export interface MemberPii {
  phone: string;
  name: string;
}

/**
 * Envelope encryption of member PII: each member has a data key wrapped by the master key (from
 * config, never stored), and phone lookups go through a keyed blind index.
 */
export class PiiVault {
  private readonly master: Buffer;
  private readonly index: Buffer;

  constructor(masterKey: string, indexKey: string) {
    this.master = parseKey(masterKey);
    this.index = parseKey(indexKey);
  }

  phoneIndex(e164: string): string {
    return blindIndex(this.index, `phone:${e164}`);
  }

  /** Columns for a new member's encrypted PII. */
  seal(memberId: string, pii: MemberPii): Pick<MemberRow, 'dataKey' | 'phoneEnc' | 'nameEnc' | 'phoneIndex'> {
    const { key, wrapped } = newWrappedDataKey(this.master, memberId);
    return {
      dataKey: wrapped,
      phoneIndex: this.phoneIndex(pii.phone),
      phoneEnc: encrypt(key, pii.phone, `${memberId}:phone`),
      nameEnc: encrypt(key, pii.name, `${memberId}:name`),
    };
  }

  open(row: Pick<MemberRow, 'id' | 'dataKey' | 'phoneEnc' | 'nameEnc'>): MemberPii {
    const key = unwrapDataKey(this.master, row.dataKey, row.id);
    return { phone: decrypt(key, row.phoneEnc, `${row.id}:phone`), name: decrypt(key, row.nameEnc, `${row.id}:name`) };
  }
}

/** ADMIN and SUPPORT see PII in clear, and a member sees their own; everyone else sees it masked. */
export function maySeePii(principal: Principal | null, memberId: string): boolean {
  if (!principal) return false;
  if (principal.kind === 'member') return principal.sub === memberId;
  return principal.roles.includes(Role.ADMIN) || principal.roles.includes(Role.SUPPORT);
}

export function presentPii(pii: MemberPii, clear: boolean): MemberPii {
  return clear ? pii : { phone: maskPhone(pii.phone), name: maskName(pii.name) };
}
