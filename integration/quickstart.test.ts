// The README's main job: scripts/quickstart.sh brings up a manager and an agent,
// serves a demo secret, stops everything on Ctrl-C, and works when run twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitUntil } from '../common/testing/wait.js';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, freePort } from './helpers/manager.js';

function mounted(path: string): boolean {
  return readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === path);
}

/** Mount points at or below `dir`, deepest first. */
function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1]).filter((p): p is string => !!p && (p === dir || p.startsWith(dir + '/')))
    .sort((a, b) => b.length - a.length);
}

async function runOnce(root: string, port: number): Promise<{ output: string; secret: string }> {
  const mount = join(root, 'mnt');
  // Never the default /run/hush: the anchors of a real agent on this machine must not be touched.
  const anchors = join(root, 'anchors');
  const proc = spawn('bash', [join(REPO_ROOT, 'scripts', 'quickstart.sh'), '--mount', mount, '--anchors', anchors, '--state', join(root, 'state'), '--port', String(port)], {
    env: { ...process.env, HUSH_QUICKSTART_SKIP_SETUP: '1' }, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
  proc.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  try {
    // Checked on each line it prints and when it exits.
    const wake = (onEvent: () => void) => {
      proc.stdout!.on('data', onEvent);
      proc.on('exit', onEvent);
      return () => { proc.stdout!.off('data', onEvent); proc.off('exit', onEvent); };
    };
    await waitUntil('quickstart to print "[hush] ready:"', () => {
      if (proc.exitCode !== null) throw new Error(`it exited with ${proc.exitCode}`);
      return output.includes('[hush] ready:');
    }, 60_000, { wake, errors: 'fail', intervalMs: 100 }).catch((e: Error) => { throw new Error(`quickstart did not get ready (${e.message}):\n${output}`); });
    // Read as a separate process would.
    const secret = execFileSync('cat', [join(mount, 'demo', 'demo_password')], { encoding: 'utf8' });
    assert.match(output, /\[hush\] anchor for containers: /);
    assert.equal(execFileSync('cat', [join(anchors, 'demo.1', 'secrets', 'demo_password')], { encoding: 'utf8' }), secret, 'the anchor serves the same file');
    // Ctrl-C: SIGINT to the whole foreground process group.
    process.kill(-proc.pid!, 'SIGINT');
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 20_000))]);
    assert.equal(code, 0, `quickstart did not stop cleanly on Ctrl-C:\n${output}`);
    assert.match(output, /\[hush\] stopped: agent and manager gone/);
    assert.equal(mounted(mount), false, 'the mount is gone');
    assert.deepEqual(mountsUnder(anchors), [anchors], 'the anchor binds are gone; the anchor directory stays a mount point');
    const left = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(join(root, 'state')) && !l.includes('ps -eo'));
    assert.deepEqual(left, [], 'no hush process of this quickstart is left');
    return { output, secret };
  } finally {
    if (proc.exitCode === null) process.kill(-proc.pid!, 'SIGKILL');
  }
}

test('quickstart serves a demo secret, stops cleanly on Ctrl-C, and runs twice in a row', { timeout: 180_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'hush-quickstart-'));
  try {
    const port = await freePort();
    const first = await runOnce(root, port);
    assert.match(first.output, /initialising a cluster/);
    assert.match(first.output, /creating service demo/);
    assert.ok(first.secret.length >= 12, 'the demo secret was readable through the mount');
    const second = await runOnce(root, port);
    assert.match(second.output, /reusing the cluster/);
    assert.equal(second.secret, first.secret, 'the second run serves the same cluster\'s secret');
    t.diagnostic('two runs: ready, secret read through the mount, Ctrl-C left no mount and no process');
  } finally {
    for (let i = 0; i < 4 && mountsUnder(root).length > 0; i++) {
      for (const p of mountsUnder(root)) spawnSync('umount', ['-l', p], { timeout: 5000, stdio: 'ignore' });
    }
    if (mountsUnder(root).length === 0) rmSync(root, { recursive: true, force: true });
  }
});
