// A revoked or rotated value leaves no copy in the agent's memory: an attacker who gets root on the
// node after `service rm` (or after a rotation) and reads /proc/PID/mem finds neither version. Every
// copy the value took on its way (TLS and HTTP/2 buffers, gRPC's message buffers, the decoded message,
// the agent's own buffer, the engine's mirror, read replies) must be zeroed or never hold plaintext.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distinctive, freePort, hushOk, initManager, startManager, type RunningManager } from './helpers/manager.js';
import { cleanUpAgents, startAgent, type RunningAgent } from './helpers/agent-process.js';
import { catFile, statFile } from './helpers/proc.js';
import { waitUntil } from '../common/testing/wait.js';
import { findInMemory } from './helpers/memscan.js';

const isMissing = (s: Awaited<ReturnType<typeof statFile>>) => 'error' in s && /No such file or directory/.test(s.error);

// The default engine only. With the fallback engine (HUSH_FS_ENGINE=fuse-native), libfuse's high-level
// read allocates the reply buffer itself and frees it unzeroed after the reply, so the last value read
// on each FUSE thread stays in freed memory until reused; README.md says so.
for (const engine of ['native']) {
  test(`${engine} engine: after a rotation the old value, and after service rm every value, is gone from the agent's memory`, { timeout: 120_000 }, async (t) => {
    const m = await initManager();
    const root = mkdtempSync(join(tmpdir(), 'hush-heap-it-'));
    chmodSync(root, 0o755);
    const port = await freePort();
    let run: RunningManager | undefined;
    let agent: RunningAgent | undefined;
    // Values large enough to span several TLS records and HTTP/2 frames, with a distinctive head.
    const value = (label: string) => distinctive(`hush-heap-${label}-`) + 'x'.repeat(40_000);
    const v1 = value('one');
    const v2 = value('two');
    const needle = (v: string) => Buffer.from(v.slice(0, 64));
    try {
      run = await startManager(m.stateDir, { listen: `127.0.0.1:${port}` });
      await hushOk(['secret', 'create', 'pw', '-'], { env: m.env, input: v1 });
      await hushOk(['service', 'create', '--name', 'web', '--secret', 'pw'], { env: m.env });
      agent = await startAgent({ managerPort: port, token: m.workerToken, stateDir: join(root, 'state'), mount: join(root, 'mnt'), hostname: 'n1', env: { HUSH_FS_ENGINE: engine } });
      const file = join(agent.mount, 'web.1', 'pw');
      await waitUntil('v1 to be served', async () => (await catFile(file)).stdout.toString() === v1);
      // The scanner finds a value the agent holds (else finding none below would prove nothing).
      assert.ok(findInMemory(agent.proc.pid!, needle(v1)).count >= 1, 'the scan finds the value being served');

      await hushOk(['secret', 'update', 'pw', '-'], { env: m.env, input: v2 });
      await waitUntil('v2 to be served', async () => (await catFile(file)).stdout.toString() === v2);
      const afterRotation = findInMemory(agent.proc.pid!, needle(v1));
      assert.equal(afterRotation.count, 0, `v1 is still in the agent's memory after the rotation at: ${afterRotation.where.join(', ')}`);

      await hushOk(['service', 'rm', 'web'], { env: m.env });
      await waitUntil('web.1 to vanish', async () => isMissing(await statFile(file)));
      const left = [v1, v2].map((v) => findInMemory(agent!.proc.pid!, needle(v)));
      assert.deepEqual(left.map((f) => f.count), [0, 0], `copies left after service rm: v1 at ${left[0].where.join(', ') || 'none'}; v2 at ${left[1].where.join(', ') || 'none'}`);
      t.diagnostic(`${engine}: no copy of either value in the agent's readable memory after service rm`);
    } finally {
      await agent?.stop();
      await cleanUpAgents();
      await run?.stop();
      m.remove();
      rmSync(root, { recursive: true, force: true });
    }
  });
}
