// A running manager: its store, and — once unlocked — its cluster, CA and services.
import type { Store } from './store/store.js';
import { openStore } from './store/open.js';
import { storeConfigFor } from './store/state-config.js';
import { failedPrecondition, invalidArgument } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import type { PeerIdentity } from '../common/certs.js';
import { isAutolocked, openKeyring, rotateUnlockKey, WrongUnlockKeyError, keyringExists } from './crypto/keyring.js';
import { Cluster } from './cluster/cluster.js';
import { SecretAdmin } from './secrets/admin.js';
import { NodeRegistry } from './nodes/registry.js';
import { NodeAdmin } from './nodes/admin.js';
import { ServiceAdmin } from './services/admin.js';
import { NodeCertificates } from './ca/node-certificates.js';
import type { MembershipCheck } from './auth/authorize.js';
import { decode, keys, type ManagerRecord } from './state/records.js';
import { ClusterView } from './state/view.js';
import { Dispatcher } from './dispatcher/dispatcher.js';
import type { LivenessOptions } from './dispatcher/liveness.js';
import { SessionRecords } from './dispatcher/session-records.js';
import { readManagerId } from './cluster/manager-id.js';
import { EtcdLeadership, soleLeadership, type Leadership } from './cluster/leadership.js';
import { LeaderDuties } from './cluster/leader-duties.js';
import { ManagerPresence, STORE_SILENCE_MS } from './cluster/presence.js';
import { ManagersAdmin } from './cluster/managers-admin.js';
import { EtcdStore } from './store/etcd.js';
import { Compactor } from './store/etcd-compaction.js';
import { etcdSettingsOf } from './store/state-config.js';

export interface ManagerOptions {
  heartbeat: LivenessOptions;
  /** Overrides the address this manager is reached at (default: its record's, or the cluster's at init). */
  listenAddr?: string;
  /** Lease TTL of the scheduler election on etcd, seconds (default 8). */
  electionTtlSec?: number;
  /** How often the leader compacts etcd's history, ms (default 5 min). */
  compactEveryMs?: number;
}

export const DEFAULT_HEARTBEAT: LivenessOptions = { periodMs: 5000, missed: 3 };
// A dead leader's lease runs out 2/3 TTL to TTL after its death (keepalives every TTL/3): with 10 s
// (etcd-ha.md's figure) the successor took over after up to 10.4 s (bench/failover.ts), over the 10 s
// hush promises for new placements; 8 s keeps it under, and still rides out a 2 s etcd leader election.
const DEFAULT_ELECTION_TTL_SEC = 8;

export interface Unlocked {
  dek: Buffer;
  /** In-memory view of secrets, services, tasks and nodes, following the store. */
  view: ClusterView;
  unlockKey?: Buffer;
  cluster: Cluster;
  secrets: SecretAdmin;
  services: ServiceAdmin;
  nodes: NodeRegistry;
  nodeAdmin: NodeAdmin;
  ca: NodeCertificates;
  dispatcher: Dispatcher;
  /** This manager's id and the cluster's managers as it sees them. */
  presence: ManagerPresence;
  leadership: Leadership;
  leader: LeaderDuties;
  managers: ManagersAdmin;
}

export class Manager implements MembershipCheck {
  readonly autolock: boolean;
  private state?: Unlocked;
  private unlocking = false;
  private unlockListeners: Array<(u: Unlocked) => void> = [];
  /** Whether other managers share the store (etcd). */
  readonly shared: boolean;
  /** Called if this manager is removed from the cluster while it runs (the daemon exits). */
  onRemoved: () => void = () => undefined;

  private constructor(readonly stateDir: string, readonly store: Store, readonly log: Logger, readonly opts: ManagerOptions) {
    this.autolock = isAutolocked(stateDir);
    this.shared = store instanceof EtcdStore;
  }

  static async open(stateDir: string, log: Logger, opts: ManagerOptions = { heartbeat: DEFAULT_HEARTBEAT }): Promise<Manager> {
    if (!keyringExists(stateDir)) {
      throw new Error(`no cluster in ${stateDir}: run \`hush manager init --state-dir ${stateDir}\` first`);
    }
    const manager = new Manager(stateDir, await openStore(storeConfigFor(stateDir)), log, opts);
    if (!(await manager.store.get(keys.cluster))) throw new Error(`the store in ${stateDir} holds no cluster`);
    if (!manager.autolock) await manager.unlockWith(openKeyring(stateDir).dek);
    return manager;
  }

  get locked(): boolean {
    return !this.state;
  }

  /** The unlocked state, or FAILED_PRECONDITION naming the way out. */
  unlocked(): Unlocked {
    if (!this.state) throw failedPrecondition('the manager is locked: run `hush manager unlock` with the unlock key');
    return this.state;
  }

  onUnlock(listener: (u: Unlocked) => void): void {
    this.unlockListeners.push(listener);
    if (this.state) listener(this.state);
  }

  async unlock(unlockKey: Buffer): Promise<void> {
    if (this.state || this.unlocking) throw failedPrecondition('the manager is not locked');
    let opened;
    try {
      opened = openKeyring(this.stateDir, unlockKey);
    } catch (e) {
      if (e instanceof WrongUnlockKeyError) throw invalidArgument(e.message);
      throw e;
    }
    // Set before the first await: a second Unlock arriving meanwhile is refused, not run twice.
    this.unlocking = true;
    try {
      await this.unlockWith(opened.dek, opened.unlockKey);
    } finally {
      this.unlocking = false;
    }
    this.log.info('manager unlocked');
  }

  rotateUnlockKey(): Buffer {
    const state = this.unlocked();
    if (!this.autolock) throw failedPrecondition('autolock is not enabled on this cluster (init it with --autolock)');
    const previous = state.unlockKey;
    state.unlockKey = rotateUnlockKey(this.stateDir, state.dek);
    previous?.fill(0); // it no longer opens anything
    this.log.info('unlock key rotated');
    return state.unlockKey;
  }

  private async unlockWith(dek: Buffer, unlockKey?: Buffer): Promise<void> {
    const ownId = readManagerId(this.stateDir);
    const ownRecord = ownId ? await this.store.get(keys.manager(ownId)) : undefined;
    const ownAddr = this.opts.listenAddr ?? (ownRecord && decode<ManagerRecord>(ownRecord.value).addr);
    const cluster = await Cluster.load(this.store, dek, ownId, ownAddr);
    const managerId = cluster.identity.id;
    const addr = ownAddr ?? cluster.record.listenAddr;
    if (await cluster.renewIdentityIfDue()) this.log.info('manager certificate renewed');
    const nodes = new NodeRegistry(this.store);
    const view = await ClusterView.open(this.store, (err) => {
      this.log.fatal({ err: err.message }, 'lost the store change feed');
      process.exit(1);
    });
    const leadership = this.store instanceof EtcdStore
      ? new EtcdLeadership(this.store, {
        prefix: etcdSettingsOf(this.stateDir)?.prefix ?? '/hush', managerId,
        ttlSec: this.opts.electionTtlSec ?? DEFAULT_ELECTION_TTL_SEC, log: this.log,
      })
      : soleLeadership();
    const compactor = this.store instanceof EtcdStore ? new Compactor(this.store) : undefined;
    const leader = new LeaderDuties(this.store, view, leadership, managerId, this.log, compactor, this.opts.compactEveryMs);
    const presence = new ManagerPresence(this.store, view, managerId, addr, this.shared, this.log, () => this.onRemoved());
    // The dispatcher reads payloads through `secrets`, created just below (only once a node connects).
    const dispatcher: Dispatcher = new Dispatcher(this.store, view, nodes, (id, v) => secrets.readPayload(id, v), this.log, this.opts.heartbeat, () => leader.settled());
    if (this.shared) {
      dispatcher.sessionRecords = new SessionRecords(this.store, managerId, this.log);
      dispatcher.liveness.cluster = {
        managerId, leading: () => leadership.leading(), managerSeenAt: (id) => presence.seen(id), leaderNodes: leader.nodes,
      };
    }
    const services = new ServiceAdmin(this.store, view, (taskIds) => dispatcher.revokeEarly(taskIds));
    const secrets: SecretAdmin = new SecretAdmin(this.store, dek, (secretId, atRevision) => services.referencing(secretId, atRevision));
    const ca = new NodeCertificates(cluster, nodes, this.log, (identity) => this.refusal(identity));
    this.state = {
      dek, unlockKey, cluster, nodes, view, secrets, dispatcher, services, presence, leadership, leader, ca,
      nodeAdmin: new NodeAdmin(this.store, view, nodes),
      managers: new ManagersAdmin(this.store, view, presence, cluster, ca, this.stateDir, dek, this.log),
    };
    await presence.start();
    leader.start();
    dispatcher.start();
    // Agents learn the managers from their streams; one manager on its own store has nothing to tell.
    if (this.shared) presence.onSetChange((addrs) => dispatcher.publishManagers(addrs));
    for (const l of this.unlockListeners) l(this.state);
  }

  /**
   * Why reads may be stale, or undefined: on etcd every manager heartbeats each second, so a view
   * that heard nothing for STORE_SILENCE_MS has lost etcd (no quorum, or cut off from it).
   */
  staleness(): string | undefined {
    const view = this.state?.view;
    if (!this.shared || !view) return undefined;
    const quiet = Date.now() - view.lastHeardAt;
    if (quiet <= STORE_SILENCE_MS) return undefined;
    return `this manager has not heard from etcd for ${Math.round(quiet / 1000)} s: what it lists may be stale`;
  }

  // MembershipCheck, for the authorizer.
  clusterId(): string | undefined {
    return this.state?.cluster.id;
  }

  async refusal(identity: PeerIdentity): Promise<string | undefined> {
    const state = this.state;
    if (!state) return 'the manager is locked';
    if (identity.nodeId === state.cluster.identity.id) return undefined;
    const denied = state.view.denied.get(identity.serial);
    if (denied) return `certificate ${identity.serial} of node ${denied.nodeId} has been revoked (the node was removed)`;
    // Another manager of the cluster (a removed one's certificate is on the deny list above).
    if (identity.role === 'manager' && state.view.managers.has(identity.nodeId)) return undefined;
    // The view first: a node's every call is authorized here, and must not need etcd to answer
    // (heartbeats go on through an etcd outage). A node that joined a moment ago through another
    // manager may not be in this view yet: the store has it.
    const node = state.view.nodes.get(identity.nodeId) ?? await state.nodes.find(identity.nodeId);
    if (!node) return `node ${identity.nodeId} is not a member of this cluster (removed?)`;
    if (identity.serial === node.certSerial) {
      if (node.previousCertSerial) this.retirePreviousCertificate(state, node.id, node.previousCertSerial);
      return undefined;
    }
    if (identity.serial === node.previousCertSerial) return undefined;
    return `certificate ${identity.serial} of node ${identity.nodeId} was replaced by a renewal`;
  }

  /** Nodes whose previous certificate is being retired (one write each, however many calls race). */
  private readonly retiring = new Set<string>();

  /** The node uses its renewed certificate: the one it replaced is refused from now on. */
  private retirePreviousCertificate(state: Unlocked, nodeId: string, serial: string): void {
    if (this.retiring.has(nodeId)) return;
    this.retiring.add(nodeId);
    state.nodes.update(nodeId, (n) => (n.previousCertSerial === serial ? { ...n, previousCertSerial: undefined } : n)).then(
      () => this.log.info({ nodeId, serial }, 'node uses its renewed certificate: the one it replaced is refused from now on'),
      (err: Error) => this.log.warn({ nodeId, err: err.message }, 'cannot retire the replaced node certificate'),
    ).finally(() => this.retiring.delete(nodeId));
  }

  /**
   * First step of a shutdown: stop the orchestrator and node liveness and end the node streams, so
   * that nothing is decided while the servers drain (a node whose heartbeats the closing server
   * refuses must not be marked down and have its tasks, and so its secrets, taken away).
   */
  quiesce(): void {
    this.state?.leader.stop();
    this.state?.presence.stop();
    this.state?.dispatcher.stop();
  }

  async close(): Promise<void> {
    this.quiesce();
    // Resign first, so another manager leads at once rather than after the lease's TTL.
    await this.state?.leadership.close();
    this.state?.view.close();
    await this.store.close();
    // Last: nothing reads the keys any more. (The CA and TLS keys are KeyObjects, freed by OpenSSL.)
    this.state?.dek.fill(0);
    this.state?.unlockKey?.fill(0);
  }
}
