// The manager's two listeners:
//  - the control socket (unix, mode 0600 in a 0700 state dir): the local admin;
//  - the TLS port: mutual TLS, client certificates requested and verified against
//    the cluster CA but optional at the TLS layer, so that joiners without a
//    certificate can reach the two CA RPCs; every other RPC is refused by the
//    authorizer without a verified certificate. What a peer without a certificate
//    may hold there is bounded (tls-port.ts).
import * as grpc from '@grpc/grpc-js';
import { rmSync } from 'node:fs';
import { connect } from 'node:net';
import { hushProto } from '../../proto/load.js';
import type { Logger } from '../../common/log.js';
import { Authorizer } from '../auth/authorize.js';
import type { Manager } from '../manager.js';
import { caHandlers } from './ca.js';
import { controlHandlers } from './control.js';
import { guarded } from './guard.js';
import type { RpcContext } from './rpc.js';
import type { ConnectionLimits } from './connection-gate.js';
import { TlsPort } from './tls-port.js';

// Largest secret (511,999 bytes) plus framing; anything bigger is refused before parsing.
const MAX_MESSAGE_BYTES = 1024 * 1024;

const serverOptions: grpc.ServerOptions = {
  'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
  'grpc.keepalive_time_ms': 20_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.http2.min_ping_interval_without_data_ms': 5_000,
};

/** Adds a service with every method behind the authorizer (throws if a method has no policy). */
function addGuarded(server: grpc.Server, service: grpc.ServiceDefinition, handlers: object, ctx: RpcContext): void {
  server.addService(service, guarded(service, handlers, ctx));
}

function bind(server: grpc.Server, address: string, creds: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => server.bindAsync(address, creds, (err, port) => (err ? reject(err) : resolve(port))));
}

/** Refuses to take over a socket that another live manager is serving. */
async function clearStaleSocket(path: string): Promise<void> {
  const live = await new Promise<boolean>((resolve) => {
    const s = connect(path);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
  if (live) throw new Error(`another manager is already serving ${path}`);
  rmSync(path, { force: true });
}

export async function startControlSocket(manager: Manager, path: string, log: Logger): Promise<grpc.Server> {
  await clearStaleSocket(path);
  const server = new grpc.Server(serverOptions);
  const ctx = { authorizer: new Authorizer(manager), transport: 'unix' as const, log };
  addGuarded(server, hushProto().Control.service, controlHandlers(ctx, manager), ctx);
  const umask = process.umask(0o177); // the socket is created 0600: root only
  try {
    await bind(server, `unix://${path}`, grpc.ServerCredentials.createInsecure());
  } finally {
    process.umask(umask);
  }
  return server;
}

export async function startTlsServer(manager: Manager, listenAddr: string, limits: ConnectionLimits, log: Logger): Promise<{ server: grpc.Server; port: number; tls: TlsPort }> {
  const { cluster } = manager.unlocked();
  const server = new grpc.Server(serverOptions);
  const ctx = { authorizer: new Authorizer(manager), transport: 'tls' as const, log };
  addGuarded(server, hushProto().CA.service, caHandlers(ctx, manager), ctx);
  addGuarded(server, hushProto().Control.service, controlHandlers(ctx, manager), ctx);
  addGuarded(server, hushProto().Dispatcher.service, manager.unlocked().dispatcher.handlers(ctx), ctx);
  const tls = new TlsPort(server, { caPem: cluster.ca.certPem, certPem: cluster.identity.certPem, key: cluster.identity.key }, limits, log);
  try {
    return { server, port: await tls.listen(listenAddr), tls };
  } catch (e) {
    tls.close();
    server.forceShutdown();
    throw e;
  }
}
