// The copy of `hush manager migrate`: keys and blobs from the embedded store into an etcd store, in
// txns within etcd's limits, then read back and compared byte for byte with their source.
import type { Compare, Op, Store } from '../store/store.js';

/** Ops per txn: etcd's --max-txn-ops is 128 by default and the store's revision counter takes one. */
export const MAX_TXN_OPS = 100;
/** Bytes of ops per txn: under etcd's default --max-request-bytes (1.5 MiB) with room for the
 *  request's framing; a ~512 KB blob goes alone or with a few small ones. */
export const MAX_TXN_BYTES = 1024 * 1024;
/** What etcd adds around each op (key prefix, the value's revision header, protobuf framing), roughly. */
const OP_OVERHEAD = 64;

/** One thing to copy: a key with its value, or a blob read from the source when its txn is built. */
export type Item = { kind: 'key'; key: string; value: Buffer } | { kind: 'blob'; id: string };

/** A key being copied already exists in the target: someone else writes there. */
export class TargetChangedError extends Error {
  constructor() {
    super('a key being copied appeared in etcd meanwhile (another migrate or manager writing to this prefix?)');
    this.name = 'TargetChangedError';
  }
}

/**
 * Copies the items into `target`, each key created only if absent; at most one txn's worth of blob
 * data is held at a time. `done.ops` counts the ops committed so far (for a message if it fails).
 */
export async function copyItems(target: Store, items: Item[], readBlob: (id: string) => Promise<Buffer>,
  done: { ops: number } = { ops: 0 }): Promise<void> {
  let compares: Compare[] = [];
  let ops: Op[] = [];
  let bytes = 0;
  const flush = async () => {
    if (!ops.length) return;
    const r = await target.txn(compares, ops);
    if (!r.ok) throw new TargetChangedError();
    done.ops += ops.length;
    compares = [];
    ops = [];
    bytes = 0;
  };
  for (const item of items) {
    const op: Op = item.kind === 'key'
      ? { type: 'put', key: item.key, value: item.value }
      : { type: 'putBlob', id: item.id, data: await readBlob(item.id) };
    const size = OP_OVERHEAD + (op.type === 'put' ? Buffer.byteLength(op.key) + op.value.length
      : op.type === 'putBlob' ? Buffer.byteLength(op.id) + op.data.length : 0);
    if (ops.length + 1 > MAX_TXN_OPS || (ops.length && bytes + size > MAX_TXN_BYTES)) await flush();
    ops.push(op);
    if (op.type === 'put') compares.push({ key: op.key, modRev: 0 });
    bytes += size;
  }
  await flush();
}

/**
 * Reads back every key of `target` and every blob of `blobIds`: the keys must be exactly `keys`
 * (no more, no fewer) and each blob equal to its source. Throws naming the first difference
 * (by key or blob id; never a value).
 */
export async function verifyCopy(target: Store, keys: Map<string, Buffer>, blobIds: string[],
  readBlob: (id: string) => Promise<Buffer>): Promise<void> {
  const { kvs } = await target.range('');
  const seen = new Set<string>();
  for (const kv of kvs) {
    const want = keys.get(kv.key);
    if (!want) throw new Error(`verification failed: etcd holds key ${kv.key}, which was not copied`);
    if (!want.equals(kv.value)) throw new Error(`verification failed: key ${kv.key} differs in etcd`);
    seen.add(kv.key);
  }
  for (const key of keys.keys()) if (!seen.has(key)) throw new Error(`verification failed: key ${key} is missing in etcd`);
  // A few at a time: blobs are up to ~512 KB each.
  for (let i = 0; i < blobIds.length; i += 4) {
    await Promise.all(blobIds.slice(i, i + 4).map(async (id) => {
      const [copied, source] = await Promise.all([target.getBlob(id), readBlob(id)]);
      if (!copied) throw new Error(`verification failed: blob ${id} is missing in etcd`);
      if (!copied.equals(source)) throw new Error(`verification failed: blob ${id} differs in etcd`);
    }));
  }
}
