// How the etcd Store lays out its data under its prefix P, and the encodings of its values.
//
//   P/w/r         the store's revision counter: "<revision> <op id>"; every txn with ops puts it, so
//                 each store revision is exactly one etcd revision (deletes of absent keys and
//                 blob-only txns included) and watch events carry their store revision
//   P/w/k/<key>   a key: 12-byte header (createRev, modRev: store revisions, 48-bit big-endian) + value
//   P/b/<id>      a blob: the raw bytes; outside the watched range P/w/, never watched
//
// Store revisions are not etcd's: etcd's revision is shared by everything in the cluster. A
// RevisionMap remembers, for store revisions seen, an etcd revision at which the store was at it.

export interface Layout {
  counter: Buffer;
  keyPrefix: Buffer;
  watchStart: Buffer;
  watchEnd: Buffer;
  blobPrefix: Buffer;
}

export function layout(prefix: string): Layout {
  const p = prefix.replace(/\/+$/, '');
  return {
    counter: Buffer.from(`${p}/w/r`),
    keyPrefix: Buffer.from(`${p}/w/k/`),
    watchStart: Buffer.from(`${p}/w/`),
    watchEnd: bytesPrefixEnd(Buffer.from(`${p}/w/`)),
    blobPrefix: Buffer.from(`${p}/b/`),
  };
}

/** The first byte string after every one starting with b (etcd's prefix range end). */
export function bytesPrefixEnd(b: Buffer): Buffer {
  const end = Buffer.from(b);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]); // all of the key space
}

const HEADER = 12;

export function encodeValue(createRev: number, modRev: number, value: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER + value.length);
  out.writeUIntBE(createRev, 0, 6);
  out.writeUIntBE(modRev, 6, 6);
  value.copy(out, HEADER);
  return out;
}

export function decodeValue(raw: Buffer): { createRev: number; modRev: number; value: Buffer } {
  if (raw.length < HEADER) throw new Error('etcd store: a key value is shorter than its header (not written by hush?)');
  return { createRev: raw.readUIntBE(0, 6), modRev: raw.readUIntBE(6, 6), value: raw.subarray(HEADER) };
}

export function encodeCounter(rev: number, opId: string): Buffer {
  return Buffer.from(`${rev} ${opId}`);
}

export function decodeCounter(raw: Buffer | undefined): { rev: number; opId: string } {
  if (!raw) return { rev: 0, opId: '' };
  const [rev, opId = ''] = raw.toString().split(' ');
  const n = Number(rev);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error('etcd store: the revision counter is not a hush counter');
  return { rev: n, opId };
}

/** Store revision -> an etcd revision at which the store was at it (bounded, recent ones kept). */
export class RevisionMap {
  private readonly pairs: [number, number][] = [];

  add(storeRev: number, etcdRev: number): void {
    const ps = this.pairs;
    let i = ps.length;
    while (i > 0 && ps[i - 1][0] > storeRev) i--;
    if (i > 0 && ps[i - 1][0] === storeRev) return;
    ps.splice(i, 0, [storeRev, etcdRev]);
    if (ps.length > 4096) ps.splice(0, ps.length - 4096);
  }

  /** The known pair with the highest store revision ≤ storeRev. */
  atOrBelow(storeRev: number): [number, number] | undefined {
    for (let i = this.pairs.length - 1; i >= 0; i--) if (this.pairs[i][0] <= storeRev) return this.pairs[i];
    return undefined;
  }
}
