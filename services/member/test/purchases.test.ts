import { beforeAll, describe, expect, it } from 'vitest';
import { Role } from '@membergraph/platform';
import { gql, serviceUnderTest, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';

const svc = serviceUnderTest('member', createApp);
let admin: string;
let memberId: string;
let seq = 0;

const RECORD = `mutation($input: RecordOrderInput!) { recordOrder(input: $input) { id amount refundedAmount lines { sku category quantity amount } } }`;
const RECORD_MANY = `mutation($input: [RecordOrderInput!]!) { recordOrders(input: $input) { index status reason code field order { id externalId } } }`;
const REFUND = `mutation($input: RecordRefundInput!) { recordRefund(input: $input) { id source refundId amount refundedAt order { id amount refundedAmount } } }`;

const count = async (sql: string, params: unknown[] = []) => Number((await svc.app.kit.ds.query(sql, params))[0].n);
const payloads = async (type: string) =>
  ((await svc.app.kit.ds.query('SELECT payload FROM outbox WHERE type = ? ORDER BY seq', [type])) as Array<{ payload: string }>).map((r) => JSON.parse(r.payload));

async function order(amount: number, extra: Record<string, unknown> = {}) {
  const input = { source: 'pos', externalId: `O-${++seq}`, memberId, amount, channel: 'STORE', ...extra };
  const res = await gql(svc.url, RECORD, { input }, admin);
  expect(res.errors).toBeUndefined();
  return { ...res.data.recordOrder, externalId: input.externalId };
}

beforeAll(async () => {
  admin = await tokenFor([Role.ADMIN], { sub: 'staff-admin' });
  const reg = await gql(svc.url, `mutation { registerMember(input: {phone: "13900000001", name: "Wang Fang", channel: STORE}) { id } }`, undefined, admin);
  memberId = reg.data.registerMember.id;
});

describe('order lines', () => {
  it('keeps the lines and carries them into order.completed, whatever the paid amount (discounts)', async () => {
    const lines = [
      { sku: 'LATTE', category: 'coffee', quantity: 2, amount: 6_000 },
      { sku: 'CAKE', quantity: 1, amount: 0 },
    ];
    const o = await order(5_000, { lines });
    expect(o.lines).toEqual([lines[0], { ...lines[1], category: null }]);
    const event = (await payloads('order.completed')).find((e) => e.data.orderId === o.id);
    expect(event.data.lines).toEqual([lines[0], { ...lines[1], category: null }]);
    expect(event.data.amount).toBe(5_000);
  });

  it('leaves lines out of order.completed when the source sent none', async () => {
    const o = await order(100);
    expect(o.lines).toBeNull();
    const event = (await payloads('order.completed')).find((e) => e.data.orderId === o.id);
    expect(event.data).not.toHaveProperty('lines');
  });

  it('rejects a negative line amount or a zero quantity with BAD_USER_INPUT naming the line, and writes nothing', async () => {
    const before = await count('SELECT COUNT(*) AS n FROM member_order');
    for (const [bad, field] of [
      [{ sku: 'X', quantity: 1, amount: -1 }, 'lines.1.amount'],
      [{ sku: 'X', quantity: 0, amount: 1 }, 'lines.1.quantity'],
      [{ sku: '', quantity: 1, amount: 1 }, 'lines.1.sku'],
    ] as const) {
      const input = { source: 'pos', externalId: `BAD-${++seq}`, memberId, amount: 100, channel: 'STORE', lines: [{ sku: 'OK', quantity: 1, amount: 1 }, bad] };
      const res = await gql(svc.url, RECORD, { input }, admin);
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    expect(await count('SELECT COUNT(*) AS n FROM member_order')).toBe(before);
  });

  it('treats the same order id with other lines as CONFLICT', async () => {
    const input = { source: 'pos', externalId: 'L-1', memberId, amount: 100, channel: 'STORE', lines: [{ sku: 'A', quantity: 1, amount: 100 }] };
    expect((await gql(svc.url, RECORD, { input }, admin)).errors).toBeUndefined();
    expect((await gql(svc.url, RECORD, { input }, admin)).errors).toBeUndefined();
    const other = { ...input, lines: [{ sku: 'A', quantity: 2, amount: 100 }] };
    expect((await gql(svc.url, RECORD, { input: other }, admin)).errors?.[0]?.extensions?.code).toBe('CONFLICT');
  });
});

describe('recordRefund', () => {
  it('refunds part of an order, then the rest, announcing order.refunded with running totals', async () => {
    const o = await order(10_000);
    const r1 = await gql(svc.url, REFUND, { input: { source: 'pos', externalOrderId: o.externalId, refundId: 'R-1', amount: 3_000 } }, admin);
    expect(r1.errors).toBeUndefined();
    expect(r1.data.recordRefund).toMatchObject({ source: 'pos', refundId: 'R-1', amount: 3_000, order: { id: o.id, refundedAmount: 3_000 } });
    const r2 = await gql(svc.url, REFUND, { input: { source: 'pos', externalOrderId: o.externalId, refundId: 'R-2', amount: 7_000 } }, admin);
    expect(r2.data.recordRefund.order.refundedAmount).toBe(10_000);

    const events = (await payloads('order.refunded')).filter((e) => e.data.orderId === o.id);
    expect(events.map((e) => e.data)).toEqual([
      { refundId: r1.data.recordRefund.id, orderId: o.id, memberId, source: 'pos', externalOrderId: o.externalId, amount: 3_000, refundedTotal: 3_000, orderAmount: 10_000, refundedAt: expect.any(String) },
      { refundId: r2.data.recordRefund.id, orderId: o.id, memberId, source: 'pos', externalOrderId: o.externalId, amount: 7_000, refundedTotal: 10_000, orderAmount: 10_000, refundedAt: expect.any(String) },
    ]);
    expect(events[0].subject).toBe(memberId);
  });

  it('refuses more than what is left with BAD_USER_INPUT on amount, and writes nothing', async () => {
    const o = await order(5_000);
    await gql(svc.url, REFUND, { input: { source: 'pos', externalOrderId: o.externalId, refundId: 'R-3', amount: 4_000 } }, admin);
    const refunds = await count('SELECT COUNT(*) AS n FROM member_refund');
    const outbox = await count('SELECT COUNT(*) AS n FROM outbox');
    const res = await gql(svc.url, REFUND, { input: { source: 'pos', externalOrderId: o.externalId, refundId: 'R-4', amount: 1_001 } }, admin);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'amount', refundable: 1_000 });
    expect(await count('SELECT COUNT(*) AS n FROM member_refund')).toBe(refunds);
    expect(await count('SELECT COUNT(*) AS n FROM outbox')).toBe(outbox);
    expect(await count('SELECT refunded_amount AS n FROM member_order WHERE id = ?', [o.id])).toBe(4_000);
  });

  it('rejects zero, negative and malformed refunds with BAD_USER_INPUT naming the field; an unknown order is NOT_FOUND', async () => {
    const o = await order(1_000);
    for (const [bad, field] of [
      [{ amount: 0 }, 'amount'],
      [{ amount: -5 }, 'amount'],
      [{ refundId: '' }, 'refundId'],
      [{ source: 'bad source' }, 'source'],
    ] as const) {
      const base = { source: 'pos', externalOrderId: o.externalId, refundId: `RB-${++seq}`, amount: 100 };
      const res = await gql(svc.url, REFUND, { input: Object.assign(base, bad) }, admin);
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    const missing = await gql(svc.url, REFUND, { input: { source: 'pos', externalOrderId: 'NOPE', refundId: 'RB-x', amount: 1 } }, admin);
    expect(missing.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'externalOrderId' });
  });

  it('is idempotent on (source, refundId): a retry returns the first refund, other details are CONFLICT', async () => {
    const o = await order(2_000);
    const input = { source: 'pos', externalOrderId: o.externalId, refundId: 'R-IDEM', amount: 500 };
    const first = await gql(svc.url, REFUND, { input }, admin);
    const again = await gql(svc.url, REFUND, { input }, admin);
    expect(again.data.recordRefund).toEqual(first.data.recordRefund);
    expect((await gql(svc.url, REFUND, { input: { ...input, amount: 600 } }, admin)).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'refundId' });
    const o2 = await order(2_000);
    expect((await gql(svc.url, REFUND, { input: { ...input, externalOrderId: o2.externalId } }, admin)).errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(await count("SELECT COUNT(*) AS n FROM member_refund WHERE refund_id = 'R-IDEM'")).toBe(1);
    expect(await count('SELECT refunded_amount AS n FROM member_order WHERE id = ?', [o.id])).toBe(500);
  });

  it('never refunds more than the order under concurrent refunds, and replays concurrent retries once', async () => {
    const o = await order(10_000);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => gql(svc.url, REFUND, { input: { source: 'pos', externalOrderId: o.externalId, refundId: `RC-${i}`, amount: 3_000 } }, admin)),
    );
    expect(results.filter((r) => !r.errors).length).toBe(3);
    for (const r of results.filter((x) => x.errors)) expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await count('SELECT refunded_amount AS n FROM member_order WHERE id = ?', [o.id])).toBe(9_000);
    expect(await count('SELECT SUM(amount) AS n FROM member_refund WHERE order_id = ?', [o.id])).toBe(9_000);

    const retry = { source: 'pos', externalOrderId: o.externalId, refundId: 'RC-last', amount: 1_000 };
    const retries = await Promise.all(Array.from({ length: 5 }, () => gql(svc.url, REFUND, { input: retry }, admin)));
    for (const r of retries) expect(r.errors).toBeUndefined();
    expect(new Set(retries.map((r) => r.data.recordRefund.id)).size).toBe(1);
    expect(await count("SELECT COUNT(*) AS n FROM outbox WHERE type = 'order.refunded' AND payload LIKE ?", [`%${o.id}%`])).toBe(4);
  });

  it('shows what was refunded of each order on Member.orders', async () => {
    const o = await order(8_000);
    await gql(svc.url, REFUND, { input: { source: 'pos', externalOrderId: o.externalId, refundId: 'R-SHOW', amount: 2_500 } }, admin);
    const res = await gql(svc.url, `query($id: ID!) { member(id: $id) { orders(first: 2) { edges { node { id amount refundedAmount } } } } }`, { id: memberId }, admin);
    expect(res.data.member.orders.edges[0].node).toEqual({ id: o.id, amount: 8_000, refundedAmount: 2_500 });
  });

  it('takes the same callers as recordOrder, and audits the refund', async () => {
    const o = await order(1_000);
    const analyst = await tokenFor([Role.ANALYST]);
    const erp = await tokenFor([Role.INTEGRATION], { kind: 'client', sub: 'erp', scopes: ['orders:write'] });
    const input = { source: 'pos', externalOrderId: o.externalId, refundId: 'R-AUTH', amount: 100 };
    expect((await gql(svc.url, REFUND, { input }, analyst)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gql(svc.url, REFUND, { input })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await gql(svc.url, REFUND, { input }, erp)).errors).toBeUndefined();
    expect(await count("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'order.refund' AND actor = 'erp' AND target = ?", [o.id])).toBe(1);
  });
});

describe('recordOrders', () => {
  it('records each item in its own transaction with a result per item', async () => {
    const items = [
      { source: 'erp', externalId: 'B-1', memberId, amount: 100, channel: 'WEB' },
      { source: 'erp', externalId: 'B-2', memberId, amount: -1, channel: 'WEB' },
      { source: 'erp', externalId: 'B-1', memberId, amount: 100, channel: 'WEB' },
      { source: 'erp', externalId: 'B-1', memberId, amount: 999, channel: 'WEB' },
      { source: 'erp', externalId: 'B-3', memberId: '01UNKNOWNMEMBER00000000000', amount: 100, channel: 'WEB' },
      { source: 'erp', externalId: 'B-4', memberId, amount: 100, channel: 'WEB', lines: [{ sku: 'S', quantity: 1, amount: -2 }] },
      { source: 'erp', externalId: 'B-5', memberId, amount: 200, channel: 'WEB' },
    ];
    const res = await gql(svc.url, RECORD_MANY, { input: items }, admin);
    expect(res.errors).toBeUndefined();
    const r = res.data.recordOrders;
    expect(r.map((x: { status: string }) => x.status)).toEqual(['CREATED', 'REJECTED', 'DUPLICATE', 'REJECTED', 'REJECTED', 'REJECTED', 'CREATED']);
    expect(r.map((x: { index: number }) => x.index)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(r[2].order.id).toBe(r[0].order.id);
    expect(r[1]).toMatchObject({ code: 'BAD_USER_INPUT', field: 'amount', order: null, reason: expect.any(String) });
    expect(r[3]).toMatchObject({ code: 'CONFLICT' });
    expect(r[4]).toMatchObject({ code: 'NOT_FOUND', field: 'memberId' });
    expect(r[5]).toMatchObject({ code: 'BAD_USER_INPUT', field: 'lines.0.amount' });
    expect(r[0]).toMatchObject({ reason: null, code: null });
    expect(await count("SELECT COUNT(*) AS n FROM member_order WHERE source = 'erp'")).toBe(2);
    expect(await count("SELECT COUNT(*) AS n FROM outbox WHERE type = 'order.completed' AND payload LIKE '%\"source\":\"erp\"%'")).toBe(2);
  });

  it('refuses an empty or oversized batch and callers without orders:write', async () => {
    expect((await gql(svc.url, RECORD_MANY, { input: [] }, admin)).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input' });
    const big = Array.from({ length: 501 }, (_, i) => ({ source: 'erp', externalId: `BIG-${i}`, memberId, amount: 1, channel: 'WEB' }));
    expect((await gql(svc.url, RECORD_MANY, { input: big }, admin)).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input' });
    const crm = await tokenFor([Role.INTEGRATION], { kind: 'client', sub: 'crm', scopes: ['members:read'] });
    expect((await gql(svc.url, RECORD_MANY, { input: big.slice(0, 1) }, crm)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await count("SELECT COUNT(*) AS n FROM member_order WHERE external_id LIKE 'BIG-%'")).toBe(0);
  });
});
