import { NodeSDK } from '@opentelemetry/sdk-node';
import { ConsoleSpanExporter } from '@opentelemetry/sdk-trace-base';
import { getNodeAutoInstrumentations } from '@opentelemetry/auto-instrumentations-node';

let sdk: NodeSDK | undefined;

/**
 * Starts OpenTelemetry before the app is imported: OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set,
 * console spans when OTEL_TRACES_EXPORTER=console, otherwise nothing (no overhead by default).
 */
export function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const otlp = Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const consoleOnly = env.OTEL_TRACES_EXPORTER === 'console';
  if (sdk || (!otlp && !consoleOnly)) return false;
  sdk = new NodeSDK({
    serviceName,
    // The OTLP exporter reads OTEL_EXPORTER_OTLP_ENDPOINT itself when traceExporter is left unset.
    traceExporter: consoleOnly ? new ConsoleSpanExporter() : undefined,
    instrumentations: [
      getNodeAutoInstrumentations({
        '@opentelemetry/instrumentation-fs': { enabled: false },
        '@opentelemetry/instrumentation-dns': { enabled: false },
        '@opentelemetry/instrumentation-net': { enabled: false },
      }),
    ],
  });
  sdk.start();
  return true;
}

/** Flushes and stops tracing (on SIGTERM). */
export async function stopTracing(): Promise<void> {
  await sdk?.shutdown();
  sdk = undefined;
}
