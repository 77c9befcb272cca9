import type { EntityManager } from 'typeorm';

/** What an audit difference is about. */
export const AuditKind = {
  /** The account's balance is not the sum of its entries. */
  BALANCE: 'BALANCE',
  /** The latest entry's balance_after is not the account's balance. */
  BALANCE_AFTER: 'BALANCE_AFTER',
  /** lifetime_earned is not the sum of EARN entries. */
  LIFETIME_EARNED: 'LIFETIME_EARNED',
  /** Outside debt, the lots' remaining points are not the balance. */
  LOTS: 'LOTS',
  /** Points issued (the lots' original amounts) are not balance + spent + expired + reversed. */
  ISSUED: 'ISSUED',
  /** What was taken from lots is not what the draws record. */
  DRAWS: 'DRAWS',
  /** A debit entry's draws do not add up to it. */
  ENTRY_DRAWS: 'ENTRY_DRAWS',
  /** A lot holds less than nothing or more than it was credited with. */
  LOT_RANGE: 'LOT_RANGE',
  /** The account's held is not the sum of the entries' held, or not what its open holds reserve. */
  HELD: 'HELD',
  /** The unpaid part of REVERSE entries is not the account's debt (held - balance when positive). */
  DEBT: 'DEBT',
} as const;
export type AuditKind = (typeof AuditKind)[keyof typeof AuditKind];

export interface AuditDifference {
  memberId: string;
  kind: AuditKind;
  detail: string;
}

export interface AuditReport {
  ok: boolean;
  accountsChecked: number;
  differences: AuditDifference[];
}

/** At most this many differences are listed (the count of accounts checked is always complete). */
export const MAX_DIFFERENCES = 1_000;

interface Totals {
  member_id: string;
  balance: string;
  held: string;
  entries_held: string;
  open_holds: string;
  reverse_drawn: string;
  lifetime_earned: string;
  total: string;
  earned: string;
  spent: string;
  expired: string;
  reversed: string;
  issued: string;
  remaining: string;
  consumed: string;
  drawn: string;
  last_balance_after: string | null;
}

/**
 * Checks every account's invariants with a handful of grouped queries (no per-account loop):
 * balance = sum of entries = latest balance_after; lifetime earned = sum of EARN; held = sum of the
 * entries' held = open holds; lots' remaining = available (balance - held) or 0 in debt; the
 * undrawn part of refund reversals = the debt; issued = balance + spent + expired + reversed (a
 * CAPTURE is spent, a RESTORE unspends; HOLD and RELEASE move no balance); lots consumed = draws; each entry drawn as
 * its type says; every lot within 0..amount. Read-only; reads committed data, so
 * run it when writes are quiet for an exact answer.
 */
export async function auditPoints(em: EntityManager): Promise<AuditReport> {
  const rows: Totals[] = await em.query(`
    SELECT a.member_id, a.balance, a.held, a.lifetime_earned,
           COALESCE(e.held, 0) AS entries_held, COALESCE(h.open_holds, 0) AS open_holds, COALESCE(rd.drawn, 0) AS reverse_drawn,
           COALESCE(e.total, 0) AS total, COALESCE(e.earned, 0) AS earned, COALESCE(e.spent, 0) AS spent,
           COALESCE(e.expired, 0) AS expired, COALESCE(e.reversed, 0) AS reversed,
           COALESCE(l.issued, 0) AS issued, COALESCE(l.remaining, 0) AS remaining, COALESCE(l.consumed, 0) AS consumed,
           COALESCE(d.drawn, 0) AS drawn,
           (SELECT x.balance_after FROM points_entry x WHERE x.member_id = a.member_id ORDER BY x.id DESC LIMIT 1) AS last_balance_after
      FROM points_account a
      LEFT JOIN (SELECT member_id, SUM(amount) AS total, SUM(held) AS held,
                        SUM(CASE WHEN type = 'EARN' THEN amount ELSE 0 END) AS earned,
                        -SUM(CASE WHEN type IN ('SPEND', 'CAPTURE', 'RESTORE') OR (type = 'ADJUST' AND amount < 0) THEN amount ELSE 0 END) AS spent,
                        -SUM(CASE WHEN type = 'EXPIRE' THEN amount ELSE 0 END) AS expired,
                        -SUM(CASE WHEN type = 'REVERSE' THEN amount ELSE 0 END) AS reversed
                   FROM points_entry GROUP BY member_id) e ON e.member_id = a.member_id
      LEFT JOIN (SELECT member_id, SUM(amount) AS issued, SUM(remaining) AS remaining, SUM(amount - remaining) AS consumed
                   FROM points_lot GROUP BY member_id) l ON l.member_id = a.member_id
      LEFT JOIN (SELECT member_id, SUM(amount) AS drawn FROM points_draw GROUP BY member_id) d ON d.member_id = a.member_id
      LEFT JOIN (SELECT member_id, SUM(amount) AS open_holds FROM points_hold WHERE status = 'HELD' GROUP BY member_id) h ON h.member_id = a.member_id
      LEFT JOIN (SELECT x.member_id, SUM(x.amount) AS drawn FROM points_draw x JOIN points_entry r ON r.id = x.entry_id AND r.type = 'REVERSE'
                  GROUP BY x.member_id) rd ON rd.member_id = a.member_id
     ORDER BY a.member_id`);
  const differences: AuditDifference[] = [];
  const add = (memberId: string, kind: AuditKind, detail: string) => {
    if (differences.length < MAX_DIFFERENCES) differences.push({ memberId, kind, detail });
  };
  for (const r of rows) {
    const n = (v: string | null) => Number(v ?? 0);
    const balance = n(r.balance);
    if (balance !== n(r.total)) add(r.member_id, AuditKind.BALANCE, `balance ${balance}, entries sum to ${n(r.total)}`);
    if (r.last_balance_after !== null && n(r.last_balance_after) !== balance) {
      add(r.member_id, AuditKind.BALANCE_AFTER, `balance ${balance}, latest entry says ${n(r.last_balance_after)}`);
    }
    if (n(r.lifetime_earned) !== n(r.earned)) add(r.member_id, AuditKind.LIFETIME_EARNED, `lifetime earned ${n(r.lifetime_earned)}, EARN entries sum to ${n(r.earned)}`);
    const held = n(r.held);
    if (held !== n(r.entries_held) || held !== n(r.open_holds)) {
      add(r.member_id, AuditKind.HELD, `held ${held}, entries say ${n(r.entries_held)}, open holds reserve ${n(r.open_holds)}`);
    }
    // Held points left their lots when the hold was made; in debt the lots are empty.
    const available = balance - held;
    if (n(r.remaining) !== Math.max(0, available)) add(r.member_id, AuditKind.LOTS, `available ${available} (balance ${balance} - held ${held}), lots hold ${n(r.remaining)}`);
    const unpaid = n(r.reversed) - n(r.reverse_drawn);
    if (unpaid !== Math.max(0, -available)) add(r.member_id, AuditKind.DEBT, `refunds left ${unpaid} undrawn, debt is ${Math.max(0, -available)}`);
    const accounted = balance + n(r.spent) + n(r.expired) + n(r.reversed);
    if (n(r.issued) !== accounted) {
      add(r.member_id, AuditKind.ISSUED, `issued ${n(r.issued)}, balance ${balance} + spent ${n(r.spent)} + expired ${n(r.expired)} + reversed ${n(r.reversed)} = ${accounted}`);
    }
    if (n(r.consumed) !== n(r.drawn)) add(r.member_id, AuditKind.DRAWS, `lots gave up ${n(r.consumed)}, draws record ${n(r.drawn)}`);
  }
  // What each entry must have drawn: a debit its points, a HOLD what it reserved, a RELEASE that
  // back (negative), a RESTORE its points back (negative), a CAPTURE nothing (its points are the HOLD's draws), a credit nothing; a REVERSE
  // anything up to its points (the rest is debt, checked per account above).
  const undrawn: Array<{ member_id: string; id: string; amount: string; drawn: string }> = await em.query(`
    SELECT e.member_id, e.id, e.amount, COALESCE(d.drawn, 0) AS drawn
      FROM points_entry e
      LEFT JOIN (SELECT entry_id, SUM(amount) AS drawn FROM points_draw GROUP BY entry_id) d ON d.entry_id = e.id
     WHERE CASE
             WHEN e.type = 'REVERSE' THEN COALESCE(d.drawn, 0) < 0 OR COALESCE(d.drawn, 0) > -e.amount
             WHEN e.type IN ('HOLD', 'RELEASE') THEN COALESCE(d.drawn, 0) <> e.held
             WHEN e.type = 'RESTORE' THEN COALESCE(d.drawn, 0) <> -e.amount
             WHEN e.amount < 0 AND e.type IN ('SPEND', 'ADJUST', 'EXPIRE') THEN COALESCE(d.drawn, 0) <> -e.amount
             ELSE COALESCE(d.drawn, 0) <> 0
           END
     LIMIT ${MAX_DIFFERENCES}`);
  for (const u of undrawn) add(u.member_id, AuditKind.ENTRY_DRAWS, `entry ${u.id} of ${Number(u.amount)} has draws of ${Number(u.drawn)}`);
  const outOfRange: Array<{ member_id: string; id: string; amount: string; remaining: string }> = await em.query(`
    SELECT member_id, id, amount, remaining FROM points_lot WHERE remaining < 0 OR remaining > amount LIMIT ${MAX_DIFFERENCES}`);
  for (const l of outOfRange) add(l.member_id, AuditKind.LOT_RANGE, `lot ${l.id} of ${Number(l.amount)} holds ${Number(l.remaining)}`);
  return { ok: differences.length === 0, accountsChecked: rows.length, differences };
}
