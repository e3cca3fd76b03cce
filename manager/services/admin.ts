// Services: create, update, look up, remove, and list their tasks.
//
// Every change is one store txn with compare-and-swap on the service's modRev (retried on
// conflict); once it commits, the caller waits until the view holds it (read-your-writes).
//
// References and secret removal: a txn that adds a reference to a secret also compares that
// secret's modRev (it still exists, unchanged since it was looked up) and puts the secret's
// reference guard key (keys.secretRefGuard). SecretAdmin.remove compares the guard it read and
// asks `referencing(secretId, guardModRev)`, which answers from a view at least that fresh. So a
// secret can never be removed while a committed service references it, even when both race.
import type { KV, Store } from '../store/store.js';
import { newId, ID_PATTERN } from '../../common/ids.js';
import { alreadyExists, invalidArgument, notFound } from '../../common/errors.js';
import { TASKS_PER_TXN } from '../orchestrator/loop.js';
import { casRetry } from '../state/cas-retry.js';
import { resolveRef } from '../state/resolve.js';
import {
  decode, encode, keys, type SecretRecord, type SecretReferenceRecord, type ServiceRecord, type TaskRecord,
} from '../state/records.js';
import type { ClusterView } from '../state/view.js';
import { validateLabels } from '../secrets/validate.js';
import { parseConstraint, type Constraint } from '../orchestrator/constraints.js';
import { quote } from '../../common/printable.js';
import { validateRef } from '../refs.js';
import {
  MAX_SECRET_REFERENCES, referenceTo, sameConstraint, validateReferenceRequest, validateConstraints, validateReferences, validateReplicas, validateServiceMode,
  validateServiceName, type ReferenceRequest,
} from './spec.js';

export interface CreateServiceInput {
  name: string;
  /** '' = replicated. */
  mode: string;
  /** Replicated: 0 or absent = 1. Global: must be 0 or absent. */
  replicas?: number;
  secrets: ReferenceRequest[];
  constraints: string[];
  labels: Record<string, string>;
}

export interface UpdateServiceInput {
  secretAdd?: ReferenceRequest[];
  /** Secret names, secret ids or targets: every reference that matches is removed. */
  secretRm?: string[];
  replicas?: number;
  constraintAdd?: string[];
  constraintRm?: string[];
}

export interface TaskFilter {
  /** Service id (already resolved). */
  serviceId?: string;
  /** Node id (already resolved). */
  nodeId?: string;
}

/** A secret as found in the store, with the modRev a txn compares. */
interface FoundSecret {
  kv: KV;
  record: SecretRecord;
}

/** Revokes tasks on their nodes ahead of the txn that removes them; returns the undo. */
export type EarlyRevoke = (taskIds: string[]) => () => void;

export class ServiceAdmin {
  constructor(private readonly store: Store, private readonly view: ClusterView,
    private readonly revokeEarly: EarlyRevoke = () => () => undefined) {}

  async create(input: CreateServiceInput): Promise<ServiceRecord> {
    validateServiceName(input.name);
    const mode = validateServiceMode(input.mode || 'replicated');
    let replicas = input.replicas ?? 0;
    if (mode === 'global') {
      if (replicas !== 0) throw invalidArgument('replicas cannot be set for a global service (it runs one task on every eligible node)');
    } else {
      validateReplicas(replicas);
      if (replicas === 0) replicas = 1;
    }
    validateConstraints(input.constraints);
    validateLabels(input.labels);
    return casRetry(`service ${input.name} could not be created: its secrets are being changed concurrently, try again`, async () => {
      const { refs, found } = await this.resolveReferences(input.secrets);
      validateReferences(refs);
      const now = Date.now();
      const record: ServiceRecord = {
        id: newId(), name: input.name, mode, replicas: mode === 'global' ? 0 : replicas, secrets: refs,
        constraints: [...input.constraints], labels: { ...input.labels }, createdAtMs: now, updatedAtMs: now,
      };
      const result = await this.store.txn(
        [{ key: keys.serviceName(record.name), modRev: 0 }, { key: keys.service(record.id), modRev: 0 }, ...secretCompares(found)],
        [
          { type: 'put', key: keys.service(record.id), value: encode(record) },
          { type: 'put', key: keys.serviceName(record.name), value: Buffer.from(record.id) },
          ...guardPuts(found, record.id),
        ],
      );
      if (result.ok) {
        await this.view.waitFor(result.revision);
        return record;
      }
      if (await this.store.get(keys.serviceName(record.name))) throw alreadyExists(`service ${record.name} already exists`);
      // A referenced secret changed (new version, removed) meanwhile: look it up again.
      return undefined; // lost a race: read again
    });
  }

  async update(ref: string, input: UpdateServiceInput): Promise<ServiceRecord> {
    const secretAdd = input.secretAdd ?? [];
    const secretRm = input.secretRm ?? [];
    const constraintAdd = input.constraintAdd ?? [];
    const constraintRm = input.constraintRm ?? [];
    for (const s of secretRm) validateRef(s, 'secret reference to remove');
    const addParsed = constraintAdd.map((c) => parseConstraint(c));
    // A constraint to remove that no longer parses (stored before the rules were tightened) can
    // still be removed by its exact text; any other one must parse.
    const rmParsed = constraintRm.map((c) => {
      try {
        return parseConstraint(c);
      } catch (e) {
        return e as Error;
      }
    });
    if (input.replicas !== undefined) validateReplicas(input.replicas);

    return casRetry(`service ${ref} is being changed concurrently, try again`, async () => {
      const { kv, record } = await this.resolve(ref);
      if (input.replicas !== undefined && record.mode === 'global') {
        throw invalidArgument(`service ${record.name} is global: replicas cannot be set (it runs one task on every eligible node)`);
      }
      // Removals first, then additions (as docker): `--secret-rm a --secret-add source=a,mode=0440` replaces.
      let secrets = record.secrets;
      for (const s of secretRm) {
        const kept = secrets.filter((r) => r.secretName !== s && r.target !== s && r.secretId !== s);
        if (kept.length === secrets.length) throw notFound(`service ${record.name} has no secret reference ${quote(s)} (by secret name, id or target)`);
        secrets = kept;
      }
      const { refs: added, found } = await this.resolveReferences(secretAdd);
      secrets = [...secrets, ...added];
      validateReferences(secrets);

      let constraints = record.constraints;
      rmParsed.forEach((rm, j) => {
        const kept = constraints.filter((c) => c !== constraintRm[j] && (rm instanceof Error || !sameConstraint(parseOrNull(c), rm)));
        if (kept.length === constraints.length) {
          throw rm instanceof Error ? rm : notFound(`service ${record.name} has no constraint ${quote(constraintRm[j])}`);
        }
        constraints = kept;
      });
      addParsed.forEach((add, j) => {
        if (!constraints.some((c) => sameConstraint(parseConstraint(c), add))) constraints = [...constraints, constraintAdd[j]];
      });
      validateConstraints(constraints);

      const next: ServiceRecord = {
        ...record, secrets, constraints, replicas: input.replicas ?? record.replicas, updatedAtMs: Date.now(),
      };
      if (!secretAdd.length && !secretRm.length && !constraintAdd.length && !constraintRm.length
        && (input.replicas === undefined || input.replicas === record.replicas)) {
        return record; // nothing to change
      }
      const result = await this.store.txn([{ key: kv.key, modRev: kv.modRev }, ...secretCompares(found)], [
        { type: 'put', key: kv.key, value: encode(next) },
        ...guardPuts(found, record.id),
      ]);
      if (result.ok) {
        await this.view.waitFor(result.revision);
        return next;
      }
      return undefined; // lost a race: read again
    });
  }

  async get(ref: string): Promise<ServiceRecord> {
    return (await this.resolve(ref)).record;
  }

  list(): ServiceRecord[] {
    return [...this.view.services.values()].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  }

  /** Deletes the service, its name and all its tasks in one txn: nodes lose its secrets at once. */
  async remove(ref: string): Promise<ServiceRecord> {
    return casRetry(`service ${ref} is being changed concurrently, try again`, async () => {
      const { kv, record } = await this.resolve(ref);
      await this.view.waitFor(kv.modRev);
      const tasks = this.view.tasksOfService(record.id);
      const undo = this.revokeEarly(tasks.map((t) => t.id));
      let result;
      try {
        // Its tasks go in the same txn while they fit under etcd's 128 ops per txn; beyond that the
        // orchestrator deletes them in batches: a task whose service is gone is sent to no node
        // (assignments.ts), so revocation does not wait for that.
        const taskDeletes = tasks.length <= TASKS_PER_TXN ? tasks.map((t) => ({ type: 'delete' as const, key: keys.task(t.id) })) : [];
        result = await this.store.txn([{ key: kv.key, modRev: kv.modRev }], [
          { type: 'delete', key: kv.key },
          { type: 'delete', key: keys.serviceName(record.name) },
          ...taskDeletes,
        ]);
        if (result.ok) await this.view.waitFor(result.revision);
      } finally {
        undo();
      }
      if (result.ok) return record;
      return undefined; // lost a race: read again
    });
  }

  /** Tasks, by service then slot (global: node), optionally of one service and/or on one node. */
  listTasks(filter: TaskFilter = {}): TaskRecord[] {
    let tasks: Iterable<TaskRecord> = filter.serviceId !== undefined ? this.view.tasksOfService(filter.serviceId) : this.view.tasks.values();
    if (filter.nodeId !== undefined) {
      const onNode = this.view.tasksOnNode(filter.nodeId);
      // Global tasks not yet placed still belong to the node they exist for.
      const forNode = [...this.view.tasks.values()].filter((t) => !t.nodeId && t.forNodeId === filter.nodeId);
      tasks = [...onNode, ...forNode];
    }
    const out = [...tasks].filter((t) => filter.serviceId === undefined || t.serviceId === filter.serviceId);
    return out.sort((a, b) => a.serviceName.localeCompare(b.serviceName) || a.serviceId.localeCompare(b.serviceId)
      || a.slot - b.slot || (a.forNodeId ?? a.nodeId).localeCompare(b.forNodeId ?? b.nodeId) || a.createdAtMs - b.createdAtMs
      || a.id.localeCompare(b.id));
  }

  /**
   * Names of the services that reference a secret, from a view at least as fresh as `atRevision`
   * (the modRev of the secret's reference guard as the caller read it; 0 if it had none).
   */
  async referencing(secretId: string, atRevision: number): Promise<string[]> {
    await this.view.waitFor(atRevision);
    return this.view.servicesUsing(secretId).map((s) => s.name).sort();
  }

  /** By exact id, then exact name, then unambiguous id prefix (as docker does); from the store. */
  async resolve(ref: string): Promise<{ kv: KV; record: ServiceRecord }> {
    return resolveRef<ServiceRecord>(this.store, 'service', ref);
  }

  /** Looks up each referenced secret (by exact name or id) and builds the stored references. */
  private async resolveReferences(requests: ReferenceRequest[]): Promise<{ refs: SecretReferenceRecord[]; found: FoundSecret[] }> {
    if (requests.length > MAX_SECRET_REFERENCES) {
      throw invalidArgument(`too many secret references (${requests.length}, at most ${MAX_SECRET_REFERENCES})`);
    }
    const found = new Map<string, FoundSecret>();
    const refs: SecretReferenceRecord[] = [];
    for (const r of requests) {
      validateReferenceRequest(r);
      const secret = await this.findSecret(r.source);
      found.set(secret.record.id, secret);
      refs.push(referenceTo(secret.record, r));
    }
    return { refs, found: [...found.values()] };
  }

  private async findSecret(source: string): Promise<FoundSecret> {
    validateRef(source, 'secret');
    const byName = await this.store.get(keys.secretName(source));
    const id = byName ? byName.value.toString() : ID_PATTERN.test(source) ? source : undefined;
    const kv = id === undefined ? undefined : await this.store.get(keys.secret(id));
    if (!kv) throw notFound(`secret ${source} not found`);
    return { kv, record: decode<SecretRecord>(kv.value) };
  }
}

/** A stored constraint, parsed; null if it no longer parses (validateConstraints then refuses the change). */
function parseOrNull(c: string): Constraint | null {
  try {
    return parseConstraint(c);
  } catch {
    return null;
  }
}

function secretCompares(found: FoundSecret[]) {
  return found.map((f) => ({ key: f.kv.key, modRev: f.kv.modRev }));
}

function guardPuts(found: FoundSecret[], serviceId: string) {
  return found.map((f) => ({ type: 'put' as const, key: keys.secretRefGuard(f.record.id), value: Buffer.from(serviceId) }));
}
