/**
 * Writes a members CSV for the import bench (`npm run import:members -- <file>`): ROWS rows
 * (default 100,000) of valid, distinct members with phone, name, email, birthday and gender.
 *
 *   npx tsx bench/make-members-csv.ts /tmp/members-100k.csv
 *   ROWS (default 100000), PHONE_BASE (first phone, default 13600000000: +86 136 0000 0000 upward)
 *
 * The same settings give the same file, so a second import of it measures the all-merge path.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { positiveInt, run } from './lib';

const GENDERS = ['FEMALE', 'MALE', 'OTHER', 'UNDISCLOSED'];

run(async () => {
  const file = process.argv[2];
  if (!file) throw new Error('usage: npx tsx bench/make-members-csv.ts <out.csv>');
  const rows = positiveInt('ROWS', 100_000);
  const base = positiveInt('PHONE_BASE', 13_600_000_000);
  const out = createWriteStream(file);
  out.write('phone,name,email,birthday,gender\n');
  for (let i = 0; i < rows; i++) {
    const phone = base + i;
    const birthday = `${1950 + (i % 55)}-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}`;
    // Every third member without email, every fifth without birthday: imports see complete and incomplete profiles.
    const line = `+86${phone},Member ${i},${i % 3 ? `m${phone}@example.com` : ''},${i % 5 ? birthday : ''},${GENDERS[i % 4]}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await finished(out);
  console.log(`${file}: ${rows} rows`);
});
