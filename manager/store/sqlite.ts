// SQLite implementation of Store (see store.ts), on better-sqlite3.
//
// Durability: WAL journal with synchronous=FULL, so a txn() that has resolved survives kill -9 and
// power loss. The file (and its WAL) is created with mode 0600 and opened with an exclusive lock:
// a second process opening the same file fails instead of corrupting the revision sequence.
//
// Group commit: txn() only validates and queues; the queue is committed on the next setImmediate,
// all queued txns in one SQLite transaction (one fsync) but each in its own savepoint with its
// own revision, its compares seeing the effects of the txns queued before it. Each txn remains
// all-or-nothing and independent: one that fails is rolled back alone. Promises resolve and
// watchers are notified only after COMMIT has returned.
//
// Argument rules shared by every backend are in txn-rules.ts, watch delivery in watcher.ts.
//
// Revisions: every committed txn with at least one op (blob-only txns included) gets exactly one
// new revision; txns without ops or with a failed compare do not.

import fs from 'node:fs';
import Database from 'better-sqlite3';
import { asDiskFull } from '../../common/disk-full.js';
import { CompactedError, type Change, type Compare, type KV, type Op, type Store, type TxnResult } from './store.js';
import { checkKey, checkWatchFrom, prefixEnd, validateTxn } from './txn-rules.js';
import { Watcher } from './watcher.js';

const SCHEMA_VERSION = 1;
const DEFAULT_HISTORY_LIMIT = 10_000;
// Upper bounds for one SQLite transaction of the group commit.
const MAX_BATCH_TXNS = 1000;
const MAX_BATCH_BYTES = 64 * 1024 * 1024;

export interface SqliteStoreOptions {
  /** How many revisions of change history watch() can replay (at least; pruning is amortized). Default 10,000. */
  historyLimit?: number;
  /** Open an existing store without writing anything to its file (`hush manager migrate`): txn()
   *  rejects. Refused, as a read-write open is, while another process has the store open; and while
   *  this one has it open, no other process can open it. */
  readOnly?: boolean;
}

/** Opens (creating it with mode 0600 if needed) the store at path. Throws if another process has it open. */
export function openSqliteStore(path: string, opts?: SqliteStoreOptions): SqliteStore {
  return new SqliteStore(path, opts);
}

interface Pending {
  compares: Compare[];
  ops: Op[];
  bytes: number;
  resolve: (r: TxnResult) => void;
  reject: (e: unknown) => void;
}

type Outcome = { result: TxnResult } | { error: unknown };

interface Row {
  key: string;
  value: Buffer;
  create_rev: number;
  mod_rev: number;
}

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly historyLimit: number;
  private readonly pruneEvery: number;
  private rev = 0;
  private compactRev = 0;
  private closed = false;
  private queue: Pending[] = [];
  private flushScheduled = false;
  private readonly watchers = new Set<Watcher>();
  private readonly s: ReturnType<typeof prepareStatements>;
  readonly readOnly: boolean;

  constructor(readonly path: string, opts: SqliteStoreOptions = {}) {
    const historyLimit = opts.historyLimit ?? DEFAULT_HISTORY_LIMIT;
    if (!Number.isSafeInteger(historyLimit) || historyLimit < 1) {
      throw new RangeError(`historyLimit must be a positive integer, got ${historyLimit}`);
    }
    this.historyLimit = historyLimit;
    this.pruneEvery = Math.max(1, Math.min(1000, Math.floor(historyLimit / 10)));
    this.readOnly = !!opts.readOnly;
    if (this.readOnly) {
      // A reader of a WAL database takes a shared lock, which the writer's exclusive lock refuses
      // (and which refuses a writer while held); it never writes the database file itself.
      this.db = new Database(path, { readonly: true, fileMustExist: true, timeout: 1000 });
      try {
        this.db.transaction(() => this.loadMeta())();
        this.s = prepareStatements(this.db);
      } catch (e) {
        this.db.close();
        if ((e as { code?: string }).code === 'SQLITE_BUSY') throw new Error(`store ${path} is locked: another process has it open`);
        throw e;
      }
      return;
    }

    // Create the file 0600 ourselves (SQLite gives its WAL/journal the database file's mode), and
    // narrow the mode of any pre-existing file or leftover WAL.
    let fd: number;
    try {
      fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
    } catch (e) {
      throw asDiskFull(e);
    }
    try {
      fs.fchmodSync(fd, 0o600);
    } finally {
      fs.closeSync(fd);
    }
    for (const suffix of ['-wal', '-shm', '-journal']) {
      try {
        fs.chmodSync(path + suffix, 0o600);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }

    this.db = new Database(path, { timeout: 1000 });
    try {
      // 16 KB pages (effective only for a new file): ~1.5x faster for ~500 KB blobs than 4 KB, ~10%
      // slower for small txns. Exclusive locking before WAL: no shared-memory file, and the lock
      // is held until close().
      this.db.pragma('page_size = 16384');
      this.db.pragma('locking_mode = EXCLUSIVE');
      const mode = this.db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new Error(`cannot enable WAL journal (got ${String(mode)})`);
      this.db.pragma('synchronous = FULL');
      this.initSchema();
      this.s = prepareStatements(this.db);
    } catch (e) {
      this.db.close();
      if ((e as { code?: string }).code === 'SQLITE_BUSY') {
        throw new Error(`store ${path} is locked: another process has it open`);
      }
      throw asDiskFull(e);
    }
  }

  private initSchema(): void {
    const db = this.db;
    db.transaction(() => {
      const hasMeta = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'`).get();
      if (!hasMeta) {
        const other = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' LIMIT 1`).get() as { name: string } | undefined;
        if (other) throw new Error(`${this.path} is not a hush store (has table ${other.name} but no meta)`);
        db.exec(`
          CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT, WITHOUT ROWID;
          CREATE TABLE kv (
            key TEXT PRIMARY KEY, value BLOB NOT NULL, create_rev INTEGER NOT NULL, mod_rev INTEGER NOT NULL
          ) STRICT, WITHOUT ROWID;
          CREATE TABLE blobs (id TEXT PRIMARY KEY, data BLOB NOT NULL) STRICT;
          CREATE TABLE changes (
            rev INTEGER NOT NULL, idx INTEGER NOT NULL, key TEXT NOT NULL, value BLOB,
            PRIMARY KEY (rev, idx)
          ) STRICT, WITHOUT ROWID;
        `);
        const ins = db.prepare(`INSERT INTO meta (name, value) VALUES (?, ?)`);
        ins.run('schema_version', SCHEMA_VERSION);
        ins.run('revision', 0);
        ins.run('compact_revision', 0);
      }
      this.loadMeta();
    }).immediate();
  }

  private loadMeta(): void {
    const db = this.db;
    const meta = new Map(
      (db.prepare(`SELECT name, value FROM meta`).all() as { name: string; value: number }[]).map((r) => [r.name, r.value]),
    );
    const version = meta.get('schema_version');
    if (version !== SCHEMA_VERSION) {
      throw new Error(`${this.path}: unsupported store schema version ${version} (this build supports ${SCHEMA_VERSION})`);
    }
    this.rev = meta.get('revision') ?? 0;
    this.compactRev = meta.get('compact_revision') ?? 0;
  }

  async get(key: string): Promise<KV | undefined> {
    this.assertOpen();
    checkKey(key, 'key');
    const r = this.s.get.get(key) as Row | undefined;
    return r && { key, value: r.value, createRev: r.create_rev, modRev: r.mod_rev };
  }

  async range(prefix: string): Promise<{ kvs: KV[]; revision: number }> {
    this.assertOpen();
    if (prefix !== '') checkKey(prefix, 'prefix');
    const end = prefixEnd(prefix);
    const rows = (end === undefined ? this.s.rangeFrom.all(prefix) : this.s.range.all(prefix, end)) as Row[];
    return {
      kvs: rows.map((r) => ({ key: r.key, value: r.value, createRev: r.create_rev, modRev: r.mod_rev })),
      revision: this.rev,
    };
  }

  async getBlob(id: string): Promise<Buffer | undefined> {
    this.assertOpen();
    checkKey(id, 'blob id');
    const r = this.s.getBlob.get(id) as { data: Buffer } | undefined;
    return r?.data;
  }

  async revision(): Promise<number> {
    this.assertOpen();
    return this.rev;
  }

  /** Put values are copied; blob data is not, and must not be modified until the promise settles. */
  async txn(compares: Compare[], ops: Op[]): Promise<TxnResult> {
    this.assertOpen();
    if (this.readOnly) throw new Error(`store ${this.path} is open read-only`);
    const checked = validateTxn(compares, ops);
    return new Promise<TxnResult>((resolve, reject) => {
      this.queue.push({ ...checked, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => {
          this.flushScheduled = false;
          this.flush();
        });
      }
    });
  }

  watch(fromRevision: number, onChanges: (changes: Change[]) => void, onError?: (e: Error) => void,
    onProgress?: (revision: number) => void): () => void {
    this.assertOpen();
    checkWatchFrom(fromRevision);
    const w = new Watcher((x) => this.watchers.delete(x), fromRevision, onChanges, onError, onProgress);
    if (fromRevision < this.compactRev) {
      const e = new CompactedError(fromRevision, this.compactRev);
      if (!onError) throw e;
      w.fail(e);
      return () => w.cancel();
    }
    // Replay synchronously: no commit can interleave, so live changes (rev > this.rev) follow with
    // no gap or overlap. Delivery itself is asynchronous (microtask).
    if (fromRevision < this.rev) {
      const rows = this.s.history.all(fromRevision) as { rev: number; key: string; value: Buffer | null }[];
      w.push(rows.map((r) => ({ revision: r.rev, key: r.key, value: r.value })));
    }
    this.watchers.add(w);
    return () => w.cancel();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    for (const w of this.watchers) w.done = true;
    this.watchers.clear();
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('store is closed');
  }

  private flush(): void {
    while (this.queue.length > 0 && !this.closed) {
      let n = 0;
      let bytes = 0;
      while (n < this.queue.length && n < MAX_BATCH_TXNS && (n === 0 || bytes + this.queue[n].bytes <= MAX_BATCH_BYTES)) {
        bytes += this.queue[n].bytes;
        n++;
      }
      this.commitBatch(this.queue.splice(0, n));
    }
  }

  private commitBatch(batch: Pending[]): void {
    const s = this.s;
    const outcomes: Outcome[] = [];
    const changes: Change[] = [];
    let rev = this.rev;
    let compactRev = this.compactRev;
    try {
      s.begin.run();
      for (const p of batch) {
        if (!this.comparesHold(p.compares)) {
          outcomes.push({ result: { ok: false, revision: rev } });
          continue;
        }
        if (p.ops.length === 0) {
          outcomes.push({ result: { ok: true, revision: rev } });
          continue;
        }
        const mark = changes.length;
        s.savepoint.run();
        try {
          this.applyOps(p.ops, rev + 1, changes);
          s.release.run();
          rev++;
          outcomes.push({ result: { ok: true, revision: rev } });
        } catch (e) {
          changes.length = mark;
          if (!this.db.inTransaction) throw e; // SQLite aborted the whole transaction: fail the batch
          s.rollbackTo.run();
          s.release.run();
          outcomes.push({ error: asDiskFull(e) });
        }
      }
      if (rev !== this.rev) {
        s.setMeta.run(rev, 'revision');
        if (rev - compactRev >= this.historyLimit + this.pruneEvery) {
          compactRev = rev - this.historyLimit;
          s.prune.run(compactRev);
          s.setMeta.run(compactRev, 'compact_revision');
        }
      }
      s.commit.run();
    } catch (e) {
      if (this.db.inTransaction) {
        try {
          s.rollback.run();
        } catch {
          // the original error is the one to report
        }
      }
      // SQLITE_FULL (the WAL could not grow): nothing was written; the next batch may succeed.
      const error = asDiskFull(e);
      for (const p of batch) p.reject(error);
      return;
    }
    // Durable from here on.
    const advanced = rev !== this.rev;
    this.rev = rev;
    this.compactRev = compactRev;
    if (advanced) for (const w of this.watchers) w.push(changes, rev);
    for (let i = 0; i < batch.length; i++) {
      const o = outcomes[i];
      if ('result' in o) batch[i].resolve(o.result);
      else batch[i].reject(o.error);
    }
  }

  private comparesHold(compares: Compare[]): boolean {
    for (const c of compares) {
      const r = this.s.modRev.get(c.key) as { mod_rev: number } | undefined;
      if ((r?.mod_rev ?? 0) !== c.modRev) return false;
    }
    return true;
  }

  private applyOps(ops: Op[], rev: number, changes: Change[]): void {
    const s = this.s;
    for (const op of ops) {
      if (op.type === 'putBlob' && s.blobExists.get(op.id)) throw new Error(`blob ${op.id} already exists`);
    }
    let idx = 0;
    for (const op of ops) {
      switch (op.type) {
        case 'put':
          s.put.run(op.key, op.value, rev, rev);
          s.addChange.run(rev, idx++, op.key, op.value);
          changes.push({ revision: rev, key: op.key, value: op.value });
          break;
        case 'delete':
          if (s.del.run(op.key).changes > 0) {
            s.addChange.run(rev, idx++, op.key, null);
            changes.push({ revision: rev, key: op.key, value: null });
          }
          break;
        case 'putBlob':
          s.putBlob.run(op.id, op.data);
          break;
        case 'deleteBlob':
          s.delBlob.run(op.id);
          break;
      }
    }
  }
}

function prepareStatements(db: Database.Database) {
  return {
    begin: db.prepare('BEGIN IMMEDIATE'),
    commit: db.prepare('COMMIT'),
    rollback: db.prepare('ROLLBACK'),
    savepoint: db.prepare('SAVEPOINT txn'),
    release: db.prepare('RELEASE txn'),
    rollbackTo: db.prepare('ROLLBACK TO txn'),
    get: db.prepare('SELECT value, create_rev, mod_rev FROM kv WHERE key = ?'),
    modRev: db.prepare('SELECT mod_rev FROM kv WHERE key = ?'),
    range: db.prepare('SELECT key, value, create_rev, mod_rev FROM kv WHERE key >= ? AND key < ? ORDER BY key'),
    rangeFrom: db.prepare('SELECT key, value, create_rev, mod_rev FROM kv WHERE key >= ? ORDER BY key'),
    put: db.prepare(
      `INSERT INTO kv (key, value, create_rev, mod_rev) VALUES (?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, mod_rev = excluded.mod_rev`,
    ),
    del: db.prepare('DELETE FROM kv WHERE key = ?'),
    addChange: db.prepare('INSERT INTO changes (rev, idx, key, value) VALUES (?, ?, ?, ?)'),
    history: db.prepare('SELECT rev, key, value FROM changes WHERE rev > ? ORDER BY rev, idx'),
    prune: db.prepare('DELETE FROM changes WHERE rev <= ?'),
    setMeta: db.prepare('UPDATE meta SET value = ? WHERE name = ?'),
    getBlob: db.prepare('SELECT data FROM blobs WHERE id = ?'),
    blobExists: db.prepare('SELECT 1 FROM blobs WHERE id = ?'),
    putBlob: db.prepare('INSERT INTO blobs (id, data) VALUES (?, ?)'),
    delBlob: db.prepare('DELETE FROM blobs WHERE id = ?'),
  };
}
