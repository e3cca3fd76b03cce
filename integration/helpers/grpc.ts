// gRPC clients for the integration tests: Control on the unix socket, CA and Control on the
// manager's TLS port (with or without a client certificate).
import * as grpc from '@grpc/grpc-js';
import { join } from 'node:path';
import { hushProto } from '../../proto/load.js';
import type { CAClient } from '../../proto/gen/hush/v1/CA.js';
import type { ControlClient } from '../../proto/gen/hush/v1/Control.js';

export const MANAGER_NAME = 'hush-manager';

const tlsOptions: grpc.ChannelOptions = { 'grpc.ssl_target_name_override': MANAGER_NAME };

/** TLS pinned to the cluster root, optionally presenting a client certificate. */
export function tlsCredentials(rootCaPem: string, keyPem?: string, certPem?: string): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(
    Buffer.from(rootCaPem),
    keyPem ? Buffer.from(keyPem) : null,
    certPem ? Buffer.from(certPem) : null,
  );
}

/** TLS that trusts anything: only for a joiner's first GetRootCACertificate (checked against the token). */
export function bootstrapCredentials(): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(null, null, null, { checkServerIdentity: () => undefined, rejectUnauthorized: false });
}

export function caClient(port: number, creds: grpc.ChannelCredentials): CAClient {
  return new (hushProto().CA)(`127.0.0.1:${port}`, creds, tlsOptions);
}

export function controlTlsClient(port: number, creds: grpc.ChannelCredentials): ControlClient {
  return new (hushProto().Control)(`127.0.0.1:${port}`, creds, tlsOptions);
}

/** The local admin channel: Control on STATE/control.sock, no TLS. */
export function controlUnixClient(stateDir: string): ControlClient {
  return new (hushProto().Control)(`unix://${join(stateDir, 'control.sock')}`, grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': 1024 * 1024,
  });
}

type Callback<Res> = (err: grpc.ServiceError | null, res?: Res) => void;

/** One unary call as a promise; rejects with the grpc.ServiceError. */
export function unary<Res>(client: grpc.Client, method: string, request: object, deadlineMs = 10_000): Promise<Res> {
  return new Promise((resolve, reject) => {
    const fn = (client as unknown as Record<string, (r: object, m: grpc.Metadata, o: grpc.CallOptions, cb: Callback<Res>) => void>)[method];
    if (typeof fn !== 'function') throw new Error(`no method ${method}`);
    fn.call(client, request, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (err, res) => {
      if (err) reject(err);
      else resolve(res as Res);
    });
  });
}

/** The ServiceError of a call that must fail (rejects if it succeeds). */
export async function unaryError(client: grpc.Client, method: string, request: object, deadlineMs = 10_000): Promise<grpc.ServiceError> {
  try {
    await unary(client, method, request, deadlineMs);
  } catch (e) {
    if (typeof (e as grpc.ServiceError).code === 'number') return e as grpc.ServiceError;
    throw e;
  }
  throw new Error(`${method} succeeded but was expected to fail`);
}

export const statusName = (code: number): string => grpc.status[code] ?? String(code);

export { grpc };
