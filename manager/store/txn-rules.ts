// The rules every backend applies to its arguments before touching storage (see store.ts): what a
// key and a blob id may be, what a txn may hold, and the end of a prefix range in key order.
import type { Compare, Op } from './store.js';

export const MAX_KEY_BYTES = 1024;

const LONE_SURROGATE = /\p{Cs}/u;

// Keys and blob ids: non-empty, at most 1024 UTF-8 bytes, well-formed Unicode, no NUL.
export function checkKey(key: unknown, what: string): asserts key is string {
  if (typeof key !== 'string') throw new TypeError(`store ${what} must be a string, got ${typeof key}`);
  if (key.length === 0) throw new RangeError(`store ${what} must not be empty`);
  const n = Buffer.byteLength(key, 'utf8');
  if (n > MAX_KEY_BYTES) throw new RangeError(`store ${what} is ${n} bytes long; the maximum is ${MAX_KEY_BYTES}`);
  if (LONE_SURROGATE.test(key)) throw new RangeError(`store ${what} is not well-formed Unicode (lone surrogate)`);
  if (key.includes('\0')) throw new RangeError(`store ${what} must not contain NUL`);
}

/** A watch's fromRevision: a non-negative integer. */
export function checkWatchFrom(fromRevision: unknown): asserts fromRevision is number {
  if (!Number.isSafeInteger(fromRevision) || (fromRevision as number) < 0) {
    throw new RangeError(`fromRevision must be a non-negative integer, got ${String(fromRevision)}`);
  }
}

function checkBuffer(b: unknown, what: string): Buffer {
  if (Buffer.isBuffer(b)) return b;
  if (b instanceof Uint8Array) return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  throw new TypeError(`store ${what} must be a Buffer`);
}

/** A valid txn, its put values copied; `bytes` approximates its size (for batching). */
export interface CheckedTxn {
  compares: Compare[];
  ops: Op[];
  bytes: number;
}

/** Checks a txn's arguments (throwing a one-line TypeError or RangeError) and copies what it keeps. */
export function validateTxn(compares: Compare[], ops: Op[]): CheckedTxn {
  if (!Array.isArray(compares) || !Array.isArray(ops)) throw new TypeError('txn compares and ops must be arrays');
  for (const c of compares) {
    checkKey(c.key, 'key');
    if (!Number.isSafeInteger(c.modRev) || c.modRev < 0) {
      throw new RangeError(`compare modRev must be a non-negative integer, got ${c.modRev}`);
    }
  }
  const keys = new Set<string>();
  const ids = new Set<string>();
  const out: Op[] = [];
  let bytes = 0;
  for (const op of ops) {
    switch (op?.type) {
      case 'put':
      case 'delete':
        checkKey(op.key, 'key');
        if (keys.has(op.key)) throw new RangeError(`txn has more than one op on key ${op.key}`);
        keys.add(op.key);
        if (op.type === 'put') {
          // Copied: the caller may reuse its buffer, and watchers share this one.
          const value = Buffer.from(checkBuffer(op.value, 'value'));
          out.push({ type: 'put', key: op.key, value });
          bytes += value.length;
        } else {
          out.push(op);
        }
        bytes += op.key.length;
        break;
      case 'putBlob':
      case 'deleteBlob':
        checkKey(op.id, 'blob id');
        if (ids.has(op.id)) throw new RangeError(`txn has more than one op on blob ${op.id}`);
        ids.add(op.id);
        if (op.type === 'putBlob') {
          const data = checkBuffer(op.data, 'blob data');
          out.push({ type: 'putBlob', id: op.id, data });
          bytes += data.length;
        } else {
          out.push(op);
        }
        bytes += op.id.length;
        break;
      default:
        throw new TypeError(`unknown txn op type ${String((op as { type?: unknown })?.type)}`);
    }
  }
  return { compares: compares.map((c) => ({ key: c.key, modRev: c.modRev })), ops: out, bytes };
}

// The smallest string greater than every string starting with prefix, in code point (= UTF-8 byte)
// order; undefined when there is none (empty prefix, or only U+10FFFF).
export function prefixEnd(prefix: string): string | undefined {
  const cps = Array.from(prefix, (c) => c.codePointAt(0)!);
  while (cps.length > 0 && cps[cps.length - 1] === 0x10ffff) cps.pop();
  if (cps.length === 0) return undefined;
  let last = cps[cps.length - 1] + 1;
  if (last === 0xd800) last = 0xe000; // skip the surrogate block
  cps[cps.length - 1] = last;
  return String.fromCodePoint(...cps);
}
