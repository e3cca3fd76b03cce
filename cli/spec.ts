// Parsing what the user typed for services: secret reference SPECs and replica counts. The values
// are checked with the manager's own rules (manager/services/spec.ts), which it applies again.
import type { ServiceSecretReference } from '../proto/gen/hush/v1/ServiceSecretReference.js';
import { CliError } from './client.js';
import { validateName } from '../manager/secrets/validate.js';
import {
  MAX_MODE, MAX_REPLICAS, validateMode, validateOwnerId, validateReplicas, validateTarget, validateVersion,
  type ReferenceRequest,
} from '../manager/services/spec.js';

const MAX_SPEC_LENGTH = 1024;
const KEYS = ['source', 'target', 'uid', 'gid', 'mode'] as const;
type Key = (typeof KEYS)[number];
const ALIASES: Record<string, Key> = { src: 'source' };

const show = (s: string) => JSON.stringify(s.length > 80 ? s.slice(0, 80) + '…' : s);

/** `NAME[@VERSION]`: a secret name (or id) and an optional pinned version. */
function parseSource(text: string, spec: string): { source: string; version?: number } {
  const parts = text.split('@');
  if (parts.length > 2) throw new CliError(`invalid secret reference ${show(spec)}: more than one @ in ${show(text)}`);
  const [source, versionText] = parts;
  if (!source) throw new CliError(`invalid secret reference ${show(spec)}: the source secret name is empty`);
  validateName(source, 'secret name');
  if (versionText === undefined) return { source };
  if (!/^\d{1,10}$/.test(versionText)) {
    throw new CliError(`invalid secret reference ${show(spec)}: version ${show(versionText)} is not a whole number (versions start at 1)`);
  }
  const version = Number(versionText);
  validateVersion(version);
  return { source, version };
}

function parseOwnerId(text: string, what: 'uid' | 'gid'): number {
  if (!/^\d{1,10}$/.test(text)) throw new CliError(`invalid ${what} ${show(text)}: a whole number from 0 to 4294967294`);
  const n = Number(text);
  validateOwnerId(n, what);
  return n;
}

/** An octal mode as chmod takes it: 400, 0400 or 0o400; permission bits only. */
export function parseMode(text: string): number {
  const m = /^(?:0o)?([0-7]{1,12})$/.exec(text);
  if (!m) throw new CliError(`invalid mode ${show(text)}: an octal file mode from 0000 to 0${MAX_MODE.toString(8)}, such as 0400 or 0440`);
  const mode = parseInt(m[1], 8);
  validateMode(mode);
  return mode;
}

/**
 * A `--secret` / `--secret-add` SPEC: `NAME[@VERSION]`, or
 * `source=NAME[@VERSION],target=FILE,uid=N,gid=N,mode=0400` (every key but source optional).
 * Only what is given is set: the manager fills in the defaults (target = the secret's name, uid 0,
 * gid 0, mode 0400), in one place for every client.
 */
export function parseSecretSpec(spec: string): ReferenceRequest {
  if (typeof spec !== 'string' || spec.length === 0) throw new CliError('invalid secret reference "": expected NAME or source=NAME[,target=FILE,uid=N,gid=N,mode=0400]');
  if (spec.length > MAX_SPEC_LENGTH) throw new CliError(`invalid secret reference ${show(spec)}: longer than ${MAX_SPEC_LENGTH} characters`);
  if (!spec.includes('=')) {
    if (spec.includes(',')) throw new CliError(`invalid secret reference ${show(spec)}: expected NAME or key=value pairs such as source=NAME,target=FILE`);
    return parseSource(spec, spec);
  }
  const fields = new Map<Key, string>();
  for (const part of spec.split(',')) {
    const i = part.indexOf('=');
    if (i <= 0) throw new CliError(`invalid secret reference ${show(spec)}: ${show(part)} is not key=value`);
    const rawKey = part.slice(0, i).trim().toLowerCase();
    const key = ALIASES[rawKey] ?? (KEYS as readonly string[]).find((k) => k === rawKey) as Key | undefined;
    if (!key) throw new CliError(`invalid secret reference ${show(spec)}: unknown key ${show(rawKey)} (source, target, uid, gid, mode)`);
    if (fields.has(key)) throw new CliError(`invalid secret reference ${show(spec)}: ${key} is given twice`);
    const value = part.slice(i + 1);
    if (value === '') throw new CliError(`invalid secret reference ${show(spec)}: ${key} is empty`);
    fields.set(key, value);
  }
  const sourceText = fields.get('source');
  if (sourceText === undefined) throw new CliError(`invalid secret reference ${show(spec)}: source=NAME is required`);
  const ref: ReferenceRequest = parseSource(sourceText, spec);
  const target = fields.get('target');
  if (target !== undefined) {
    validateTarget(target);
    ref.target = target;
  }
  const uid = fields.get('uid');
  if (uid !== undefined) ref.uid = parseOwnerId(uid, 'uid');
  const gid = fields.get('gid');
  if (gid !== undefined) ref.gid = parseOwnerId(gid, 'gid');
  const mode = fields.get('mode');
  if (mode !== undefined) ref.mode = parseMode(mode);
  return ref;
}

/**
 * The wire form (ServiceSecretReference): uid, gid and mode only when given (mode is optional on the
 * wire, so an explicit 0 stays 0000); the manager fills in the rest and checks everything again.
 */
export function referenceToWire(r: ReferenceRequest): ServiceSecretReference {
  const wire: ServiceSecretReference = { secretName: r.source, version: r.version ?? 0, target: r.target ?? '' };
  if (r.uid !== undefined) wire.uid = r.uid;
  if (r.gid !== undefined) wire.gid = r.gid;
  if (r.mode !== undefined) wire.mode = r.mode;
  return wire;
}

/** `--replicas N`: a whole number from `min` to 10,000. */
export function parseReplicas(text: string, min = 0): number {
  if (!/^\d+$/.test(text)) throw new CliError(`invalid --replicas ${show(text)}: a whole number from ${min} to ${MAX_REPLICAS}`);
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n > MAX_REPLICAS) throw new CliError(`too many replicas (${text.length > 20 ? text.slice(0, 20) + '…' : text}): at most ${MAX_REPLICAS} per service`);
  validateReplicas(n);
  if (n < min) throw new CliError(`invalid --replicas ${text}: a service is created with 1 to ${MAX_REPLICAS} replicas (scale it to 0 later with \`hush service update --replicas 0\`)`);
  return n;
}
