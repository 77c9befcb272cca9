import type { IncomingMessage, ServerResponse } from 'node:http';
import { once } from 'node:events';
import { stringify } from 'csv-stringify';
import {
  AppError,
  AuditEntryEntity,
  ErrorCode,
  STAFF_READ,
  audit,
  badField,
  newId,
  principalFromHeader,
  requirePermission,
  type ServiceKit,
} from '@membergraph/platform';
import type { MemberConfig } from '../config';
import type { MemberRow } from '../entities/member.entity';
import { authorizeSearch, searchMembers, type MemberFilter } from '../services/member-search.service';
import { maySeePii, presentPii } from '../services/pii.service';
import { depsOf } from '../services/deps';

export const EXPORT_PATH = '/export/members.csv';
/** Rows read (and decrypted, and audited) per keyset page: memory stays flat whatever the export's size. */
export const EXPORT_PAGE = 500;

export const EXPORT_COLUMNS = ['id', 'phone', 'name', 'email', 'birthday', 'gender', 'channel', 'status', 'tier', 'registeredAt', 'profileCompletedAt'] as const;

const STATUSES = new Set(['ACTIVE', 'FROZEN', 'BLACKLISTED', 'ERASED']);
const HTTP_STATUS: Record<string, number> = { [ErrorCode.UNAUTHENTICATED]: 401, [ErrorCode.FORBIDDEN]: 403, [ErrorCode.BAD_USER_INPUT]: 400 };

/** `members(filter)` read from the query string: the same names, dates as ISO-8601. */
export function filterFromQuery(params: URLSearchParams): MemberFilter {
  const filter: MemberFilter = {};
  for (const key of ['phone', 'name', 'tier', 'tag'] as const) {
    const v = params.get(key);
    if (v !== null && v !== '') filter[key] = v;
  }
  const status = params.get('status');
  if (status) {
    if (!STATUSES.has(status)) throw badField('status', 'status must be ACTIVE, FROZEN, BLACKLISTED or ERASED');
    filter.status = status;
  }
  for (const key of ['registeredFrom', 'registeredTo'] as const) {
    const v = params.get(key);
    if (!v) continue;
    const t = Date.parse(v);
    if (Number.isNaN(t)) throw badField(key, `${key} must be an ISO-8601 time`);
    filter[key] = new Date(t);
  }
  return filter;
}

/**
 * `GET /export/members.csv?tier=&status=&tag=&registeredFrom=&registeredTo=&phone=&name=`: the
 * members `members(filter)` would list, newest first, as CSV streamed page by page (keyset on id,
 * so nothing is held beyond one page and a slow client slows the reads down). Bearer token with a
 * back-office read role or `members:read`; PII is masked unless the caller is ADMIN or SUPPORT, and
 * then every page's members get their `member.pii_read` audit rows BEFORE the page is sent. Each
 * export is audited as `member.export` with its filter (phone and name only as "given").
 */
export function membersExportRoute(kit: ServiceKit<MemberConfig>) {
  const { vault } = depsOf(kit);
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== EXPORT_PATH) return false;
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET', 'content-type': 'text/plain' }).end('method not allowed');
      return true;
    }
    const requestId = String(req.headers['x-request-id'] ?? newId());
    let first: MemberRow[];
    let filter: MemberFilter;
    let clear: boolean;
    let actor: string;
    try {
      const principal = requirePermission({ principal: await principalFromHeader(kit.tokens, req.headers.authorization), requestId }, STAFF_READ);
      filter = filterFromQuery(url.searchParams);
      authorizeSearch(principal, filter);
      // STAFF_READ has let no member token through, so the role alone decides.
      clear = maySeePii(principal, '');
      actor = principal.sub;
      first = await searchMembers(kit.ds.manager, vault, filter, EXPORT_PAGE);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      const code = String(err.extensions.code);
      res.writeHead(HTTP_STATUS[code] ?? 400, { 'content-type': 'application/json', ...(code === ErrorCode.UNAUTHENTICATED ? { 'www-authenticate': 'Bearer' } : {}) });
      res.end(JSON.stringify({ errors: [{ message: err.message, extensions: err.extensions }] }));
      return true;
    }
    await audit(kit.ds.manager, actor, 'member.export', 'members', { requestId, clear, filter: auditedFilter(filter) });

    res.writeHead(200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': 'attachment; filename="members.csv"',
      'cache-control': 'no-store',
    });
    const csv = stringify({ header: true, columns: [...EXPORT_COLUMNS], cast: { date: (d) => d.toISOString() } });
    csv.pipe(res);
    let gone = false;
    res.on('close', () => (gone = true));
    try {
      let page = first;
      while (page.length && !gone) {
        if (clear) await auditPiiReads(kit, actor, requestId, page);
        for (const m of page) {
          const pii = presentPii(vault.open(m), clear);
          const record = {
            id: m.id,
            phone: pii.phone,
            name: pii.name,
            email: pii.email ?? '',
            birthday: pii.birthday ?? '',
            gender: pii.gender ?? '',
            channel: m.channel,
            status: m.status,
            tier: m.tierCode,
            registeredAt: m.registeredAt,
            profileCompletedAt: m.profileCompletedAt ?? '',
          };
          // Backpressure: wait while the client is slower than the database.
          if (!csv.write(record)) await Promise.race([once(csv, 'drain'), once(res, 'close')]);
          if (gone) break;
        }
        if (page.length < EXPORT_PAGE) break;
        page = await searchMembers(kit.ds.manager, vault, filter, EXPORT_PAGE, page.at(-1)!.id);
      }
      csv.end();
    } catch (err) {
      // Headers are gone: abort the response so the client sees a broken transfer, never a short file.
      kit.log.error({ err, requestId }, 'member export failed');
      csv.destroy();
      res.destroy(err as Error);
    }
    return true;
  };
}

/** The filter as the audit log keeps it: PII search terms only as "given". */
function auditedFilter(filter: MemberFilter): Record<string, unknown> {
  const { phone, name, ...rest } = filter;
  return { ...rest, ...(phone ? { phone: 'given' } : {}), ...(name ? { name: 'given' } : {}) };
}

/** One `member.pii_read` row per exported member in clear (as for GraphQL reads), one INSERT per page. */
async function auditPiiReads(kit: ServiceKit, actor: string, requestId: string, page: MemberRow[]): Promise<void> {
  const at = new Date();
  const rows = page
    .filter((m) => m.status !== 'ERASED')
    .map((m) => ({ id: newId(), actor, action: 'member.pii_read', target: m.id, detail: JSON.stringify({ requestId, export: true }), at }));
  if (rows.length) await kit.ds.getRepository(AuditEntryEntity).insert(rows);
}
