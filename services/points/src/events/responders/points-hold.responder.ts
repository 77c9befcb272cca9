import type { z } from 'zod';
import { badField, serveRequests, type ServiceKit } from '@membergraph/platform';
import { PointsRefundRpc, PointsRpc, holdPointsRequest, refundHoldRequest, resolveHoldRequest, type PointsHoldReply, type RefundHoldReply } from '@membergraph/contracts';
import type { PointsConfig } from '../../config';
import { RPC_CALLER, captureHold, holdPoints, holdReply, releaseHold } from '../../services/points-hold.service';
import { refundHold } from '../../services/points-restore.service';

/** The contract's shape, or BAD_USER_INPUT naming the first bad field. */
function parse<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.map(String).join('.') || 'request';
  throw badField(field, `${field}: ${issue?.message ?? 'invalid request'}`);
}

/** Request handlers of `PointsRpc.*`, each one unit of work; errors travel back with their code. */
export function holdRpcHandlers(kit: ServiceKit<PointsConfig>) {
  return {
    hold: async (raw: unknown): Promise<PointsHoldReply> => {
      const req = parse(holdPointsRequest, raw);
      return holdReply(await kit.uow((em) => holdPoints(kit, em, RPC_CALLER, req)));
    },
    capture: async (raw: unknown): Promise<PointsHoldReply> => {
      const { holdId } = parse(resolveHoldRequest, raw);
      return holdReply(await kit.uow((em) => captureHold(kit, em, RPC_CALLER, holdId)));
    },
    release: async (raw: unknown): Promise<PointsHoldReply> => {
      const { holdId } = parse(resolveHoldRequest, raw);
      return holdReply(await kit.uow((em) => releaseHold(kit, em, RPC_CALLER, holdId)));
    },
    refundHold: async (raw: unknown): Promise<RefundHoldReply> => {
      const req = parse(refundHoldRequest, raw);
      return kit.uow((em) => refundHold(kit, em, req));
    },
  };
}

/**
 * Serves the checkout saga's hold, capture and release (`PointsRpc`) and the wallet's give-back of
 * a refunded payment's points (`PointsRefundRpc`) with one queue group, so
 * replicas share the requests. The subscriptions end when the bus drains at stop().
 */
export function serveHoldRequests(kit: ServiceKit<PointsConfig>): Array<ReturnType<typeof serveRequests>> {
  const h = holdRpcHandlers(kit);
  const queue = `${kit.bus.prefix}points`;
  return [
    serveRequests(kit.bus, PointsRpc.Hold, h.hold, kit.log, queue),
    serveRequests(kit.bus, PointsRpc.Capture, h.capture, kit.log, queue),
    serveRequests(kit.bus, PointsRpc.Release, h.release, kit.log, queue),
    serveRequests(kit.bus, PointsRefundRpc.RefundHold, h.refundHold, kit.log, queue),
  ];
}
