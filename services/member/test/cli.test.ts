import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { Role } from '@membergraph/platform';
import { gql, serviceUnderTest, tokenFor } from '@membergraph/testkit';
import { createApp } from '../src/app';

const svc = serviceUnderTest('member', createApp);
const root = resolve(import.meta.dirname, '../../..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const dir = mkdtempSync(join(tmpdir(), 'mg-member-cli-'));
let operator: string;

/** Runs a CLI as `npm run` would, against the in-process service; never throws (the exit code is checked). */
async function cli(script: string, args: string[], env: Record<string, string>) {
  try {
    const { stdout, stderr } = await promisify(execFile)(tsx, [join(root, 'services/member/src/cli', script), ...args], {
      cwd: root,
      env: { PATH: process.env.PATH, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  operator = await tokenFor([Role.OPERATOR], { sub: 'cli-operator' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run import:members', () => {
  it('streams a CSV through importMembers in batches, prints the summary and writes the rejected rows with reasons', async () => {
    const file = join(dir, 'members.csv');
    writeFileSync(
      file,
      [
        '\uFEFFPhone,Name,Email,Birthday,Updated_At,Notes',
        '13850000001,Ma Li,ma@example.com,1991-01-01,,vip',
        '+8613850000002,"Huang, Bo",,,,',
        'not-a-phone,Nobody,,,,',
        '138 5000 0001,Ma Li,,1991-01-01,,duplicate of line 2',
        '',
        '+8613850000003,Guo Jing,guo@,,,',
        '+8613850000004,Yang Guo,,,2026-01-01T00:00:00Z,',
      ].join('\n'),
    );
    const res = await cli('import-members.ts', [file], { GATEWAY_URL: svc.url, TOKEN: operator, BATCH: '2' });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('created 3, merged 1, rejected 2');
    const summary = JSON.parse(/^JSON (.*)$/m.exec(res.stdout)![1]!);
    expect(summary).toMatchObject({ rows: 6, created: 3, merged: 1, rejected: 2, rejectedFile: `${file}.rejected.csv` });

    const rejected = parse(readFileSync(`${file}.rejected.csv`), { columns: true });
    expect(rejected).toEqual([
      expect.objectContaining({ line: '4', phone: 'not-a-phone', name: 'Nobody', field: 'phone', reason: 'phone is not a valid phone number' }),
      expect.objectContaining({ line: '7', phone: '+8613850000003', email: 'guo@', field: 'email', reason: 'email is not a valid email address' }),
    ]);
    const found = await gql(svc.url, `{ members(first: 10) { edges { node { phone name email } } } }`, undefined, await tokenFor([Role.ADMIN]));
    expect(found.data.members.edges.map((e: { node: object }) => e.node)).toEqual([
      { phone: '+8613850000004', name: 'Yang Guo', email: null },
      { phone: '+8613850000002', name: 'Huang, Bo', email: null },
      { phone: '+8613850000001', name: 'Ma Li', email: 'ma@example.com' },
    ]);

    // Running the same file again is safe: every good row merges, nothing new.
    const again = await cli('import-members.ts', [file], { GATEWAY_URL: svc.url, TOKEN: operator });
    expect(again.stdout).toContain('created 0, merged 4, rejected 2');
  });

  it('refuses a file without phone and name columns, and a caller who may not import', async () => {
    const file = join(dir, 'bad.csv');
    writeFileSync(file, 'mobile,fullname\n13850000009,X\n');
    const bad = await cli('import-members.ts', [file], { GATEWAY_URL: svc.url, TOKEN: operator });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('needs at least phone and name columns');

    writeFileSync(file, 'phone,name\n13850000009,X\n');
    const denied = await cli('import-members.ts', [file], { GATEWAY_URL: svc.url, TOKEN: await tokenFor([Role.ANALYST]) });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('FORBIDDEN');
    expect(existsSync(`${file}.rejected.csv`)).toBe(false);
  });
});

describe('npm run export:members', () => {
  it('downloads the filtered export to a file (masked for an OPERATOR)', async () => {
    const out = join(dir, 'out.csv');
    const base = svc.url.replace(/\/graphql$/, '');
    const res = await cli('export-members.ts', [out, '--status', 'ACTIVE'], { MEMBER_URL: base, GATEWAY_URL: svc.url, TOKEN: operator });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const rows = parse(readFileSync(out), { columns: true }) as Array<Record<string, string>>;
    expect(res.stdout).toContain(`${rows.length} members`);
    expect(rows.length).toBeGreaterThanOrEqual(3);
    for (const r of rows) expect(r.phone).toMatch(/\*\*\*\*/);
    expect(existsSync(`${out}.partial`)).toBe(false);

    const refused = await cli('export-members.ts', [join(dir, 'no.csv')], { MEMBER_URL: base, GATEWAY_URL: svc.url, TOKEN: 'garbage' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('HTTP 401');
    expect(existsSync(join(dir, 'no.csv'))).toBe(false);
  });
});
