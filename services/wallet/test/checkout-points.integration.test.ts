import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAMS, newId, Role } from '@membergraph/platform';
import { createTestScope, eventually, gql, memberEvents, startApp, streamProbe, tokenFor, type StreamProbe } from '@membergraph/testkit';
import { createApp } from '../src/app';
// The real points service (its public GraphQL and its PointsRpc responders), for this integration test only.
import { createApp as createPointsApp } from '../../points/src/app';
import { SagaStep, type SagaHooks } from '../src/services/checkout.service';
import { auditLedger } from '../src/services/ledger-audit.service';
import { openWallet } from '../src/services/wallet-account.service';
import { TOP_UP, payClient, topUpInput } from './helpers';

const scope = createTestScope();
const ENV = { PAYMENT_LEASE_MS: '800', PAYMENT_RECOVERY_INTERVAL_MS: '150' };
const PAY = `mutation($input: PayInput!) { pay(input: $input) { id status pointsUsed walletAmount failureReason } }`;
const ADJUST = `mutation($input: AdjustPointsInput!) { adjustPoints(input: $input) { id } }`;
const POINTS = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Member { points { balance held available } } } }`;
const payer = () => tokenFor([Role.INTEGRATION], { kind: 'client', sub: 'pos', scopes: ['wallet:pay'] });

type Started<T extends (...a: never[]) => unknown> = Awaited<ReturnType<typeof startApp<ReturnType<T> & { migrate(): Promise<void>; start(): Promise<{ port: number; url: string }>; stop(): Promise<void> }>>>;
let points: Started<typeof createPointsApp>;
let probe: StreamProbe;

beforeAll(async () => {
  points = await startApp(createPointsApp(scope.env('points')));
  probe = await streamProbe(scope, STREAMS.member, { name: 'wallet-points-it' });
});
afterAll(async () => {
  await probe?.close();
  await points?.stop();
  await scope.cleanup();
});

async function pointsOf(memberId: string) {
  const res = await gql(points.url, POINTS, { reps: [{ __typename: 'Member', id: memberId }] }, await tokenFor([Role.ADMIN]));
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data._entities[0].points as { balance: number; held: number; available: number };
}

async function memberWith(app: ReturnType<typeof createApp> & { url: string }, pts: number): Promise<string> {
  const memberId = newId();
  // The points service knows members from member.registered (it may grant welcome points).
  await probe.consumed('points-member', await probe.publish(memberEvents.registered(memberId, { channel: 'APP' })));
  await app.kit.uow((em) => openWallet(app.kit, em, memberId));
  expect((await gql(app.url, TOP_UP, { input: topUpInput(memberId, 50_000) }, await payClient())).errors).toBeUndefined();
  const welcome = (await pointsOf(memberId)).balance;
  const adj = await gql(points.url, ADJUST, { input: { memberId, delta: pts - welcome, reason: 'seed', idempotencyKey: `seed-${memberId}` } }, await tokenFor([Role.ADMIN]));
  expect(adj.errors).toBeUndefined();
  expect(await pointsOf(memberId)).toEqual({ balance: pts, held: 0, available: pts });
  return memberId;
}

describe('checkout with the real points service', () => {
  it('captures points and balance together, and refuses points the member does not have', async () => {
    const wallet = await startApp(createApp(scope.env('wallet', ENV)));
    try {
      const memberId = await memberWith(wallet, 5_000);
      const ok = await gql(wallet.url, PAY, { input: { memberId, orderRef: 'o1', amount: 10_000, pointsToUse: 2_000, idempotencyKey: newId() } }, await payer());
      expect(ok.errors).toBeUndefined();
      expect(ok.data.pay).toMatchObject({ status: 'CAPTURED', pointsUsed: 2_000, walletAmount: 8_000 });
      expect(await pointsOf(memberId)).toEqual({ balance: 3_000, held: 0, available: 3_000 });
      const short = await gql(wallet.url, PAY, { input: { memberId, orderRef: 'o2', amount: 10_000, pointsToUse: 4_000, idempotencyKey: newId() } }, await payer());
      expect(short.data.pay).toMatchObject({ status: 'FAILED', failureReason: 'INSUFFICIENT_POINTS' });
      expect(await pointsOf(memberId)).toEqual({ balance: 3_000, held: 0, available: 3_000 });
      expect((await auditLedger(wallet.kit.ds)).ok).toBe(true);
    } finally {
      await wallet.stop();
    }
  });

  it('releases the real points hold after a crash once the wallet restarts', async () => {
    const hooks: SagaHooks = {
      afterStep: (step) => {
        if (step === SagaStep.WALLET_HELD) throw new Error('simulated crash');
      },
    };
    const first = await startApp(createApp(scope.env('wallet', { ...ENV, PAYMENT_RECOVERY_INTERVAL_MS: '0' }), { hooks }));
    let memberId: string;
    let paymentId: string;
    try {
      memberId = await memberWith(first, 5_000);
      const res = await gql(first.url, PAY, { input: { memberId, orderRef: 'o3', amount: 10_000, pointsToUse: 2_000, idempotencyKey: newId() } }, await payer());
      expect(res.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
      expect((await pointsOf(memberId)).held).toBe(2_000);
      [{ id: paymentId }] = await first.kit.ds.query('SELECT id FROM wallet_payment WHERE member_id = ?', [memberId]);
    } finally {
      await first.stop();
    }
    const second = await startApp(createApp(scope.env('wallet', ENV)));
    try {
      await eventually(async () => {
        const [p] = await second.kit.ds.query('SELECT status FROM wallet_payment WHERE id = ?', [paymentId]);
        expect(p.status).toBe('FAILED');
      });
      expect(await pointsOf(memberId)).toEqual({ balance: 5_000, held: 0, available: 5_000 });
      const [row] = await second.kit.ds.query('SELECT principal + bonus AS total FROM wallet_account WHERE member_id = ?', [memberId]);
      expect(Number(row.total)).toBe(56_000);
      expect((await auditLedger(second.kit.ds)).ok).toBe(true);
    } finally {
      await second.stop();
    }
  });
});
