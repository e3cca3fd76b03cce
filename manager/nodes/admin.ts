// Node administration: availability and labels (`hush node update`), and removal (`hush node rm`),
// which puts the node's certificate on the deny list in the same txn.
import type { Store } from '../store/store.js';
import { failedPrecondition, invalidArgument, notFound } from '../../common/errors.js';
import { decode, encode, keys, type DeniedCertRecord, type NodeAvailability, type NodeRecord } from '../state/records.js';
import type { ClusterView } from '../state/view.js';
import { validateLabels } from '../secrets/validate.js';
import type { NodeRegistry } from './registry.js';
import { casRetry } from '../state/cas-retry.js';

export interface NodeUpdate {
  /** Absent or '': unchanged. */
  availability?: string;
  labelAdd?: Record<string, string>;
  labelRm?: string[];
}

export function validateAvailability(value: string): NodeAvailability {
  if (value === 'active' || value === 'pause' || value === 'drain') return value;
  throw invalidArgument(`invalid availability ${JSON.stringify(String(value).slice(0, 40))}: active, pause or drain`);
}

export class NodeAdmin {
  constructor(private readonly store: Store, private readonly view: ClusterView, private readonly registry: NodeRegistry) {}

  async update(ref: string, change: NodeUpdate): Promise<NodeRecord> {
    const availability = change.availability ? validateAvailability(change.availability) : undefined;
    const labelAdd = change.labelAdd ?? {};
    const labelRm = change.labelRm ?? [];
    validateLabels(labelAdd);
    for (const k of labelRm) {
      if (typeof k !== 'string' || !k || k.length > 128) throw invalidArgument('a label to remove needs a key');
      if (Object.hasOwn(labelAdd, k)) throw invalidArgument(`label ${JSON.stringify(k)} is both added and removed`);
    }
    return casRetry(`node ${ref} is being changed concurrently, try again`, async () => {
      const { id } = await this.registry.resolve(ref);
      const kv = await this.store.get(keys.node(id));
      if (!kv) throw notFound(`node ${id} not found`);
      const node = decode<NodeRecord>(kv.value);
      const labels: Record<string, string> = { ...node.labels };
      for (const k of labelRm) {
        if (!Object.hasOwn(labels, k)) throw notFound(`node ${node.hostname} has no label ${JSON.stringify(k.slice(0, 80))}`);
        delete labels[k];
      }
      for (const [k, v] of Object.entries(labelAdd)) labels[k] = v;
      validateLabels(labels);
      const next: NodeRecord = { ...node, labels, availability: availability ?? node.availability };
      if (next.availability === node.availability && !labelRm.length && !Object.keys(labelAdd).length) return node;
      const result = await this.store.txn([{ key: kv.key, modRev: kv.modRev }], [{ type: 'put', key: kv.key, value: encode(next) }]);
      if (result.ok) {
        await this.view.waitFor(result.revision);
        return next;
      }
      return undefined; // lost a race: read again
    });
  }

  /**
   * Deletes the node record and denies its current certificate, in one txn. A node that is ready
   * is refused unless forced. (Its open streams are cut by the dispatcher, which follows the view.)
   */
  async remove(ref: string, force: boolean): Promise<NodeRecord> {
    return casRetry(`node ${ref} is being changed concurrently, try again`, async () => {
      const { id } = await this.registry.resolve(ref);
      const kv = await this.store.get(keys.node(id));
      if (!kv) throw notFound(`node ${id} not found`);
      const node = decode<NodeRecord>(kv.value);
      if (node.state === 'ready' && !force) {
        throw failedPrecondition(`node ${node.hostname} (${node.id}) is ready and cannot be removed: stop its agent first, or use --force`);
      }
      const denied: DeniedCertRecord = { serial: node.certSerial, nodeId: node.id, notAfterMs: node.certNotAfterMs };
      const result = await this.store.txn([{ key: kv.key, modRev: kv.modRev }], [
        { type: 'delete', key: kv.key },
        { type: 'put', key: keys.deniedCert(node.certSerial), value: encode(denied) },
      ]);
      if (result.ok) {
        await this.view.waitFor(result.revision);
        return node;
      }
      return undefined; // lost a race: read again
    });
  }

  /**
   * Deletes the deny-list entries of certificates that have expired: TLS refuses an expired
   * certificate by itself, and the one path that accepts an expired certificate (renewal with proof)
   * also requires the node to be a member, which a removed node is not. Returns how many it deleted.
   */
  async pruneDenied(nowMs: number): Promise<number> {
    const expired = [...this.view.denied.values()].filter((d) => d.notAfterMs < nowMs);
    if (!expired.length) return 0;
    const compares = expired.map((d) => ({ key: keys.deniedCert(d.serial), modRev: this.view.modRev(keys.deniedCert(d.serial)) }));
    const result = await this.store.txn(compares, expired.map((d) => ({ type: 'delete' as const, key: keys.deniedCert(d.serial) })));
    await this.view.waitFor(result.revision);
    return result.ok ? expired.length : 0;
  }
}
