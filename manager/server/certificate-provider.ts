// A grpc-js certificate provider fed from memory: the manager's key is unsealed
// in memory and never written to disk in the clear. Updating it re-keys new
// TLS handshakes without restarting the server.
import type { KeyObject } from 'node:crypto';
import type { experimental } from '@grpc/grpc-js';
import { privateKeyPem } from '../crypto/key-pem.js';

type CaListener = Parameters<experimental.CertificateProvider['addCaCertificateListener']>[0];
type IdListener = Parameters<experimental.CertificateProvider['addIdentityCertificateListener']>[0];

export class MemoryCertificateProvider implements experimental.CertificateProvider {
  private caListeners = new Set<CaListener>();
  private idListeners = new Set<IdListener>();
  // The TLS stack takes PEM only: one Buffer (never a string), zeroed when replaced or closed.
  private keyPem: Buffer;

  constructor(private caPem: string, private certPem: string, key: KeyObject) {
    this.keyPem = privateKeyPem(key);
  }

  update(caPem: string, certPem: string, key: KeyObject): void {
    const previous = this.keyPem;
    this.caPem = caPem;
    this.certPem = certPem;
    this.keyPem = privateKeyPem(key);
    for (const l of this.caListeners) l({ caCertificate: Buffer.from(caPem) });
    for (const l of this.idListeners) l({ certificate: Buffer.from(certPem), privateKey: this.keyPem });
    // grpc-js has built its new secure context from the new key: the old PEM is no longer read.
    previous.fill(0);
  }

  /** Zeroes the key's PEM bytes (the listeners are gone with the server). */
  close(): void {
    this.keyPem.fill(0);
  }

  addCaCertificateListener(l: CaListener): void {
    this.caListeners.add(l);
    // Asynchronously: grpc-js adds its server watcher only after this returns; a synchronous first
    // update is lost and the TLS server then drops every connection ("unloaded credentials").
    queueMicrotask(() => this.caListeners.has(l) && l({ caCertificate: Buffer.from(this.caPem) }));
  }
  removeCaCertificateListener(l: CaListener): void {
    this.caListeners.delete(l);
  }
  addIdentityCertificateListener(l: IdListener): void {
    this.idListeners.add(l);
    queueMicrotask(() => this.idListeners.has(l) && l({ certificate: Buffer.from(this.certPem), privateKey: this.keyPem }));
  }
  removeIdentityCertificateListener(l: IdListener): void {
    this.idListeners.delete(l);
  }
}
