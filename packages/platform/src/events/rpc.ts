import { headers as natsHeaders, type Msg, type Subscription } from '@nats-io/transport-node';
import { context, propagation } from '@opentelemetry/api';
import type { Bus } from './bus';
import { AppError, ErrorCode } from '../errors';
import { contextFromTraceparent, type Logger } from '../telemetry';

/** The reply envelope of a NATS request/reply call: a result or a client-safe error. */
export type RpcReply<T> =
  | { ok: true; result: T }
  | { ok: false; error: { code: string; message: string; extensions?: Record<string, unknown> } };

/**
 * Answers requests on `name` (e.g. `rpc.member.verify_otp`) with a queue group, so replicas share
 * the load and each request is answered once; the subscription ends when the bus drains. AppErrors travel back with their code; anything
 * else is logged and answered as INTERNAL_SERVER_ERROR.
 */
export function serveRequests<Req, Res>(
  bus: Bus,
  name: string,
  handler: (request: Req) => Promise<Res>,
  log: Logger,
  queue = name,
): Subscription {
  const sub = bus.nc.subscribe(bus.subject(name), { queue });
  const answer = async (msg: Msg) => {
    const parent = contextFromTraceparent(msg.headers?.get('traceparent'));
    let reply: RpcReply<Res>;
    try {
      const result = await context.with(parent, () => handler(msg.json<Req>()));
      reply = { ok: true, result };
    } catch (err) {
      if (err instanceof AppError) {
        const { code, ...extensions } = err.extensions;
        reply = { ok: false, error: { code: String(code), message: err.message, extensions } };
      } else if (err instanceof SyntaxError) {
        reply = { ok: false, error: { code: ErrorCode.BAD_USER_INPUT, message: 'Request is not JSON' } };
      } else {
        log.error({ err, rpc: name }, 'rpc handler failed');
        reply = { ok: false, error: { code: ErrorCode.INTERNAL_SERVER_ERROR, message: 'Internal error' } };
      }
    }
    msg.respond(JSON.stringify(reply));
  };
  // Requests are answered concurrently: one slow request must not hold up the others.
  void (async () => {
    for await (const msg of sub) void answer(msg);
  })();
  return sub;
}

/** Calls a `serveRequests` responder; its error comes back as an AppError with the same code. */
export async function callRequest<Req, Res>(bus: Bus, name: string, request: Req, timeoutMs = 5_000): Promise<Res> {
  const h = natsHeaders();
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  if (carrier.traceparent) h.set('traceparent', carrier.traceparent);
  const msg = await bus.nc.request(bus.subject(name), JSON.stringify(request), { timeout: timeoutMs, headers: h });
  const reply = msg.json<RpcReply<Res>>();
  if (!reply.ok) throw new AppError(reply.error.code, reply.error.message, reply.error.extensions);
  return reply.result;
}
