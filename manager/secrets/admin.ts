// Secret objects: create, version, look up, remove. Payloads are sealed under the
// DEK and bound to (secret id, version) before they reach the store.
import type { Store, KV } from '../store/store.js';
import { newId } from '../../common/ids.js';
import { alreadyExists, failedPrecondition, invalidArgument, notFound } from '../../common/errors.js';
import { open, seal, secretVersionContext } from '../crypto/seal.js';
import { decode, encode, keys, type SecretRecord } from '../state/records.js';
import { validateLabels, validateName, validateSecretData } from './validate.js';
import { validateRef } from '../refs.js';
import { casRetry } from '../state/cas-retry.js';
import { resolveRef } from '../state/resolve.js';

/** Names of the services that reference a secret, as of at least `atRevision` (the modRev of the
 *  secret's reference guard key as remove() read it, 0 if absent): see ServiceAdmin.referencing. */
export type ReferenceLookup = (secretId: string, atRevision: number) => Promise<string[]>;

export class SecretAdmin {
  constructor(
    private readonly store: Store,
    private readonly dek: Buffer,
    private readonly referencedBy: ReferenceLookup = async () => [],
  ) {}

  /** Seals `data` and zeroes it (also when refused): the caller's plaintext buffer is consumed. */
  async create(name: string, data: Buffer, labels: Record<string, string>): Promise<SecretRecord> {
    try {
      return await this.createSealed(name, data, labels);
    } finally {
      data.fill(0);
    }
  }

  private async createSealed(name: string, data: Buffer, labels: Record<string, string>): Promise<SecretRecord> {
    validateName(name);
    validateSecretData(data);
    validateLabels(labels);
    const now = Date.now();
    const record: SecretRecord = {
      id: newId(), name, labels, createdAtMs: now, updatedAtMs: now,
      versions: [{ version: 1, createdAtMs: now, size: data.length }],
    };
    const result = await this.store.txn([{ key: keys.secretName(name), modRev: 0 }], [
      { type: 'put', key: keys.secret(record.id), value: encode(record) },
      { type: 'put', key: keys.secretName(name), value: Buffer.from(record.id) },
      { type: 'putBlob', id: keys.secretBlob(record.id, 1), data: this.sealPayload(record.id, 1, data) },
    ]);
    if (!result.ok) throw alreadyExists(`secret ${name} already exists`);
    return record;
  }

  /** Adds a new immutable version with the given content; `data` is zeroed (also when refused). */
  async update(ref: string, data: Buffer): Promise<SecretRecord> {
    try {
      return await this.addVersion(ref, data);
    } finally {
      data.fill(0);
    }
  }

  private async addVersion(ref: string, data: Buffer): Promise<SecretRecord> {
    validateSecretData(data);
    return casRetry(`secret ${ref} is being changed concurrently, try again`, async () => {
      const { kv, record } = await this.resolve(ref);
      const now = Date.now();
      const version = record.versions[record.versions.length - 1].version + 1;
      const next: SecretRecord = {
        ...record, updatedAtMs: now,
        versions: [...record.versions, { version, createdAtMs: now, size: data.length }],
      };
      const result = await this.store.txn([{ key: kv.key, modRev: kv.modRev }], [
        { type: 'put', key: kv.key, value: encode(next) },
        { type: 'putBlob', id: keys.secretBlob(record.id, version), data: this.sealPayload(record.id, version, data) },
      ]);
      if (result.ok) return next;
      return undefined; // lost a race: read again
    });
  }

  async get(ref: string): Promise<SecretRecord> {
    return (await this.resolve(ref)).record;
  }

  async list(): Promise<SecretRecord[]> {
    const { kvs } = await this.store.range(keys.secretsPrefix);
    return kvs.map((kv) => decode<SecretRecord>(kv.value)).sort((a, b) => a.name.localeCompare(b.name));
  }

  async remove(ref: string): Promise<SecretRecord> {
    return casRetry(`secret ${ref} is being changed concurrently, try again`, async () => {
      const { kv, record } = await this.resolve(ref);
      // A service txn that adds a reference puts the guard: comparing it makes the check below
      // and the delete one atomic step with respect to services.
      const guardKey = keys.secretRefGuard(record.id);
      const guardRev = (await this.store.get(guardKey))?.modRev ?? 0;
      const services = await this.referencedBy(record.id, guardRev);
      if (services.length) {
        throw failedPrecondition(`secret ${record.name} is in use by the following service${services.length > 1 ? 's' : ''}: ${services.join(', ')}`);
      }
      const result = await this.store.txn([{ key: kv.key, modRev: kv.modRev }, { key: guardKey, modRev: guardRev }], [
        { type: 'delete', key: kv.key },
        { type: 'delete', key: keys.secretName(record.name) },
        { type: 'delete', key: guardKey },
        ...record.versions.map((v) => ({ type: 'deleteBlob' as const, id: keys.secretBlob(record.id, v.version) })),
      ]);
      if (result.ok) return record;
      return undefined; // lost a race: read again
    });
  }

  /** The plaintext of one version, for delivery to a node that is entitled to it. */
  async readPayload(id: string, version: number): Promise<Buffer> {
    const sealed = await this.store.getBlob(keys.secretBlob(id, version));
    if (!sealed) throw notFound(`secret ${id} has no version ${version}`);
    return open(this.dek, secretVersionContext(id, version), sealed);
  }

  private sealPayload(id: string, version: number, data: Buffer): Buffer {
    return seal(this.dek, secretVersionContext(id, version), data);
  }

  /** By exact id, then exact name, then unambiguous id prefix (as docker does). */
  private async resolve(ref: string): Promise<{ kv: KV; record: SecretRecord }> {
    return resolveRef<SecretRecord>(this.store, 'secret', ref);
  }
}
