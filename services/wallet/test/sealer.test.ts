import { describe, expect, it } from 'vitest';
import { Role, STREAMS, newId } from '@membergraph/platform';
import { serviceUnderTest, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';
import { cardLoadPostings } from '../src/domain/ledger';
import { postJournal } from '../src/services/ledger.service';
import { sealJournals } from '../src/services/ledger-sealer.service';
import { lockWallet } from '../src/services/wallet-account.service';
import { AUDIT, TOP_UP, count, financeToken, gqlAs, openMember, payClient, topUpInput } from './helpers';

const svc = serviceUnderTest('wallet', createApp, { probe: STREAMS.member, probeName: 'wallet-sealer-test' });
const ds = () => svc.app.kit.ds;

/** Loads `fen` onto a fresh wallet in the caller's transaction (a card load: no business row needed). */
async function load(em: Parameters<typeof postJournal>[1], memberId: string, fen: number) {
  const account = (await lockWallet(em, memberId))!;
  return postJournal(svc.app.kit, em, { kind: 'CARD_LOAD', memberId, reference: `T${newId().slice(-20)}`, postings: cardLoadPostings(memberId, fen), before: account });
}

const journal = async (seq: number) => (await ds().query('SELECT seq, chain_pos, hash FROM wallet_journal WHERE seq = ?', [seq]))[0];

describe('the journal sealer', () => {
  it('chains journals in commit order: a journal committed late, after a higher seq, gets the next place; rolled-back seqs leave no hole', async () => {
    const [a, b, c] = [await openMember(svc.app), await openMember(svc.app), await openMember(svc.app)];
    // A posts first (lower seq) and stays open...
    const slow = ds().createQueryRunner();
    await slow.connect();
    await slow.startTransaction('READ COMMITTED');
    const first = await load(slow.manager, a, 1_000);
    // ...while B posts later and commits first.
    const second = await svc.app.kit.uow((em) => load(em, b, 2_000));
    expect(second.seq).toBeGreaterThan(first.seq);
    await sealJournals(ds());
    expect((await journal(second.seq)).chain_pos).not.toBeNull();
    // C is rolled back: its seq is burnt.
    await svc.app.kit.uow(async (em) => {
      await load(em, c, 3_000);
      throw Object.assign(new Error('rolled back'), { rolledBack: true });
    }).catch((err: { rolledBack?: boolean }) => expect(err.rolledBack).toBe(true));
    await slow.commitTransaction();
    await slow.release();
    await sealJournals(ds());
    const [j1, j2] = [await journal(first.seq), await journal(second.seq)];
    expect(Number(j1.chain_pos)).toBeGreaterThan(Number(j2.chain_pos));

    // Dense positions 1..n, the head on the last, and the audit clean.
    const n = await count(ds(), 'SELECT COUNT(*) AS n FROM wallet_journal');
    expect(await count(ds(), 'SELECT MAX(chain_pos) AS n FROM wallet_journal')).toBe(n);
    expect(await count(ds(), 'SELECT COUNT(*) AS n FROM wallet_journal WHERE chain_pos IS NULL')).toBe(0);
    expect(await count(ds(), 'SELECT seq AS n FROM wallet_chain_head')).toBe(n);
    const audit = (await gqlAs(svc.url, AUDIT, {}, financeToken())).data.walletAudit;
    expect(audit).toMatchObject({ ok: true, differences: [], journalsChecked: n });
  });

  it('posts a balance-only payment as one PAYMENT_CAPTURE journal in one transaction, and seals it', async () => {
    const memberId = await openMember(svc.app);
    expect((await gqlAs(svc.url, TOP_UP, { input: topUpInput(memberId, 10_000) }, payClient())).errors).toBeUndefined();
    const token = await tokenFor([Role.INTEGRATION], { kind: 'client', sub: 'pos', scopes: ['wallet:pay'] });
    const res = await gqlAs(svc.url, `mutation($input: PayInput!) { pay(input: $input) { id status } }`, { input: { memberId, orderRef: 'o1', amount: 10_500, idempotencyKey: newId() } }, token);
    expect(res.data.pay.status).toBe('CAPTURED');
    const journals = await ds().query('SELECT seq, kind FROM wallet_journal WHERE reference = ?', [res.data.pay.id]);
    expect(journals.map((j: { kind: string }) => j.kind)).toEqual(['PAYMENT_CAPTURE']);
    const entries = await ds().query('SELECT account, amount FROM wallet_entry WHERE journal_seq = ? ORDER BY line', [journals[0].seq]);
    // 100 yuan principal first, then 5 of the 15 bonus yuan.
    expect(entries.map((e: { account: string; amount: string }) => [e.account, Number(e.amount)])).toEqual([
      ['SPEND_CLEARING', 10_500],
      ['SV_LIABILITY', -10_500],
      ['PRINCIPAL', -10_000],
      ['BONUS', -500],
    ]);
    const [p] = await ds().query('SELECT status, wallet_step, from_principal, from_bonus FROM wallet_payment WHERE id = ?', [res.data.pay.id]);
    expect(p).toMatchObject({ status: 'CAPTURED', wallet_step: 'CAPTURED' });
    expect([Number(p.from_principal), Number(p.from_bonus)]).toEqual([10_000, 500]);
    await sealJournals(ds());
    expect((await journal(Number(journals[0].seq))).hash).toMatch(/^[0-9a-f]{64}$/);
    expect((await gqlAs(svc.url, AUDIT, {}, financeToken())).data.walletAudit).toMatchObject({ ok: true, differences: [] });
  });
});
