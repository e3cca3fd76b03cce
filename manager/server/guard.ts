// The authorization chokepoint: the server wraps every method of every service it serves, so no
// handler runs before the authorizer has decided, and no handler has to remember to ask. A method
// without a policy, or a handler without a method, stops the manager at start-up.
import * as grpc from '@grpc/grpc-js';
import { accessFor } from '../auth/policy.js';
import { recordCaller } from './callers.js';
import { toServiceError, type RpcContext } from './rpc.js';

/** '/hush.v1.Control/CreateSecret' → 'Control.CreateSecret', the name the policy uses. */
export function rpcName(path: string): string {
  const m = /^\/(?:[\w.]+\.)?(\w+)\/(\w+)$/.exec(path);
  if (!m) throw new Error(`unexpected gRPC method path ${path}`);
  return `${m[1]}.${m[2]}`;
}

type Handler = grpc.UntypedHandleCall;

/** The handlers of `service`, each behind the authorizer. Throws if the table and the service disagree. */
export function guarded(service: grpc.ServiceDefinition, handlers: object, ctx: RpcContext): grpc.UntypedServiceImplementation {
  const given = handlers as Record<string, Handler | undefined>;
  const out: grpc.UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(service)) {
    const rpc = rpcName(method.path);
    if (!accessFor(rpc)) throw new Error(`hush: ${rpc} has no authorization policy (manager/auth/policy.ts)`);
    const handler = given[name];
    if (typeof handler !== 'function') throw new Error(`hush: ${rpc} has no handler`);
    if (method.requestStream) throw new Error(`hush: ${rpc} streams requests, which the guard does not wrap`);
    out[name] = method.responseStream ? guardStream(ctx, rpc, handler as grpc.handleServerStreamingCall<unknown, unknown>)
      : guardUnary(ctx, rpc, handler as grpc.handleUnaryCall<unknown, unknown>);
  }
  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(service, name)) throw new Error(`hush: handler ${name} is not a method of the service`);
  }
  return out;
}

function guardUnary(ctx: RpcContext, rpc: string, handler: grpc.handleUnaryCall<unknown, unknown>): grpc.handleUnaryCall<unknown, unknown> {
  return (call, callback) => {
    ctx.authorizer.authorize(call, rpc, ctx.transport).then((caller) => {
      recordCaller(call, caller);
      handler(call, callback);
    }, (err) => callback(toServiceError(err, ctx.log, rpc)));
  };
}

function guardStream(ctx: RpcContext, rpc: string, handler: grpc.handleServerStreamingCall<unknown, unknown>): grpc.handleServerStreamingCall<unknown, unknown> {
  return (call) => {
    ctx.authorizer.authorize(call, rpc, ctx.transport).then((caller) => {
      recordCaller(call, caller);
      handler(call);
    }, (err) => call.emit('error', toServiceError(err, ctx.log, rpc)));
  };
}
