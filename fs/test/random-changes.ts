// Test helper: a seeded random sequence of NodeSecrets changes, for the tests of the incremental view
// (agent/secrets/node-secrets.test.ts against a model, fs/test/view-scenarios.ts against a real mount
// of each FUSE engine).
// Tasks are added, removed, renamed (also to a service's name, or to another task's name) and moved
// between services, so that aliases appear and disappear; references are added, dropped, re-pointed
// and rotated; versions are dropped while still referenced and added back; and now and then the whole
// state is replaced (replaceAll). Payloads are fresh buffers each time (NodeSecrets zeroes duplicates).
import type { NodeSecrets, NodeTask, SecretFileRef, SecretPayload } from '../../agent/secrets/node-secrets.js';
import { seededRandom } from '../../common/testing/seeded-random.js';
import { T1, payload, ref, task } from './fixtures.js';

const SERVICES = ['web', 'api', 'db', 'cache', 'queue'];
const SECRETS = ['s0', 's1', 's2', 's3', 's4', 's5'];
const TARGETS = ['a', 'b', 'c', 'd'];
const UIDS = [0, 1000, 65534];
const MODES = [0o400, 0o440, 0o444, 0o404];


interface Version {
  id: string;
  version: number;
  text: string;
  createdAtMs: number;
}

type Change = [upserts: NodeTask[], removeIds: string[], add: SecretPayload[], remove: Array<{ id: string; version: number }>];

/** Generates one random change at a time and applies it to a NodeSecrets; `what` names the last one. */
export class RandomChanges {
  private readonly random: () => number;
  /** What the manager sent (the node may have dropped references to versions it did not have). */
  private readonly tasks = new Map<string, NodeTask>();
  /** The versions sent and not removed, by key. */
  private readonly versions = new Map<string, Version>();
  private nextTask = 1;
  private nextVersion = new Map<string, number>();
  what = '';

  constructor(seed: number) {
    this.random = seededRandom(seed);
  }

  /** Applies one random change to `secrets`. */
  step(secrets: NodeSecrets): void {
    const r = this.random();
    if (r < 0.06) return this.replaceAll(secrets);
    const change = r < 0.3 ? this.addTask() : r < 0.6 ? this.updateTask() : r < 0.75 ? this.removeTasks() : r < 0.85 ? this.rotate() : r < 0.93 ? this.dropVersion() : this.readdVersion();
    secrets.apply(...change);
  }

  // ---- the kinds of change ----

  private addTask(): Change {
    this.what = 'add a task';
    const id = `t${this.nextTask++}`;
    const service = this.pick(SERVICES);
    const add: SecretPayload[] = [];
    const files = this.someRefs(add);
    const t = task(id, this.taskName(service), service, files);
    this.tasks.set(id, t);
    return [[t], [], add, []];
  }

  private updateTask(): Change {
    const old = this.anyTask();
    if (!old) return this.addTask();
    const add: SecretPayload[] = [];
    const r = this.random();
    let next: NodeTask;
    if (r < 0.2) {
      this.what = 'move a task to another service';
      const service = this.pick(SERVICES);
      next = { ...old, serviceName: service, name: this.random() < 0.5 ? old.name : this.taskName(service) };
    } else if (r < 0.35) {
      this.what = 'rename a task';
      next = { ...old, name: this.taskName(old.serviceName) };
    } else if (r < 0.55) {
      this.what = 'add a reference';
      const free = TARGETS.filter((t) => !old.files.some((f) => f.target === t));
      next = free.length ? { ...old, files: [...old.files, this.newRef(this.pick(free), add)] } : old;
    } else if (r < 0.7) {
      this.what = 'drop a reference';
      const drop = this.pickIndex(old.files.length);
      next = { ...old, files: old.files.filter((_, i) => i !== drop) };
    } else if (r < 0.85) {
      this.what = 're-point a reference at another secret';
      next = { ...old, files: old.files.map((f, i) => (i === 0 ? this.newRef(f.target, add) : f)) };
    } else {
      this.what = 'change owners and modes';
      next = { ...old, files: old.files.map((f) => ({ ...f, uid: this.pick(UIDS), gid: this.pick(UIDS), mode: this.pick(MODES) })) };
    }
    if (this.random() < 0.1) {
      this.what += ' (unchanged upsert)';
      next = old;
    }
    this.tasks.set(next.id, next);
    return [[next], [], add, []];
  }

  private removeTasks(): Change {
    this.what = 'remove tasks';
    const ids = [...this.tasks.keys()].filter(() => this.random() < 0.25).slice(0, 3);
    const one = this.anyTask();
    if (ids.length === 0 && one) ids.push(one.id);
    for (const id of ids) this.tasks.delete(id);
    // Sometimes also the versions no task uses any more (as the manager does).
    const remove = this.random() < 0.5 ? this.unusedVersions() : [];
    for (const v of remove) this.versions.delete(`${v.id}@${v.version}`);
    return [[], ids, [], remove];
  }

  /** A new version of a secret; the tasks using the old one move to it, and the old one goes in the same change or stays. */
  private rotate(): Change {
    this.what = 'rotate a secret';
    const id = this.pick(SECRETS);
    const add: SecretPayload[] = [];
    const v = this.newVersion(id, add);
    const upserts: NodeTask[] = [];
    for (const t of this.tasks.values()) {
      if (!t.files.some((f) => f.secretId === id)) continue;
      const next = { ...t, files: t.files.map((f) => (f.secretId === id ? { ...f, version: v.version } : f)) };
      this.tasks.set(t.id, next);
      upserts.push(next);
    }
    const remove = this.random() < 0.7 ? this.unusedVersions() : [];
    for (const r of remove) this.versions.delete(`${r.id}@${r.version}`);
    return [upserts, [], add, remove];
  }

  /** Drops a version even while tasks still reference it: their files go, their references stay. */
  private dropVersion(): Change {
    this.what = 'drop a version still referenced';
    const v = this.pickSome([...this.versions.values()]);
    if (!v) return this.addTask();
    this.versions.delete(`${v.id}@${v.version}`);
    return [[], [], [], [{ id: v.id, version: v.version }]];
  }

  /** Sends again a version some task references but the node does not hold (its files come back). */
  private readdVersion(): Change {
    this.what = 'add back a version a task references';
    const refs = [...this.tasks.values()].flatMap((t) => t.files).filter((f) => !this.versions.has(`${f.secretId}@${f.version}`));
    const f = this.pickSome(refs);
    if (!f) return this.rotate();
    const v: Version = { id: f.secretId, version: f.version, text: this.text(f.secretId, f.version), createdAtMs: T1 + Math.floor(this.random() * 1e6) };
    this.versions.set(`${v.id}@${v.version}`, v);
    return [[], [], [payload(v.id, v.version, v.text, v.createdAtMs)], []];
  }

  private replaceAll(secrets: NodeSecrets): void {
    this.what = 'replace everything';
    for (const id of [...this.tasks.keys()]) if (this.random() < 0.2) this.tasks.delete(id);
    for (let n = Math.floor(this.random() * 3); n > 0; n--) this.addTask();
    const used = new Set([...this.tasks.values()].flatMap((t) => t.files.map((f) => `${f.secretId}@${f.version}`)));
    for (const key of [...this.versions.keys()]) if (!used.has(key) && this.random() < 0.5) this.versions.delete(key);
    const sent = [...this.versions.values()].map((v) => payload(v.id, v.version, v.text, v.createdAtMs));
    secrets.replaceAll([...this.tasks.values()], sent);
  }

  // ---- pieces ----

  /** service.N mostly; sometimes a service's name (an alias clash) or another task's name. */
  private taskName(service: string): string {
    const r = this.random();
    if (r < 0.1) return this.pick(SERVICES);
    if (r < 0.15) return this.anyTask()?.name ?? `${service}.0`;
    return `${service}.${1 + Math.floor(this.random() * 3)}`;
  }

  private someRefs(add: SecretPayload[]): SecretFileRef[] {
    const n = Math.floor(this.random() * 4);
    return TARGETS.slice(0, n).map((target) => this.newRef(target, add));
  }

  /** A reference to a secret's current version (a new version, sent in `add`, if it has none). */
  private newRef(target: string, add: SecretPayload[]): SecretFileRef {
    const id = this.pick(SECRETS);
    const current = [...this.versions.values()].filter((v) => v.id === id).pop() ?? this.newVersion(id, add);
    return ref(id, current.version, target, { uid: this.pick(UIDS), gid: this.pick(UIDS), mode: this.pick(MODES) });
  }

  private newVersion(id: string, add: SecretPayload[]): Version {
    const version = (this.nextVersion.get(id) ?? 0) + 1;
    this.nextVersion.set(id, version);
    const v: Version = { id, version, text: this.text(id, version), createdAtMs: T1 + Math.floor(this.random() * 1e6) };
    this.versions.set(`${id}@${version}`, v);
    add.push(payload(id, version, v.text, v.createdAtMs));
    return v;
  }

  private unusedVersions(): Array<{ id: string; version: number }> {
    const used = new Set([...this.tasks.values()].flatMap((t) => t.files.map((f) => `${f.secretId}@${f.version}`)));
    return [...this.versions.values()].filter((v) => !used.has(`${v.id}@${v.version}`)).map((v) => ({ id: v.id, version: v.version }));
  }

  /** Test bytes of a version, of varying length. */
  private text(id: string, version: number): string {
    return `${id}@${version}:` + 'x'.repeat(Math.floor(this.random() * 40));
  }

  private anyTask(): NodeTask | undefined {
    return this.pickSome([...this.tasks.values()]);
  }

  /** One of xs (not empty). */
  private pick<T>(xs: readonly T[]): T {
    return xs[this.pickIndex(xs.length)];
  }

  private pickSome<T>(xs: readonly T[]): T | undefined {
    return xs.length ? this.pick(xs) : undefined;
  }

  private pickIndex(n: number): number {
    return Math.floor(this.random() * n);
  }
}
