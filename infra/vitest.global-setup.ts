/**
 * Vitest global setup: find or start MySQL/MariaDB and NATS (see infra/local-infra.ts) once per run.
 * The URLs go into process.env before the forked workers start, so every test file inherits them.
 */
import { ensureInfra, type InfraHandle } from './local-infra';

let infra: InfraHandle | undefined;

export default async function setup(): Promise<() => Promise<void>> {
  const log = (msg: string) => {
    if (process.env.INFRA_QUIET !== '1') console.log(`[infra] ${msg}`);
  };
  infra = await ensureInfra({ dataDir: '.data/test', log });
  process.env.MYSQL_URL = infra.mysqlUrl;
  process.env.NATS_URL = infra.natsUrl;
  return async () => {
    await infra?.stop();
    infra = undefined;
  };
}
