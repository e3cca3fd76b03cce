// Unary handler bodies: run with the caller the guard authorized (manager/server/guard.ts);
// turn errors into one-line statuses.
import * as grpc from '@grpc/grpc-js';
import { HushError } from '../../common/errors.js';
import { DISK_FULL_MESSAGE, DiskFullError } from '../../common/disk-full.js';
import { OutcomeUnknownError, TxnTooLargeError } from '../store/store.js';
import type { Logger } from '../../common/log.js';
import type { Authorizer, Caller, Transport } from '../auth/authorize.js';
import { callerOf } from './callers.js';

export interface RpcContext {
  authorizer: Authorizer;
  transport: Transport;
  log: Logger;
}

/** A full disk is logged at most this often (every node's status report would fail with it). */
const DISK_FULL_LOG_EVERY_MS = 60_000;
let diskFullLoggedAtMs = -Infinity;
/** So is a store that does not answer (etcd without a quorum). */
const STORE_DOWN_LOG_EVERY_MS = 10_000;
let storeDownLoggedAtMs = -Infinity;

/**
 * A gRPC error that did not come from a handler but from the manager's only gRPC client, its etcd
 * store's: UNAVAILABLE or DEADLINE_EXCEEDED there means etcd did not answer (no quorum, members
 * down); so do etcd's own timeouts, which reach the client as UNKNOWN ("context deadline exceeded").
 */
const ETCD_TIMEOUT = /context deadline exceeded|etcdserver: (request timed out|no leader|leader changed)/;
function storeDidNotAnswer(err: unknown): err is grpc.ServiceError {
  const e = err as grpc.ServiceError;
  return err instanceof Error && e.metadata instanceof grpc.Metadata
    && (e.code === grpc.status.UNAVAILABLE || e.code === grpc.status.DEADLINE_EXCEEDED
      || (e.code === grpc.status.UNKNOWN && ETCD_TIMEOUT.test(String(e.details))));
}

export function toServiceError(err: unknown, log: Logger, rpc: string): Partial<grpc.StatusObject> {
  if (err instanceof HushError) return { code: err.code, details: err.message };
  if (err instanceof DiskFullError) {
    const now = Date.now();
    if (now - diskFullLoggedAtMs >= DISK_FULL_LOG_EVERY_MS) {
      diskFullLoggedAtMs = now;
      log.error({ rpc }, 'the disk is full: writes are refused until space is freed (reads go on)');
    }
    return { code: grpc.status.RESOURCE_EXHAUSTED, details: DISK_FULL_MESSAGE };
  }
  // The etcd store's own verdicts, in its words (they name no request data).
  if (err instanceof TxnTooLargeError) return { code: grpc.status.INVALID_ARGUMENT, details: `the change is too large for the cluster store: ${err.message}` };
  if (err instanceof OutcomeUnknownError) return { code: grpc.status.UNAVAILABLE, details: err.message };
  if (storeDidNotAnswer(err)) {
    const now = Date.now();
    if (now - storeDownLoggedAtMs >= STORE_DOWN_LOG_EVERY_MS) {
      storeDownLoggedAtMs = now;
      log.warn({ rpc, err: err.details.split('\n')[0].slice(0, 200) }, 'the store (etcd) does not answer: requests that need it fail');
    }
    return {
      code: grpc.status.UNAVAILABLE,
      details: `the cluster store (etcd) did not answer (${err.code === grpc.status.UNKNOWN ? 'etcd timed out' : grpc.status[err.code]}): are most of its members up? try again`,
    };
  }
  // Unexpected: log the message (never request data) and answer without internals.
  log.error({ rpc, err: err instanceof Error ? err.message : String(err) }, 'internal error');
  return { code: grpc.status.INTERNAL, details: 'internal error in the manager (see its log)' };
}

/** `rpc` names the method in error logs; authorization is the guard's, by the method's path. */
export function unary<Req, Res>(ctx: RpcContext, rpc: string,
  fn: (req: Req, caller: Caller) => Promise<Res> | Res): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    (async () => fn(call.request, callerOf(call)))()
      .then((res) => callback(null, res), (err) => callback(toServiceError(err, ctx.log, rpc)));
  };
}
