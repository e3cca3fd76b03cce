// The manager's TLS port, with the TCP listener and the TLS handshake in our hands: grpc-js's own
// secure server keeps a silent connection for 120 s and accepts any number of them (a peer holding
// ~20,000 plain TCP connections filled the manager's descriptors and cut off the CLI and the nodes).
//
// Here a connection is counted from accept (ConnectionGate): over a cap it is reset at once; its TLS
// handshake (client certificate requested, verified against the cluster CA, optional) must finish
// within the handshake timeout; an anonymous TLS connection lives at most anonymousMaxAgeMs. Only
// then is the TLS socket handed to grpc-js (a connection injector), which serves HTTP/2 on it and
// reads the verified certificate from it as before (call.getAuthContext()).
import * as grpc from '@grpc/grpc-js';
import { lookup } from 'node:dns/promises';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { Server as TlsServer, type TLSSocket } from 'node:tls';
import type { Logger } from '../../common/log.js';
import type { KeyObject } from 'node:crypto';
import { privateKeyPem } from '../crypto/key-pem.js';
import { addressKey, ConnectionGate, type ConnectionLimits, type Stage } from './connection-gate.js';

/** Dropped connections are logged at most this often (counts and addresses, never one line each). */
const DROP_REPORT_MS = 10_000;

interface Connection {
  id: string;
  key: string;
  stage: Stage;
  socket: Socket;
  maxAge?: NodeJS.Timeout;
}

export interface Certificates {
  caPem: string;
  certPem: string;
  /** Never a string: its PEM exists only while a secure context is made from it, then is zeroed. */
  key: KeyObject;
}

/** tls options for these certificates; `done()` zeroes the key's PEM once OpenSSL holds its copy. */
function contextOptions(caPem: string, certPem: string, key: KeyObject): { options: { ca: string; cert: string; key: Buffer }; done: () => void } {
  const pem = privateKeyPem(key);
  return { options: { ca: caPem, cert: certPem, key: pem }, done: () => pem.fill(0) };
}

/** The 4-tuple of a connection: the raw socket and the TLS socket over it share it. */
function tuple(s: Socket): string {
  return `${s.localAddress}|${s.localPort}|${s.remoteAddress}|${s.remotePort}`;
}

const ignore = () => {};

export class TlsPort {
  readonly gate: ConnectionGate;
  private readonly tls: TlsServer;
  private readonly listeners: NetServer[] = [];
  /** Accepted and not yet closed, by 4-tuple. */
  private readonly live = new Map<string, Connection>();
  /** Pending and anonymous connections, oldest first (Map keeps insertion order): the ones to evict. */
  private readonly oldest = { pending: new Map<string, Connection>(), anonymous: new Map<string, Connection>() };
  private readonly injector: ReturnType<grpc.Server['createConnectionInjector']>;
  private readonly reportTimer: NodeJS.Timeout;

  constructor(grpcServer: grpc.Server, certs: Certificates, readonly limits: ConnectionLimits, private readonly log: Logger) {
    this.gate = new ConnectionGate(limits);
    const context = contextOptions(certs.caPem, certs.certPem, certs.key);
    this.tls = new TlsServer({
      ...context.options,
      requestCert: true, rejectUnauthorized: false, // joiners have no certificate yet: the authorizer decides
      ALPNProtocols: ['h2'],
      handshakeTimeout: limits.handshakeTimeoutMs,
    });
    context.done(); // the server's secure context is made: OpenSSL has its own copy of the key
    this.tls.on('secureConnection', (s: TLSSocket) => this.onSecure(s));
    // Emitted once per connection whose handshake failed or timed out; a tls.Server leaves it open.
    this.tls.on('tlsClientError', (err: NodeJS.ErrnoException, s: TLSSocket) => {
      if (err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') this.gate.drop('handshake-timeout', addressKey(s.remoteAddress));
      s.destroy();
    });
    // The TLS is done here: grpc-js sees an already secured socket and only speaks HTTP/2 on it.
    this.injector = grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    this.reportTimer = setInterval(() => this.report(), DROP_REPORT_MS);
    this.reportTimer.unref();
  }

  /** Listens on every address HOST:PORT resolves to (as grpc-js does); resolves with the port. */
  async listen(listenAddr: string): Promise<number> {
    const i = listenAddr.lastIndexOf(':');
    const host = listenAddr.slice(0, i).replace(/^\[(.*)\]$/, '$1');
    let port = Number(listenAddr.slice(i + 1));
    const addresses = await lookup(host, { all: true });
    for (const { address } of addresses) {
      const server = createServer({ noDelay: true }, (s) => this.onAccept(s));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: address, port }, () => { server.off('error', reject); resolve(); });
      });
      server.on('error', (err) => this.log.error({ err: err.message }, 'TLS port listener error'));
      this.listeners.push(server);
      port = (server.address() as { port: number }).port;
    }
    return port;
  }

  /** New handshakes use these at once (a renewed manager certificate). */
  update(caPem: string, certPem: string, key: KeyObject): void {
    const context = contextOptions(caPem, certPem, key);
    try {
      this.tls.setSecureContext(context.options);
    } finally {
      context.done();
    }
  }

  /** Stops accepting and closes what grpc-js does not own (connections still in their handshake). */
  close(): void {
    clearInterval(this.reportTimer);
    this.report();
    for (const l of this.listeners) l.close();
    for (const c of this.live.values()) if (c.stage === 'pending') c.socket.destroy();
  }

  private onAccept(raw: Socket): void {
    raw.on('error', ignore); // a reset by the peer; nothing to do but close
    const key = addressKey(raw.remoteAddress);
    if (this.gate.admit(key, () => this.evictOldest('pending'))) {
      raw.resetAndDestroy(); // RST: the descriptor is free now, no TIME_WAIT or FIN handshake to wait on
      return;
    }
    const id = tuple(raw);
    const conn: Connection = { id, key, stage: 'pending', socket: raw };
    this.live.set(id, conn);
    this.oldest.pending.set(id, conn);
    raw.once('close', () => {
      this.live.delete(id);
      this.oldest.pending.delete(id);
      this.oldest.anonymous.delete(id);
      clearTimeout(conn.maxAge);
      this.gate.closed(key, conn.stage);
    });
    this.tls.emit('connection', raw); // the documented way to hand a socket to a tls.Server
  }

  private onSecure(s: TLSSocket): void {
    // grpc-js: "these errors need to be handled by the user of Http2SecureServer" (nodejs/node#35824).
    s.on('error', ignore);
    const conn = this.live.get(tuple(s));
    if (!conn) {
      s.destroy();
      return;
    }
    // authorized: a client certificate was presented and verified against the cluster CA.
    this.oldest.pending.delete(conn.id);
    const { stage, drop } = this.gate.secured(conn.key, s.authorized, () => this.evictOldest('anonymous'));
    conn.stage = stage;
    conn.socket = s;
    if (drop) {
      s.destroy();
      return;
    }
    if (stage === 'anonymous') {
      this.oldest.anonymous.set(conn.id, conn);
      conn.maxAge = setTimeout(() => {
        this.gate.drop('anonymous-max-age', conn.key);
        s.destroy();
      }, this.limits.anonymousMaxAgeMs);
      conn.maxAge.unref();
    }
    this.injector.injectConnection(s);
  }

  /** Closes the oldest connection of `stage` to make room for a newcomer; false if there is none. */
  private evictOldest(stage: 'pending' | 'anonymous'): boolean {
    const first = this.oldest[stage].values().next();
    if (first.done) return false;
    const victim = first.value;
    this.oldest[stage].delete(victim.id);
    this.gate.evicted(victim.key, stage);
    victim.stage = 'dropped'; // counted off now: its 'close' event must not count it again
    if (stage === 'pending') victim.socket.resetAndDestroy();
    else victim.socket.destroy();
    return true;
  }

  private report(): void {
    const r = this.gate.takeReport();
    if (r) this.log.warn(r, 'connections dropped');
  }
}
