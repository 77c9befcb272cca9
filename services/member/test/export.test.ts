import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { Role } from '@membergraph/platform';
import { gql, serviceUnderTest, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';
import { EXPORT_COLUMNS, EXPORT_PAGE } from '../src/routes/members-export.route';

const svc = serviceUnderTest('member', createApp);
let admin: string;
let gold: string;
let frozen: string;
/** Members registered by this file (the database is its own). */
const TOTAL = EXPORT_PAGE * 2 + 200;

const count = async (sql: string, params: unknown[] = []) => Number((await svc.app.kit.ds.query(sql, params))[0].n);
const exportUrl = (query = '') => `${svc.url.replace(/\/graphql$/, '')}/export/members.csv${query}`;
const download = (query: string, token?: string) => fetch(exportUrl(query), { headers: token ? { authorization: `Bearer ${token}` } : {} });
const records = async (res: Response): Promise<Array<Record<string, string>>> => parse(await res.text(), { columns: true });

beforeAll(async () => {
  admin = await tokenFor([Role.ADMIN], { sub: 'staff-admin' });
  for (let batch = 0; batch * 1000 < TOTAL; batch++) {
    const rows = Array.from({ length: Math.min(1000, TOTAL - batch * 1000) }, (_, i) => {
      const n = batch * 1000 + i;
      return { phone: `+86137${String(n).padStart(8, '0')}`, name: `Export ${n}`, email: `m${n}@example.com`, birthday: '1990-01-02' };
    });
    const res = await gql(svc.url, `mutation($rows: [ImportMemberRow!]!) { importMembers(input: {rows: $rows}) { created } }`, { rows }, admin);
    expect(res.data.importMembers.created).toBe(rows.length);
  }
  const [a, b] = (await svc.app.kit.ds.query('SELECT id FROM member ORDER BY id LIMIT 2')) as Array<{ id: string }>;
  gold = a!.id;
  frozen = b!.id;
  await gql(svc.url, `mutation($m: ID!) { setMemberTier(input: {memberId: $m, tier: "GOLD", reason: "test"}) { id } }`, { m: gold }, admin);
  await gql(svc.url, `mutation($m: ID!) { changeMemberStatus(input: {memberId: $m, status: FROZEN, reason: "test"}) { id } }`, { m: frozen }, admin);
  await gql(svc.url, `mutation($m: ID!) { tagMember(input: {memberId: $m, tag: "vip"}) { id } }`, { m: frozen }, admin);
});

describe('GET /export/members.csv', () => {
  it('needs a valid bearer token with a back-office read role', async () => {
    expect((await download('')).status).toBe(401);
    expect((await download('', 'not-a-jwt')).status).toBe(401);
    const member = await tokenFor([Role.MEMBER], { kind: 'member', sub: gold });
    const res = await download('', member);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code).toBe('FORBIDDEN');
    // Finding people by phone is not for the masked roles, here as in members(filter).
    expect((await download('?phone=%2B8613700000001', await tokenFor([Role.ANALYST]))).status).toBe(403);
    expect((await download('?status=DORMANT', admin)).status).toBe(400);
    expect((await download('?registeredFrom=someday', admin)).status).toBe(400);
    expect((await fetch(exportUrl(), { method: 'POST', headers: { authorization: `Bearer ${admin}` } })).status).toBe(405);
  });

  it('streams every member, newest first, across more rows than a page', async () => {
    const res = await download('', admin);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const text = await res.clone().text();
    expect(text.split('\n')[0]).toBe(EXPORT_COLUMNS.join(','));
    const rows = await records(res);
    expect(rows).toHaveLength(TOTAL);
    const ids = rows.map((r) => r.id!);
    expect(new Set(ids).size).toBe(TOTAL);
    expect([...ids].sort().reverse()).toEqual(ids);
  });

  it('masks PII for roles that may not see it, and audits nothing for them', async () => {
    const before = await count("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'member.pii_read'");
    const rows = await records(await download(`?status=FROZEN`, await tokenFor([Role.OPERATOR], { sub: 'op-1' })));
    expect(rows).toEqual([
      expect.objectContaining({ id: frozen, phone: expect.stringMatching(/^\+86137\*\*\*\*\d{4}$/), name: expect.stringMatching(/^E\*+$/), email: expect.stringMatching(/^m\*\*\*\*@example\.com$/), birthday: '', gender: '', status: 'FROZEN', tier: 'MEMBER' }),
    ]);
    expect(await count("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'member.pii_read'")).toBe(before);
    const [entry] = await svc.app.kit.ds.query("SELECT detail FROM audit_log WHERE action = 'member.export' AND actor = 'op-1'");
    expect(JSON.parse(entry.detail)).toMatchObject({ clear: false, filter: { status: 'FROZEN' } });
  });

  it('shows PII in clear to ADMIN and SUPPORT, with one pii_read audit row per member exported', async () => {
    const support = await tokenFor([Role.SUPPORT], { sub: 'support-1' });
    const rows = await records(await download('?tier=GOLD', support));
    expect(rows).toEqual([expect.objectContaining({ id: gold, phone: '+8613700000000', name: 'Export 0', email: 'm0@example.com', birthday: '1990-01-02', tier: 'GOLD' })]);
    expect(await count("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'member.pii_read' AND actor = 'support-1' AND target = ?", [gold])).toBe(1);

    const all = await records(await download('', await tokenFor([Role.ADMIN], { sub: 'admin-export' })));
    expect(await count("SELECT COUNT(DISTINCT target) AS n FROM audit_log WHERE action = 'member.pii_read' AND actor = 'admin-export'")).toBe(all.length);
  });

  it('applies the filter as members(filter) does', async () => {
    const op = await tokenFor([Role.OPERATOR]);
    expect((await records(await download('?tag=vip', op))).map((r) => r.id)).toEqual([frozen]);
    expect((await records(await download('?tier=GOLD&status=FROZEN', op)))).toEqual([]);
    expect((await records(await download('?phone=137%200000%200001', op))).map((r) => r.id)).toEqual([frozen]);
    expect(await records(await download(`?registeredFrom=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, op))).toEqual([]);
    const active = await records(await download('?status=ACTIVE', await tokenFor([Role.ANALYST])));
    expect(active).toHaveLength(TOTAL - 1);
  });
});
