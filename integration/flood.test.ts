// A flood of plain TCP connections that never start TLS, against a real manager started with a low
// open files limit (prlimit), beside a real agent serving a real FUSE mount and the real CLI (issue 8,
// item 2: ~20,000 such connections filled the manager's descriptors and cut off the CLI and nodes).
//
// The flood (a child process, loopback only, bounded in count and time) holds more connections than
// the manager has descriptors, from 20 loopback source addresses, and re-opens every connection the
// manager closes. While it holds, the CLI, a secret update reaching the mount and a join must work,
// and a silent connection must be closed within the handshake timeout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distinctive, freePort, hushOk, initManager, startManager, type InitializedManager, type RunningManager } from './helpers/manager.js';
import { cleanUpAgents, startAgent, type RunningAgent } from './helpers/agent-process.js';
import { catFile } from './helpers/proc.js';
import { waitUntil } from '../common/testing/wait.js';
import { TestNode } from './helpers/node.js';
import { silentConnection, startFlood } from './helpers/flood.js';

const NOFILE = 400;
const HANDSHAKE_TIMEOUT_MS = 2000;
/** 20 sources x 40 = 800 connections: twice the manager's whole descriptor limit. */
const FLOOD = 800;

const ROOT = mkdtempSync(join(tmpdir(), 'hush-flood-it-'));
let m: InitializedManager;
let run: RunningManager;
let agent: RunningAgent;

/** A distinctive value (no assertion prints it: lengths only). */
const value = () => Buffer.from(distinctive('hush-flood-it-value-'));

async function waitFile(path: string, expected: Buffer, timeoutMs = 30_000): Promise<void> {
  await waitUntil(`${path} to hold the expected ${expected.length} bytes`, async () => {
    const r = await catFile(path);
    return r.code === 0 && r.stdout.equals(expected);
  }, timeoutMs);
}

const pw = value();
let listen: string;

/** The manager under a low open files limit (prlimit execs it: same pid), on a fixed port. */
function startLimitedManager(): Promise<RunningManager> {
  return startManager(m.stateDir, {
    listen,
    wrapper: ['prlimit', `--nofile=${NOFILE}:${NOFILE}`, '--'],
    env: { ...m.env, HUSH_TLS_HANDSHAKE_TIMEOUT: `${HANDSHAKE_TIMEOUT_MS}ms`, HUSH_HEARTBEAT_PERIOD: '1s' },
  });
}

before(async () => {
  m = await initManager();
  listen = `127.0.0.1:${await freePort()}`;
  run = await startLimitedManager();
  await hushOk(['secret', 'create', 'flood-pw', '-'], { env: m.env, input: pw });
  await hushOk(['service', 'create', '--name', 'fl', '--secret', 'flood-pw'], { env: m.env });
  agent = await startAgent({
    managerPort: run.port!, token: m.workerToken, hostname: 'flood-a',
    stateDir: join(ROOT, 'a-state'), mount: join(ROOT, 'a-mnt'),
  });
  await waitFile(join(agent.mount, 'fl.1', 'flood-pw'), pw);
});

after(async () => {
  await agent?.stop();
  await cleanUpAgents();
  await run?.stop();
  m?.remove();
  rmSync(ROOT, { recursive: true, force: true });
});

test('the connection caps are sized from the open files limit the manager runs with', () => {
  const line = run.logs.find((l) => l.msg === 'connection limits');
  assert.ok(line, 'the manager logs its connection limits');
  assert.equal(line.nofile, NOFILE);
  assert.equal(line.handshakeTimeoutMs, HANDSHAKE_TIMEOUT_MS);
  // Half of (400 - 64) for peers without a certificate: 126 in their handshake, 42 anonymous.
  assert.deepEqual([line.maxPending, line.maxPendingPerAddress, line.maxAnonymous, line.maxAnonymousPerAddress], [126, 7, 42, 2]);
});

test('a connection that never starts TLS is closed by the manager after the handshake timeout', { timeout: 30_000 }, async () => {
  const ms = await silentConnection(run.port!, '127.0.0.100', HANDSHAKE_TIMEOUT_MS + 5000);
  assert.ok(ms >= HANDSHAKE_TIMEOUT_MS - 500, `closed after ${ms} ms: by the handshake timeout, not at once`);
});

test('while a flood of silent TCP connections holds more than the manager has descriptors, the CLI, updates, joins and reconnects work', { timeout: 240_000 }, async () => {
  const flood = startFlood(run.port!, 20, 40);
  const joiner: { node?: TestNode } = {};
  try {
    await waitUntil(`the flood to have opened ${FLOOD} connections`, () => flood.counts().opened >= FLOOD, 60_000);
    const ls = await hushOk(['secret', 'ls'], { env: m.env });
    assert.match(ls.stdout, /flood-pw/);
    const pw2 = value();
    await hushOk(['secret', 'update', 'flood-pw', '-'], { env: m.env, input: pw2 });
    await waitFile(join(agent.mount, 'fl.1', 'flood-pw'), pw2, 60_000);

    joiner.node = await TestNode.join(`127.0.0.1:${run.port}`, m.workerToken, 'flood-joiner');
    joiner.node.open();
    await joiner.node.until('the joiner\'s first COMPLETE', () => joiner.node!.messages.some((x) => x.type === 'COMPLETE'), 60_000);

    // A silent connection from an address of its own: closed at accept (total cap) or by the timeout.
    await silentConnection(run.port!, '127.0.0.101', HANDSHAKE_TIMEOUT_MS + 5000);

    const fds = readdirSync(`/proc/${run.proc.pid}/fd`).length;
    assert.ok(fds < NOFILE - 64, `the manager holds ${fds} descriptors of ${NOFILE}: the reserve is kept`);
    assert.ok(flood.counts().opened > FLOOD, 'the flood kept re-opening what the manager closed');
    const nodes = await hushOk(['node', 'ls'], { env: m.env });
    assert.match(nodes.stdout, /flood-joiner/);

    // A manager-side cut (a restart on the same port, the flood going on): the agent reconnects.
    const since = agent.logs.length;
    await run.stop();
    run = await startLimitedManager();
    await agent.waitForLog('assignments complete', 90_000, since);
    const pw3 = value();
    await hushOk(['secret', 'update', 'flood-pw', '-'], { env: m.env, input: pw3 });
    await waitFile(join(agent.mount, 'fl.1', 'flood-pw'), pw3, 60_000);

    // The drops are logged as counts per reason and the addresses dropped most, at most every 10 s.
    const dropped = await run.waitForLog('connections dropped', 30_000);
    const reasons = dropped.dropped as Record<string, number>;
    assert.ok((reasons['pending-per-address'] ?? 0) > 0 && (reasons['pending-evicted'] ?? 0) > 0, `drops: ${JSON.stringify(reasons)}`);
    assert.ok(Array.isArray(dropped.addresses) && dropped.addresses.length > 0, 'the drop report names addresses');
    const reports = run.logs.filter((l) => l.msg === 'connections dropped').length;
    assert.ok(reports <= 20, `${reports} drop reports: rate-limited, not one line per connection`);
  } finally {
    joiner.node?.close();
    await flood.stop();
  }
});
