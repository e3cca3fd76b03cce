// References to objects, as callers give them (CLI arguments, Control requests): checked once, here,
// before any store access, so a bad one is a clear INVALID_ARGUMENT and never reaches a store key.
import { invalidArgument } from '../common/errors.js';
import { ID_PATTERN } from '../common/ids.js';
import { quote } from '../common/printable.js';
import { MAX_NAME_LENGTH, NAME_PATTERN } from './secrets/validate.js';

// Not an ESM import: the CLI checks refs too, and node:net's ESM facade costs its start-up ~1 ms.
const { isIP } = process.getBuiltinModule('node:net');

/** Plain DNS hostnames (no wildcards), as a node joins with. */
export const HOSTNAME = /^(?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

export type RefKind = 'secret' | 'service' | 'node' | 'secret id' | 'secret reference to remove';

interface Rule {
  /** The message for an empty or missing ref. */
  required: string;
  /** What is asked for, in an "invalid ... "x": <this>" message. */
  expected: string;
  valid: (ref: string) => boolean;
}

const isName = (ref: string) => ref.length <= MAX_NAME_LENGTH && NAME_PATTERN.test(ref);
const NAME_RULE = `up to ${MAX_NAME_LENGTH} [a-zA-Z0-9-_.] characters, starting and ending with [a-zA-Z0-9]`;

const RULES: Record<RefKind, Rule> = {
  // Names and ids (and id prefixes) of secrets and services all have the shape of a name.
  secret: { required: 'a secret name or id is required', expected: `a secret name or id (${NAME_RULE})`, valid: isName },
  service: { required: 'a service name or id is required', expected: `a service name or id (${NAME_RULE})`, valid: isName },
  node: {
    required: 'a node id or hostname is required',
    expected: 'a node id, id prefix, hostname or IP address',
    valid: (ref) => HOSTNAME.test(ref) || (/^[\x21-\x7e]{1,253}$/.test(ref) && isIP(ref) !== 0),
  },
  'secret id': { required: 'a secret id is required', expected: '25 characters [0-9a-z]', valid: (ref) => ID_PATTERN.test(ref) },
  'secret reference to remove': {
    required: 'a secret reference to remove needs a secret name, id or target',
    expected: `a secret name, id or target (${NAME_RULE})`,
    valid: isName,
  },
};

const LABEL: Record<RefKind, string> = {
  secret: 'secret name or id', service: 'service name or id', node: 'node id or hostname',
  'secret id': 'secret id', 'secret reference to remove': 'secret reference to remove',
};

/** Returns `ref` if it can name a `kind`; else throws one INVALID_ARGUMENT line (input echoed printable only). */
export function validateRef(ref: unknown, kind: RefKind): string {
  const rule = RULES[kind];
  if (typeof ref !== 'string' || ref === '') throw invalidArgument(rule.required);
  if (!rule.valid(ref)) throw invalidArgument(`invalid ${LABEL[kind]} ${quote(ref)}: ${rule.expected}`);
  return ref;
}
