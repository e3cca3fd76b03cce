// The CLI's connection to a manager's Control API (the local admin socket by default).
import * as grpc from '@grpc/grpc-js';
import { join } from 'node:path';
import { hushProto } from '../proto/load.js';
import type { ControlClient } from '../proto/gen/hush/v1/Control.js';
import { CONTROL_SOCKET, DEFAULT_MANAGER_STATE_DIR } from '../common/defaults.js';
import { probeSocket, unreachableMessage } from './unreachable.js';

export class CliError extends Error {}

/** How long a call waits for the manager's answer: HUSH_TIMEOUT (a duration such as 30s or 500ms), else 30 s. */
export function callTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.HUSH_TIMEOUT;
  if (text === undefined || text === '') return 30_000;
  const m = /^(\d{1,7})(ms|s|m)$/.exec(text.trim());
  const ms = m ? Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[m[2] as 'ms' | 's' | 'm'] : NaN;
  if (!(ms >= 100 && ms <= 3_600_000)) throw new CliError(`invalid HUSH_TIMEOUT ${JSON.stringify(text.slice(0, 40))}: a duration such as 30s or 500ms, between 100ms and 1h`);
  return ms;
}

/** --host, else HUSH_HOST, else the socket in HUSH_STATE_DIR, else in the default state dir. */
export function controlTarget(host?: string): string {
  const h = host ?? process.env.HUSH_HOST;
  if (h) return h.startsWith('unix:') ? h : `unix://${h}`;
  return `unix://${join(process.env.HUSH_STATE_DIR ?? DEFAULT_MANAGER_STATE_DIR, CONTROL_SOCKET)}`;
}

export class Control {
  private readonly client: ControlClient;
  private readonly timeoutMs: number;

  constructor(readonly target: string) {
    this.timeoutMs = callTimeoutMs();
    const Ctor = hushProto().Control as unknown as new (t: string, c: grpc.ChannelCredentials, o: grpc.ChannelOptions) => ControlClient;
    this.client = new Ctor(target, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': 1024 * 1024 });
  }

  /** Calls one unary method; a failure becomes a one-line CliError. */
  call<Req, Res>(method: keyof ControlClient & string, request: Req): Promise<Res> {
    return new Promise((resolve, reject) => {
      const fn = (this.client[method] as unknown as (r: Req, m: grpc.Metadata, o: grpc.CallOptions, cb: grpc.requestCallback<Res>) => void).bind(this.client);
      fn(request, new grpc.Metadata(), { deadline: Date.now() + this.timeoutMs }, (err, res) => {
        if (err) this.describe(err).then((m) => reject(new CliError(m)), reject);
        else resolve(res as Res);
      });
    });
  }

  /** No answer: one probe of the socket says whether it is missing, refused, not ours, or overloaded. */
  private async describe(err: grpc.ServiceError): Promise<string> {
    if (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED) {
      const path = this.target.replace(/^unix:(\/\/)?/, '');
      return unreachableMessage(path, await probeSocket(path), {
        deadlineExceeded: err.code === grpc.status.DEADLINE_EXCEEDED, waitedMs: this.timeoutMs, details: err.details,
      });
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
