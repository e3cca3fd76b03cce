// A thin etcd v3 client over @grpc/grpc-js: the few messages of etcd's API (api/etcdserverpb/rpc.proto
// and api/mvccpb/kv.proto, v3.4 field numbers) that the etcd Store uses, encoded with the protobufjs
// that @grpc/proto-loader already brings. Written for the measured defects of the `etcd3` npm client
// (what was measured of etcd3 here: see README, "The etcd store"): every unary call has a deadline, there is no receive cap
// (a range or watch batch may exceed 4 MiB), no hidden retries or circuit breaker, each watch is its
// own stream whose resume point the caller keeps, and close() ends every stream so the process exits.
import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';
import type * as Protobuf from 'protobufjs';

const PROTO = `
syntax = "proto3";
package etcdserverpb;
message ResponseHeader { uint64 cluster_id = 1; uint64 member_id = 2; int64 revision = 3; uint64 raft_term = 4; }
message KeyValue { bytes key = 1; int64 create_revision = 2; int64 mod_revision = 3; int64 version = 4; bytes value = 5; int64 lease = 6; }
message Event { enum EventType { PUT = 0; DELETE = 1; } EventType type = 1; KeyValue kv = 2; KeyValue prev_kv = 3; }
message RangeRequest { bytes key = 1; bytes range_end = 2; int64 limit = 3; int64 revision = 4; int32 sort_order = 5;
  int32 sort_target = 6; bool serializable = 7; bool keys_only = 8; bool count_only = 9; int64 max_create_revision = 13; }
message RangeResponse { ResponseHeader header = 1; repeated KeyValue kvs = 2; bool more = 3; int64 count = 4; }
message PutRequest { bytes key = 1; bytes value = 2; int64 lease = 3; bool prev_kv = 4; }
message PutResponse { ResponseHeader header = 1; }
message DeleteRangeRequest { bytes key = 1; bytes range_end = 2; bool prev_kv = 3; }
message DeleteRangeResponse { ResponseHeader header = 1; int64 deleted = 2; }
message RequestOp { oneof request { RangeRequest request_range = 1; PutRequest request_put = 2;
  DeleteRangeRequest request_delete_range = 3; } }
message ResponseOp { oneof response { RangeResponse response_range = 1; PutResponse response_put = 2;
  DeleteRangeResponse response_delete_range = 3; } }
message Compare { enum CompareResult { EQUAL = 0; GREATER = 1; LESS = 2; NOT_EQUAL = 3; }
  enum CompareTarget { VERSION = 0; CREATE = 1; MOD = 2; VALUE = 3; LEASE = 4; }
  CompareResult result = 1; CompareTarget target = 2; bytes key = 3;
  oneof target_union { int64 version = 4; int64 create_revision = 5; int64 mod_revision = 6; bytes value = 7; int64 lease = 8; }
  bytes range_end = 64; }
message TxnRequest { repeated Compare compare = 1; repeated RequestOp success = 2; repeated RequestOp failure = 3; }
message TxnResponse { ResponseHeader header = 1; bool succeeded = 2; repeated ResponseOp responses = 3; }
message CompactionRequest { int64 revision = 1; bool physical = 2; }
message CompactionResponse { ResponseHeader header = 1; }
message WatchCreateRequest { bytes key = 1; bytes range_end = 2; int64 start_revision = 3; bool progress_notify = 4;
  bool prev_kv = 6; int64 watch_id = 7; bool fragment = 8; }
message WatchCancelRequest { int64 watch_id = 1; }
message WatchRequest { oneof request_union { WatchCreateRequest create_request = 1; WatchCancelRequest cancel_request = 2; } }
message WatchResponse { ResponseHeader header = 1; int64 watch_id = 2; bool created = 3; bool canceled = 4;
  int64 compact_revision = 5; string cancel_reason = 6; bool fragment = 7; repeated Event events = 11; }
message LeaseGrantRequest { int64 TTL = 1; int64 ID = 2; }
message LeaseGrantResponse { ResponseHeader header = 1; int64 ID = 2; int64 TTL = 3; string error = 4; }
message LeaseRevokeRequest { int64 ID = 1; }
message LeaseRevokeResponse { ResponseHeader header = 1; }
message LeaseKeepAliveRequest { int64 ID = 1; }
message LeaseKeepAliveResponse { ResponseHeader header = 1; int64 ID = 2; int64 TTL = 3; }
message LeaseTimeToLiveRequest { int64 ID = 1; bool keys = 2; }
message LeaseTimeToLiveResponse { ResponseHeader header = 1; int64 ID = 2; int64 TTL = 3; int64 grantedTTL = 4; repeated bytes keys = 5; }
`;

export interface KeyValue { key: Buffer; createRevision: number; modRevision: number; version: number; value: Buffer }
export interface RangeRequest {
  key: Buffer; rangeEnd?: Buffer; limit?: number; revision?: number; keysOnly?: boolean; countOnly?: boolean; serializable?: boolean;
  /** etcd's SortOrder (0 none, 1 ascend, 2 descend) and SortTarget (0 key, 1 version, 2 create, 3 mod, 4 value). */
  sortOrder?: number; sortTarget?: number;
  /** Only keys created at or before this revision. */
  maxCreateRevision?: number;
}
export interface RangeResponse { header: { revision: number }; kvs: KeyValue[]; more: boolean; count: number }
export type RequestOp =
  | { requestRange: RangeRequest }
  | { requestPut: { key: Buffer; value: Buffer; /** a lease id (decimal string: 64 bits) */ lease?: string } }
  | { requestDeleteRange: { key: Buffer; rangeEnd?: Buffer } };
export interface ResponseOp { responseRange?: RangeResponse; responsePut?: object; responseDeleteRange?: { deleted: number } }
export interface Compare {
  result: 'EQUAL' | 'GREATER' | 'LESS' | 'NOT_EQUAL';
  target: 'VERSION' | 'CREATE' | 'MOD' | 'VALUE' | 'LEASE';
  key: Buffer;
  modRevision?: number;
  createRevision?: number;
  version?: number;
  /** a lease id (decimal string: 64 bits) */
  lease?: string;
}
export interface TxnRequest { compare: Compare[]; success: RequestOp[]; failure: RequestOp[] }
export interface TxnResponse { header: { revision: number }; succeeded: boolean; responses: ResponseOp[] }
export interface WatchEvent { type: 'PUT' | 'DELETE'; kv: KeyValue }
export interface WatchResponse {
  header: { revision: number }; watchId: number; created: boolean; canceled: boolean;
  compactRevision: number; cancelReason: string; events: WatchEvent[];
}

// protobufjs, as @grpc/proto-loader resolves it (not a direct dependency of hush).
const protobuf = createRequire(createRequire(import.meta.url).resolve('@grpc/proto-loader'))('protobufjs') as typeof Protobuf;
const root = protobuf.parse(PROTO, { keepCase: false }).root;
const CONVERT: Protobuf.IConversionOptions = { longs: Number, enums: String, bytes: Buffer, defaults: true, arrays: true, oneofs: false };

// Lease ids use all 64 bits (beyond a double's 53): the Lease messages give int64s as decimal strings.
const CONVERT_LEASE: Protobuf.IConversionOptions = { ...CONVERT, longs: String };

function codec(name: string) {
  const type = root.lookupType(`etcdserverpb.${name}`);
  const convert = name.startsWith('Lease') ? CONVERT_LEASE : CONVERT;
  return {
    serialize: (o: object) => Buffer.from(type.encode(type.fromObject(o)).finish()),
    deserialize: (b: Buffer) => {
      const o = type.toObject(type.decode(b), convert);
      return o;
    },
  };
}

// toObject gives bytes as Buffer only when Buffer is the bytes converter's type; make sure.
function asBuffer(x: unknown): Buffer {
  return Buffer.isBuffer(x) ? x : Buffer.from(x as Uint8Array);
}

/** The etcd error code in a gRPC error's message (e.g. "etcdserver: mvcc: required revision has been compacted"). */
export function etcdMessage(e: unknown): string {
  // On one line: TLS failures carry OpenSSL's multi-line text.
  return String((e as grpc.ServiceError)?.details ?? (e as Error)?.message ?? e).replace(/\s+/g, ' ').trim();
}

export interface EtcdConnection {
  /** host:port of each member. */
  endpoints: string[];
  /** PEM: the CA that signed the members' certificates; with it the connection uses TLS. */
  ca?: Buffer;
  /** PEM client certificate and key, for members run with --client-cert-auth. */
  cert?: Buffer;
  key?: Buffer;
  /** Deadline of every unary call, in ms (default 2000: see etcd-ha.md, failover timings). */
  deadlineMs?: number;
}

const UNARY: Record<string, [string, string, string]> = {
  range: ['/etcdserverpb.KV/Range', 'RangeRequest', 'RangeResponse'],
  txn: ['/etcdserverpb.KV/Txn', 'TxnRequest', 'TxnResponse'],
  compact: ['/etcdserverpb.KV/Compact', 'CompactionRequest', 'CompactionResponse'],
  leaseGrant: ['/etcdserverpb.Lease/LeaseGrant', 'LeaseGrantRequest', 'LeaseGrantResponse'],
  leaseRevoke: ['/etcdserverpb.Lease/LeaseRevoke', 'LeaseRevokeRequest', 'LeaseRevokeResponse'],
  leaseTimeToLive: ['/etcdserverpb.Lease/LeaseTimeToLive', 'LeaseTimeToLiveRequest', 'LeaseTimeToLiveResponse'],
};

export class EtcdClient {
  private readonly client: grpc.Client;
  private readonly streams = new Set<grpc.ClientDuplexStream<object, object>>();
  private readonly codecs = new Map<string, ReturnType<typeof codec>>();
  readonly deadlineMs: number;
  private closed = false;

  constructor(conn: EtcdConnection) {
    if (conn.endpoints.length === 0) throw new Error('etcd store: no endpoints');
    this.deadlineMs = conn.deadlineMs ?? 2000;
    const creds = conn.ca
      ? grpc.credentials.createSsl(conn.ca, conn.key ?? null, conn.cert ?? null)
      : grpc.credentials.createInsecure();
    // One channel over every member: pick_first connects to the first that answers and moves on when
    // it fails. Keepalive at etcd's 5 s minimum; no receive cap (defect 2 of etcd-ha.md).
    const target = `ipv4:${conn.endpoints.join(',')}`;
    this.client = new grpc.Client(target, creds, {
      'grpc.max_receive_message_length': -1,
      'grpc.max_send_message_length': -1,
      'grpc.keepalive_time_ms': 5000,
      'grpc.keepalive_timeout_ms': 5000,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
    });
  }

  private codec(name: string) {
    let c = this.codecs.get(name);
    if (!c) this.codecs.set(name, (c = codec(name)));
    return c;
  }

  private unary<T>(method: keyof typeof UNARY, req: object, deadlineMs = this.deadlineMs): Promise<T> {
    if (this.closed) return Promise.reject(new Error('etcd client is closed'));
    const [path, reqType, resType] = UNARY[method];
    const rq = this.codec(reqType);
    const rs = this.codec(resType);
    return new Promise<T>((resolve, reject) => {
      this.client.makeUnaryRequest(path, rq.serialize, rs.deserialize, req, new grpc.Metadata(),
        { deadline: Date.now() + deadlineMs, waitForReady: true } as grpc.CallOptions,
        (err, res) => (err ? reject(err) : resolve(res as T)));
    });
  }

  async range(req: RangeRequest): Promise<RangeResponse> {
    const r = await this.unary<RangeResponse>('range', req);
    for (const kv of r.kvs) fixKv(kv);
    return r;
  }

  async txn(req: TxnRequest, deadlineMs?: number): Promise<TxnResponse> {
    const r = await this.unary<TxnResponse>('txn', req, deadlineMs);
    for (const op of r.responses) for (const kv of op.responseRange?.kvs ?? []) fixKv(kv);
    return r;
  }

  /** The encoded size of a txn request (what etcd's --max-request-bytes limits). */
  txnSize(req: TxnRequest): number {
    return this.codec('TxnRequest').serialize(req).length;
  }

  async compact(revision: number): Promise<void> {
    await this.unary('compact', { revision, physical: false });
  }

  /** Grants a lease of `ttlSec` seconds; resolves with its id (a decimal string: lease ids use all
   *  64 bits) and the TTL etcd granted. */
  async leaseGrant(ttlSec: number): Promise<{ id: string; ttl: number }> {
    const r = await this.unary<{ ID: string; TTL: string; error: string }>('leaseGrant', { TTL: ttlSec, ID: 0 });
    if (r.error) throw new Error(`etcd lease grant: ${r.error}`);
    return { id: r.ID, ttl: Number(r.TTL) };
  }

  /** Revokes a lease: its keys are deleted at once. */
  async leaseRevoke(id: string): Promise<void> {
    await this.unary('leaseRevoke', { ID: id });
  }

  /** The lease's remaining TTL in seconds (-1 once it has expired or been revoked). */
  async leaseTimeToLive(id: string): Promise<number> {
    const r = await this.unary<{ TTL: string }>('leaseTimeToLive', { ID: id, keys: false });
    return Number(r.TTL);
  }

  /** Opens a keepalive stream for one lease. `send()` asks for a renewal; `onResponse` gets each
   *  answer's TTL (0 or less: the lease is gone); `onEnd` once, with the stream's error (never after
   *  cancel()). */
  leaseKeepAlive(id: string, onResponse: (ttl: number) => void, onEnd: (e: Error | null) => void): { send(): void; cancel(): void } {
    const s = this.openStream<{ TTL: string }>('/etcdserverpb.Lease/LeaseKeepAlive', 'LeaseKeepAliveRequest', 'LeaseKeepAliveResponse',
      new grpc.Metadata(), (r) => onResponse(Number(r.TTL)), 'etcd keepalive stream ended', onEnd);
    return { send: () => s.write({ ID: id }), cancel: s.cancel };
  }

  /** Opens one watch on its own stream. `onResponse` gets every response; `onEnd` once, with the
   *  stream's error (never after cancel()). */
  watch(create: { key: Buffer; rangeEnd: Buffer; startRevision: number },
    onResponse: (r: WatchResponse) => void, onEnd: (e: Error | null) => void): { cancel(): void } {
    // Require a leader (defect 6 of etcd-ha.md): a member that loses its leader ends the stream
    // ("no leader") instead of letting the watch stall with no event and no error.
    const md = new grpc.Metadata();
    md.set('hasleader', 'true');
    const s = this.openStream<WatchResponse>('/etcdserverpb.Watch/Watch', 'WatchRequest', 'WatchResponse', md, (r) => {
      for (const ev of r.events) fixKv(ev.kv);
      onResponse(r);
    }, 'etcd watch stream ended', onEnd);
    s.write({ createRequest: { key: create.key, rangeEnd: create.rangeEnd, startRevision: create.startRevision } });
    return { cancel: s.cancel };
  }

  /**
   * One bidirectional stream, tracked for close(): `onData` for each response until it ends;
   * `onEnd` once, with the stream's error (`endedMessage` if the server just ended it), never after
   * cancel(). On a closed client it ends at once.
   */
  private openStream<Res>(path: string, request: string, response: string, md: grpc.Metadata,
    onData: (r: Res) => void, endedMessage: string, onEnd: (e: Error | null) => void): { write(req: object): void; cancel(): void } {
    const rq = this.codec(request);
    const rs = this.codec(response);
    let ended = false;
    if (this.closed) {
      queueMicrotask(() => onEnd(new Error('etcd client is closed')));
      return { write() {}, cancel() {} };
    }
    const call = this.client.makeBidiStreamRequest(path, rq.serialize, rs.deserialize, md, { waitForReady: true } as grpc.CallOptions);
    const end = (e: Error | null) => {
      if (ended) return;
      ended = true;
      this.streams.delete(call);
      if (e === null) call.cancel();
      else onEnd(e);
    };
    this.streams.add(call);
    call.on('data', (r: Res) => {
      if (!ended) onData(r);
    });
    call.on('error', (e: Error) => end(e));
    call.on('end', () => end(new Error(endedMessage)));
    return {
      write: (req) => {
        if (!ended) call.write(req);
      },
      cancel: () => end(null),
    };
  }

  /** Ends every watch stream and the channel: nothing keeps the process alive afterwards. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams) s.cancel();
    this.streams.clear();
    this.client.close();
  }
}

function fixKv(kv: KeyValue | undefined): void {
  if (!kv) return;
  kv.key = asBuffer(kv.key);
  kv.value = asBuffer(kv.value);
}
