// Rules for services and their secret references. The CLI checks what the user typed with these
// (cli/spec.ts parses the text); the manager checks every field again, since the network is untrusted.
import { invalidArgument } from '../../common/errors.js';
import { quote } from '../../common/printable.js';
import { parseConstraint, type Constraint } from '../orchestrator/constraints.js';
import type { SecretRecord, SecretReferenceRecord, ServiceMode } from '../state/records.js';
import { validateName } from '../secrets/validate.js';
import { validateRef } from '../refs.js';

export const MAX_REPLICAS = 10_000;
/** uid/gid: 0 to 2^32-2 (2^32-1 is "no owner" to chown). */
export const MAX_OWNER_ID = 2 ** 32 - 2;
/** File modes: permission bits only; no setuid, setgid or sticky bit. */
export const MAX_MODE = 0o777;
export const DEFAULT_MODE = 0o400;
export const MAX_VERSION = 2 ** 32 - 1;
export const MAX_SECRET_REFERENCES = 256;
export const MAX_CONSTRAINTS = 64;

export const formatMode = (mode: number): string => '0' + mode.toString(8).padStart(3, '0');

const show = (v: unknown) => quote(v);

/**
 * Service names, as Swarm's (a DNS name component): letters, digits, '-' and '_', starting and ending
 * with a letter or digit, at most 63 characters, and no '.'. A task's directory is `service.slot` and a
 * service's (alias, global task) is `service`: with no dot in a service name, the first always has a
 * dot and the second never, and two services' task names cannot meet, so every path on a node's mount
 * names exactly one task or one service. (Written without nested repetition: no backtracking blow-up.)
 */
export const SERVICE_NAME_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?$/;
export const MAX_SERVICE_NAME_LENGTH = 63;

export const isValidServiceName = (name: unknown): name is string =>
  typeof name === 'string' && name.length <= MAX_SERVICE_NAME_LENGTH && SERVICE_NAME_PATTERN.test(name);

export const SERVICE_NAME_RULE = `at most ${MAX_SERVICE_NAME_LENGTH} letters, digits, '-' and '_', starting and ending with a letter or digit; no '.' (a task is named <service>.<slot>)`;

export function validateServiceName(name: string): void {
  if (!isValidServiceName(name)) throw invalidArgument(`invalid service name ${show(name)}: ${SERVICE_NAME_RULE}`);
}

/** A target is the file's name under /run/secrets: one path component, secret-name characters. */
export function validateTarget(target: string): void {
  validateName(target, 'target');
}

export function validateOwnerId(value: number, what: 'uid' | 'gid'): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > MAX_OWNER_ID) {
    throw invalidArgument(`invalid ${what} ${show(value)}: a whole number from 0 to ${MAX_OWNER_ID}`);
  }
}

export function validateMode(mode: number): void {
  if (!Number.isSafeInteger(mode) || mode < 0) throw invalidArgument(`invalid mode ${show(mode)}: an octal file mode from 0000 to 0777`);
  if (mode > MAX_MODE) {
    const text = mode <= 0o7777 ? formatMode(mode) : show(mode);
    throw invalidArgument(`invalid mode ${text}: only permission bits 0000 to 0777 are allowed (no setuid, setgid or sticky bit)`);
  }
}

/** A pinned version: 1 or more (0 on the wire means "follow the latest"). */
export function validateVersion(version: number): void {
  if (!Number.isSafeInteger(version) || version < 1 || version > MAX_VERSION) {
    throw invalidArgument(`invalid secret version ${show(version)}: versions start at 1`);
  }
}

export function validateReplicas(replicas: number): void {
  if (!Number.isSafeInteger(replicas) || replicas < 0) {
    throw invalidArgument(`invalid replica count ${show(replicas)}: a whole number from 0 to ${MAX_REPLICAS}`);
  }
  if (replicas > MAX_REPLICAS) {
    throw invalidArgument(`too many replicas (${replicas}): at most ${MAX_REPLICAS} per service`);
  }
}

export function validateServiceMode(mode: string): ServiceMode {
  if (mode === 'replicated' || mode === 'global') return mode;
  throw invalidArgument(`invalid service mode ${show(mode)}: replicated or global`);
}

/** Parses every constraint (refusing bad syntax) and bounds their number; returns them parsed. */
export function validateConstraints(constraints: string[]): Constraint[] {
  if (constraints.length > MAX_CONSTRAINTS) throw invalidArgument(`too many constraints (${constraints.length}, at most ${MAX_CONSTRAINTS})`);
  return constraints.map((c) => parseConstraint(c));
}

/** Two constraints that mean the same thing, whatever their spacing. */
export function sameConstraint(a: Constraint | null, b: Constraint): boolean {
  return a !== null && a.field === b.field && a.label === b.label && a.op === b.op && a.value === b.value;
}

/** A secret reference as asked for, before the secret is looked up. */
export interface ReferenceRequest {
  /** Secret name or full id. */
  source: string;
  /** When the caller also names the secret's id: it must be the id of `source`. */
  secretId?: string;
  /** Pinned version; 0 or absent: follow the latest. */
  version?: number;
  /** File name; empty or absent: the secret's name. */
  target?: string;
  uid?: number;
  gid?: number;
  /** Absent: 0400. */
  mode?: number;
}

/** Checks the fields of a reference request that do not need the secret. */
export function validateReferenceRequest(r: ReferenceRequest): void {
  if (typeof r.source !== 'string' || r.source === '') throw invalidArgument('a secret reference needs a source secret (name or id)');
  validateRef(r.source, 'secret');
  if (r.secretId !== undefined && r.secretId !== '') validateRef(r.secretId, 'secret id');
  if (r.version !== undefined && r.version !== 0) validateVersion(r.version);
  if (r.target !== undefined && r.target !== '') validateTarget(r.target);
  if (r.uid !== undefined) validateOwnerId(r.uid, 'uid');
  if (r.gid !== undefined) validateOwnerId(r.gid, 'gid');
  if (r.mode !== undefined) validateMode(r.mode);
}

/** The stored reference to a found secret: defaults filled in, a pinned version checked. */
export function referenceTo(secret: SecretRecord, r: ReferenceRequest): SecretReferenceRecord {
  validateReferenceRequest(r);
  if (r.secretId && r.secretId !== secret.id) {
    throw invalidArgument(`secret reference names secret ${secret.name} but id ${r.secretId}, which is not its id`);
  }
  const ref: SecretReferenceRecord = {
    secretId: secret.id,
    secretName: secret.name,
    target: r.target || secret.name,
    uid: r.uid ?? 0,
    gid: r.gid ?? 0,
    mode: r.mode ?? DEFAULT_MODE,
  };
  if (r.version) {
    if (!secret.versions.some((v) => v.version === r.version)) {
      throw invalidArgument(`secret ${secret.name} has no version ${r.version} (it has ${describeVersions(secret)})`);
    }
    ref.version = r.version;
  }
  validateTarget(ref.target);
  return ref;
}

function describeVersions(secret: SecretRecord): string {
  const v = secret.versions.map((x) => x.version);
  return v.length === 1 ? `version ${v[0]}` : `versions ${v[0]} to ${v[v.length - 1]}`;
}

/** A service's complete list of references: bounded, no two on the same target. */
export function validateReferences(refs: SecretReferenceRecord[]): void {
  if (refs.length > MAX_SECRET_REFERENCES) {
    throw invalidArgument(`too many secret references (${refs.length}, at most ${MAX_SECRET_REFERENCES})`);
  }
  const seen = new Map<string, string>();
  for (const r of refs) {
    validateTarget(r.target);
    const other = seen.get(r.target);
    if (other !== undefined) {
      throw invalidArgument(`duplicate target ${r.target}: two secret references (${other} and ${r.secretName}) would be the same file`);
    }
    seen.set(r.target, r.secretName);
  }
}
