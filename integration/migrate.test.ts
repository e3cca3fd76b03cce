// `hush manager migrate` end to end: a real embedded cluster with a real agent (FUSE mount) moves to
// a real 3-member etcd; the manager comes back on etcd on the same directory and port, and the agent,
// neither restarted nor re-joined, reconnects with its certificate and serves the same bytes.
// Assertions never print secret values (lengths and digests only).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEtcdCluster, type EtcdCluster } from '../manager/store/testdata/etcd-cluster.js';
import { storeConfigFor } from '../manager/store/state-config.js';
import { assertRefused, distinctive, freePort, hushOk, initManager, startManager, type InitializedManager, type RunningManager } from './helpers/manager.js';
import { cleanUpAgents, startAgent, type RunningAgent } from './helpers/agent-process.js';
import { catFile } from './helpers/proc.js';
import { waitUntil } from '../common/testing/wait.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function assertBytes(actual: Buffer, expected: Buffer, what: string): void {
  assert.ok(actual.equals(expected), `${what}: got ${actual.length} bytes (sha256 ${sha(actual).slice(0, 12)}), want ${expected.length} bytes (sha256 ${sha(expected).slice(0, 12)})`);
}

async function waitFile(path: string, expected: Buffer, timeoutMs = 20_000): Promise<void> {
  await waitUntil(`${path} to hold the expected ${expected.length} bytes`, async () => {
    const r = await catFile(path);
    return r.code === 0 && r.stdout.equals(expected);
  }, timeoutMs);
}

const value = (extra = 0) => Buffer.concat([Buffer.from(distinctive('hush-migrate-it-')), Buffer.from(randomBytes(extra).toString('base64').slice(0, extra))]);

test('an embedded cluster moves to etcd: same ids, the agent reconnects without re-joining and keeps serving, new versions reach it', { timeout: 240_000 }, async (t) => {
  let etcd: EtcdCluster | undefined;
  let m: InitializedManager | undefined;
  let other: InitializedManager | undefined;
  let run: RunningManager | undefined;
  let agent: RunningAgent | undefined;
  const root = mkdtempSync(join(tmpdir(), 'hush-migrate-it-'));
  chmodSync(root, 0o755);
  try {
    [etcd, m] = await Promise.all([startEtcdCluster(), initManager()]);
    const urls = etcd.endpoints.map((e) => `http://${e}`).join(',');
    const env = m.env;
    const port = await freePort();
    const listen = `127.0.0.1:${port}`;
    const runEnv = { ...env, HUSH_HEARTBEAT_PERIOD: '1s' };
    run = await startManager(m.stateDir, { listen, env: runEnv });
    const hush = async (...args: string[]) => (await hushOk(args, { env })).stdout;

    // Secrets: one of ~500 KB, several small, one with three versions; a service using them.
    const large = value(500_000);
    const small = [value(), value(), value()];
    const versions = [value(), value(), value()];
    await hushOk(['secret', 'create', 'large', '-'], { env, input: large });
    for (const [i, v] of small.entries()) await hushOk(['secret', 'create', `small-${i}`, '-'], { env, input: v });
    await hushOk(['secret', 'create', 'versioned', '-'], { env, input: versions[0] });
    for (const v of versions.slice(1)) await hushOk(['secret', 'update', 'versioned', '-'], { env, input: v });
    await hush('service', 'create', '--name', 'web', '--secret', 'large', '--secret', 'small-0', '--secret', 'versioned');
    agent = await startAgent({ managerPort: port, token: m.workerToken, stateDir: join(root, 'agent'), mount: join(root, 'mnt'), hostname: 'n1' });
    const file = (name: string) => join(agent!.mount, 'web', name);
    await waitFile(file('large'), large);
    await waitFile(file('small-0'), small[0]);
    await waitFile(file('versioned'), versions[2]);
    const ids = async () => ({
      secrets: (await hush('secret', 'ls', '-q')).split('\n').filter(Boolean).sort(),
      services: (await hush('service', 'ls', '-q')).split('\n').filter(Boolean).sort(),
      nodes: (await hush('node', 'ls', '-q')).split('\n').filter(Boolean).sort(),
    });
    const idsBefore = await ids();
    assert.equal(idsBefore.secrets.length, 5);
    assert.equal(idsBefore.nodes.length, 1);

    // Refused while the manager runs, and for a bad URL.
    await assertRefused([
      { what: 'running manager', args: ['manager', 'migrate', '--state-dir', m.stateDir, '--to-etcd', urls],
        error: /^Error: the manager of .* is running \(its control socket answers\): stop it, then migrate$/ },
      { what: 'bad URL', args: ['manager', 'migrate', '--state-dir', m.stateDir, '--to-etcd', 'ftp://127.0.0.1:2379'],
        error: /^Error: invalid --to-etcd endpoint "ftp:\/\/127\.0\.0\.1:2379": expected http:\/\/HOST:PORT/ },
    ], env, 2);

    // Stop, migrate; manager.db is left exactly as it was.
    await run.stop();
    const db = join(m.stateDir, 'manager.db');
    const dbBefore = { sha: sha(readFileSync(db)), mtime: statSync(db).mtimeMs };
    const since = agent.logs.length;
    const out = await hush('manager', 'migrate', '--state-dir', m.stateDir, '--to-etcd', urls);
    assert.match(out, /^Cluster [0-9a-z]{25} moved to etcd \(.*, prefix \/hush\) and verified: \d+ keys, 7 blobs, \d+ bytes\.$/m);
    assert.match(out, /To go back to it, stop the manager and remove .*store\.json;\nchanges made on etcd since the migration are not in manager\.db\./);
    assert.deepEqual({ sha: sha(readFileSync(db)), mtime: statSync(db).mtimeMs }, dbBefore, 'manager.db changed');
    assert.equal(storeConfigFor(m.stateDir).backend, 'etcd');

    // Back on etcd, same directory and port: the agent reconnects by itself and serves the same bytes.
    run = await startManager(m.stateDir, { listen, env: runEnv });
    await agent.waitForLog('assignments complete', 30_000, since);
    assert.equal(agent.proc.exitCode, null, 'the agent was not restarted');
    assert.equal(agent.logs.filter((l) => l.msg === 'joined the cluster').length, 1, 'joined once, before the migration');
    assertBytes((await catFile(file('large'))).stdout, large, 'large after the migration');
    assertBytes((await catFile(file('small-0'))).stdout, small[0], 'small-0 after the migration');
    assertBytes((await catFile(file('versioned'))).stdout, versions[2], 'versioned after the migration');
    assert.deepEqual(await ids(), idsBefore);
    const managers = (await hush('manager', 'ls', '--format', 'json')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { address: string; leader: boolean });
    assert.deepEqual(managers.map((x) => [x.address, x.leader]), [[listen, true]], 'one manager, leading on etcd');
    await waitUntil('the node ready again', async () => (await hush('node', 'ls', '--format', 'json')).includes('"ready"'), 20_000);

    // A change made on etcd reaches the agent.
    const v4 = value();
    await hushOk(['secret', 'update', 'versioned', '-'], { env, input: v4 });
    await waitFile(file('versioned'), v4);
    t.diagnostic(out.split('\n')[0]);

    // A second migrate, and another cluster into the same prefix, are refused.
    other = await initManager();
    await assertRefused([
      { what: 'second migrate', args: ['manager', 'migrate', '--state-dir', m.stateDir, '--to-etcd', urls],
        error: /^Error: .* is already on etcd \(.*, prefix \/hush\): nothing to migrate$/ },
      { what: 'prefix holds a cluster', args: ['manager', 'migrate', '--state-dir', other.stateDir, '--to-etcd', urls],
        error: new RegExp(`^Error: etcd prefix /hush already holds a cluster \\(${m.clusterId}\\): choose another --etcd-prefix$`) },
    ], env, 1);
    assert.equal(existsSync(join(other.stateDir, 'store.json')), false);
  } finally {
    await agent?.stop();
    await cleanUpAgents();
    await run?.stop();
    await etcd?.stop();
    m?.remove();
    other?.remove();
    rmSync(root, { recursive: true, force: true });
  }
});
