// The CLI's connection to a manager's Control API (the local admin socket by default).
import * as grpc from '@grpc/grpc-js';
import { join } from 'node:path';
import { hushProto } from '../proto/load.js';
import type { ControlClient } from '../proto/gen/hush/v1/Control.js';
import { CONTROL_SOCKET, DEFAULT_MANAGER_STATE_DIR } from '../common/defaults.js';

export class CliError extends Error {}

/** --host, else HUSH_HOST, else the socket in HUSH_STATE_DIR, else in the default state dir. */
export function controlTarget(host?: string): string {
  const h = host ?? process.env.HUSH_HOST;
  if (h) return h.startsWith('unix:') ? h : `unix://${h}`;
  return `unix://${join(process.env.HUSH_STATE_DIR ?? DEFAULT_MANAGER_STATE_DIR, CONTROL_SOCKET)}`;
}

export class Control {
  private readonly client: ControlClient;

  constructor(readonly target: string) {
    const Ctor = hushProto().Control as unknown as new (t: string, c: grpc.ChannelCredentials, o: grpc.ChannelOptions) => ControlClient;
    this.client = new Ctor(target, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': 1024 * 1024 });
  }

  /** Calls one unary method; a failure becomes a one-line CliError. */
  call<Req, Res>(method: keyof ControlClient & string, request: Req): Promise<Res> {
    return new Promise((resolve, reject) => {
      const fn = (this.client[method] as unknown as (r: Req, m: grpc.Metadata, o: grpc.CallOptions, cb: grpc.requestCallback<Res>) => void).bind(this.client);
      fn(request, new grpc.Metadata(), { deadline: Date.now() + 30_000 }, (err, res) => {
        if (err) reject(new CliError(this.describe(err)));
        else resolve(res as Res);
      });
    });
  }

  private describe(err: grpc.ServiceError): string {
    if (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED) {
      return `cannot reach the hush manager at ${this.target.replace(/^unix:\/\//, '')}: is \`hush manager run\` running? (set --host, HUSH_HOST or HUSH_STATE_DIR)`;
    }
    return err.details || err.message;
  }

  close(): void {
    this.client.close();
  }
}

/** Several independent failures (e.g. `secret rm a b c`): one line each. */
export class CliErrors extends CliError {
  constructor(readonly messages: string[]) {
    super(messages.join('\n'));
  }
}
