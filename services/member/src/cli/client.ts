/** What the member CLIs share: settings from the environment, GraphQL calls and a staff token. */

export const DEFAULT_GATEWAY_URL = 'http://127.0.0.1:4000/graphql';

export function env(name: string, source: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = source[name];
  return value === undefined || value === '' ? undefined : value;
}

export function intSetting(name: string, fallback: number, min: number, max: number, source: NodeJS.ProcessEnv = process.env): number {
  const raw = env(name, source);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new CliError(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
  return n;
}

/** A failure to report in one line (exit code 1), without a stack. */
export class CliError extends Error {}

/** A GraphQL error answer; `transient` when retrying the same request may succeed (network, 5xx). */
export class GraphQLCallError extends CliError {
  constructor(
    message: string,
    readonly transient: boolean,
  ) {
    super(message);
  }
}

interface GraphQLBody<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

export async function graphql<T>(url: string, query: string, variables: object, token?: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
  } catch (err) {
    throw new GraphQLCallError(`cannot reach ${url}: ${(err as Error).message}`, true);
  }
  const text = await res.text();
  let body: GraphQLBody<T>;
  try {
    body = JSON.parse(text) as GraphQLBody<T>;
  } catch {
    throw new GraphQLCallError(`HTTP ${res.status} from ${url}: ${text.slice(0, 300)}`, res.status >= 500);
  }
  if (body.errors?.length || !body.data) {
    const detail = (body.errors ?? []).map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`).join('; ');
    const transient = res.status >= 500 && !(body.errors ?? []).some((e) => e.extensions?.code && e.extensions.code !== 'INTERNAL_SERVER_ERROR');
    throw new GraphQLCallError(`GraphQL request failed (HTTP ${res.status}): ${detail || 'no data'}`, transient);
  }
  return body.data;
}

/** TOKEN, or a staff login with ADMIN_USERNAME + ADMIN_PASSWORD against `url`. */
export async function staffToken(url: string, source: NodeJS.ProcessEnv = process.env): Promise<string> {
  const token = env('TOKEN', source);
  if (token) return token;
  const username = env('ADMIN_USERNAME', source);
  const password = env('ADMIN_PASSWORD', source);
  if (!username || !password) throw new CliError('Set TOKEN, or ADMIN_USERNAME and ADMIN_PASSWORD to log in (staffLogin)');
  const data = await graphql<{ staffLogin: { token: string } }>(url, 'mutation($input: StaffLoginInput!) { staffLogin(input: $input) { token } }', {
    input: { username, password },
  });
  return data.staffLogin.token;
}

/** Runs a CLI's main: a CliError is one line on stderr and exit code 1. */
export function runCli(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    console.error(err instanceof CliError ? `error: ${err.message}` : err);
    process.exit(1);
  });
}
