import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EntityManager } from 'typeorm';
import { AppError, ErrorCode, badField, isAllowed, principalFromHeader, Role, type ServiceKit } from '@membergraph/platform';
import type { WalletConfig } from '../config';
import { businessDayBounds } from '../domain/checkout';

/** What one store (null: no store: online channels, debits, card loads) did on a business day, in fen. */
export interface StoreFigures {
  storeId: string | null;
  topUps: { count: number; principal: number; bonus: number };
  topUpRefunds: { count: number; principalReturned: number; bonusTakenBack: number };
  spends: { count: number; principal: number; bonus: number };
  refunds: { count: number; principal: number; bonus: number; points: number };
  cardLoads: { count: number; amount: number };
}

/**
 * Cross-store settlement through the central stored-value pool: a store keeps the cash it takes for
 * top-ups and is paid for the goods it hands over against balance. `collected` = top-up principal
 * net of refunds paid back; `redeemed` = balance spent at the store net of payment refunds;
 * `net` = redeemed - collected: positive, the pool owes the store; negative, the store owes the pool.
 */
export interface StoreSettlement {
  storeId: string | null;
  collected: number;
  redeemed: number;
  net: number;
}

export interface Reconciliation extends Omit<StoreFigures, 'storeId'> {
  date: string;
  storeId: string | null;
  timeZone: string;
  from: Date;
  to: Date;
  /** SV_LIABILITY at the end of the day (all stores: the liability is central). */
  outstandingLiability: number;
  settlement: StoreSettlement[];
}

const n = (v: unknown) => Number(v ?? 0);
const key = (storeId: string | null) => storeId ?? '';

function empty(storeId: string | null): StoreFigures {
  return {
    storeId,
    topUps: { count: 0, principal: 0, bonus: 0 },
    topUpRefunds: { count: 0, principalReturned: 0, bonusTakenBack: 0 },
    spends: { count: 0, principal: 0, bonus: 0 },
    refunds: { count: 0, principal: 0, bonus: 0, points: 0 },
    cardLoads: { count: 0, amount: 0 },
  };
}

/** Parses and bounds the business day; BAD_USER_INPUT naming the field. */
export function dayWindow(config: WalletConfig, date: string, storeId?: string | null): { start: Date; end: Date } {
  const bounds = businessDayBounds(date, config.BUSINESS_TIME_ZONE);
  if (!bounds) throw badField('date', 'date must be a calendar date YYYY-MM-DD');
  if (storeId && storeId.length > 64) throw badField('storeId', 'storeId must be at most 64 characters');
  return bounds;
}

/**
 * The day's movements per store, read in one REPEATABLE READ snapshot so the figures and the
 * liability agree. Spends count at capture (the PAYMENT_CAPTURE journal), plus interim debits.
 */
export async function walletReconciliation(kit: ServiceKit<WalletConfig>, date: string, storeId?: string | null): Promise<Reconciliation> {
  const { start, end } = dayWindow(kit.config, date, storeId);
  return kit.ds.transaction('REPEATABLE READ', async (em) => {
    const stores = new Map<string, StoreFigures>();
    const at = (s: string | null) => stores.get(key(s)) ?? stores.set(key(s), empty(s)).get(key(s))!;
    const q = (sql: string) => em.query(sql, [start, end]) as Promise<Array<Record<string, unknown> & { store_id: string | null }>>;

    for (const r of await q(`SELECT store_id, COUNT(*) c, SUM(amount) p, SUM(bonus) b FROM wallet_top_up WHERE created_at >= ? AND created_at < ? GROUP BY store_id`)) {
      at(r.store_id).topUps = { count: n(r.c), principal: n(r.p), bonus: n(r.b) };
    }
    for (const r of await q(`SELECT t.store_id, COUNT(*) c, SUM(r.principal_returned) p, SUM(r.bonus_taken_back) b
        FROM wallet_top_up_refund r JOIN wallet_top_up t ON t.id = r.top_up_id WHERE r.created_at >= ? AND r.created_at < ? GROUP BY t.store_id`)) {
      at(r.store_id).topUpRefunds = { count: n(r.c), principalReturned: n(r.p), bonusTakenBack: n(r.b) };
    }
    for (const r of await q(`SELECT p.store_id, COUNT(*) c, SUM(p.from_principal) p, SUM(p.from_bonus) b
        FROM wallet_journal j JOIN wallet_payment p ON p.id = j.reference
       WHERE j.kind = 'PAYMENT_CAPTURE' AND j.created_at >= ? AND j.created_at < ? GROUP BY p.store_id`)) {
      at(r.store_id).spends = { count: n(r.c), principal: n(r.p), bonus: n(r.b) };
    }
    for (const r of await q(`SELECT NULL AS store_id, COUNT(*) c, SUM(from_principal) p, SUM(from_bonus) b FROM wallet_debit WHERE created_at >= ? AND created_at < ? HAVING COUNT(*) > 0`)) {
      const s = at(null).spends;
      at(null).spends = { count: s.count + n(r.c), principal: s.principal + n(r.p), bonus: s.bonus + n(r.b) };
    }
    for (const r of await q(`SELECT p.store_id, COUNT(*) c, SUM(r.to_principal) p, SUM(r.to_bonus) b, SUM(r.points) pts
        FROM wallet_payment_refund r JOIN wallet_payment p ON p.id = r.payment_id WHERE r.created_at >= ? AND r.created_at < ? GROUP BY p.store_id`)) {
      at(r.store_id).refunds = { count: n(r.c), principal: n(r.p), bonus: n(r.b), points: n(r.pts) };
    }
    for (const r of await q(`SELECT NULL AS store_id, COUNT(*) c, SUM(face_value) a FROM wallet_card WHERE bound_at >= ? AND bound_at < ? HAVING COUNT(*) > 0`)) {
      at(null).cardLoads = { count: n(r.c), amount: n(r.a) };
    }
    const [liability] = await em.query(
      `SELECT COALESCE(SUM(e.amount), 0) AS total FROM wallet_entry e JOIN wallet_journal j ON j.seq = e.journal_seq WHERE e.account = 'SV_LIABILITY' AND j.created_at < ?`,
      [end],
    );

    const lines = [...stores.values()].filter((s) => storeId === undefined || storeId === null || s.storeId === storeId).sort((a, b) => key(a.storeId).localeCompare(key(b.storeId)));
    const total = empty(storeId ?? null);
    for (const s of lines) {
      for (const part of ['topUps', 'topUpRefunds', 'spends', 'refunds', 'cardLoads'] as const) {
        const into = total[part] as unknown as Record<string, number>;
        for (const [k, v] of Object.entries(s[part])) into[k] = (into[k] ?? 0) + v;
      }
    }
    const settlement = lines.map((s) => {
      const collected = s.topUps.principal - s.topUpRefunds.principalReturned;
      const redeemed = s.spends.principal + s.spends.bonus - s.refunds.principal - s.refunds.bonus;
      return { storeId: s.storeId, collected, redeemed, net: redeemed - collected };
    });
    const { storeId: _ignored, ...figures } = total;
    return { date, storeId: storeId ?? null, timeZone: kit.config.BUSINESS_TIME_ZONE, from: start, to: end, ...figures, outstandingLiability: n(liability?.total), settlement };
  });
}

/** The journal lines of a business day with the store each belongs to, for ERP, in `seq` order. */
const LINES_SQL = `
  SELECT * FROM (
    SELECT j.seq, j.id AS journal_id, j.created_at, j.kind, j.member_id, j.reference, e.line, e.account, e.amount,
           COALESCE(t.store_id, tr.store_id, p.store_id, pr.store_id) AS store_id
      FROM wallet_journal j
      JOIN wallet_entry e ON e.journal_seq = j.seq
      LEFT JOIN wallet_top_up t ON j.kind = 'TOP_UP' AND t.id = j.reference
      LEFT JOIN wallet_top_up_refund r ON j.kind = 'TOP_UP_REFUND' AND r.id = j.reference
      LEFT JOIN wallet_top_up tr ON tr.id = r.top_up_id
      LEFT JOIN wallet_payment p ON j.kind IN ('PAYMENT_HOLD', 'PAYMENT_CAPTURE', 'PAYMENT_RELEASE') AND p.id = j.reference
      LEFT JOIN wallet_payment_refund x ON j.kind = 'PAYMENT_REFUND' AND x.id = j.reference
      LEFT JOIN wallet_payment pr ON pr.id = x.payment_id
     WHERE j.created_at >= ? AND j.created_at < ? AND (j.seq > ? OR (j.seq = ? AND e.line > ?))
  ) l
  WHERE (? IS NULL OR l.store_id = ?)
  ORDER BY l.seq, l.line
  LIMIT ?`;

const PAGE = 1_000;
const csvCell = (v: unknown) => {
  const s = v === null || v === undefined ? '' : v instanceof Date ? v.toISOString() : String(v);
  // Quote anything a spreadsheet could misread; a leading = + - @ is neutralised (CSV injection).
  return /[",\n\r]|^[=+\-@]/.test(s) && !/^-?\d+$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** Writes the day's journal lines as CSV, page by page, honouring back-pressure. */
export async function streamReconciliationCsv(em: EntityManager, window: { start: Date; end: Date }, storeId: string | null, out: NodeJS.WritableStream): Promise<number> {
  const write = (line: string) => (out.write(line) ? Promise.resolve() : new Promise<void>((r) => out.once('drain', () => r())));
  await write('seq,journal_id,created_at,kind,member_id,reference,store_id,line,account,amount\n');
  let after: [number, number] = [0, -1];
  let rows = 0;
  for (;;) {
    const page: Array<Record<string, unknown>> = await em.query(LINES_SQL, [window.start, window.end, after[0], after[0], after[1], storeId, storeId, PAGE]);
    for (const r of page) {
      await write(`${[r.seq, r.journal_id, new Date(r.created_at as string), r.kind, r.member_id, r.reference, r.store_id, r.line, r.amount].map(csvCell).join(',')}\n`);
    }
    rows += page.length;
    if (page.length < PAGE) return rows;
    const last = page.at(-1)!;
    after = [n(last.seq), n(last.line)];
  }
}

const FINANCE = { roles: [Role.FINANCE] };

/**
 * `GET /reconciliation.csv?date=YYYY-MM-DD[&storeId=...]` with a FINANCE (or ADMIN) bearer token:
 * the day's journal lines, streamed.
 */
export function reconciliationRoute(kit: ServiceKit<WalletConfig>) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = new URL(req.url ?? '/', 'http://local');
    if (url.pathname !== '/reconciliation.csv') return false;
    const fail = (status: number, code: string, message: string) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code, message } }));
      return true;
    };
    if (req.method !== 'GET') return fail(405, 'METHOD_NOT_ALLOWED', 'GET only');
    let principal;
    try {
      principal = await principalFromHeader(kit.tokens, req.headers.authorization);
    } catch (err) {
      return fail(401, ErrorCode.UNAUTHENTICATED, err instanceof Error ? err.message : 'bad token');
    }
    if (!principal) return fail(401, ErrorCode.UNAUTHENTICATED, 'a bearer token is required');
    if (!isAllowed(principal, FINANCE)) return fail(403, ErrorCode.FORBIDDEN, 'FINANCE or ADMIN only');
    const date = url.searchParams.get('date') ?? '';
    const storeId = url.searchParams.get('storeId') || null;
    let window;
    try {
      window = dayWindow(kit.config, date, storeId);
    } catch (err) {
      if (err instanceof AppError) return fail(400, String(err.extensions.code), err.message);
      throw err;
    }
    res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="wallet-${date}${storeId ? `-${storeId}` : ''}.csv"` });
    try {
      await streamReconciliationCsv(kit.ds.manager, window, storeId, res);
      res.end();
    } catch (err) {
      kit.log.error({ err }, 'reconciliation export failed');
      // Headers are gone: cutting the stream tells the client the file is incomplete.
      res.destroy(err instanceof Error ? err : new Error(String(err)));
    }
    return true;
  };
}
