/**
 * Exports members as CSV from the member service's streamed endpoint (`GET /export/members.csv`),
 * with the same filter as `members(filter)`. PII comes masked unless the token's role may see it
 * (ADMIN, SUPPORT; those exports are audited per member).
 *
 *   npm run export:members -- out.csv [--tier GOLD] [--status ACTIVE] [--tag vip]
 *                                     [--registered-from 2026-01-01] [--registered-to 2026-02-01]
 *   MEMBER_URL (default http://127.0.0.1:4001: the export is served by the member service, not the gateway),
 *   TOKEN or ADMIN_USERNAME + ADMIN_PASSWORD (staffLogin through GATEWAY_URL, default http://127.0.0.1:4000/graphql)
 *
 * The file is written under a temporary name and renamed when the transfer completed, so a broken
 * transfer never leaves a short file that looks whole.
 */
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import cliProgress from 'cli-progress';
import { CliError, DEFAULT_GATEWAY_URL, env, runCli, staffToken } from './client';

const OPTIONS = {
  tier: { type: 'string' },
  status: { type: 'string' },
  tag: { type: 'string' },
  phone: { type: 'string' },
  name: { type: 'string' },
  'registered-from': { type: 'string' },
  'registered-to': { type: 'string' },
} as const;

export interface ExportOptions {
  /** The member service's base URL (http://host:port). */
  memberUrl: string;
  token: string;
  filter: Record<string, string>;
  progress?: boolean;
}

/** Downloads the export to `out`; resolves to the number of member rows written. */
export async function exportMembersCsv(out: string, opts: ExportOptions): Promise<{ rows: number; bytes: number; seconds: number }> {
  const started = Date.now();
  const url = new URL('/export/members.csv', opts.memberUrl);
  for (const [k, v] of Object.entries(opts.filter)) url.searchParams.set(k, v);
  const res = await fetch(url, { headers: { authorization: `Bearer ${opts.token}` } }).catch((err: Error) => {
    throw new CliError(`cannot reach ${url.origin}: ${err.message}`);
  });
  if (!res.ok || !res.body) {
    const text = await res.text();
    let message = text.slice(0, 300);
    try {
      message = (JSON.parse(text) as { errors: Array<{ message: string; extensions?: { code?: string } }> }).errors.map((e) => `${e.extensions?.code}: ${e.message}`).join('; ');
    } catch {
      // not JSON: keep the text
    }
    throw new CliError(`export refused (HTTP ${res.status}): ${message}`);
  }
  const bar = opts.progress ? new cliProgress.SingleBar({ format: 'exporting {value} rows | {mb} MB', hideCursor: true }, cliProgress.Presets.shades_classic) : null;
  bar?.start(0, 0, { mb: '0.0' });
  // Counts record ends (newlines): exported values never contain one (ids, codes, dates, PII without line breaks).
  let lines = 0;
  let bytes = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, done) {
      for (const b of chunk) if (b === 10) lines++;
      bytes += chunk.length;
      bar?.update(Math.max(lines - 1, 0), { mb: (bytes / 1e6).toFixed(1) });
      done(null, chunk);
    },
  });
  const partial = `${out}.partial`;
  try {
    await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), count, createWriteStream(partial));
    renameSync(partial, out);
  } catch (err) {
    rmSync(partial, { force: true });
    throw new CliError(`export broke off after ${bytes} bytes: ${(err as Error).message}`);
  } finally {
    bar?.stop();
  }
  return { rows: Math.max(lines - 1, 0), bytes, seconds: (Date.now() - started) / 1000 };
}

async function main() {
  const { values, positionals } = parseArgs({ options: OPTIONS, allowPositionals: true });
  const out = positionals[0];
  if (!out || positionals.length > 1) throw new CliError('usage: npm run export:members -- <out.csv> [--tier X] [--status Y] [--tag T] [--registered-from ISO] [--registered-to ISO]');
  const filter: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) {
    if (v !== undefined) filter[k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] = v;
  }
  const token = await staffToken(env('GATEWAY_URL') ?? DEFAULT_GATEWAY_URL);
  const result = await exportMembersCsv(out, { memberUrl: env('MEMBER_URL') ?? 'http://127.0.0.1:4001', token, filter, progress: process.stderr.isTTY });
  console.log(`${out}: ${result.rows} members, ${(result.bytes / 1e6).toFixed(1)} MB in ${result.seconds.toFixed(1)} s`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) runCli(main);
