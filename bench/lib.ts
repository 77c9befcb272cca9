/** What every bench script shares: settings from the environment, GraphQL calls, a staff token, the report. */
import type { Result } from 'autocannon';

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

export function env(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

export function positiveInt(name: string, fallback: number, min = 1): number {
  const raw = env(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min} (got "${raw}")`);
  return n;
}

export async function graphql<T>(url: string, query: string, variables: object, token?: string): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  let body: GraphQLResponse<T>;
  try {
    body = JSON.parse(text) as GraphQLResponse<T>;
  } catch {
    throw new Error(`HTTP ${res.status} from ${url}: ${text.slice(0, 300)}`);
  }
  if (body.errors?.length || !body.data) {
    const detail = (body.errors ?? []).map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`).join('; ');
    throw new Error(`GraphQL request failed (HTTP ${res.status}): ${detail || 'no data'}`);
  }
  return body.data;
}

export async function obtainToken(url: string): Promise<string | undefined> {
  const token = env('TOKEN');
  if (token) return token;
  const username = env('ADMIN_USERNAME');
  const password = env('ADMIN_PASSWORD');
  if (!username || !password) return undefined;
  const data = await graphql<{ staffLogin: { token: string } }>(
    url,
    'mutation($input: StaffLoginInput!) { staffLogin(input: $input) { token } }',
    { input: { username, password } },
  );
  console.log(`Logged in as ${username}.`);
  return data.staffLogin.token;
}


/** Prints autocannon's result in the shape docs/benchmarks.md records, plus one JSON line; exit 1 on any failure. */
export function report(result: Result, extra: Record<string, unknown>): void {
  const ms = (n: number) => `${n.toFixed(1)} ms`;
  const summary = {
    ...extra,
    requestsPerSecond: Math.round(result.requests.average * 10) / 10,
    requests: result.requests.total,
    latencyMs: { p50: result.latency.p50, p97_5: result.latency.p97_5, p99: result.latency.p99, avg: result.latency.average, max: result.latency.max },
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    graphqlErrors: result.mismatches,
  };
  console.log('');
  console.log(`requests/s     ${summary.requestsPerSecond} (total ${summary.requests})`);
  console.log(`latency p50    ${ms(result.latency.p50)}`);
  console.log(`latency p97.5  ${ms(result.latency.p97_5)}`);
  console.log(`latency p99    ${ms(result.latency.p99)}`);
  console.log(`errors         ${result.errors} (timeouts ${result.timeouts})`);
  console.log(`non-2xx        ${result.non2xx}`);
  console.log(`graphql errors ${result.mismatches} (HTTP 200 responses with "errors")`);
  console.log(`\nJSON ${JSON.stringify(summary)}`);
  if (result.errors || result.non2xx || result.mismatches) process.exitCode = 1;
}

/** Runs `main` and turns a thrown error into one line and exit code 1. */
export function run(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
