// Why the CLI got no answer from the manager's control socket: gRPC says only UNAVAILABLE or
// DEADLINE_EXCEEDED, so one plain connection to the socket tells the cases apart.
// Node's modules without ESM facades, for the CLI's start-up (see rpc.ts).
const { connect } = process.getBuiltinModule('node:net');
const { statSync } = process.getBuiltinModule('node:fs');
const { dirname } = process.getBuiltinModule('node:path');

/** How long a probe connection waits to see whether the manager closes it at once. */
const PROBE_MS = 300;

export type Probe =
  | { kind: 'error'; code: string }
  /** Accepted, then closed by the manager without a byte (libuv does this when out of descriptors). */
  | { kind: 'closed' }
  /** Accepted and held open. */
  | { kind: 'open' };

export function probeSocket(path: string): Promise<Probe> {
  return new Promise((resolve) => {
    const s = connect(path);
    let timer: NodeJS.Timeout | undefined;
    const done = (p: Probe) => {
      clearTimeout(timer);
      s.destroy();
      resolve(p);
    };
    s.once('error', (e: NodeJS.ErrnoException) => done({ kind: 'error', code: e.code ?? 'error' }));
    s.once('connect', () => { timer = setTimeout(() => done({ kind: 'open' }), PROBE_MS); });
    s.once('end', () => done({ kind: 'closed' }));
    s.once('close', () => done({ kind: 'closed' }));
  });
}

/** "root's" or "uid N's": the owner of the socket, else of its directory. */
function ownerOf(path: string): string {
  for (const p of [path, dirname(path)]) {
    try {
      const { uid } = statSync(p);
      return uid === 0 ? "root's" : `uid ${uid}'s`;
    } catch {
      // not visible to us: try the parent
    }
  }
  return "root's";
}

/** The one-line reason the manager at `path` gave no answer, from a probe and gRPC's code. */
export function unreachableMessage(path: string, probe: Probe, failure: { deadlineExceeded: boolean; waitedMs: number; details: string }): string {
  const hint = '(set --host, HUSH_HOST or HUSH_STATE_DIR)';
  const overloaded = 'it is overloaded or out of file descriptors (see its log)';
  if (probe.kind === 'error') {
    switch (probe.code) {
      case 'EACCES':
      case 'EPERM': {
        const owner = ownerOf(path);
        return `permission denied on the manager's control socket ${path} (it is ${owner}${owner === "root's" ? ': run as root' : ''})`;
      }
      case 'ENOENT':
      case 'ECONNREFUSED':
        return `cannot reach the hush manager at ${path}: is \`hush manager run\` running? ${hint}`;
      case 'EAGAIN':
        return `the hush manager at ${path} accepts no more connections (its backlog is full): ${overloaded}`;
      default:
        return `cannot connect to the hush manager at ${path}: ${probe.code} ${hint}`;
    }
  }
  if (probe.kind === 'closed') return `the hush manager at ${path} closed the connection without answering: ${overloaded}`;
  if (failure.deadlineExceeded) {
    return `the hush manager at ${path} accepted the connection but did not answer within ${Math.round(failure.waitedMs / 1000)} s: ${overloaded}`;
  }
  return `the hush manager at ${path} did not answer (${failure.details.split('\n')[0].slice(0, 200)}): ${overloaded}`;
}
