import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { hushProto } from '../../proto/load.js';
import { Authorizer } from '../auth/authorize.js';
import { guarded, rpcName } from './guard.js';
import { unary, type RpcContext } from './rpc.js';

const ctx = (transport: 'unix' | 'tls'): RpcContext => ({
  authorizer: new Authorizer({ clusterId: () => 'c', refusal: async () => undefined }),
  transport,
  log: pino({ level: 'silent' }),
});

test('rpcName reads Service.Method from a gRPC path', () => {
  assert.equal(rpcName('/hush.v1.Control/CreateSecret'), 'Control.CreateSecret');
  assert.throws(() => rpcName('Control.CreateSecret'), /unexpected gRPC method path/);
});

test('the guard refuses to serve a method with no policy, a missing handler, or a handler of no method', () => {
  const control = hushProto().Control.service;
  const all = Object.fromEntries(Object.keys(control).map((name) => [name, () => undefined]));
  assert.doesNotThrow(() => guarded(control, all, ctx('unix')));
  const unknown = { ...control, DropEverything: { ...control.ListSecrets, path: '/hush.v1.Control/DropEverything' } };
  assert.throws(() => guarded(unknown, { ...all, DropEverything: () => undefined }, ctx('unix')), /Control\.DropEverything has no authorization policy/);
  const { ListSecrets: _dropped, ...missing } = all;
  assert.throws(() => guarded(control, missing, ctx('unix')), /Control\.ListSecrets has no handler/);
  assert.throws(() => guarded(control, { ...all, Extra: () => undefined }, ctx('unix')), /handler Extra is not a method/);
});

test('a refused call never reaches its handler; an allowed one sees the caller the guard decided', async () => {
  const service = hushProto().Dispatcher.service;
  let ran = 0;
  const handlers = {
    Assignments: () => undefined,
    UpdateTaskStatus: () => undefined,
    Heartbeat: unary(ctx('unix'), 'Dispatcher.Heartbeat', (_req, caller) => { ran++; return { kind: caller.kind }; }),
  };
  const call = { request: {}, getAuthContext: () => ({}) } as unknown as grpc.ServerUnaryCall<unknown, unknown>;
  const answer = (c: RpcContext) => new Promise<{ err: Partial<grpc.StatusObject> | null; res?: unknown }>((resolve) => {
    const h = guarded(service, handlers, c).Heartbeat as grpc.handleUnaryCall<unknown, unknown>;
    h(call, (err, res) => resolve({ err: err as Partial<grpc.StatusObject> | null, res }));
  });
  const onSocket = await answer(ctx('unix')); // Heartbeat is for nodes, not the admin socket
  assert.equal(onSocket.err?.code, grpc.status.PERMISSION_DENIED);
  const anonymous = await answer(ctx('tls'));
  assert.equal(anonymous.err?.code, grpc.status.UNAUTHENTICATED);
  assert.equal(ran, 0, 'the handler never ran');

  // A handler reached without the guard (a wiring mistake) fails closed.
  const bare = await new Promise<Partial<grpc.StatusObject> | null>((resolve) => {
    (handlers.Heartbeat as grpc.handleUnaryCall<unknown, unknown>)(call, (err) => resolve(err as Partial<grpc.StatusObject> | null));
  });
  assert.equal(bare?.code, grpc.status.INTERNAL);
  assert.equal(ran, 0);
});
