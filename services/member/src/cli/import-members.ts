/**
 * Imports members from a CSV file of any size through the GraphQL API (`importMembers`), in
 * batches, with a progress bar and a summary; rejected rows go to `<file>.rejected.csv` with
 * their line and reason.
 *
 *   npm run import:members -- members.csv
 *   GATEWAY_URL (default http://127.0.0.1:4000/graphql; a member service's /graphql works too),
 *   TOKEN or ADMIN_USERNAME + ADMIN_PASSWORD (staffLogin), BATCH (default 1000, at most 1000),
 *   CONCURRENCY (batches in flight, default 2)
 *
 * Columns (header row, any order, case-insensitive; others are ignored): phone, name, email,
 * birthday, gender, channel, updatedAt (or updated_at), referralCode (or referral_code). Re-running a file is safe: rows already
 * imported merge into their members and change nothing.
 */
import { createReadStream, createWriteStream, existsSync, rmSync, statSync, type WriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { parse } from 'csv-parse';
import { stringify, type Stringifier } from 'csv-stringify';
import cliProgress from 'cli-progress';
import { CliError, DEFAULT_GATEWAY_URL, GraphQLCallError, env, graphql, intSetting, runCli, staffToken } from './client';

const MUTATION = `mutation($input: ImportMembersInput!) {
  importMembers(input: $input) { created merged rejected results { row status reason field memberId } }
}`;

const FIELDS = ['phone', 'name', 'email', 'birthday', 'gender', 'channel', 'updatedAt', 'referralCode'] as const;
type Field = (typeof FIELDS)[number];
type Row = Partial<Record<Field, string>>;
/** Header spellings accepted for each field (compared lower-cased, without spaces, dashes and underscores). */
const HEADER: Record<string, Field> = Object.fromEntries(FIELDS.map((f) => [f.toLowerCase(), f]));

interface ImportResult {
  created: number;
  merged: number;
  rejected: number;
  results: Array<{ row: number; status: string; reason: string | null; field: string | null; memberId: string | null }>;
}

export interface ImportSummary {
  rows: number;
  created: number;
  merged: number;
  rejected: number;
  seconds: number;
  /** Where the rejected rows went; null when none was rejected. */
  rejectedFile: string | null;
}

export interface ImportOptions {
  url: string;
  token: string;
  batch?: number;
  concurrency?: number;
  /** Show the progress bar (on a terminal). */
  progress?: boolean;
}

const MAX_TRIES = 4;

/** Sends one batch; network errors and 5xx are retried (a retried batch is harmless: rows merge into what committed). */
async function send(url: string, token: string, rows: Row[]): Promise<ImportResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await graphql<{ importMembers: ImportResult }>(url, MUTATION, { input: { rows } }, token)).importMembers;
    } catch (err) {
      if (!(err instanceof GraphQLCallError) || !err.transient || attempt >= MAX_TRIES) throw err;
      await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
    }
  }
}

/** Streams `file` through importMembers; resolves to the summary once every batch has answered. */
export async function importMembersCsv(file: string, opts: ImportOptions): Promise<ImportSummary> {
  const batchSize = opts.batch ?? 1000;
  const concurrency = opts.concurrency ?? 2;
  const rejectedFile = `${file}.rejected.csv`;
  // A report from an earlier run would be mistaken for this one's.
  if (existsSync(rejectedFile)) rmSync(rejectedFile);
  const started = Date.now();
  const totals = { rows: 0, created: 0, merged: 0, rejected: 0 };

  const input = createReadStream(file);
  const size = statSync(file).size;
  const bar = opts.progress
    ? new cliProgress.SingleBar(
        { format: 'importing [{bar}] {percentage}% | {rows} rows | created {created} merged {merged} rejected {rejected} | {rate} rows/s', hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : null;
  bar?.start(size, 0, { ...totals, rate: 0 });
  const tick = () => {
    const rate = Math.round(totals.rows / Math.max((Date.now() - started) / 1000, 0.001));
    bar?.update(input.bytesRead, { ...totals, rate });
  };

  let rejects: { csv: Stringifier; out: WriteStream } | null = null;
  const reject = (line: number, row: Row, field: string | null, reason: string) => {
    if (!rejects) {
      const csv = stringify({ header: true, columns: ['line', ...FIELDS, 'field', 'reason'] });
      const out = createWriteStream(rejectedFile);
      csv.pipe(out);
      rejects = { csv, out };
    }
    rejects.csv.write({ line, ...row, field: field ?? '', reason });
  };

  const parser = input.pipe(
    parse({
      bom: true,
      trim: true,
      skip_empty_lines: true,
      info: true,
      relax_column_count: true,
      columns: (header: string[]) => {
        const names = header.map((h) => HEADER[h.toLowerCase().replace(/[\s_-]/g, '')] ?? false);
        if (!names.includes('phone') || !names.includes('name')) throw new CliError(`${file}: the header row needs at least phone and name columns (got: ${header.join(', ')})`);
        return names;
      },
    }),
  );

  const inFlight = new Set<Promise<void>>();
  let failure: unknown = null;
  const dispatch = (rows: Row[], lines: number[]) => {
    const p = send(opts.url, opts.token, rows)
      .then((res) => {
        totals.created += res.created;
        totals.merged += res.merged;
        totals.rejected += res.rejected;
        for (const r of res.results) if (r.status === 'REJECTED') reject(lines[r.row]!, rows[r.row]!, r.field, r.reason ?? 'rejected');
        tick();
      })
      .catch((err: unknown) => {
        failure ??= new CliError(`batch of lines ${lines[0]}-${lines.at(-1)} failed: ${(err as Error).message} (earlier batches are imported; re-running the file is safe)`);
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };

  let rows: Row[] = [];
  let lines: number[] = [];
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
      if (failure) break;
      const row: Row = {};
      for (const f of FIELDS) if (record[f] !== undefined && record[f] !== '') row[f] = record[f];
      // phone and name are required by the API: send empty strings so the row is rejected with a reason.
      row.phone ??= '';
      row.name ??= '';
      rows.push(row);
      lines.push(info.lines);
      totals.rows++;
      if (rows.length >= batchSize) {
        dispatch(rows, lines);
        [rows, lines] = [[], []];
        // At most `concurrency` batches in flight: the file is read only as fast as the API takes it.
        while (inFlight.size >= concurrency) await Promise.race(inFlight);
      }
    }
    if (rows.length && !failure) dispatch(rows, lines);
    await Promise.all(inFlight);
  } finally {
    input.destroy();
    bar?.update(size);
    bar?.stop();
    const open = rejects as { csv: Stringifier; out: WriteStream } | null;
    if (open) {
      open.csv.end();
      await finished(open.out);
    }
  }
  if (failure) throw failure;
  return { ...totals, seconds: (Date.now() - started) / 1000, rejectedFile: totals.rejected ? rejectedFile : null };
}

async function main() {
  const file = process.argv[2];
  if (!file || process.argv.length > 3) throw new CliError('usage: npm run import:members -- <file.csv>');
  if (!existsSync(file)) throw new CliError(`${file}: no such file`);
  const url = env('GATEWAY_URL') ?? DEFAULT_GATEWAY_URL;
  const token = await staffToken(url);
  const summary = await importMembersCsv(file, {
    url,
    token,
    batch: intSetting('BATCH', 1000, 1, 1000),
    concurrency: intSetting('CONCURRENCY', 2, 1, 16),
    progress: process.stderr.isTTY,
  });
  const rate = Math.round(summary.rows / Math.max(summary.seconds, 0.001));
  console.log(`${file}: ${summary.rows} rows in ${summary.seconds.toFixed(1)} s (${rate} rows/s)`);
  console.log(`created ${summary.created}, merged ${summary.merged}, rejected ${summary.rejected}`);
  if (summary.rejectedFile) console.log(`rejected rows with their reasons: ${summary.rejectedFile}`);
  console.log(`JSON ${JSON.stringify(summary)}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) runCli(main);
