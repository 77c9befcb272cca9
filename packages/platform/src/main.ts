import { ConfigError } from './config';
import { startTracing, stopTracing } from './tracing';

interface Runnable {
  migrate(): Promise<void>;
  start(): Promise<unknown>;
  stop(): Promise<void>;
}

/**
 * The body of every service's main.ts: tracing first (so instrumentations patch mysql2 and http
 * before they load), then the app. `main.ts migrate` runs migrations and exits.
 */
export async function runMain(name: string, load: () => Promise<{ createApp: () => Runnable }>): Promise<void> {
  startTracing(name);
  let app: Runnable;
  try {
    app = (await load()).createApp();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`${name}: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
  if (process.argv[2] === 'migrate') {
    await app.migrate();
    await app.stop();
    await stopTracing();
    return;
  }
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(JSON.stringify({ level: 30, service: name, msg: `${signal}: stopping` }));
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    await app.stop();
    await stopTracing();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  await app.start();
}
