// The generated JSON descriptor is hush.proto, and proto/codec.ts reads and writes its messages
// exactly as @grpc/proto-loader does (protobufjs, with the options hush loads it with): the same
// bytes out, the same objects in (values, defaults and key order), for random messages of every type.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import type * as Protobuf from 'protobufjs';
import { packageRoot } from '../common/package.js';
import { seededRandom } from '../common/testing/seeded-random.js';
import { Codec } from './codec.js';
import { hushDescriptor } from './gen/hush-descriptor.js';

const protobuf = createRequire(createRequire(import.meta.url).resolve('@grpc/proto-loader'))('protobufjs') as typeof Protobuf;
const OPTIONS = { longs: Number, enums: String, defaults: true, oneofs: true };
const HUSH_PROTO = join(packageRoot(), 'proto', 'hush.proto');

function hushRoot(): Protobuf.Root {
  const root = new protobuf.Root();
  root.loadSync(HUSH_PROTO, { keepCase: false, alternateCommentMode: true });
  root.resolveAll();
  return root;
}

/** Every message type under a namespace, by full name (without the leading dot). */
function messageTypes(ns: Protobuf.NamespaceBase): Protobuf.Type[] {
  return ns.nestedArray.flatMap((n) => [
    ...(n instanceof protobuf.Type ? [n] : []),
    ...(n instanceof protobuf.Namespace ? messageTypes(n) : []),
  ]);
}

const STRINGS = ['', 'a', 'web-db-password', 'é日本🔑', 'x'.repeat(300), '__proto__', 'with\nnewline'];

/** A random plain object for `type`, as a caller would give it: some fields absent, some explicit zeros. */
function randomObject(type: Protobuf.Type, rnd: () => number, depth = 0): Record<string, unknown> {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
  const scalar = (t: string, resolved: Protobuf.ReflectionObject | null, mapKey = false): unknown => {
    if (resolved instanceof protobuf.Enum) return rnd() < 0.7 ? pick(Object.keys(resolved.values)) : pick(Object.values(resolved.values));
    if (resolved instanceof protobuf.Type) return randomObject(resolved, rnd, depth + 1);
    const big = rnd() < 0.3;
    switch (t) {
      case 'string': return pick(STRINGS);
      case 'bool': return mapKey ? pick(['true', 'false']) : rnd() < 0.5;
      case 'bytes': return Buffer.from(Array.from({ length: Math.floor(rnd() * 40) }, () => Math.floor(rnd() * 256)));
      case 'uint32': case 'fixed32': return big ? Math.floor(rnd() * 2 ** 32) : Math.floor(rnd() * 300);
      case 'int32': case 'sint32': case 'sfixed32': return Math.floor((rnd() - 0.5) * (big ? 2 ** 32 : 600));
      case 'uint64': case 'fixed64': return big ? Math.floor(rnd() * 2 ** 53) : Math.floor(rnd() * 300);
      case 'int64': case 'sint64': case 'sfixed64': return Math.floor((rnd() - 0.5) * (big ? 2 ** 54 : 600));
      case 'double': return (rnd() - 0.5) * 1e6;
      case 'float': return Math.fround((rnd() - 0.5) * 1e4);
      default: throw new Error(`no generator for ${t}`);
    }
  };
  const out: Record<string, unknown> = {};
  for (const f of type.fieldsArray) {
    const r = rnd();
    if (r < 0.2) continue; // absent
    if (f instanceof protobuf.MapField) {
      const o: Record<string, unknown> = {};
      for (let i = depth > 3 ? 0 : Math.floor(rnd() * 4); i > 0; i--) Object.defineProperty(o, String(scalar(f.keyType, null, true)), { value: scalar(f.type, f.resolvedType), enumerable: true, writable: true, configurable: true });
      out[f.name] = o;
    } else if (f.repeated) {
      out[f.name] = depth > 3 ? [] : Array.from({ length: Math.floor(rnd() * 4) }, () => scalar(f.type, f.resolvedType));
    } else if (f.resolvedType instanceof protobuf.Type) {
      if (depth <= 3) out[f.name] = r < 0.3 ? null : scalar(f.type, f.resolvedType);
    } else {
      const zero = f.type === 'string' ? '' : f.type === 'bool' ? false : f.type === 'bytes' ? Buffer.alloc(0) : 0;
      out[f.name] = r < 0.3 ? zero : scalar(f.type, f.resolvedType);
    }
  }
  return out;
}

/** Values and key order alike: JSON (bytes as hex) and a deep comparison. */
function assertSameObject(actual: unknown, expected: unknown, what: string): void {
  const json = (v: unknown) => JSON.stringify(v, (_k, x: unknown) =>
    (x && typeof x === 'object' && (x as { type?: string }).type === 'Buffer' ? `bytes:${Buffer.from((x as { data: number[] }).data).toString('hex')}` : x));
  assert.equal(json(actual), json(expected), what);
  assert.deepStrictEqual(actual, expected, what);
}

function compareOn(root: Protobuf.Root, codec: Codec, seed: number, rounds: number): number {
  let compared = 0;
  for (const type of messageTypes(root)) {
    const fullName = type.fullName.slice(1);
    const mine = codec.type(fullName);
    const rnd = seededRandom(seed + compared);
    for (let i = 0; i < rounds; i++) {
      const obj = randomObject(type, rnd);
      const what = `${fullName} (seed ${seed}, round ${i}): ${JSON.stringify(obj).slice(0, 300)}`;
      const theirs = Buffer.from(type.encode(type.fromObject(obj)).finish());
      const bytes = mine.encode(obj);
      assert.equal(bytes.toString('hex'), theirs.toString('hex'), `encode ${what}`);
      assertSameObject(mine.decode(bytes), type.toObject(type.decode(bytes), OPTIONS), `decode ${what}`);
    }
    assertSameObject(mine.decode(Buffer.alloc(0)), type.toObject(type.decode(Buffer.alloc(0)), OPTIONS), `${fullName}: the defaults`);
    compared++;
  }
  return compared;
}

test('the JSON descriptor that gen-proto writes is hush.proto: proto-loader gives the same services from either', () => {
  const fromProto = protoLoader.loadSync(HUSH_PROTO, OPTIONS);
  const fromJson = protoLoader.fromJSON(hushDescriptor, OPTIONS);
  assert.deepEqual(Object.keys(fromJson).sort(), Object.keys(fromProto).sort());
  const rnd = seededRandom(9);
  const root = hushRoot();
  let methods = 0;
  for (const [name, def] of Object.entries(fromProto)) {
    if (!('format' in def) && typeof def === 'object') {
      for (const [m, d] of Object.entries(def as protoLoader.ServiceDefinition)) {
        const j = (fromJson[name] as protoLoader.ServiceDefinition)[m];
        assert.equal(j.path, d.path);
        assert.equal(j.requestStream, d.requestStream);
        assert.equal(j.responseStream, d.responseStream);
        const req = randomObject(root.lookupService(name).methods[m].resolvedRequestType!, rnd);
        assert.deepEqual(j.requestSerialize(req), d.requestSerialize(req), `${d.path} request`);
        methods++;
      }
    }
  }
  assert.ok(methods >= 25, `methods compared: ${methods}`);
});

test('the codec writes and reads every message of hush.proto as proto-loader does', () => {
  const n = compareOn(hushRoot(), new Codec(hushDescriptor), 1, 60);
  assert.ok(n >= 40, `message types compared: ${n}`);
});

test('the codec follows protobufjs on every scalar type, enums, oneofs, nested types, maps and lists', () => {
  const source = `syntax = "proto3";
    package t.v1;
    message Scalars {
      double d = 1; float f = 2; int32 i32 = 3; int64 i64 = 4; uint32 u32 = 5; uint64 u64 = 6;
      sint32 s32 = 7; sint64 s64 = 8; fixed32 f32 = 9; fixed64 f64 = 10; sfixed32 sf32 = 11; sfixed64 sf64 = 12;
      bool b = 13; string s = 14; bytes by = 15;
      repeated int32 ri32 = 16; repeated sint64 rs64 = 17; repeated double rd = 18; repeated bool rb = 19;
      repeated bytes rby = 20; optional int64 oi64 = 21; optional string os = 22;
    }
    message Outer {
      enum Kind { KIND_UNSET = 0; KIND_A = 1; KIND_B = 7; }
      message Inner { enum Level { LOW = 0; HIGH = 2; } Kind kind = 1; repeated Kind kinds = 2; map<string, Inner> children = 3; }
      oneof pick { Inner inner = 1; string name = 2; uint64 big = 3; }
      map<int32, string> by_number = 4; map<string, bytes> blobs = 5; map<string, Kind> flags = 6;
      map<uint32, Scalars> by_small = 7; repeated Inner inners = 8; Inner.Level level = 9;
      repeated uint32 unpacked = 10 [packed = false];
    }`;
  const root = protobuf.parse(source, { keepCase: false }).root;
  root.resolveAll();
  const n = compareOn(root, new Codec(root.toJSON()), 2, 300);
  assert.equal(n, 3);
});

test('the codec reads what a writer may also send: unpacked lists, unknown fields, repeated singular fields', () => {
  const root = protobuf.parse(`syntax = "proto3";
    message Narrow { repeated int32 v = 1; string s = 2; }
    message Wide { repeated int32 v = 1 [packed = false]; string s = 2; bytes extra = 3; fixed64 more = 9; repeated string many = 10; }`).root;
  root.resolveAll();
  const codec = new Codec(root.toJSON());
  const wide = root.lookupType('Wide');
  const narrow = root.lookupType('Narrow');
  const bytes = Buffer.concat([
    wide.encode(wide.fromObject({ v: [1, -2, 300], s: 'first', extra: Buffer.from('x'), more: 5, many: ['a', 'b'] })).finish(),
    wide.encode(wide.fromObject({ v: [4], s: 'last' })).finish(), // concatenated messages merge: lists append, the last string wins
  ]);
  assertSameObject(codec.type('Narrow').decode(bytes), narrow.toObject(narrow.decode(bytes), OPTIONS), 'Wide read as Narrow');
  assert.deepEqual(codec.type('Narrow').decode(bytes), { v: [1, -2, 300, 4], s: 'last' });
});
