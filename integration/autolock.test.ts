// Autolock: a restarted manager serves nothing but Unlock until it is given the unlock key,
// and the key is never written to the state dir.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, X509Certificate } from 'node:crypto';
import { connect } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseToken as parseJoinToken, rootDigest as caDigest } from './helpers/tokens.js';
import {
  distinctive, freePort, hush, hushOk, initManager, oneErrorLine, startManager, waitUntilReady,
  type InitializedManager, type RunningManager,
} from './helpers/manager.js';
import { bootstrapCredentials, caClient, unary } from './helpers/grpc.js';
import { assertNoPlaintext, assertStateModes, needle, type Needle } from './helpers/disk.js';

const UNLOCK_KEY = /HUSHKEY-1-[A-Za-z0-9_-]{43}/;

interface Ctx {
  m: InitializedManager;
  unlockKey: string;
  /** The fixed TLS port (so that "not open while locked" can be checked). */
  port: number;
  run: RunningManager;
  /** Stops the running manager (if any) and starts a new one, which must come up locked. */
  restartLocked(): Promise<RunningManager>;
}

async function withAutolockedManager(fn: (ctx: Ctx) => Promise<void>): Promise<void> {
  const m = await initManager({ autolock: true });
  let current: RunningManager | undefined;
  try {
    assert.ok(m.unlockKey, 'init --autolock printed the unlock key');
    const port = await freePort();
    const listen = `127.0.0.1:${port}`;
    const start = async () => {
      await current?.stop();
      current = undefined;
      current = await startManager(m.stateDir, { listen });
      assert.equal(current.locked, true, 'an autolocked manager starts locked');
      ctx.run = current;
      return current;
    };
    const ctx: Ctx = { m, unlockKey: m.unlockKey, port, run: undefined as unknown as RunningManager, restartLocked: start };
    await start();
    await fn(ctx);
  } finally {
    await current?.stop();
    m.remove();
  }
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

async function assertLocked(ctx: Ctx, what: string): Promise<void> {
  const [ls, statusRun, open] = await Promise.all([
    hush(['secret', 'ls'], { env: ctx.m.env }),
    hushOk(['manager', 'status'], { env: ctx.m.env }),
    portOpen(ctx.port),
  ]);
  assert.notEqual(ls.code, 0, `${what}: secret ls succeeded on a locked manager`);
  assert.equal(ls.stdout, '');
  assert.match(oneErrorLine(ls), /^Error: the manager is locked/, what);
  assert.equal(open, false, `${what}: the TLS port is open while locked`);
  assert.ok(!ctx.run.logs.some((l) => l.msg === 'manager ready'), `${what}: logged "manager ready" while locked`);
  const status = JSON.parse(statusRun.stdout) as { locked: boolean; autolock: boolean; clusterId: string };
  assert.equal(status.locked, true, what);
  assert.equal(status.autolock, true, what);
  assert.equal(status.clusterId, '', `${what}: a locked manager does not know its cluster`);
}

/** The TLS port serves the CA, whose root is the one the join token pins. */
async function assertTlsServes(ctx: Ctx): Promise<void> {
  const ca = caClient(ctx.port, bootstrapCredentials());
  try {
    const { certificatePem } = await unary<{ certificatePem: string }>(ca, 'GetRootCACertificate', {});
    assert.equal(caDigest(new X509Certificate(certificatePem).raw), parseJoinToken(ctx.m.workerToken).caDigest);
  } finally {
    ca.close();
  }
}

/** Unlocks through the CLI with the key on stdin and waits for the TLS port. */
async function unlockWithStdin(ctx: Ctx, key: string): Promise<void> {
  const r = await hushOk(['manager', 'unlock'], { env: ctx.m.env, input: `${key}\n` });
  assert.equal(r.stdout, 'Manager unlocked.\n');
  assert.equal(await waitUntilReady(ctx.run), ctx.port);
}

/** Rejected unlock attempt: one error line, and the manager stays locked. */
async function assertUnlockRefused(ctx: Ctx, args: string[], input: string | undefined, error: RegExp, what: string): Promise<void> {
  const r = await hush(['manager', 'unlock', ...args], { env: ctx.m.env, input });
  assert.notEqual(r.code, 0, `${what}: exit code`);
  assert.equal(r.stdout, '', what);
  assert.match(oneErrorLine(r), error, what);
}

const wellFormedWrongKey = () => `HUSHKEY-1-${randomBytes(32).toString('base64url')}`;

function keyNeedles(label: string, key: string): Needle[] {
  const raw = Buffer.from(key.slice('HUSHKEY-1-'.length), 'base64url');
  assert.equal(raw.length, 32);
  return [
    needle(`${label} (text)`, key),
    needle(`${label} (base64url body)`, key.slice('HUSHKEY-1-'.length)),
    needle(`${label} (raw bytes)`, raw),
    needle(`${label} (base64 of raw bytes)`, raw.toString('base64')),
    needle(`${label} (hex of raw bytes)`, raw.toString('hex')),
  ];
}

/** Scans the state dir while running and after a clean stop; checks modes. */
async function assertNothingInClear(ctx: Ctx, needles: Needle[]): Promise<void> {
  assertNoPlaintext(ctx.m.stateDir, needles, 'manager running');
  assert.ok(assertStateModes(ctx.m.stateDir).includes('control.sock'));
  const logs = Buffer.from(ctx.run.stderr());
  for (const n of needles) assert.equal(logs.indexOf(n.bytes), -1, `${n.label} in the manager log`);
  await ctx.run.stop();
  const { files } = assertNoPlaintext(ctx.m.stateDir, needles, 'manager stopped');
  assert.ok(!files.some((f) => f.endsWith('/kek')), 'an autolocked manager must not keep a kek file');
  assertStateModes(ctx.m.stateDir);
}

test('autolock: a restarted manager stays locked (no TLS port) until given the right key on stdin', async () => {
  await withAutolockedManager(async (ctx) => {
    const { m } = ctx;
    await assertLocked(ctx, 'first start after init');
    await unlockWithStdin(ctx, ctx.unlockKey);
    const value = distinctive();
    await hushOk(['secret', 'create', 'db-password', '-'], { env: m.env, input: value });

    await ctx.restartLocked();
    await assertLocked(ctx, 'after restart');

    // Wrong but well-formed key; malformed keys; no key at all. None unlocks anything.
    // (Concurrently: several wrong attempts at once must not confuse the manager either.)
    await Promise.all([
      assertUnlockRefused(ctx, [], wellFormedWrongKey(), /^Error: invalid unlock key: it does not open/, 'wrong key'),
      assertUnlockRefused(ctx, [], 'HUSHKEY-1-tooshort', /^Error: invalid unlock key format/, 'short key'),
      assertUnlockRefused(ctx, [], ctx.unlockKey.replace('HUSHKEY-1-', 'HUSHKEY-2-'), /^Error: invalid unlock key format/, 'wrong prefix'),
      assertUnlockRefused(ctx, [], `${ctx.unlockKey}x`, /^Error: invalid unlock key format/, 'key with a trailing character'),
      assertUnlockRefused(ctx, [], '', /^Error: no unlock key given/, 'empty stdin'),
    ]);
    await assertLocked(ctx, 'after refused unlocks');
    assert.equal(ctx.run.proc.exitCode, null, 'manager exited after refused unlocks');

    // The right key, on stdin: unlocked, the secret is there, the TLS port serves.
    await unlockWithStdin(ctx, ctx.unlockKey);
    const ls = (await hushOk(['secret', 'ls', '--format', 'json'], { env: m.env })).stdout;
    assert.deepEqual(ls.trim().split('\n').map((l) => (JSON.parse(l) as { name: string }).name), ['db-password']);
    const status = JSON.parse((await hushOk(['manager', 'status'], { env: m.env })).stdout) as { locked: boolean; clusterId: string };
    assert.deepEqual([status.locked, status.clusterId], [false, m.clusterId]);
    await assertTlsServes(ctx);
    // Unlocking an unlocked manager is an error, not a crash.
    const again = await hush(['manager', 'unlock'], { env: m.env, input: ctx.unlockKey });
    assert.notEqual(again.code, 0);
    assert.match(oneErrorLine(again), /not locked/);
    // The unlocked manager can show its key again.
    assert.equal((await hushOk(['manager', 'unlock-key', '-q'], { env: m.env })).stdout, `${ctx.unlockKey}\n`);

    await assertNothingInClear(ctx, [needle('secret value', value), ...keyNeedles('unlock key', ctx.unlockKey)]);
  });
});

test('autolock: unlock with --unlock-key-file', async () => {
  await withAutolockedManager(async (ctx) => {
    const { m } = ctx;
    const keyFile = join(m.root, 'unlock.key');
    writeFileSync(keyFile, `${ctx.unlockKey}\n`, { mode: 0o600 });
    const wrongFile = join(m.root, 'wrong.key');
    writeFileSync(wrongFile, wellFormedWrongKey(), { mode: 0o600 });

    assert.equal((await hushOk(['manager', 'unlock', '--unlock-key-file', keyFile], { env: m.env })).stdout, 'Manager unlocked.\n');
    await waitUntilReady(ctx.run);
    const value = distinctive();
    await hushOk(['secret', 'create', 'api-token', '-', '--label', 'owner=ops'], { env: m.env, input: value });

    await ctx.restartLocked();
    await assertLocked(ctx, 'after restart');
    await Promise.all([
      assertUnlockRefused(ctx, ['--unlock-key-file', wrongFile], undefined, /^Error: invalid unlock key: it does not open/, 'wrong key file'),
      assertUnlockRefused(ctx, ['--unlock-key-file', join(m.root, 'missing.key')], undefined, /^Error: cannot read the unlock key: ENOENT$/, 'missing key file'),
    ]);
    await assertLocked(ctx, 'after refused unlocks');

    assert.equal((await hushOk(['manager', 'unlock', '--unlock-key-file', keyFile], { env: m.env })).stdout, 'Manager unlocked.\n');
    assert.equal(await waitUntilReady(ctx.run), ctx.port);
    const [secret] = JSON.parse((await hushOk(['secret', 'inspect', 'api-token'], { env: m.env })).stdout) as Array<{ labels: Record<string, string>; versions: unknown[] }>;
    assert.deepEqual(secret.labels, { owner: 'ops' });
    assert.equal(secret.versions.length, 1);
    await assertTlsServes(ctx);

    await assertNothingInClear(ctx, [needle('secret value', value), ...keyNeedles('unlock key', ctx.unlockKey)]);
  });
});

test('autolock: unlock-key --rotate prints a new key; after a restart the old key is refused, the new one works', async () => {
  await withAutolockedManager(async (ctx) => {
    const { m } = ctx;
    await unlockWithStdin(ctx, ctx.unlockKey);
    const value = distinctive();
    await hushOk(['secret', 'create', 'tls-key', '-'], { env: m.env, input: value });

    const rotated = await hushOk(['manager', 'unlock-key', '--rotate'], { env: m.env });
    assert.match(rotated.stdout, /^Successfully rotated the unlock key\.$/m);
    const newKey = UNLOCK_KEY.exec(rotated.stdout)?.[0];
    assert.ok(newKey, `no key in ${rotated.stdout}`);
    assert.notEqual(newKey, ctx.unlockKey);
    assert.equal((await hushOk(['manager', 'unlock-key', '-q'], { env: m.env })).stdout, `${newKey}\n`);
    // Rotating quietly prints only the key.
    const q = await hushOk(['manager', 'unlock-key', '--rotate', '-q'], { env: m.env });
    assert.match(q.stdout, /^HUSHKEY-1-[A-Za-z0-9_-]{43}\n$/);
    const newestKey = q.stdout.trim();
    assert.notEqual(newestKey, newKey);

    await ctx.restartLocked();
    await assertLocked(ctx, 'after restart');
    await Promise.all([
      assertUnlockRefused(ctx, [], ctx.unlockKey, /^Error: invalid unlock key: it does not open/, 'original key'),
      assertUnlockRefused(ctx, [], newKey, /^Error: invalid unlock key: it does not open/, 'first rotated key'),
    ]);
    await assertLocked(ctx, 'after old keys');
    await unlockWithStdin(ctx, newestKey);
    assert.equal((await hushOk(['secret', 'ls', '-q'], { env: m.env })).stdout.trim().split('\n').length, 1);
    assert.equal((await hushOk(['secret', 'inspect', 'tls-key'], { env: m.env })).code, 0);
    await assertTlsServes(ctx);

    await assertNothingInClear(ctx, [
      needle('secret value', value),
      ...keyNeedles('original unlock key', ctx.unlockKey),
      ...keyNeedles('rotated unlock key', newKey),
      ...keyNeedles('current unlock key', newestKey),
    ]);
  });
});
