// Unary handler bodies: run with the caller the guard authorized (manager/server/guard.ts);
// turn errors into one-line statuses.
import * as grpc from '@grpc/grpc-js';
import { HushError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { Authorizer, Caller, Transport } from '../auth/authorize.js';
import { callerOf } from './callers.js';

export interface RpcContext {
  authorizer: Authorizer;
  transport: Transport;
  log: Logger;
}

export function toServiceError(err: unknown, log: Logger, rpc: string): Partial<grpc.StatusObject> {
  if (err instanceof HushError) return { code: err.code, details: err.message };
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
