// One way to find a secret or a service from what a user typed, as docker does: an exact id, then
// an exact name, then an unambiguous id prefix. (Nodes also match by hostname: nodes/registry.ts.)
import type { KV, Store } from '../store/store.js';
import { ID_PATTERN } from '../../common/ids.js';
import { invalidArgument, notFound } from '../../common/errors.js';
import { validateRef } from '../refs.js';
import { decode, keys } from './records.js';

const KEYS = {
  secret: { byId: keys.secret, byName: keys.secretName },
  service: { byId: keys.service, byName: keys.serviceName },
} as const;

export async function resolveRef<T>(store: Store, kind: 'secret' | 'service', ref: string): Promise<{ kv: KV; record: T }> {
  validateRef(ref, kind);
  const { byId, byName } = KEYS[kind];
  if (ID_PATTERN.test(ref)) {
    const kv = await store.get(byId(ref));
    if (kv) return { kv, record: decode<T>(kv.value) };
  }
  const named = await store.get(byName(ref));
  if (named) {
    const kv = await store.get(byId(named.value.toString()));
    if (kv) return { kv, record: decode<T>(kv.value) };
  }
  if (/^[0-9a-z]+$/.test(ref)) {
    const { kvs } = await store.range(byId(ref));
    if (kvs.length === 1) return { kv: kvs[0], record: decode<T>(kvs[0].value) };
    if (kvs.length > 1) throw invalidArgument(`${kind} id prefix ${ref} is ambiguous (${kvs.length} matches)`);
  }
  throw notFound(`${kind} ${ref} not found`);
}
