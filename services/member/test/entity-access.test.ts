import { beforeAll, describe, expect, it } from 'vitest';
import { Role } from '@membergraph/platform';
import { gql, serviceUnderTest, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';

const svc = serviceUnderTest('member', createApp);
let admin: string;
let alice: string;
let bob: string;
let bobOrder: string;
let aliceOrder: string;

const ENTITIES = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Member { id phone identities { provider } } ... on Order { id amount } } }`;
const MEMBER = `query($id: ID!) { member(id: $id) { id } }`;
const REGISTER = `mutation($input: RegisterMemberInput!) { registerMember(input: $input) { id } }`;

const rows = (sql: string, params: unknown[] = []) => svc.app.kit.ds.query(sql, params);
const count = async (sql: string) => Number((await rows(sql))[0].n);
const memberToken = (id: string) => tokenFor([Role.MEMBER], { kind: 'member', sub: id });
const codeOf = (res: { errors?: Array<{ extensions?: Record<string, unknown> }> }) => res.errors?.[0]?.extensions?.code;
const entities = (token: string | undefined, ...reps: Array<{ __typename: string; id: string }>) => gql(svc.url, ENTITIES, { r: reps }, token);

async function registerWithOrder(phone: string, externalId: string): Promise<[string, string]> {
  const reg = await gql(svc.url, REGISTER, { input: { phone, name: 'Xu Ke', channel: 'STORE' } }, admin);
  const id = reg.data.registerMember.id;
  const order = await gql(svc.url, `mutation($m: ID!, $x: String!) { recordOrder(input: {source: "pos", externalId: $x, memberId: $m, amount: 990, channel: STORE}) { id } }`, { m: id, x: externalId }, admin);
  return [id, order.data.recordOrder.id];
}

beforeAll(async () => {
  admin = await tokenFor([Role.ADMIN], { sub: 'staff-admin' });
  [alice, aliceOrder] = await registerWithOrder('+8613300000001', 'X-1');
  [bob, bobOrder] = await registerWithOrder('+8613300000002', 'X-2');
});

describe('_entities on the member subgraph, reached directly', () => {
  it('gives a member their own Member and Order', async () => {
    const res = await entities(await memberToken(alice), { __typename: 'Member', id: alice }, { __typename: 'Order', id: aliceOrder });
    expect(res.errors).toBeUndefined();
    expect(res.data._entities).toEqual([{ id: alice, phone: '+8613300000001', identities: [] }, { id: aliceOrder, amount: 990 }]);
  });

  it('refuses a member token another member’s Member and Order with FORBIDDEN, as member(id) does', async () => {
    const token = await memberToken(alice);
    expect(codeOf(await entities(token, { __typename: 'Member', id: bob }))).toBe('FORBIDDEN');
    expect(codeOf(await entities(token, { __typename: 'Order', id: bobOrder }))).toBe('FORBIDDEN');
    expect(codeOf(await gql(svc.url, MEMBER, { id: bob }, token))).toBe('FORBIDDEN');
    // Mixed with their own, the other member's entity is still refused (and only that one).
    const mixed = await entities(token, { __typename: 'Member', id: alice }, { __typename: 'Member', id: bob });
    expect(mixed.data._entities[0]).toMatchObject({ id: alice });
    expect(mixed.data._entities[1]).toBeNull();
    expect(mixed.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['_entities', 1], 'FORBIDDEN']]);
  });

  it('refuses staff without a back-office read role', async () => {
    for (const roles of [[], [Role.INTEGRATION]]) {
      const token = await tokenFor(roles, { kind: 'staff', sub: 'staff-x' });
      expect(codeOf(await entities(token, { __typename: 'Member', id: bob }))).toBe('FORBIDDEN');
      expect(codeOf(await entities(token, { __typename: 'Order', id: bobOrder }))).toBe('FORBIDDEN');
      expect(codeOf(await gql(svc.url, MEMBER, { id: bob }, token))).toBe('FORBIDDEN');
    }
    const analyst = await entities(await tokenFor([Role.ANALYST]), { __typename: 'Member', id: bob }, { __typename: 'Order', id: bobOrder });
    expect(analyst.errors).toBeUndefined();
    expect(analyst.data._entities).toEqual([{ id: bob, phone: '+86133****0002', identities: [] }, { id: bobOrder, amount: 990 }]);
  });

  it('refuses an API client without the members:read scope', async () => {
    const writer = await tokenFor([Role.INTEGRATION], { kind: 'client', sub: 'erp', scopes: ['orders:write', 'members:write'] });
    expect(codeOf(await entities(writer, { __typename: 'Member', id: bob }))).toBe('FORBIDDEN');
    expect(codeOf(await entities(writer, { __typename: 'Order', id: bobOrder }))).toBe('FORBIDDEN');
    expect(codeOf(await gql(svc.url, MEMBER, { id: bob }, writer))).toBe('FORBIDDEN');
    const reader = await tokenFor([Role.INTEGRATION], { kind: 'client', sub: 'crm', scopes: ['members:read'] });
    expect((await entities(reader, { __typename: 'Member', id: bob }, { __typename: 'Order', id: bobOrder })).errors).toBeUndefined();
  });

  it('refuses anonymous callers', async () => {
    expect(codeOf(await entities(undefined, { __typename: 'Member', id: bob }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await entities(undefined, { __typename: 'Order', id: bobOrder }))).toBe('UNAUTHENTICATED');
  });
});

describe('registerMember input', () => {
  const nothingWritten = async (run: () => Promise<void>) => {
    const tables = ['member', 'outbox', 'audit_log'];
    const before = await Promise.all(tables.map((t) => count(`SELECT COUNT(*) AS n FROM ${t}`)));
    await run();
    expect(await Promise.all(tables.map((t) => count(`SELECT COUNT(*) AS n FROM ${t}`)))).toEqual(before);
  };

  it('answers an unknown channel with BAD_USER_INPUT and writes nothing', async () => {
    await nothingWritten(async () => {
      const res = await gql(svc.url, REGISTER, { input: { phone: '+8613300000010', name: 'Han', channel: 'TELEPATHY' } }, admin);
      expect(codeOf(res)).toBe('BAD_USER_INPUT');
      // Written into the operation instead of a variable, the document itself is invalid.
      const inline = await gql(svc.url, `mutation { registerMember(input: {phone: "+8613300000010", name: "Han", channel: TELEPATHY}) { id } }`, undefined, admin);
      expect(codeOf(inline)).toBe('GRAPHQL_VALIDATION_FAILED');
    });
  });

  it('answers a name over 64 characters with BAD_USER_INPUT naming the field, and writes nothing', async () => {
    await nothingWritten(async () => {
      const res = await gql(svc.url, REGISTER, { input: { phone: '+8613300000011', name: 'N'.repeat(65), channel: 'STORE' } }, admin);
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
    });
  });

  it('answers a malformed referral code with BAD_USER_INPUT naming the field, and writes nothing', async () => {
    await nothingWritten(async () => {
      for (const referralCode of ['abc', 'x'.repeat(33), 'has space', '邀请码码码']) {
        const res = await gql(svc.url, REGISTER, { input: { phone: '+8613300000012', name: 'Han', channel: 'STORE', referralCode } }, admin);
        expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'referralCode' });
      }
    });
  });

  it('keeps a referral code on the member and carries it in member.registered', async () => {
    const res = await gql(svc.url, REGISTER, { input: { phone: '+8613300000013', name: 'Han', channel: 'STORE', referralCode: ' Inv_Alice-01 ' } }, admin);
    expect(res.errors).toBeUndefined();
    const id = res.data.registerMember.id;
    expect(await rows('SELECT referral_code FROM member WHERE id = ?', [id])).toEqual([{ referral_code: 'Inv_Alice-01' }]);
    const [event] = await rows("SELECT payload FROM outbox WHERE type = 'member.registered' AND subject = ?", [id]);
    expect(JSON.parse(event.payload).data).toMatchObject({ memberId: id, channel: 'STORE', referralCode: 'Inv_Alice-01' });
    const mine = await gql(svc.url, `{ myData { profile { referralCode } } }`, undefined, await memberToken(id));
    expect(mine.data.myData.profile.referralCode).toBe('Inv_Alice-01');
    // Without one, the event carries none.
    const [plain] = await rows("SELECT payload FROM outbox WHERE type = 'member.registered' AND subject = ?", [alice]);
    expect(JSON.parse(plain.payload).data).not.toHaveProperty('referralCode');
  });

  it('takes a referral code on import rows for the members they create (a bad one rejects the row)', async () => {
    const res = await gql(
      svc.url,
      `mutation { importMembers(input: {rows: [{phone: "+8613300000020", name: "Imp", referralCode: "Inv_Bob"}, {phone: "+8613300000021", name: "Imp", referralCode: "no"}]}) { created rejected results { status field memberId } } }`,
      undefined,
      admin,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.importMembers.results).toEqual([
      { status: 'CREATED', field: null, memberId: expect.any(String) },
      { status: 'REJECTED', field: 'referralCode', memberId: null },
    ]);
    const id = res.data.importMembers.results[0].memberId;
    expect(await rows('SELECT referral_code FROM member WHERE id = ?', [id])).toEqual([{ referral_code: 'Inv_Bob' }]);
    const [event] = await rows("SELECT payload FROM outbox WHERE type = 'member.registered' AND subject = ?", [id]);
    expect(JSON.parse(event.payload).data).toMatchObject({ channel: 'IMPORT', referralCode: 'Inv_Bob' });
  });
});
