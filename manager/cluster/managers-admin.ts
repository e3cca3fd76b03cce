// `hush manager ls`, `hush manager rm` and the serving side of `hush manager join`.
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import type { Store } from '../store/store.js';
import type { ClusterView } from '../state/view.js';
import { decode, encode, keys, type DeniedCertRecord, type ManagerIdentityRecord, type ManagerRecord } from '../state/records.js';
import { failedPrecondition, invalidArgument, notFound, permissionDenied, unavailable } from '../../common/errors.js';
import { newId } from '../../common/ids.js';
import { quote } from '../../common/printable.js';
import { HOSTNAME } from '../refs.js';
import { isHostPort } from '../../common/host-port.js';
import type { Logger } from '../../common/log.js';
import { keyringGrant, type KeyringGrant } from '../crypto/keyring.js';
import { etcdSettingsOf, type EtcdSettings } from '../store/state-config.js';
import { issueManagerIdentity, type Cluster } from './cluster.js';
import type { ManagerPresence, ManagerState } from './presence.js';
import type { NodeCertificates } from '../ca/node-certificates.js';

export interface ManagerListing extends ManagerState {
  leader: boolean;
  self: boolean;
}

export interface ManagerJoinGrant {
  managerId: string;
  clusterId: string;
  rootCaPem: string;
  etcd: EtcdSettings;
  keyring: KeyringGrant;
}

export class ManagersAdmin {
  constructor(private readonly store: Store, private readonly view: ClusterView, private readonly presence: ManagerPresence,
    private readonly cluster: Cluster, private readonly ca: NodeCertificates, private readonly stateDir: string,
    private readonly dek: Buffer, private readonly log: Logger) {}

  list(): ManagerListing[] {
    const leaderId = this.view.leader.get('')?.managerId;
    return this.presence.list().map((m) => ({
      ...m, leader: m.id === leaderId && m.reachable, self: m.id === this.presence.managerId,
    }));
  }

  private resolve(ref: string): ManagerRecord {
    if (typeof ref !== 'string' || !/^[0-9a-z]{1,25}$/.test(ref)) throw invalidArgument(`invalid manager id ${quote(String(ref).slice(0, 40))}`);
    const found = [...this.view.managers.values()].filter((m) => m.id === ref || m.id.startsWith(ref));
    const exact = found.find((m) => m.id === ref);
    if (exact) return exact;
    if (found.length > 1) throw invalidArgument(`manager ${ref} is ambiguous (${found.length} matches)`);
    if (!found.length) throw notFound(`manager ${ref} not found`);
    return found[0];
  }

  /** Removes a manager: its record and identity go, and its certificate is denied until it expires. */
  async remove(ref: string, force: boolean): Promise<string> {
    const m = this.resolve(ref);
    if (m.id === this.presence.managerId) throw failedPrecondition('a manager cannot remove itself: run `hush manager rm` on another manager');
    if (!force && this.presence.reachable(m.id)) {
      throw failedPrecondition(`manager ${m.id} is running (reachable): stop it first, or use --force`);
    }
    const identityKey = keys.managerIdentityOf(m.id);
    const identity = await this.store.get(identityKey);
    const ops: Array<{ type: 'delete'; key: string } | { type: 'put'; key: string; value: Buffer }> = [
      { type: 'delete', key: keys.manager(m.id) }, { type: 'delete', key: identityKey },
    ];
    if (identity) {
      const cert = new X509Certificate(decode<ManagerIdentityRecord>(identity.value).certPem);
      const denied: DeniedCertRecord = { serial: cert.serialNumber.toLowerCase(), nodeId: m.id, notAfterMs: Date.parse(cert.validTo) };
      ops.push({ type: 'put', key: keys.deniedCert(denied.serial), value: encode(denied) });
    }
    const r = await this.store.txn([{ key: keys.manager(m.id), modRev: this.view.modRev(keys.manager(m.id)) }], ops);
    if (!r.ok) throw unavailable(`manager ${m.id} is being changed concurrently, try again`);
    await this.view.waitFor(r.revision);
    this.log.info({ managerId: m.id, addr: m.addr }, 'manager removed');
    return m.id;
  }

  /** A new manager joins: checks the manager token, records the manager and its sealed identity. */
  async grantJoin(req: { token: string; listenAddr: string; hostname: string }): Promise<ManagerJoinGrant> {
    if (this.ca.roleForToken(req.token) !== 'manager') throw permissionDenied('a manager joins with the manager join token (`hush join-token manager`), not the worker token');
    const etcd = etcdSettingsOf(this.stateDir);
    if (!etcd) {
      throw failedPrecondition('this cluster runs on the embedded SQLite store, which only one manager can use: move it to etcd first (`hush manager migrate`)');
    }
    if (!isHostPort(req.listenAddr) || /:0+$/.test(req.listenAddr)) throw invalidArgument(`invalid listen address ${quote(req.listenAddr.slice(0, 80))}: expected HOST:PORT with a port`);
    if (!HOSTNAME.test(req.hostname) && !isIP(req.hostname)) throw invalidArgument(`invalid hostname ${quote(req.hostname.slice(0, 80))}`);
    const id = newId();
    const { record } = issueManagerIdentity(this.cluster.ca, this.dek, { ...this.cluster.record, listenAddr: req.listenAddr }, id);
    // heartbeatAtMs 0: not yet running, so not reachable until its first heartbeat.
    const manager: ManagerRecord = { id, addr: req.listenAddr, hostname: req.hostname, version: '', joinedAtMs: Date.now(), heartbeatAtMs: 0 };
    const r = await this.store.txn([{ key: keys.manager(id), modRev: 0 }], [
      { type: 'put', key: keys.managerIdentityOf(id), value: encode(record) },
      { type: 'put', key: keys.manager(id), value: encode(manager) },
    ]);
    if (!r.ok) throw new Error(`manager id collision: ${id}`);
    this.log.info({ managerId: id, addr: req.listenAddr, hostname: req.hostname }, 'manager joined');
    return {
      managerId: id, clusterId: this.cluster.id, rootCaPem: this.cluster.ca.certPem, etcd,
      keyring: keyringGrant(this.stateDir, this.dek),
    };
  }
}
