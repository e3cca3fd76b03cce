// The CLI says why the manager's control socket gave no answer (issue 8, item 6): not root's socket
// (EACCES), no manager (ENOENT / ECONNREFUSED), a manager that accepts and never answers, and a real
// manager out of file descriptors. Real CLI processes, real managers, real sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  envFor, freePort, hush, HUSH_BIN, initManager, oneErrorLine, REPO_ROOT, startManager, withManager, type HushResult,
} from './helpers/manager.js';
import { startFlood } from './helpers/flood.js';

const OVERLOADED = /it is overloaded or out of file descriptors \(see its log\)$/;

/** `hush ARGS` as uid/gid 65534 (nobody), no supplementary groups. */
function hushAsNobody(args: string[], env: NodeJS.ProcessEnv): Promise<HushResult> {
  return new Promise((resolve, reject) => {
    const p = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, HUSH_BIN, ...args], {
      env, cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => { stdout += b; });
    p.stderr.on('data', (b: Buffer) => { stderr += b; });
    const timer = setTimeout(() => p.kill('SIGKILL'), 30_000);
    p.once('error', reject);
    p.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, raw: Buffer.from(stdout + stderr) });
    });
  });
}

function refused(r: HushResult, what: string): string {
  assert.notEqual(r.code, 0, `${what}: exit code`);
  assert.equal(r.stdout, '', `${what}: stdout`);
  return oneErrorLine(r);
}

test('not root: the CLI says the control socket is root\'s, not that the manager is down', { timeout: 60_000 }, async () => {
  await withManager(async (m) => {
    const sock = join(m.stateDir, 'control.sock');
    const line = refused(await hushAsNobody(['secret', 'ls'], m.env), 'secret ls as nobody');
    assert.equal(line, `Error: permission denied on the manager's control socket ${sock} (it is root's: run as root)`);
    // As root, the same command works.
    assert.equal((await hush(['secret', 'ls'], { env: m.env })).code, 0);
  });
});

test('no manager: no socket, or a stale socket nobody listens on, gives "is hush manager run running?"', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hush-unreach-'));
  try {
    const absent = refused(await hush(['secret', 'ls'], { env: envFor(join(dir, 'none')) }), 'no socket');
    assert.match(absent, /^Error: cannot reach the hush manager at .*: is `hush manager run` running\? \(set --host, HUSH_HOST or HUSH_STATE_DIR\)$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const m = await initManager();
  try {
    const run = await startManager(m.stateDir);
    await run.kill9(); // leaves control.sock behind: ECONNREFUSED
    const stale = refused(await hush(['secret', 'ls'], { env: m.env }), 'stale socket');
    assert.match(stale, /^Error: cannot reach the hush manager at .*control\.sock: is `hush manager run` running\?/);
  } finally {
    m.remove();
  }
});

test('a socket that accepts and never answers: the CLI says so after HUSH_TIMEOUT', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hush-unreach-'));
  const sock = join(dir, 'silent.sock');
  const held = new Set<Socket>();
  const server = createServer((s) => { held.add(s); s.on('error', () => {}); });
  await new Promise<void>((r) => server.listen(sock, r));
  try {
    const env = { ...envFor(dir), HUSH_HOST: sock, HUSH_TIMEOUT: '1s' };
    const line = refused(await hush(['secret', 'ls'], { env }), 'silent socket');
    assert.match(line, /^Error: the hush manager at .*silent\.sock accepted the connection but did not answer within 1 s: /);
    assert.match(line, OVERLOADED);
    const bad = refused(await hush(['secret', 'ls'], { env: { ...env, HUSH_TIMEOUT: 'soon' } }), 'bad HUSH_TIMEOUT');
    assert.match(bad, /^Error: invalid HUSH_TIMEOUT "soon": a duration such as 30s or 500ms/);
  } finally {
    for (const s of held) s.destroy();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a real manager out of file descriptors (caps raised, flooded): the CLI says it is out of descriptors', { timeout: 120_000 }, async () => {
  const m = await initManager();
  const port = await freePort();
  // Caps above the 400 descriptors on purpose: this is the manager the caps protect against.
  const run = await startManager(m.stateDir, {
    listen: `127.0.0.1:${port}`,
    wrapper: ['prlimit', '--nofile=400:400', '--'],
    env: { ...m.env, HUSH_MAX_PENDING_CONNECTIONS: '100000', HUSH_MAX_PENDING_PER_ADDRESS: '100000', HUSH_TLS_HANDSHAKE_TIMEOUT: '120s' },
  });
  const flood = startFlood(port, 20, 40);
  try {
    const line = refused(await hush(['secret', 'ls'], { env: m.env, timeoutMs: 60_000 }).then(async (r) => {
      // The flood may need a moment to fill the descriptors: retry until the CLI fails.
      for (let i = 0; i < 100 && r.code === 0; i++) r = await hush(['secret', 'ls'], { env: m.env });
      return r;
    }), 'secret ls while out of descriptors');
    assert.match(line, /^Error: the hush manager at .*control\.sock (closed the connection without answering|accepts no more connections|accepted the connection but did not answer|did not answer)/);
    assert.match(line, OVERLOADED);
  } finally {
    await flood.stop();
    await run.stop();
    m.remove();
  }
});
