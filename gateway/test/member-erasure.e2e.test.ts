/**
 * Right to erasure end to end through the gateway, with all five subgraphs in-process on real
 * MySQL and NATS: a member registers and buys, is erased, and can no longer be found by phone,
 * while `member(id)` still answers with placeholders and the order total stays.
 */
import { describe, expect, it } from 'vitest';
import { gql } from '@membergraph/testkit';
import { platformUnderTest } from './support/platform';

const platform = platformUnderTest();

const PHONE = '+8613800000777';
const BY_PHONE = `query($p: String!) { members(filter: {phone: $p}) { edges { node { id } } } }`;
const CARD = `query($id: ID!) { member(id: $id) { id status phone name email birthday erasedAt orders(first: 10) { edges { node { externalId amount } } } } }`;

describe('erasing a member through the gateway', () => {
  let id: string;

  it('registers a member who places an order', async () => {
    const reg = await gql(platform.url, `mutation($p: String!) { registerMember(input: {phone: $p, name: "Chen Jing", channel: STORE, email: "chen.jing@example.com"}) { id } }`, { p: PHONE }, platform.admin);
    expect(reg.errors).toBeUndefined();
    id = reg.data.registerMember.id;
    const order = await gql(platform.url, `mutation($m: ID!) { recordOrder(input: {source: "pos", externalId: "ER-1", memberId: $m, amount: 8800, channel: STORE}) { id } }`, { m: id }, platform.admin);
    expect(order.errors).toBeUndefined();
    expect((await gql(platform.url, BY_PHONE, { p: PHONE }, platform.admin)).data.members.edges).toEqual([{ node: { id } }]);
  });

  it('erases the member: no longer found by phone, while member(id) shows placeholders and the order total', async () => {
    const erased = await gql(platform.url, `mutation($m: ID!) { eraseMember(input: {memberId: $m, reason: "erasure request"}) { status } }`, { m: id }, platform.admin);
    expect(erased.errors).toBeUndefined();
    expect(erased.data.eraseMember.status).toBe('ERASED');

    expect((await gql(platform.url, BY_PHONE, { p: PHONE }, platform.admin)).data.members.edges).toEqual([]);
    const card = await gql(platform.url, CARD, { id }, platform.admin);
    expect(card.errors).toBeUndefined();
    expect(card.data.member).toEqual({
      id,
      status: 'ERASED',
      phone: '[erased]',
      name: '[erased]',
      email: null,
      birthday: null,
      erasedAt: expect.any(String),
      orders: { edges: [{ node: { externalId: 'ER-1', amount: 8800 } }] },
    });
  });
});
