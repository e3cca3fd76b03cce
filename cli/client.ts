// The CLI's connection to a manager's Control API (the local admin socket by default).
import type { ControlClient } from '../proto/gen/hush/v1/Control.js';
import { CONTROL_SOCKET, DEFAULT_MANAGER_STATE_DIR } from '../common/defaults.js';
import { Status } from '../common/status.js';
import type { RpcError, UnaryClient } from './rpc.js';

const { join } = process.getBuiltinModule('node:path'); // without an ESM facade (see rpc.ts)

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
  private client?: Promise<UnaryClient>;
  private readonly timeoutMs: number;

  constructor(readonly target: string) {
    this.timeoutMs = callTimeoutMs();
  }

  private socketPath(): string {
    return this.target.replace(/^unix:(\/\/)?/, '');
  }

  /** Calls one unary method; a failure becomes a one-line CliError. */
  async call<Req, Res>(method: keyof ControlClient & string, request: Req): Promise<Res> {
    // Loaded on the first call: commands that never call the manager do not load HTTP/2 or the codec.
    this.client ??= import('./rpc.js').then((m) => new m.UnaryClient(this.socketPath(), 'hush.v1.Control'));
    const client = await this.client;
    try {
      return await client.call(method, request as object, this.timeoutMs) as Res;
    } catch (e) {
      if (e instanceof Error && 'details' in e) throw new CliError(await this.describe(e as RpcError));
      throw e;
    }
  }

  /** No answer: one probe of the socket says whether it is missing, refused, not ours, or overloaded. */
  private async describe(err: RpcError): Promise<string> {
    // The manager answered UNAVAILABLE itself (its store does not answer, a write lost a race): its words.
    if (err.code === Status.UNAVAILABLE && err.fromManager && err.details) return err.details;
    if (err.code === Status.UNAVAILABLE || err.code === Status.DEADLINE_EXCEEDED) {
      const { probeSocket, unreachableMessage } = await import('./unreachable.js'); // only when there is no answer
      const path = this.socketPath();
      return unreachableMessage(path, await probeSocket(path), {
        deadlineExceeded: err.code === Status.DEADLINE_EXCEEDED, waitedMs: this.timeoutMs, details: err.details,
      });
    }
    return err.details || err.message;
  }

  close(): void {
    void this.client?.then((c) => c.close());
  }
}

/** Several independent failures (e.g. `secret rm a b c`): one line each. */
export class CliErrors extends CliError {
  constructor(readonly messages: string[]) {
    super(messages.join('\n'));
  }
}
