// The protobuf wire format's primitives (varints, fixed widths, length-delimited values), for
// proto/codec.ts. 64-bit values go through BigInt on the way out and through protobufjs's LongBits
// rule on the way in (a JS number, exact up to 2^53), as protobufjs does with longs: Number.

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_DELIMITED = 2;
export const WIRE_START_GROUP = 3;
export const WIRE_END_GROUP = 4;
export const WIRE_FIXED32 = 5;

const TWO_32 = 4294967296;

/** A message being written: a list of parts (nested messages and large bytes are not copied until finish). */
export class Writer {
  private parts: Uint8Array[] = [];
  private partsLength = 0;
  private scratch = Buffer.allocUnsafe(256);
  private used = 0;

  get length(): number {
    return this.partsLength + this.used;
  }

  /** Room for n more bytes in the scratch buffer. */
  private room(n: number): Buffer {
    if (this.used + n > this.scratch.length) {
      this.flush();
      if (this.scratch.length < n) this.scratch = Buffer.allocUnsafe(Math.max(256, n));
    }
    return this.scratch;
  }

  private push(part: Uint8Array): void {
    this.parts.push(part);
    this.partsLength += part.length;
  }

  /** Moves what the scratch buffer holds into the parts; later writes go after it. */
  private flush(): void {
    if (this.used === 0) return;
    this.push(this.scratch.subarray(0, this.used));
    this.scratch = this.scratch.length - this.used >= 16 ? this.scratch.subarray(this.used) : Buffer.allocUnsafe(256);
    this.used = 0;
  }

  tag(id: number, wireType: number): this {
    return this.uint32(((id << 3) | wireType) >>> 0);
  }

  uint32(n: number): this {
    const b = this.room(5);
    let v = n >>> 0;
    while (v > 127) {
      b[this.used++] = (v & 127) | 128;
      v >>>= 7;
    }
    b[this.used++] = v;
    return this;
  }

  /** A 64-bit varint: the value modulo 2^64 (so a negative int32 or int64 takes ten bytes). */
  varint64(value: bigint): this {
    const b = this.room(10);
    let v = BigInt.asUintN(64, value);
    while (v > 127n) {
      b[this.used++] = Number(v & 127n) | 128;
      v >>= 7n;
    }
    b[this.used++] = Number(v);
    return this;
  }

  fixed32(n: number): this {
    this.used = this.room(4).writeUInt32LE(n >>> 0, this.used);
    return this;
  }

  fixed64(value: bigint): this {
    this.used = this.room(8).writeBigUInt64LE(BigInt.asUintN(64, value), this.used);
    return this;
  }

  float(n: number): this {
    this.used = this.room(4).writeFloatLE(n, this.used);
    return this;
  }

  double(n: number): this {
    this.used = this.room(8).writeDoubleLE(n, this.used);
    return this;
  }

  /** Length-prefixed bytes, kept by reference until finish(). */
  bytes(b: Uint8Array): this {
    this.uint32(b.length);
    this.flush();
    if (b.length) this.push(b);
    return this;
  }

  string(s: string): this {
    return this.bytes(Buffer.from(s, 'utf8'));
  }

  /** A nested message, length-prefixed. */
  message(inner: Writer): this {
    inner.flush();
    this.uint32(inner.length);
    this.flush();
    for (const p of inner.parts) this.push(p);
    return this;
  }

  finish(): Buffer {
    this.flush();
    return Buffer.concat(this.parts, this.partsLength);
  }
}

/** Reads a message's bytes (a view of the buffer it is given). */
export class Reader {
  pos = 0;

  constructor(readonly buf: Buffer, public end = buf.length) {}

  private need(n: number): void {
    if (this.pos + n > this.end) throw new RangeError(`index out of range: ${this.pos} + ${n} > ${this.end}`);
  }

  /** A varint's low and high 32 bits. */
  private varintBits(): [lo: number, hi: number] {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      this.need(1);
      const b = this.buf[this.pos++];
      if (i < 4) lo |= (b & 127) << (i * 7);
      else if (i === 4) {
        lo |= (b & 15) << 28;
        hi |= (b & 127) >> 4;
      } else hi |= (b & 127) << (i * 7 - 32);
      if (b < 128) return [lo >>> 0, hi >>> 0];
    }
    throw new Error('invalid varint encoding');
  }

  uint32(): number {
    return this.varintBits()[0];
  }

  int32(): number {
    return this.varintBits()[0] | 0;
  }

  sint32(): number {
    const v = this.varintBits()[0];
    return ((v >>> 1) ^ -(v & 1)) | 0;
  }

  bool(): boolean {
    const [lo, hi] = this.varintBits();
    return lo !== 0 || hi !== 0;
  }

  /** int64 / uint64 as a number (protobufjs's LongBits.toNumber). */
  long(unsigned: boolean): number {
    const [lo, hi] = this.varintBits();
    return bitsToNumber(lo, hi, unsigned);
  }

  sint64(): number {
    const [lo, hi] = this.varintBits();
    const mask = -(lo & 1);
    return bitsToNumber((((lo >>> 1) | (hi << 31)) ^ mask) >>> 0, ((hi >>> 1) ^ mask) >>> 0, false);
  }

  fixed32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  sfixed32(): number {
    return this.fixed32() | 0;
  }

  fixed64(unsigned: boolean): number {
    const lo = this.fixed32();
    const hi = this.fixed32();
    return bitsToNumber(lo, hi, unsigned);
  }

  float(): number {
    this.need(4);
    const v = this.buf.readFloatLE(this.pos);
    this.pos += 4;
    return v;
  }

  double(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  bytes(): Buffer {
    const n = this.uint32();
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  string(): string {
    return this.bytes().toString('utf8');
  }

  /** Skips a field of an unknown number. */
  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT: this.varintBits(); break;
      case WIRE_FIXED64: this.need(8); this.pos += 8; break;
      case WIRE_DELIMITED: { const n = this.uint32(); this.need(n); this.pos += n; break; }
      case WIRE_START_GROUP:
        for (;;) {
          const t = this.uint32();
          if ((t & 7) === WIRE_END_GROUP) break;
          this.skip(t & 7);
        }
        break;
      case WIRE_FIXED32: this.need(4); this.pos += 4; break;
      default: throw new Error(`invalid wire type ${wireType} at offset ${this.pos}`);
    }
  }
}

function bitsToNumber(lo: number, hi: number, unsigned: boolean): number {
  if (!unsigned && hi >>> 31) {
    const l = (~lo + 1) >>> 0;
    let h = ~hi >>> 0;
    if (!l) h = (h + 1) >>> 0;
    return -(l + h * TWO_32);
  }
  return lo + hi * TWO_32;
}
