// hush.proto's messages to and from plain objects, driven by the JSON descriptor that
// scripts/gen-proto.mjs generates (proto/gen/hush-descriptor.ts), without protobufjs: the CLI's
// start-up cannot afford to load it (~30 ms). The objects are the ones @grpc/proto-loader gives with
// { longs: Number, enums: String, defaults: true, oneofs: true } (protobufjs's fromObject + encode,
// decode + toObject, whose rules this follows; proto/codec.test.ts compares the two on every message).
import { Reader, Writer, WIRE_DELIMITED, WIRE_FIXED32, WIRE_FIXED64, WIRE_VARINT } from './wire.js';

interface JsonField { type: string; id: number; rule?: string; keyType?: string; options?: Record<string, unknown> }
interface JsonNode {
  nested?: Record<string, JsonNode>;
  fields?: Record<string, JsonField>;
  oneofs?: Record<string, { oneof: string[] }>;
  values?: Record<string, number>;
  methods?: Record<string, { requestType: string; responseType: string; requestStream?: boolean; responseStream?: boolean }>;
}

const WIRE_TYPES: Record<string, number> = {
  double: WIRE_FIXED64, float: WIRE_FIXED32, int32: WIRE_VARINT, uint32: WIRE_VARINT, sint32: WIRE_VARINT,
  fixed32: WIRE_FIXED32, sfixed32: WIRE_FIXED32, int64: WIRE_VARINT, uint64: WIRE_VARINT, sint64: WIRE_VARINT,
  fixed64: WIRE_FIXED64, sfixed64: WIRE_FIXED64, bool: WIRE_VARINT, string: WIRE_DELIMITED, bytes: WIRE_DELIMITED,
};
const LONGS = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

type Obj = Record<string, unknown>;

interface Field {
  name: string;
  id: number;
  /** A scalar type name, or 'enum' / 'message' (see `enumValues` / `message`). */
  kind: string;
  repeated: boolean;
  /** The key type of a map field. */
  mapKey?: string;
  /** The synthetic or real oneof this field belongs to. */
  oneof?: string;
  packed: boolean;
  enumValues?: Record<string, number>;
  enumNames?: Map<number, string>;
  message?: MessageType;
}

export class MessageType {
  private fieldList?: Field[];

  constructor(readonly fullName: string, private readonly node: JsonNode, private readonly scope: JsonNode[], private readonly codec: Codec) {}

  /** The fields by number, resolved on first use. */
  private fields(): Field[] {
    if (this.fieldList) return this.fieldList;
    const oneofOf = new Map<string, string>();
    for (const [name, o] of Object.entries(this.node.oneofs ?? {})) for (const f of o.oneof) oneofOf.set(f, name);
    const list = Object.entries(this.node.fields ?? {}).map(([name, f]): Field => {
      // protobufjs keys maps of bool and 64-bit keys in its own ways: hush.proto has none, so neither does this.
      if (f.keyType === 'bool' || (f.keyType && LONGS.has(f.keyType))) throw new Error(`${this.fullName}.${name}: map keys of type ${f.keyType} are not supported`);
      const repeated = f.rule === 'repeated';
      const scalar = f.type in WIRE_TYPES;
      const field: Field = {
        name, id: f.id, kind: scalar ? f.type : 'message', repeated, mapKey: f.keyType, oneof: oneofOf.get(name),
        packed: repeated && f.options?.packed !== false,
      };
      if (!scalar) {
        const found = this.codec.lookup(f.type, [...this.scope, this.node]);
        if (!found) throw new Error(`${this.fullName}.${name}: no type ${f.type}`);
        if (found.node.values) {
          field.kind = 'enum';
          field.enumValues = found.node.values;
          field.enumNames = new Map(Object.entries(found.node.values).map(([k, v]) => [v, k]));
        } else field.message = this.codec.type(found.fullName);
      }
      return field;
    });
    this.fieldList = list.sort((a, b) => a.id - b.id);
    return this.fieldList;
  }

  encode(obj: Obj): Buffer {
    return this.write(obj, new Writer()).finish();
  }

  decode(buf: Buffer): Obj {
    return this.toObject(this.read(new Reader(buf)));
  }

  /** protobufjs's fromObject + encode: every field given (not null or undefined) is written, zeros included. */
  private write(obj: Obj, w: Writer): Writer {
    for (const f of this.fields()) {
      const v = obj[f.name];
      if (f.mapKey !== undefined) {
        if (!v) continue;
        if (typeof v !== 'object') throw new TypeError(`.${this.fullName}.${f.name}: object expected`);
        for (const [k, item] of Object.entries(v as Obj)) {
          const entry = new Writer();
          writeScalar(entry.tag(1, WIRE_TYPES[f.mapKey]), f.mapKey, mapKeyValue(f.mapKey, k));
          this.writeValue(entry, f, 2, item);
          w.tag(f.id, WIRE_DELIMITED).message(entry);
        }
      } else if (f.repeated) {
        if (!v) continue;
        if (!Array.isArray(v)) throw new TypeError(`.${this.fullName}.${f.name}: array expected`);
        if (!v.length) continue;
        if (f.packed && f.kind !== 'string' && f.kind !== 'bytes' && f.kind !== 'message') {
          const packed = new Writer();
          for (const item of v) writeScalar(packed, f.kind === 'enum' ? 'int32' : f.kind, this.scalarValue(f, item));
          w.tag(f.id, WIRE_DELIMITED).message(packed);
        } else for (const item of v) this.writeValue(w, f, f.id, item);
      } else if (v !== null && v !== undefined) this.writeValue(w, f, f.id, v);
    }
    return w;
  }

  private writeValue(w: Writer, f: Field, id: number, v: unknown): void {
    if (f.message) {
      if (typeof v !== 'object' || v === null) throw new TypeError(`.${this.fullName}.${f.name}: object expected`);
      w.tag(id, WIRE_DELIMITED).message(f.message.write(v as Obj, new Writer()));
      return;
    }
    const type = f.kind === 'enum' ? 'int32' : f.kind;
    const value = this.scalarValue(f, v);
    if (value !== undefined) writeScalar(w.tag(id, WIRE_TYPES[type]), type, value);
  }

  /** fromObject's conversion of one scalar (or enum) value. */
  private scalarValue(f: Field, v: unknown): unknown {
    if (f.kind === 'enum') {
      // An unknown name: left out of a singular field, the default (0) in a list (protobufjs's rule).
      if (typeof v === 'number') return v;
      return f.enumValues![String(v)] ?? (f.repeated ? 0 : undefined);
    }
    switch (f.kind) {
      case 'double': case 'float': return Number(v);
      case 'uint32': case 'fixed32': return (v as number) >>> 0;
      case 'int32': case 'sint32': case 'sfixed32': return (v as number) | 0;
      case 'bool': return Boolean(v);
      case 'string': return String(v);
      case 'bytes': return typeof v === 'string' ? Buffer.from(v, 'base64') : v;
      default: return toBigInt(v, f.kind === 'uint64' || f.kind === 'fixed64');
    }
  }

  /** protobufjs's decode: the fields present, the last occurrence of a singular one winning. */
  private read(r: Reader): Map<Field, unknown> {
    const byId = new Map(this.fields().map((f) => [f.id, f]));
    const m = new Map<Field, unknown>();
    while (r.pos < r.end) {
      const t = r.uint32();
      const f = byId.get(t >>> 3);
      if (!f) {
        r.skip(t & 7);
        continue;
      }
      if (f.mapKey !== undefined) {
        const entry = nested(r);
        let key: unknown = defaultScalar(f.mapKey);
        let value: unknown = f.message ? null : f.kind === 'bytes' ? [] : defaultScalar(f.kind === 'enum' ? 'int32' : f.kind);
        while (entry.pos < entry.end) {
          const t2 = entry.uint32();
          if (t2 >>> 3 === 1) key = readScalar(entry, f.mapKey);
          else if (t2 >>> 3 === 2) value = this.readValue(entry, f);
          else entry.skip(t2 & 7);
        }
        r.pos = entry.end;
        const map = (m.get(f) as Obj | undefined) ?? {};
        setProp(map, String(key), value);
        m.set(f, map);
      } else if (f.repeated) {
        const list = (m.get(f) as unknown[] | undefined) ?? [];
        if ((t & 7) === WIRE_DELIMITED && f.kind !== 'string' && f.kind !== 'bytes' && f.kind !== 'message') {
          const packed = nested(r);
          while (packed.pos < packed.end) list.push(this.readValue(packed, f));
          r.pos = packed.end;
        } else list.push(this.readValue(r, f));
        m.set(f, list);
      } else m.set(f, this.readValue(r, f));
    }
    return m;
  }

  private readValue(r: Reader, f: Field): unknown {
    if (f.message) {
      const inner = nested(r);
      const value = f.message.read(inner);
      r.pos = inner.end;
      return value;
    }
    return readScalar(r, f.kind === 'enum' ? 'int32' : f.kind);
  }

  /** protobufjs's toObject with { longs: Number, enums: String, defaults: true, oneofs: true }. */
  private toObject(m: Map<Field, unknown>): Obj {
    const fields = this.fields();
    const d: Obj = {};
    for (const f of fields) if (!f.oneof && f.repeated && f.mapKey === undefined) d[f.name] = [];
    for (const f of fields) if (!f.oneof && f.mapKey !== undefined) d[f.name] = {};
    for (const f of fields) {
      if (f.oneof || f.repeated || f.mapKey !== undefined) continue;
      d[f.name] = f.message ? null : f.kind === 'enum' ? f.enumNames!.get(0) ?? 0 : f.kind === 'bytes' ? Buffer.alloc(0) : defaultScalar(f.kind);
    }
    for (const f of fields) {
      const v = m.get(f);
      if (v === undefined) continue;
      if (f.mapKey !== undefined) {
        const entries = Object.entries(v as Obj);
        if (!entries.length) continue;
        const out: Obj = {};
        for (const [k, item] of entries) setProp(out, k, this.valueToObject(f, item));
        d[f.name] = out;
      } else if (f.repeated) {
        if (!(v as unknown[]).length) continue;
        d[f.name] = (v as unknown[]).map((item) => this.valueToObject(f, item));
      } else if (v !== null) {
        d[f.name] = this.valueToObject(f, v);
        if (f.oneof) d[f.oneof] = f.name;
      }
    }
    return d;
  }

  private valueToObject(f: Field, v: unknown): unknown {
    if (f.message) return v === null ? null : f.message.toObject(v as Map<Field, unknown>);
    if (f.kind === 'enum') return f.enumNames!.get(v as number) ?? v;
    return v;
  }
}

/** The object of one descriptor: its message types by full name (e.g. hush.v1.Secret) and services. */
export class Codec {
  private readonly types = new Map<string, MessageType>();

  constructor(private readonly root: object) {}

  /** protobufjs's lookup: `name` relative to the innermost scope, then each enclosing one. */
  lookup(name: string, scope: JsonNode[]): { fullName: string; node: JsonNode } | undefined {
    const parts = name.replace(/^\./, '').split('.');
    const scopes = name.startsWith('.') ? [this.root as JsonNode] : [...scope].reverse();
    for (const start of scopes) {
      let node: JsonNode | undefined = start;
      for (const p of parts) node = node?.nested?.[p];
      if (node) return { fullName: [...this.pathOf(start), ...parts].join('.'), node };
    }
    return undefined;
  }

  private pathOf(target: JsonNode): string[] {
    const walk = (node: JsonNode, path: string[]): string[] | undefined => {
      if (node === target) return path;
      for (const [k, child] of Object.entries(node.nested ?? {})) {
        const found = walk(child, [...path, k]);
        if (found) return found;
      }
      return undefined;
    };
    return walk(this.root as JsonNode, []) ?? [];
  }

  /** The message type `fullName` (hush.v1.Secret). */
  type(fullName: string): MessageType {
    let t = this.types.get(fullName);
    if (!t) {
      const scope: JsonNode[] = [this.root as JsonNode];
      for (const p of fullName.split('.')) {
        const next = scope[scope.length - 1].nested?.[p];
        if (!next) throw new Error(`no message type ${fullName}`);
        scope.push(next);
      }
      const node = scope.pop()!;
      if (!node.fields) throw new Error(`${fullName} is not a message type`);
      t = new MessageType(fullName, node, scope, this);
      this.types.set(fullName, t);
    }
    return t;
  }

  /** A service's method: its HTTP/2 path and its request and response types. */
  method(service: string, name: string): { path: string; request: MessageType; response: MessageType; requestStream: boolean; responseStream: boolean } {
    const found = this.lookup(service, [this.root as JsonNode]);
    const m = found?.node.methods?.[name];
    if (!found || !m) throw new Error(`no method ${service}.${name}`);
    const scope = service.split('.').slice(0, -1).reduce<JsonNode[]>((s, p) => [...s, s[s.length - 1].nested![p]], [this.root as JsonNode]);
    const resolve = (type: string) => {
      const t = this.lookup(type, scope);
      if (!t) throw new Error(`${service}.${name}: no type ${type}`);
      return this.type(t.fullName);
    };
    return {
      path: `/${service}/${name}`, request: resolve(m.requestType), response: resolve(m.responseType),
      requestStream: !!m.requestStream, responseStream: !!m.responseStream,
    };
  }
}

function nested(r: Reader): Reader {
  const n = r.uint32();
  if (r.pos + n > r.end) throw new RangeError('index out of range');
  const inner = new Reader(r.buf, r.pos + n);
  inner.pos = r.pos;
  return inner;
}

function setProp(o: Obj, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

function defaultScalar(type: string): unknown {
  return type === 'string' ? '' : type === 'bool' ? false : 0;
}

/** An object key as a map key of `type` (string or 32-bit: see MessageType.fields). */
function mapKeyValue(type: string, key: string): unknown {
  return type === 'string' ? key : Number(key);
}

/** protobufjs's Long.fromValue, as a BigInt: numbers truncated and saturated, strings in base 10. */
function toBigInt(v: unknown, unsigned: boolean): bigint {
  let n: bigint;
  if (typeof v === 'bigint') n = v;
  else if (typeof v === 'string') n = /^-?\d+$/.test(v.trim()) ? BigInt(v.trim()) : 0n;
  else if (typeof v === 'number') {
    if (!Number.isFinite(v)) return 0n;
    if (unsigned && v < 0) return 0n;
    n = BigInt(Math.trunc(v));
    const [min, max] = unsigned ? [0n, 2n ** 64n - 1n] : [-(2n ** 63n), 2n ** 63n - 1n];
    n = n < min ? min : n > max ? max : n;
  } else if (v && typeof v === 'object' && 'low' in v && 'high' in v) {
    const { low, high } = v as { low: number; high: number };
    n = (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0);
  } else n = 0n;
  return unsigned ? BigInt.asUintN(64, n) : BigInt.asIntN(64, n);
}

function writeScalar(w: Writer, type: string, v: unknown): void {
  switch (type) {
    case 'double': w.double(v as number); break;
    case 'float': w.float(v as number); break;
    case 'int32': case 'sfixed32':
      if (type === 'sfixed32') w.fixed32(v as number);
      else if ((v as number) < 0) w.varint64(BigInt(v as number));
      else w.uint32(v as number);
      break;
    case 'uint32': w.uint32(v as number); break;
    case 'sint32': w.uint32((((v as number) << 1) ^ ((v as number) >> 31)) >>> 0); break;
    case 'fixed32': w.fixed32(v as number); break;
    case 'bool': w.uint32(v ? 1 : 0); break;
    case 'string': w.string(v as string); break;
    case 'bytes': w.bytes(v as Uint8Array); break;
    case 'int64': case 'uint64': w.varint64(v as bigint); break;
    case 'sint64': { const n = BigInt.asIntN(64, v as bigint); w.varint64((n << 1n) ^ (n >> 63n)); break; }
    case 'fixed64': case 'sfixed64': w.fixed64(v as bigint); break;
    default: throw new Error(`unknown scalar type ${type}`);
  }
}

function readScalar(r: Reader, type: string): unknown {
  switch (type) {
    case 'double': return r.double();
    case 'float': return r.float();
    case 'int32': return r.int32();
    case 'uint32': return r.uint32();
    case 'sint32': return r.sint32();
    case 'fixed32': return r.fixed32();
    case 'sfixed32': return r.sfixed32();
    case 'bool': return r.bool();
    case 'string': return r.string();
    case 'bytes': return r.bytes();
    case 'int64': return r.long(false);
    case 'uint64': return r.long(true);
    case 'sint64': return r.sint64();
    case 'fixed64': return r.fixed64(true);
    case 'sfixed64': return r.fixed64(false);
    default: throw new Error(`unknown scalar type ${type}`);
  }
}
