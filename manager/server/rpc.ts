// Unary handler bodies: run with the caller the guard authorized (manager/server/guard.ts);
// turn errors into one-line statuses.
import * as grpc from '@grpc/grpc-js';
import { HushError } from '../../common/errors.js';
import { DISK_FULL_MESSAGE, DiskFullError } from '../../common/disk-full.js';
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
