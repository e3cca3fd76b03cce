// A running manager: its store, and — once unlocked — its cluster, CA and services.
import type { Store } from './store/store.js';
import { openStore, storeConfigFor } from './store/open.js';
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
import { keys } from './state/records.js';
import { ClusterView } from './state/view.js';
import { OrchestratorLoop } from './orchestrator/loop.js';
import { Dispatcher } from './dispatcher/dispatcher.js';
import type { LivenessOptions } from './dispatcher/liveness.js';

export interface ManagerOptions {
  heartbeat: LivenessOptions;
}

export const DEFAULT_HEARTBEAT: LivenessOptions = { periodMs: 5000, missed: 3 };
/** How often expired certificates are dropped from the deny list. */
const DENY_LIST_PRUNE_MS = 60 * 60_000;

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
  orchestrator: OrchestratorLoop;
  dispatcher: Dispatcher;
}

export class Manager implements MembershipCheck {
  readonly autolock: boolean;
  private state?: Unlocked;
  private unlocking = false;
  private unlockListeners: Array<(u: Unlocked) => void> = [];
  private pruneTimer?: NodeJS.Timeout;

  private constructor(readonly stateDir: string, readonly store: Store, readonly log: Logger, readonly opts: ManagerOptions) {
    this.autolock = isAutolocked(stateDir);
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
    const cluster = await Cluster.load(this.store, dek);
    if (await cluster.renewIdentityIfDue()) this.log.info('manager certificate renewed');
    const nodes = new NodeRegistry(this.store);
    const view = await ClusterView.open(this.store, (err) => {
      this.log.fatal({ err: err.message }, 'lost the store change feed');
      process.exit(1);
    });
    const orchestrator = new OrchestratorLoop(this.store, view, this.log);
    // The dispatcher reads payloads through `secrets`, created just below (only once a node connects).
    const dispatcher: Dispatcher = new Dispatcher(this.store, view, nodes, (id, v) => secrets.readPayload(id, v), this.log, this.opts.heartbeat, () => orchestrator.settled());
    const services = new ServiceAdmin(this.store, view, (taskIds) => dispatcher.revokeEarly(taskIds));
    const secrets: SecretAdmin = new SecretAdmin(this.store, dek, (secretId, atRevision) => services.referencing(secretId, atRevision));
    this.state = {
      dek, unlockKey, cluster, nodes, view, secrets, orchestrator, dispatcher, services,
      nodeAdmin: new NodeAdmin(this.store, view, nodes),
      ca: new NodeCertificates(cluster, nodes, this.log, (identity) => this.refusal(identity)),
    };
    orchestrator.start();
    dispatcher.start();
    this.pruneDenyList();
    this.pruneTimer = setInterval(() => this.pruneDenyList(), DENY_LIST_PRUNE_MS).unref();
    for (const l of this.unlockListeners) l(this.state);
  }

  // MembershipCheck, for the authorizer.
  clusterId(): string | undefined {
    return this.state?.cluster.id;
  }

  private pruneDenyList(): void {
    this.state?.nodeAdmin.pruneDenied(Date.now()).then(
      (n) => { if (n) this.log.info({ pruned: n }, 'expired certificates dropped from the deny list'); },
      (err: Error) => this.log.warn({ err: err.message }, 'cannot prune the deny list'),
    );
  }

  async refusal(identity: PeerIdentity): Promise<string | undefined> {
    const state = this.state;
    if (!state) return 'the manager is locked';
    if (identity.nodeId === state.cluster.identity.id) return undefined;
    const denied = state.view.denied.get(identity.serial);
    if (denied) return `certificate ${identity.serial} of node ${denied.nodeId} has been revoked (the node was removed)`;
    const node = await state.nodes.find(identity.nodeId);
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
    clearInterval(this.pruneTimer);
    this.state?.orchestrator.stop();
    this.state?.dispatcher.stop();
  }

  async close(): Promise<void> {
    clearInterval(this.pruneTimer);
    this.state?.dispatcher.stop();
    this.state?.orchestrator.stop();
    this.state?.view.close();
    await this.store.close();
    // Last: nothing reads the keys any more. (The CA and TLS keys are KeyObjects, freed by OpenSSL.)
    this.state?.dek.fill(0);
    this.state?.unlockKey?.fill(0);
  }
}
