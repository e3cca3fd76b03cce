// The records the manager keeps in its store, and where each one lives in the key space.
// Values are JSON; secret payloads are sealed blobs kept outside the key space.

export interface ClusterRecord {
  id: string;
  createdAtMs: number;
  certExpiryMs: number;
  listenAddr: string;
  /** Join tokens sealed under the DEK (base64), by role. */
  sealedJoinTokens: { worker: string; manager: string };
}

export interface CARecord {
  certPem: string;
  sealedKey: string; // base64, sealed under the DEK
}

/** The manager's own TLS identity (a manager-role certificate from the cluster CA). */
export interface ManagerIdentityRecord {
  id: string;
  certPem: string;
  sealedKey: string;
}

/**
 * A manager of the cluster. Each manager rewrites its own record every few seconds (heartbeatAtMs);
 * other managers judge it reachable by when they last saw the record change, on their own clock.
 */
export interface ManagerRecord {
  id: string;
  /** host:port of its TLS port, as agents and other managers reach it. */
  addr: string;
  hostname: string;
  version: string;
  joinedAtMs: number;
  /** The manager's clock when it last rewrote the record (shown, never compared across managers). */
  heartbeatAtMs: number;
}

/** Which manager leads the scheduler, written (fenced) by the leader when it is elected. */
export interface LeaderRecord {
  managerId: string;
  sinceMs: number;
}

/** A node's open Assignments stream: which manager holds it (written on open, deleted on close). */
export interface SessionRecord {
  nodeId: string;
  managerId: string;
  sinceMs: number;
}

export interface SecretVersionRecord {
  version: number;
  createdAtMs: number;
  size: number;
}

export interface SecretRecord {
  id: string;
  name: string;
  labels: Record<string, string>;
  createdAtMs: number;
  updatedAtMs: number;
  versions: SecretVersionRecord[];
}

export type NodeRoleName = 'worker' | 'manager';
export type NodeState = 'unknown' | 'ready' | 'down';
export type NodeAvailability = 'active' | 'pause' | 'drain';

export interface NodeRecord {
  id: string;
  role: NodeRoleName;
  hostname: string;
  labels: Record<string, string>;
  certSerial: string;
  certNotAfterMs: number;
  /**
   * The certificate the last renewal was authenticated with: still accepted until the node is
   * seen using its new one (a renewal whose answer was lost must not lock the node out), then
   * cleared. Any other older certificate of the node is refused.
   */
  previousCertSerial?: string;
  state: NodeState;
  availability: NodeAvailability;
  createdAtMs: number;
}

/** A service's use of a secret: which version, and how the file appears on the node. */
export interface SecretReferenceRecord {
  secretId: string;
  secretName: string;
  /** Pinned version; absent: follow the latest version. */
  version?: number;
  target: string;
  uid: number;
  gid: number;
  mode: number;
}

export type ServiceMode = 'replicated' | 'global';

export interface ServiceRecord {
  id: string;
  name: string;
  mode: ServiceMode;
  replicas: number; // replicated only
  secrets: SecretReferenceRecord[];
  constraints: string[];
  labels: Record<string, string>;
  createdAtMs: number;
  updatedAtMs: number;
}

export type TaskDesiredState = 'running' | 'shutdown';
/** pending: no node; assigned: sent to its node; ready: the node serves its files; removed: revoked on the node. */
export type TaskState = 'pending' | 'assigned' | 'ready' | 'removed' | 'failed';

export interface TaskRecord {
  id: string;
  serviceId: string;
  serviceName: string;
  /** Replicated: 1..replicas. Global: 0. */
  slot: number;
  /** Global tasks: the node this task exists for. */
  forNodeId?: string;
  /** The node it runs on; '' while pending. */
  nodeId: string;
  desiredState: TaskDesiredState;
  state: TaskState;
  /** Why it is pending or failed, for `service ps`. */
  message: string;
  createdAtMs: number;
  stateSinceMs: number;
}

/** A removed node's certificate, refused until it expires. */
export interface DeniedCertRecord {
  serial: string;
  nodeId: string;
  notAfterMs: number;
}

export const keys = {
  cluster: '/cluster',
  ca: '/ca',
  /** The identity of a cluster made before managers had ids in their state directory (one manager). */
  managerIdentity: '/manager-identity',
  managerIdentityOf: (id: string) => `/manager-identities/${id}`,
  manager: (id: string) => `/managers/${id}`,
  managersPrefix: '/managers/',
  leader: '/scheduler-leader',
  session: (nodeId: string) => `/sessions/${nodeId}`,
  sessionsPrefix: '/sessions/',
  secret: (id: string) => `/secrets/${id}`,
  secretsPrefix: '/secrets/',
  secretName: (name: string) => `/secret-names/${name}`,
  /** Put by every txn that adds a reference to the secret; a secret removal compares it (see ServiceAdmin). */
  secretRefGuard: (id: string) => `/secret-refs/${id}`,
  node: (id: string) => `/nodes/${id}`,
  nodesPrefix: '/nodes/',
  service: (id: string) => `/services/${id}`,
  servicesPrefix: '/services/',
  serviceName: (name: string) => `/service-names/${name}`,
  task: (id: string) => `/tasks/${id}`,
  tasksPrefix: '/tasks/',
  deniedCert: (serial: string) => `/denied-certs/${serial}`,
  deniedCertsPrefix: '/denied-certs/',
  secretBlob: (id: string, version: number) => `secret/${id}/${version}`,
};

export function encode(record: unknown): Buffer {
  return Buffer.from(JSON.stringify(record));
}

export function decode<T>(value: Buffer): T {
  return JSON.parse(value.toString('utf8')) as T;
}
