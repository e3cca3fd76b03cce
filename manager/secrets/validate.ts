// Input rules for secrets, as Docker Swarm's (see shared/reference/behaviour.md).
import { invalidArgument } from '../../common/errors.js';
import { quote } from '../../common/printable.js';

export const NAME_PATTERN = /^[a-zA-Z0-9]+(?:[a-zA-Z0-9-_.]*[a-zA-Z0-9])?$/;
export const MAX_NAME_LENGTH = 64;
export const MAX_SECRET_BYTES = 511_999;
const MAX_LABELS = 64;
const MAX_LABEL_KEY = 128;
const MAX_LABEL_VALUE = 1024;

export function validateName(name: string, what = 'name'): void {
  if (typeof name !== 'string' || name.length > MAX_NAME_LENGTH || !NAME_PATTERN.test(name)) {
    throw invalidArgument(`invalid ${what} ${quote(name)}: only ${MAX_NAME_LENGTH} [a-zA-Z0-9-_.] characters allowed, and the start and end character must be [a-zA-Z0-9]`);
  }
}

export function validateSecretData(data: Uint8Array): void {
  if (data.length < 1 || data.length > MAX_SECRET_BYTES) {
    throw invalidArgument(`secret data must be larger than 0 and less than 512000 bytes (got ${data.length})`);
  }
}

// Control characters would let a label forge log lines or terminal output.
const PRINTABLE = /^[^\u0000-\u001f\u007f]*$/;

export function validateLabels(labels: Record<string, string>): void {
  const entries = Object.entries(labels);
  if (entries.length > MAX_LABELS) throw invalidArgument(`too many labels (${entries.length}, at most ${MAX_LABELS})`);
  for (const [k, v] of entries) {
    if (!k || k.length > MAX_LABEL_KEY || !PRINTABLE.test(k) || /[=\s]/.test(k)) {
      throw invalidArgument(`invalid label key ${quote(k)}: 1 to ${MAX_LABEL_KEY} printable characters, no '=' or space`);
    }
    if (v.length > MAX_LABEL_VALUE || !PRINTABLE.test(v)) {
      throw invalidArgument(`invalid value for label ${quote(k)}: at most ${MAX_LABEL_VALUE} printable characters`);
    }
  }
}
