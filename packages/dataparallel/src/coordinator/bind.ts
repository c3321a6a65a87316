/**
 * The coordinator's socket: a ROUTER with ZMQ_ROUTER_MANDATORY (a send to a vanished peer fails
 * at once with EHOSTUNREACH) and ZMTP heartbeats, optionally a CURVE server whose ZAP handler
 * admits only the listed worker keys (docs/protocol.md, "Transport" and "Security").
 */
import * as zmq from 'zeromq';
import { checkCurveKey, ZapHandler } from '../curve.js';
import type { Logger } from '../logger.js';
import type { CoordinatorCurveOptions, ResolvedCoordinatorOptions } from './options.js';

export interface BoundRouter {
  router: zmq.Router;
  /** The ZAP handler, with CURVE. */
  zap: ZapHandler | null;
}

/** Binds the ROUTER on `options.bindEndpoint`; throws naming the endpoint when it cannot. */
export async function bindRouter(
  options: ResolvedCoordinatorOptions,
  curve: CoordinatorCurveOptions | undefined,
  log: Logger,
): Promise<BoundRouter> {
  const sockOpts: zmq.SocketOptions<zmq.Router> = {
    mandatory: true,
    linger: 500,
    maxMessageSize: options.maxMessageSize,
    heartbeatInterval: options.heartbeatMs,
    heartbeatTimeout: options.heartbeatMs * options.heartbeatMisses,
  };
  let zap: ZapHandler | null = null;
  if (curve) {
    checkCurveKey(curve.publicKey, 'curve.publicKey');
    checkCurveKey(curve.secretKey, 'curve.secretKey');
    // A context of its own, so the ZAP handler governs only this socket.
    const context = new zmq.Context();
    zap = new ZapHandler(context, curve.allowedClients, log);
    Object.assign(sockOpts, {
      context,
      curveServer: true,
      curvePublicKey: curve.publicKey,
      curveSecretKey: curve.secretKey,
      zapDomain: 'dataparallel',
    });
  }
  const router = new zmq.Router(sockOpts);
  try {
    await router.bind(options.bindEndpoint);
  } catch (err) {
    router.close();
    await zap?.close();
    throw new Error(`Coordinator: cannot bind '${options.bindEndpoint}': ${(err as Error).message}`);
  }
  return { router, zap };
}
