import { describe, expect, it } from 'vitest';
import { newId, Role, STREAMS, decodeEnvelope } from '@membergraph/platform';
import { eventually, gql, serviceUnderTest, startApp, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';
import {
  AUDIT,
  DEBIT,
  REFUND,
  TOP_UP,
  count,
  financeToken,
  gqlAs,
  ledgerFootprint,
  memberToken,
  openMember,
  payClient,
  topUpInput,
  walletOf,
} from './helpers';

const svc = serviceUnderTest('wallet', createApp, { probe: STREAMS.member, probeName: 'wallet-topup-test' });
const yuan = (y: number) => y * 100;
const ds = () => svc.app.kit.ds;

describe('topUp', () => {
  it('loads 1,000 yuan as principal 1,000 + bonus 150 and journals it balanced', async () => {
    const memberId = await openMember(svc.app);
    const res = await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, yuan(1_000), { channel: 'STORE', storeId: 'S1' }) }, payClient());
    expect(res.errors).toBeUndefined();
    expect(res.data.topUp).toMatchObject({ memberId, amount: yuan(1_000), bonus: yuan(150), status: 'COMPLETED', channel: 'STORE', storeId: 'S1' });
    const wallet = await walletOf(svc.url, memberId, await memberToken(memberId));
    expect(wallet).toMatchObject({ balance: yuan(1_150), principal: yuan(1_000), bonus: yuan(150), status: 'ACTIVE' });
    expect(wallet.history.edges.map((e: { node: { kind: string; account: string; amount: number } }) => [e.node.kind, e.node.account, e.node.amount])).toEqual([
      ['TOP_UP', 'BONUS', yuan(150)],
      ['TOP_UP', 'PRINCIPAL', yuan(1_000)],
    ]);
    const [journal] = await ds().query('SELECT seq, id, kind, reference FROM wallet_journal WHERE member_id = ?', [memberId]);
    expect(journal).toMatchObject({ kind: 'TOP_UP', reference: res.data.topUp.id });
    const entries: Array<{ account: string; memberId: string | null; amount: string }> = await ds().query(
      'SELECT account, member_id AS memberId, amount FROM wallet_entry WHERE journal_seq = ? ORDER BY line',
      [journal.seq],
    );
    expect(entries.map((e) => [e.account, e.memberId, Number(e.amount)])).toEqual([
      ['CASH_CLEARING', null, -yuan(1_000)],
      ['BONUS_EXPENSE', null, -yuan(150)],
      ['SV_LIABILITY', null, yuan(1_150)],
      ['PRINCIPAL', memberId, yuan(1_000)],
      ['BONUS', memberId, yuan(150)],
    ]);
  });

  it('announces wallet.changed through the outbox with ids and amounts only', async () => {
    const memberId = await openMember(svc.app);
    const { data } = await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, yuan(500)) }, payClient());
    const [row] = await ds().query("SELECT payload FROM outbox WHERE type = 'wallet.changed' AND subject = ?", [memberId]);
    const event = JSON.parse(row.payload);
    expect(event.data).toEqual({
      memberId,
      journalId: expect.any(String),
      kind: 'TOP_UP',
      reference: data.topUp.id,
      principalDelta: yuan(500),
      bonusDelta: yuan(60),
      principal: yuan(500),
      bonus: yuan(60),
    });
    const bus = svc.probe.bus;
    await eventually(async () => {
      const msg = await bus.jsm.streams.getMessage(bus.streamName(STREAMS.wallet.name), { last_by_subj: bus.subject('wallet.changed') });
      expect(decodeEnvelope(msg!.data).id).toBeTruthy();
    });
  });

  it('returns the first result for the same key and input, also after a restart, and CONFLICT for another input', async () => {
    const memberId = await openMember(svc.app);
    const input = topUpInput(memberId, yuan(100));
    const first = await gqlAs(svc.url, TOP_UP, { input }, payClient());
    const again = await gqlAs(svc.url, TOP_UP, { input }, financeToken());
    expect(again.data.topUp).toEqual(first.data.topUp);

    // A second process on the same database: nothing in memory carries the key.
    const other = await startApp(createApp(svc.scope.env('wallet')));
    try {
      const afterRestart = await gqlAs(other.url, TOP_UP, { input }, payClient());
      expect(afterRestart.data.topUp).toEqual(first.data.topUp);
      const changed = await gqlAs(other.url, TOP_UP, { input: { ...input, amount: yuan(101) } }, payClient());
      expect(changed.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'idempotencyKey' });
    } finally {
      await other.stop();
    }
    expect((await walletOf(svc.url, memberId)).principal).toBe(yuan(100));
    expect(await count(ds(), 'SELECT COUNT(*) AS n FROM wallet_top_up WHERE member_id = ?', [memberId])).toBe(1);
  });

  it('settles concurrent retries of one key into one top-up', async () => {
    const memberId = await openMember(svc.app);
    const input = topUpInput(memberId, yuan(100));
    const results = await Promise.all(Array.from({ length: 8 }, async () => gqlAs(svc.url, TOP_UP, { input }, payClient())));
    expect(results.every((r) => r.errors === undefined)).toBe(true);
    expect(new Set(results.map((r) => r.data.topUp.id)).size).toBe(1);
    expect((await walletOf(svc.url, memberId)).balance).toBe(yuan(110));
  });

  it('refuses a payment reference that was already loaded, under another key', async () => {
    const memberId = await openMember(svc.app);
    const input = topUpInput(memberId, yuan(100));
    await gqlAs(svc.url, TOP_UP, { input }, payClient());
    const res = await gqlAs(svc.url, TOP_UP, { input: { ...input, idempotencyKey: `k-${newId()}` } }, payClient());
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'paymentRef' });
    expect((await walletOf(svc.url, memberId)).balance).toBe(yuan(110));
  });

  it('refuses bad input naming the field and writes nothing', async () => {
    const memberId = await openMember(svc.app);
    const before = await ledgerFootprint(ds());
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ amount: 0 }, 'amount'],
      [{ amount: -100 }, 'amount'],
      [{ amount: 10_000_000_000 }, 'amount'],
      [{ paymentRef: '' }, 'paymentRef'],
      [{ paymentRef: 'x'.repeat(101) }, 'paymentRef'],
      [{ channel: 'STORE', storeId: null }, 'storeId'],
      [{ idempotencyKey: ' ' }, 'idempotencyKey'],
      [{ memberId: '' }, 'memberId'],
    ];
    for (const [patch, field] of cases) {
      const res = await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, yuan(100), patch) }, payClient());
      expect(res.errors?.[0]?.extensions, JSON.stringify(patch)).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    const fraction = await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, 100.5) }, payClient());
    expect(fraction.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const unknown = await gqlAs(svc.url, TOP_UP, { input: topUpInput(newId(), yuan(100)) }, payClient());
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(await ledgerFootprint(ds())).toEqual(before);
  });

  it('lets only FINANCE, ADMIN and clients with wallet:topup load money', async () => {
    const memberId = await openMember(svc.app);
    const refused: Array<[string | undefined, string]> = [
      [undefined, 'UNAUTHENTICATED'],
      [await memberToken(memberId), 'FORBIDDEN'],
      [await tokenFor([Role.SUPPORT]), 'FORBIDDEN'],
      [await tokenFor([Role.OPERATOR]), 'FORBIDDEN'],
      [await tokenFor([Role.INTEGRATION], { kind: 'client', sub: 'erp', scopes: ['wallet:read', 'wallet:debit'] }), 'FORBIDDEN'],
    ];
    for (const [token, code] of refused) {
      const res = await gql(svc.url, TOP_UP, { input: topUpInput(memberId, yuan(100)) }, token);
      expect(res.errors?.[0]?.extensions?.code).toBe(code);
    }
    for (const token of [await financeToken(), await tokenFor([Role.ADMIN])]) {
      expect((await gql(svc.url, TOP_UP, { input: topUpInput(memberId, yuan(100)) }, token)).errors).toBeUndefined();
    }
    expect((await walletOf(svc.url, memberId)).principal).toBe(yuan(200));
  });
});

describe('top-up rules', () => {
  const RULES = `{ topUpRules { tiers { threshold bonus } firstTopUpBonus multipliers { startsAt endsAt percent } updatedBy } }`;
  const UPDATE = `mutation($input: TopUpRulesInput!) { updateTopUpRules(input: $input) { tiers { threshold bonus } firstTopUpBonus multipliers { percent } updatedBy } }`;
  const PREVIEW = `query($m: ID!, $a: Fen!) { previewTopUp(memberId: $m, amount: $a) { principal bonus } }`;

  // Rules are global: these run in order and restore the defaults at the end.
  it('start from the defaults', async () => {
    const res = await gqlAs(svc.url, RULES, {}, financeToken());
    expect(res.data.topUpRules).toEqual({
      tiers: [
        { threshold: yuan(100), bonus: yuan(10) },
        { threshold: yuan(500), bonus: yuan(60) },
        { threshold: yuan(1_000), bonus: yuan(150) },
      ],
      firstTopUpBonus: 0,
      multipliers: [],
      updatedBy: null,
    });
  });

  it('are replaced by FINANCE, audited, and drive previews and top-ups: first top-up extra and an active double bonus', async () => {
    const input = {
      tiers: [
        { threshold: yuan(1_000), bonus: yuan(150) },
        { threshold: yuan(100), bonus: yuan(10) },
      ],
      firstTopUpBonus: yuan(20),
      multipliers: [{ startsAt: new Date(Date.now() - 60_000).toISOString(), endsAt: new Date(Date.now() + 3_600_000).toISOString(), percent: 200 }],
    };
    const res = await gqlAs(svc.url, UPDATE, { input: { ...input, idempotencyKey: newId() } }, financeToken());
    expect(res.errors).toBeUndefined();
    expect(res.data.updateTopUpRules.tiers[0]).toEqual({ threshold: yuan(100), bonus: yuan(10) });
    expect(await count(ds(), "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'TOP_UP_RULES_UPDATED' AND actor = 'finance-1'")).toBe(1);

    const memberId = await openMember(svc.app);
    const preview = await gqlAs(svc.url, PREVIEW, { m: memberId, a: yuan(1_000) }, memberToken(memberId));
    expect(preview.data.previewTopUp).toEqual({ principal: yuan(1_000), bonus: yuan(300) + yuan(20) });
    await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, yuan(1_000)) }, payClient());
    await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, yuan(1_000)) }, payClient());
    expect(await walletOf(svc.url, memberId)).toMatchObject({ principal: yuan(2_000), bonus: yuan(320) + yuan(300) });
    const after = await gqlAs(svc.url, PREVIEW, { m: memberId, a: yuan(100) }, memberToken(memberId));
    expect(after.data.previewTopUp).toEqual({ principal: yuan(100), bonus: yuan(20) });
  });

  it('refuse bad rules naming the field, and callers other than FINANCE/ADMIN', async () => {
    const bad = await gqlAs(svc.url, UPDATE, { input: { tiers: [{ threshold: 0, bonus: 1 }], firstTopUpBonus: 0, multipliers: [], idempotencyKey: newId() } }, financeToken());
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'tiers[0].threshold' });
    for (const token of [await tokenFor([Role.OPERATOR]), await payClient()]) {
      expect((await gql(svc.url, UPDATE, { input: { tiers: [], firstTopUpBonus: 0, multipliers: [], idempotencyKey: newId() } }, token)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect((await gql(svc.url, RULES, {}, token)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    const other = await gqlAs(svc.url, PREVIEW, { m: newId(), a: yuan(100) }, memberToken(newId()));
    expect(other.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('can be put back to the defaults', async () => {
    const input = { tiers: [{ threshold: yuan(100), bonus: yuan(10) }, { threshold: yuan(500), bonus: yuan(60) }, { threshold: yuan(1_000), bonus: yuan(150) }], firstTopUpBonus: 0, multipliers: [] };
    expect((await gqlAs(svc.url, UPDATE, { input: { ...input, idempotencyKey: newId() } }, tokenFor([Role.ADMIN]))).errors).toBeUndefined();
  });
});

describe('refundTopUp', () => {
  it('returns the principal and takes back the unspent bonus', async () => {
    const memberId = await openMember(svc.app);
    const { data } = await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, yuan(1_000)) }, payClient());
    const res = await gqlAs(svc.url, REFUND, { input: { topUpId: data.topUp.id, idempotencyKey: newId() } }, financeToken());
    expect(res.data.refundTopUp).toMatchObject({ topUpId: data.topUp.id, principalReturned: yuan(1_000), bonusTakenBack: yuan(150), bonusFromPrincipal: 0 });
    expect(await walletOf(svc.url, memberId)).toMatchObject({ balance: 0, principal: 0, bonus: 0 });
  });

  it('keeps spent bonus out of the principal returned', async () => {
    const memberId = await openMember(svc.app);
    await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, yuan(1_000)) }, payClient()); // 1,000 + 150
    const { data } = await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, yuan(500)) }, payClient()); // 500 + 60
    // Principal first: 1,500 principal is spent, then 200 of the 210 bonus.
    for (const [amount, reference] of [[yuan(1_000), 'o1'], [yuan(100), 'o2'], [yuan(600), 'o3']] as const) {
      expect((await gqlAs(svc.url, DEBIT, { input: { memberId, amount, reference, idempotencyKey: newId() } }, payClient())).errors).toBeUndefined();
    }
    expect(await walletOf(svc.url, memberId)).toMatchObject({ principal: 0, bonus: yuan(10) });
    // New money so that the refunded top-up's principal is covered again: 99 (no bonus) + 450 (bonus 10).
    await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, yuan(99)) }, payClient());
    await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, yuan(450)) }, payClient());
    expect(await walletOf(svc.url, memberId)).toMatchObject({ principal: yuan(549), bonus: yuan(20) });
    const res = await gqlAs(svc.url, REFUND, { input: { topUpId: data.topUp.id, idempotencyKey: newId() } }, financeToken());
    expect(res.errors).toBeUndefined();
    // The 500 top-up granted 60; only 20 bonus is left, so 40 comes out of the 500 returned.
    expect(res.data.refundTopUp).toMatchObject({ principalReturned: yuan(460), bonusTakenBack: yuan(20), bonusFromPrincipal: yuan(40) });
    expect(await walletOf(svc.url, memberId)).toMatchObject({ principal: yuan(49), bonus: 0 });
  });

  it('refuses when the principal was spent, refunds once, and replays by key', async () => {
    const memberId = await openMember(svc.app);
    const { data } = await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, yuan(100)) }, payClient());
    await gqlAs(svc.url, DEBIT, { input: { memberId, amount: yuan(101), reference: 'o', idempotencyKey: newId() } }, payClient());
    const before = await ledgerFootprint(ds());
    const poor = await gqlAs(svc.url, REFUND, { input: { topUpId: data.topUp.id, idempotencyKey: newId() } }, financeToken());
    expect(poor.errors?.[0]?.extensions?.code).toBe('INSUFFICIENT_FUNDS');
    expect(await ledgerFootprint(ds())).toEqual(before);

    const m2 = await openMember(svc.app);
    const t2 = (await gqlAs(svc.url, TOP_UP, { input: topUpInput(m2, yuan(100)) }, payClient())).data.topUp;
    const key = newId();
    const first = await gqlAs(svc.url, REFUND, { input: { topUpId: t2.id, idempotencyKey: key } }, payClient());
    const replay = await gqlAs(svc.url, REFUND, { input: { topUpId: t2.id, idempotencyKey: key } }, payClient());
    expect(replay.data.refundTopUp).toEqual(first.data.refundTopUp);
    const twice = await gqlAs(svc.url, REFUND, { input: { topUpId: t2.id, idempotencyKey: newId() } }, payClient());
    expect(twice.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'topUpId' });
    const missing = await gqlAs(svc.url, REFUND, { input: { topUpId: newId(), idempotencyKey: newId() } }, payClient());
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const member = await gqlAs(svc.url, REFUND, { input: { topUpId: t2.id, idempotencyKey: newId() } }, memberToken(m2));
    expect(member.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('refunds concurrent requests for one top-up exactly once', async () => {
    const memberId = await openMember(svc.app);
    const t = (await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, yuan(500)) }, payClient())).data.topUp;
    const results = await Promise.all(Array.from({ length: 6 }, async () => gqlAs(svc.url, REFUND, { input: { topUpId: t.id, idempotencyKey: newId() } }, payClient())));
    expect(results.filter((r) => !r.errors).length).toBe(1);
    expect(results.filter((r) => r.errors?.[0]?.extensions?.code === 'CONFLICT').length).toBe(5);
    expect(await walletOf(svc.url, memberId)).toMatchObject({ principal: 0, bonus: 0 });
  });
});

describe('freezing', () => {
  const FREEZE = `mutation($input: WalletStatusInput!) { freezeWallet(input: $input) { status balance } }`;
  const UNFREEZE = `mutation($input: WalletStatusInput!) { unfreezeWallet(input: $input) { status balance } }`;

  it('stops top-ups and spending until unfrozen, with a reason, audited', async () => {
    const memberId = await openMember(svc.app);
    await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, yuan(100)) }, payClient());
    const frozen = await gqlAs(svc.url, FREEZE, { input: { memberId, reason: 'card reported stolen', idempotencyKey: newId() } }, financeToken());
    expect(frozen.data.freezeWallet).toEqual({ status: 'FROZEN', balance: yuan(110) });
    const before = await ledgerFootprint(ds());
    const top = await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, yuan(100)) }, payClient());
    expect(top.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'WALLET_FROZEN' });
    const spend = await gqlAs(svc.url, DEBIT, { input: { memberId, amount: 1, reference: 'o', idempotencyKey: newId() } }, payClient());
    expect(spend.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'WALLET_FROZEN' });
    expect(await ledgerFootprint(ds())).toEqual(before);
    expect((await gqlAs(svc.url, UNFREEZE, { input: { memberId, reason: 'card found', idempotencyKey: newId() } }, tokenFor([Role.ADMIN]))).data.unfreezeWallet.status).toBe('ACTIVE');
    expect((await gqlAs(svc.url, DEBIT, { input: { memberId, amount: 1, reference: 'o', idempotencyKey: newId() } }, payClient())).errors).toBeUndefined();
    const audit = await ds().query('SELECT action, detail FROM audit_log WHERE target = ? ORDER BY id', [memberId]);
    expect(audit.map((a: { action: string; detail: string }) => [a.action, JSON.parse(a.detail).reason])).toEqual([
      ['WALLET_FROZEN', 'card reported stolen'],
      ['WALLET_UNFROZEN', 'card found'],
    ]);
  });

  it('needs FINANCE or ADMIN and a reason', async () => {
    const memberId = await openMember(svc.app);
    expect((await gqlAs(svc.url, FREEZE, { input: { memberId, reason: 'x', idempotencyKey: newId() } }, tokenFor([Role.SUPPORT]))).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gqlAs(svc.url, FREEZE, { input: { memberId, reason: 'x', idempotencyKey: newId() } }, memberToken(memberId))).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gqlAs(svc.url, FREEZE, { input: { memberId, reason: ' ', idempotencyKey: newId() } }, financeToken())).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason' });
    expect((await gqlAs(svc.url, FREEZE, { input: { memberId: newId(), reason: 'x', idempotencyKey: newId() } }, financeToken())).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});

describe('history', () => {
  it('pages through the member journal lines newest first', async () => {
    const memberId = await openMember(svc.app);
    for (const amount of [yuan(100), yuan(50), yuan(20)]) await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, amount) }, payClient());
    const page1 = (await walletOf(svc.url, memberId, await memberToken(memberId), { first: 2 })).history;
    // 20 and 50 yuan earn no bonus; the 100 yuan top-up wrote its principal line, then its bonus line.
    expect(page1.edges.map((e: { node: { amount: number } }) => e.node.amount)).toEqual([yuan(20), yuan(50)]);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = (await walletOf(svc.url, memberId, await memberToken(memberId), { first: 2, after: page1.pageInfo.endCursor })).history;
    expect(page2.edges.map((e: { node: { amount: number } }) => e.node.amount)).toEqual([yuan(10), yuan(100)]);
    expect(page2.pageInfo.hasNextPage).toBe(false);
  });
});

describe('walletAudit', () => {
  it('finds nothing wrong in an untouched ledger', async () => {
    const res = await gqlAs(svc.url, AUDIT, {}, financeToken());
    expect(res.data.walletAudit.differences).toEqual([]);
    expect(res.data.walletAudit.ok).toBe(true);
    expect(res.data.walletAudit.journalsChecked).toBe(await count(ds(), 'SELECT COUNT(*) AS n FROM wallet_journal'));
    expect((await gqlAs(svc.url, AUDIT, {}, tokenFor([Role.SUPPORT]))).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  // Each case tampers in SQL inside a transaction that is rolled back, so the ledger stays clean.
  const tampered = async (sql: string[], params: unknown[][] = []) => {
    const runner = ds().createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      for (const [i, q] of sql.entries()) await runner.query(q, params[i] ?? []);
      const { auditLedger } = await import('../src/services/ledger-audit.service');
      // The audit reads through the same connection so it sees the uncommitted tampering.
      const fakeDs = { transaction: (_: string, work: (em: unknown) => unknown) => work(runner.manager) } as never;
      return await auditLedger(fakeDs);
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
  };

  it('detects an entry amount changed in SQL', async () => {
    const report = await tampered(["UPDATE wallet_entry SET amount = amount + 1 WHERE account = 'PRINCIPAL' ORDER BY journal_seq LIMIT 1"]);
    expect(report.ok).toBe(false);
    expect(new Set(report.differences.map((d) => d.kind))).toEqual(new Set(['HASH_MISMATCH', 'UNBALANCED_JOURNAL', 'ACCOUNT_MISMATCH']));
  });

  it('detects a balance changed in SQL, and a balanced rewrite of a journal with its balances', async () => {
    const cached = await tampered(["UPDATE wallet_account SET bonus = bonus + 100 WHERE principal > 0 ORDER BY member_id LIMIT 1"]);
    expect(cached.differences.map((d) => d.kind).sort()).toEqual(['ACCOUNT_MISMATCH', 'LIABILITY_MISMATCH']);
    // A careful forger moves principal to bonus in a journal and in the account: still balanced, caught by the hash.
    const [j] = await ds().query("SELECT e.journal_seq AS seq, e.member_id AS m FROM wallet_entry e JOIN wallet_account a ON a.member_id = e.member_id WHERE e.account = 'PRINCIPAL' AND e.amount > 100 AND a.principal > 100 ORDER BY e.journal_seq LIMIT 1");
    const forged = await tampered(
      [
        "UPDATE wallet_entry SET amount = amount - 100 WHERE journal_seq = ? AND account = 'PRINCIPAL'",
        "UPDATE wallet_entry SET amount = amount + 100 WHERE journal_seq = ? AND account = 'BONUS'",
        'UPDATE wallet_account SET principal = principal - 100, bonus = bonus + 100 WHERE member_id = ?',
      ],
      [[j.seq], [j.seq], [j.m]],
    );
    expect(forged.differences.map((d) => d.kind)).toEqual(['HASH_MISMATCH']);
  });

  it('detects a journal deleted or re-dated in SQL', async () => {
    const deleted = await tampered(['DELETE FROM wallet_journal WHERE seq = 2']);
    expect(deleted.differences.map((d) => d.kind)).toContain('CHAIN_BROKEN');
    const redated = await tampered(['UPDATE wallet_journal SET created_at = created_at + INTERVAL 1 SECOND WHERE seq = 3']);
    expect(redated.differences.map((d) => d.kind)).toEqual(['HASH_MISMATCH']);
  });

  // Last in the file: this tampering is committed.
  it('reports a committed tamper through the API', async () => {
    await ds().query("UPDATE wallet_entry SET amount = amount - 1 WHERE account = 'BONUS' ORDER BY journal_seq DESC LIMIT 1");
    const res = await gqlAs(svc.url, AUDIT, {}, financeToken());
    expect(res.data.walletAudit.ok).toBe(false);
    expect(res.data.walletAudit.differences.map((d: { kind: string }) => d.kind)).toEqual(expect.arrayContaining(['HASH_MISMATCH', 'UNBALANCED_JOURNAL', 'ACCOUNT_MISMATCH']));
  });
});
