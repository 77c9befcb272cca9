import { startTracing, stopTracing } from '@membergraph/platform/tracing';

// Tracing must patch http, undici and graphql before they are imported, hence the dynamic imports.
startTracing('gateway');

const { ConfigError, loadConfig } = await import('@membergraph/platform/config');
const { createLogger } = await import('@membergraph/platform/telemetry');
const { gatewayConfigSchema } = await import('./config');
const { createGateway } = await import('./app');

let config;
try {
  config = loadConfig(gatewayConfigSchema);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(`gateway: ${err.message}`);
  process.exit(1);
}
const log = createLogger('gateway', config.LOG_LEVEL);
const gateway = createGateway(config, { log });

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'stopping gateway');
  const force = setTimeout(() => {
    log.error('gateway did not stop within 15s, exiting');
    process.exit(1);
  }, 15_000);
  force.unref();
  try {
    await gateway.stop();
    await stopTracing();
    log.info('gateway stopped');
  } catch (err) {
    log.error({ err }, 'error while stopping gateway');
    process.exitCode = 1;
  }
}
process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));

try {
  const { url } = await gateway.start();
  log.info({ url }, `gateway ready at ${url}`);
} catch (err) {
  log.fatal({ err }, 'gateway failed to start');
  await gateway.stop().catch(() => undefined);
  process.exit(1);
}
