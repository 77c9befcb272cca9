import type { GraphQLFormattedError } from 'graphql';
import { ErrorCode } from '../errors';
import type { Logger } from '../telemetry';

/** Codes whose messages were written for clients (ours and Apollo's request-level ones). */
const SAFE_CODES = new Set<string>([
  ...Object.values(ErrorCode),
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);

/**
 * Keeps business errors as they are and hides everything else (SQL, driver and programming
 * errors) behind INTERNAL_SERVER_ERROR, logging the original. Never returns a stack trace.
 */
export function createErrorFormatter(log: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = String(formatted.extensions?.code ?? '');
    if (SAFE_CODES.has(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR) {
      const { stacktrace: _s, exception: _e, ...extensions } = formatted.extensions ?? {};
      return { message: formatted.message, locations: formatted.locations, path: formatted.path, extensions };
    }
    log.error({ err: (error as { originalError?: unknown })?.originalError ?? error, path: formatted.path }, 'unhandled resolver error');
    return {
      message: 'Internal server error',
      path: formatted.path,
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}
