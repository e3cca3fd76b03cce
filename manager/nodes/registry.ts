// Node records: who has joined, with which role and certificate.
import type { Store } from '../store/store.js';
import { ID_PATTERN } from '../../common/ids.js';
import { invalidArgument, notFound } from '../../common/errors.js';
import { decode, encode, keys, type NodeRecord } from '../state/records.js';
import { validateRef } from '../refs.js';
import { casRetry } from '../state/cas-retry.js';

export class NodeRegistry {
  constructor(private readonly store: Store) {}

  async add(node: NodeRecord): Promise<void> {
    const result = await this.store.txn([{ key: keys.node(node.id), modRev: 0 }], [
      { type: 'put', key: keys.node(node.id), value: encode(node) },
    ]);
    if (!result.ok) throw new Error(`node id collision: ${node.id}`);
  }

  async find(id: string): Promise<NodeRecord | undefined> {
    if (!ID_PATTERN.test(id)) return undefined;
    const kv = await this.store.get(keys.node(id));
    return kv && decode<NodeRecord>(kv.value);
  }

  async list(): Promise<NodeRecord[]> {
    const { kvs } = await this.store.range(keys.nodesPrefix);
    return kvs.map((kv) => decode<NodeRecord>(kv.value)).sort((a, b) => a.hostname.localeCompare(b.hostname) || a.id.localeCompare(b.id));
  }

  /** By exact id, unambiguous id prefix, or unique hostname. */
  async resolve(ref: string): Promise<NodeRecord> {
    validateRef(ref, 'node');
    const exact = await this.find(ref);
    if (exact) return exact;
    const all = await this.list();
    const matches = all.filter((n) => n.id.startsWith(ref));
    const byHost = all.filter((n) => n.hostname === ref);
    const found = matches.length ? matches : byHost;
    if (found.length === 1) return found[0];
    if (found.length > 1) throw invalidArgument(`node ${ref} is ambiguous (${found.length} matches)`);
    throw notFound(`node ${ref} not found`);
  }

  /** Applies a change to one node record with compare-and-swap, retrying on conflict. */
  async update(id: string, change: (n: NodeRecord) => NodeRecord): Promise<NodeRecord> {
    return casRetry(`node ${id} is being changed concurrently, try again`, async () => {
      const kv = await this.store.get(keys.node(id));
      if (!kv) throw notFound(`node ${id} not found`);
      const next = change(decode<NodeRecord>(kv.value));
      const result = await this.store.txn([{ key: kv.key, modRev: kv.modRev }], [{ type: 'put', key: kv.key, value: encode(next) }]);
      if (result.ok) return next;
      return undefined; // lost a race: read again
    });
  }
}
