import { beforeAll, describe, expect, it } from 'vitest';
import { STREAMS, decodeEnvelope, newId, Role } from '@membergraph/platform';
import { eventually, gql, itHasCompleteMigrations, memberEvents, serviceUnderTest, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';
import { memberRegisteredHandler } from '../src/events/handlers/member-registered.handler';

const svc = serviceUnderTest('wallet', createApp, { probe: STREAMS.member, probeName: 'wallet-test' });
const CONSUMER = 'wallet-member';

const WALLET = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Member { id wallet { balance principal bonus status } } } }`;

itHasCompleteMigrations(svc);

const registered = (memberId: string) => memberEvents.registered(memberId, { channel: 'APP' });

const countAccounts = async (memberId: string) =>
  Number((await svc.app.kit.ds.query('SELECT COUNT(*) AS n FROM wallet_account WHERE member_id = ?', [memberId]))[0].n);
const countOpenedEvents = async (memberId: string) =>
  Number((await svc.app.kit.ds.query("SELECT COUNT(*) AS n FROM outbox WHERE type = 'wallet.opened' AND subject = ?", [memberId]))[0].n);

const readWallet = (memberId: string, token?: string) => gql(svc.url, WALLET, { reps: [{ __typename: 'Member', id: memberId }] }, token);
const memberToken = (memberId: string) => tokenFor([Role.MEMBER], { kind: 'member', sub: memberId });

describe('opening wallets', () => {
  const memberId = newId();

  it('opens the account once for a redelivered registration and announces wallet.opened once', async () => {
    const event = registered(memberId);
    await svc.probe.publish(event);
    await svc.probe.publish(event, `${event.id}-again`); // a copy JetStream cannot dedupe
    const seq = await svc.probe.publish(registered(memberId)); // a second, distinct announcement
    await svc.probe.consumed(CONSUMER, seq);
    expect(await countAccounts(memberId)).toBe(1);
    expect(await countOpenedEvents(memberId)).toBe(1);
    const [row] = await svc.app.kit.ds.query('SELECT principal, bonus, status, currency FROM wallet_account WHERE member_id = ?', [memberId]);
    expect(row).toEqual({ principal: '0', bonus: '0', status: 'ACTIVE', currency: 'CNY' });
  });

  it('publishes wallet.opened on the WALLET stream with the member id only', async () => {
    const bus = svc.probe.bus;
    const msg = await eventually(async () => {
      const found = await bus.jsm.streams.getMessage(bus.streamName(STREAMS.wallet.name), { last_by_subj: bus.subject('wallet.opened') });
      expect(found).toBeTruthy();
      return found!;
    });
    expect(decodeEnvelope(msg.data)).toMatchObject({ type: 'wallet.opened', source: 'wallet', subject: memberId, data: { memberId } });
    const info = await bus.jsm.streams.info(bus.streamName(STREAMS.wallet.name));
    expect(info.state.messages).toBe(1);
  });

  it('opens once even when the inbox is bypassed', async () => {
    const other = newId();
    const handle = memberRegisteredHandler(svc.app.kit);
    const event = registered(other);
    for (const e of [event, { ...event, id: newId() }]) await svc.app.kit.uow((em) => handle({ em, log: svc.app.kit.log }, e));
    expect(await countAccounts(other)).toBe(1);
    expect(await countOpenedEvents(other)).toBe(1);
  });

  it('reads the new wallet through the subgraph as zero and ACTIVE', async () => {
    const res = await readWallet(memberId, await memberToken(memberId));
    expect(res.errors).toBeUndefined();
    expect(res.data._entities[0]).toEqual({ id: memberId, wallet: { balance: 0, principal: 0, bonus: 0, status: 'ACTIVE' } });
  });
});

describe('reading wallets', () => {
  const memberId = newId();
  beforeAll(async () => {
    await svc.probe.consumed(CONSUMER, await svc.probe.publish(registered(memberId)));
    // No top-ups yet in this foundation: put money in directly to see principal and bonus apart.
    await svc.app.kit.ds.query("UPDATE wallet_account SET principal = 50000, bonus = 6000, status = 'FROZEN' WHERE member_id = ?", [memberId]);
  });

  it('answers balance = principal + bonus, in fen, with the status', async () => {
    const res = await readWallet(memberId, await memberToken(memberId));
    expect(res.data._entities[0].wallet).toEqual({ balance: 56000, principal: 50000, bonus: 6000, status: 'FROZEN' });
  });

  it('answers zeros and ACTIVE before the registration event has arrived', async () => {
    const late = newId();
    const res = await readWallet(late, await memberToken(late));
    expect(res.errors).toBeUndefined();
    expect(res.data._entities[0].wallet).toEqual({ balance: 0, principal: 0, bonus: 0, status: 'ACTIVE' });
  });

  it('lets the member and back-office readers (FINANCE included) see the wallet', async () => {
    for (const token of [
      await memberToken(memberId),
      await tokenFor([Role.FINANCE]),
      await tokenFor([Role.SUPPORT]),
      await tokenFor([Role.ADMIN]),
      await tokenFor([Role.INTEGRATION], { kind: 'client', sub: 'erp', scopes: ['wallet:read'] }),
    ]) {
      const res = await readWallet(memberId, token);
      expect(res.errors).toBeUndefined();
      expect(res.data._entities[0].wallet.balance).toBe(56000);
    }
  });

  it('refuses another member and clients without a read scope with FORBIDDEN, anonymous callers with UNAUTHENTICATED', async () => {
    const other = await readWallet(memberId, await memberToken(newId()));
    expect(other.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(JSON.stringify(other.data ?? null)).not.toContain('56000');
    const client = await tokenFor([Role.INTEGRATION], { kind: 'client', sub: 'pos', scopes: ['orders:write'] });
    expect((await readWallet(memberId, client)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await readWallet(memberId)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
