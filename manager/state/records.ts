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
  state: NodeState;
  availability: NodeAvailability;
  createdAtMs: number;
}

export const keys = {
  cluster: '/cluster',
  ca: '/ca',
  managerIdentity: '/manager-identity',
  secret: (id: string) => `/secrets/${id}`,
  secretsPrefix: '/secrets/',
  secretName: (name: string) => `/secret-names/${name}`,
  node: (id: string) => `/nodes/${id}`,
  nodesPrefix: '/nodes/',
  secretBlob: (id: string, version: number) => `secret/${id}/${version}`,
};

export function encode(record: unknown): Buffer {
  return Buffer.from(JSON.stringify(record));
}

export function decode<T>(value: Buffer): T {
  return JSON.parse(value.toString('utf8')) as T;
}
