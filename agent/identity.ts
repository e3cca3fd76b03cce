// The node's identity on disk: its key, certificate and the cluster root, 0600 in
// the state dir. This is the only thing the agent ever writes to disk.
import { existsSync, mkdirSync, readFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { writeFileDurable } from '../common/files.js';
import { identityFromCertificate } from '../common/certs.js';
import type { NodeCredentials } from './channel.js';

// One file, written atomically: key, certificate and root always match.
const IDENTITY_FILE = 'identity.json';

export function loadIdentity(stateDir: string): NodeCredentials | undefined {
  const path = join(stateDir, IDENTITY_FILE);
  if (!existsSync(path)) return undefined;
  const { keyPem, certPem, caPem } = JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>;
  const id = certPem ? identityFromCertificate(certPem) : undefined;
  if (!id || !keyPem || !caPem) throw new Error(`${path} does not hold a hush node identity`);
  return { nodeId: id.nodeId, role: id.role, keyPem, certPem, caPem };
}

export function saveIdentity(stateDir: string, c: NodeCredentials): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  chmodSync(stateDir, 0o700);
  writeFileDurable(join(stateDir, IDENTITY_FILE), JSON.stringify({ keyPem: c.keyPem, certPem: c.certPem, caPem: c.caPem }) + '\n', 0o600);
}

export interface Validity {
  notBefore: number;
  notAfter: number;
}

export function validity(certPem: string): Validity {
  const c = new X509Certificate(certPem);
  return { notBefore: Date.parse(c.validFrom), notAfter: Date.parse(c.validTo) };
}

/** A random point between 50% and 80% of the validity (Swarm's renewal window). */
export function renewalTime(v: Validity, random = Math.random): number {
  const span = v.notAfter - v.notBefore;
  return v.notBefore + span * (0.5 + 0.3 * random());
}
