// The agent's in-memory state as one buffer, for a planned hand-off to its successor over a unix
// socket (issue 11): memory to memory, never disk. The successor serves it at once, before it reaches
// a manager; the first COMPLETE it then receives reconciles it like any other (what was revoked
// meanwhile is revoked then).
//
// Layout: u32 (big-endian) length of a JSON header, the header (tasks and the versions' metadata,
// never a value), then every version's bytes in header order. Values never pass through a JS string
// (a string cannot be zeroed); the encoded buffer and the decoder's input are for the caller to zero.
import type { NodeTask, SecretPayload } from './secrets/node-secrets.js';

export const HANDOFF_FORMAT = 1;
/** Far above any node's state (the agent refuses streams above 64 MiB per message). */
export const HANDOFF_MAX_BYTES = 1 << 30;

export interface HandoffState {
  tasks: NodeTask[];
  secrets: SecretPayload[];
}

interface Header {
  format: number;
  tasks: NodeTask[];
  secrets: Array<{ id: string; name: string; version: number; createdAtMs: number; length: number }>;
}

export function encodeHandoff(state: HandoffState): Buffer {
  const header: Header = {
    format: HANDOFF_FORMAT,
    tasks: state.tasks,
    secrets: state.secrets.map((s) => ({ id: s.id, name: s.name, version: s.version, createdAtMs: s.createdAtMs, length: s.data.length })),
  };
  const head = Buffer.from(JSON.stringify(header));
  const total = 4 + head.length + state.secrets.reduce((n, s) => n + s.data.length, 0);
  const out = Buffer.alloc(total);
  out.writeUInt32BE(head.length, 0);
  head.copy(out, 4);
  let at = 4 + head.length;
  for (const s of state.secrets) at += s.data.copy(out, at);
  return out;
}

/** The state in `buf`, each value in a buffer of its own (copied); throws one line on a bad buffer. */
export function decodeHandoff(buf: Buffer): HandoffState {
  const bad = (why: string) => new Error(`hand-off state refused: ${why}`);
  if (buf.length > HANDOFF_MAX_BYTES) throw bad(`${buf.length} bytes, more than ${HANDOFF_MAX_BYTES}`);
  if (buf.length < 4) throw bad('shorter than its header length');
  const headLength = buf.readUInt32BE(0);
  if (4 + headLength > buf.length) throw bad('its header runs past the end');
  let header: unknown;
  try {
    header = JSON.parse(buf.subarray(4, 4 + headLength).toString('utf8'));
  } catch {
    throw bad('its header is not JSON');
  }
  const h = checkHeader(header, bad);
  const expected = 4 + headLength + h.secrets.reduce((n, s) => n + s.length, 0);
  if (expected !== buf.length) throw bad(`${buf.length} bytes where its header describes ${expected}`);
  let at = 4 + headLength;
  const secrets: SecretPayload[] = h.secrets.map((s) => {
    const data = Buffer.alloc(s.length);
    buf.copy(data, 0, at, at + s.length);
    at += s.length;
    return { id: s.id, name: s.name, version: s.version, createdAtMs: s.createdAtMs, data };
  });
  return { tasks: h.tasks, secrets };
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function checkHeader(v: unknown, bad: (why: string) => Error): Header {
  const o = v as Partial<Header> | null;
  if (!o || typeof o !== 'object') throw bad('its header is not an object');
  if (o.format !== HANDOFF_FORMAT) throw bad(`format ${String(o.format)}, this agent reads format ${HANDOFF_FORMAT}`);
  if (!Array.isArray(o.tasks) || !Array.isArray(o.secrets)) throw bad('tasks or secrets missing');
  o.tasks.forEach((t, i) => {
    const ok = t && isString(t.id) && isString(t.name) && isString(t.serviceName) && Array.isArray(t.files)
      && t.files.every((f) => f && isString(f.secretId) && isString(f.secretName) && isString(f.target)
        && isCount(f.version) && isCount(f.uid) && isCount(f.gid) && isCount(f.mode) && f.mode <= 0o7777);
    if (!ok) throw bad(`task ${i} is malformed`);
  });
  o.secrets.forEach((s, i) => {
    const ok = s && isString(s.id) && isString(s.name) && isCount(s.version) && isCount(s.length) && typeof s.createdAtMs === 'number';
    if (!ok) throw bad(`secret ${i} is malformed`);
  });
  return o as Header;
}
