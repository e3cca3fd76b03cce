// The `hush secret` CLI against a real `hush manager run` (unix socket, SQLite store).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  assertRefused, distinctive, hush, hushOk, oneErrorLine, withManager,
  type HushResult, type RefusedCall,
} from './helpers/manager.js';
import { assertNoPlaintext, assertStateModes, needle, type Needle } from './helpers/disk.js';

interface SecretJson {
  id: string;
  name: string;
  labels: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  versions: Array<{ version: number; createdAt: string; size: number }>;
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const ID = /^[0-9a-z]{25}$/;

const jsonLines = (r: HushResult): SecretJson[] =>
  r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as SecretJson);

test('secret lifecycle: create (file, stdin), duplicate, ls, inspect, update, rm; values never shown nor stored in clear', async () => {
  await withManager(async (m, run) => {
    const env = m.env;
    const outputs: Buffer[] = [];
    const cli = async (args: string[], input?: string | Buffer) => {
      const r = await hush(args, { env, input });
      outputs.push(r.raw);
      return r;
    };
    const ok = async (args: string[], input?: string | Buffer) => {
      const r = await cli(args, input);
      assert.equal(r.code, 0, `hush ${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr, '', `hush ${args.join(' ')} wrote to stderr`);
      return r;
    };

    const alphaValue = distinctive();
    const betaValue = distinctive();
    const betaValue2 = distinctive();
    const binValue = randomBytes(1024);
    const dupValue = distinctive();
    const alphaFile = join(m.root, 'alpha.txt');
    writeFileSync(alphaFile, alphaValue, { mode: 0o600 });

    // create: from a file with labels, from stdin with -, from stdin without a FILE argument.
    const alphaId = (await ok(['secret', 'create', 'alpha', alphaFile, '--label', 'env=prod', '-l', 'team=x'])).stdout.trim();
    const betaId = (await ok(['secret', 'create', 'beta', '-'], betaValue)).stdout.trim();
    const binId = (await ok(['secret', 'create', 'bin.key_1'], binValue)).stdout.trim();
    for (const id of [alphaId, betaId, binId]) assert.match(id, ID);
    assert.equal(new Set([alphaId, betaId, binId]).size, 3);

    // duplicate name: one line, non-zero, nothing on stdout, the original untouched.
    const dup = await cli(['secret', 'create', 'alpha', '-'], dupValue);
    assert.notEqual(dup.code, 0);
    assert.equal(dup.stdout, '');
    assert.match(oneErrorLine(dup), /^Error: secret alpha already exists$/);

    // ls: table
    const table = (await ok(['secret', 'ls'])).stdout.trimEnd().split('\n');
    assert.deepEqual(table[0].split(/\s{2,}/), ['ID', 'NAME', 'VERSIONS', 'CREATED', 'UPDATED']);
    const rows = table.slice(1).map((l) => l.split(/\s{2,}/));
    assert.deepEqual(rows.map((r) => [r[0], r[1], r[2]]), [
      [alphaId, 'alpha', '1'], [betaId, 'beta', '1'], [binId, 'bin.key_1', '1'],
    ]);
    // ls -q: only ids
    assert.deepEqual((await ok(['secret', 'ls', '-q'])).stdout.trim().split('\n').sort(), [alphaId, betaId, binId].sort());
    // ls --format json: one object per line
    const listed = jsonLines(await ok(['secret', 'ls', '--format', 'json']));
    assert.deepEqual(listed.map((s) => s.name), ['alpha', 'beta', 'bin.key_1']);
    const alpha = listed[0];
    assert.equal(alpha.id, alphaId);
    assert.deepEqual(alpha.labels, { env: 'prod', team: 'x' });
    assert.equal(alpha.versions.length, 1);
    assert.equal(alpha.versions[0].version, 1);
    assert.equal(alpha.versions[0].size, Buffer.byteLength(alphaValue));
    assert.match(alpha.createdAt, ISO);
    assert.deepEqual(listed[1].labels, {});
    assert.equal(listed[2].versions[0].size, 1024);

    // inspect: a JSON array of metadata, several refs (name, id, id prefix), no data field.
    const inspected = JSON.parse((await ok(['secret', 'inspect', 'alpha', betaId, binId.slice(0, 12)])).stdout) as SecretJson[];
    assert.deepEqual(inspected.map((s) => s.id), [alphaId, betaId, binId]);
    for (const s of inspected) {
      assert.deepEqual(Object.keys(s).sort(), ['createdAt', 'id', 'labels', 'name', 'updatedAt', 'versions']);
      for (const v of s.versions) assert.deepEqual(Object.keys(v).sort(), ['createdAt', 'size', 'version']);
    }
    assert.deepEqual(inspected[0], alpha);

    // update adds version 2 (stdin); the first version stays listed.
    const upd = await ok(['secret', 'update', 'beta', '-'], betaValue2);
    assert.equal(upd.stdout, `${betaId} version 2\n`);
    const [beta] = JSON.parse((await ok(['secret', 'inspect', 'beta'])).stdout) as SecretJson[];
    assert.deepEqual(beta.versions.map((v) => [v.version, v.size]), [[1, Buffer.byteLength(betaValue)], [2, Buffer.byteLength(betaValue2)]]);
    assert.ok(Date.parse(beta.updatedAt) >= Date.parse(beta.createdAt));
    assert.equal(beta.createdAt, listed[1].createdAt);

    // rm by name; then it is gone everywhere.
    assert.equal((await ok(['secret', 'rm', 'alpha'])).stdout, 'alpha\n');
    assert.deepEqual(jsonLines(await ok(['secret', 'ls', '--format', 'json'])).map((s) => s.name), ['beta', 'bin.key_1']);
    const gone = await cli(['secret', 'inspect', 'alpha']);
    assert.notEqual(gone.code, 0);
    assert.match(oneErrorLine(gone), /^Error: secret alpha not found$/);
    // rm of an unknown secret: one line, non-zero.
    const unknown = await cli(['secret', 'rm', 'no-such-secret']);
    assert.notEqual(unknown.code, 0);
    assert.equal(unknown.stdout, '');
    assert.match(oneErrorLine(unknown), /^Error: secret no-such-secret not found$/);
    // A name can be reused after removal.
    const alphaId2 = (await ok(['secret', 'create', 'alpha', alphaFile])).stdout.trim();
    assert.notEqual(alphaId2, alphaId);
    // update of an unknown secret
    const updUnknown = await cli(['secret', 'update', 'no-such-secret', '-'], distinctive());
    assert.notEqual(updUnknown.code, 0);
    assert.match(oneErrorLine(updUnknown), /not found/);

    // No value ever came back through the CLI or went to the manager's log.
    const values: Needle[] = [
      needle('alpha value', alphaValue), needle('beta value v1', betaValue), needle('beta value v2', betaValue2),
      needle('binary value', binValue), needle('duplicate value', dupValue),
    ];
    const allOutput = Buffer.concat(outputs);
    for (const v of values) assert.equal(allOutput.indexOf(v.bytes), -1, `${v.label} appeared in CLI output`);
    const logs = Buffer.from(run.stderr());
    for (const v of values) assert.equal(logs.indexOf(v.bytes), -1, `${v.label} appeared in the manager log`);
    assert.ok(!run.logs.some((l) => (l.level ?? 0) >= 50), `manager logged errors:\n${run.stderr()}`);

    // Without autolock there is no unlock key to show.
    const noKey = await cli(['manager', 'unlock-key']);
    assert.notEqual(noKey.code, 0);
    assert.match(oneErrorLine(noKey), /autolock is not enabled/);

    // The scan itself sees file contents: the (by design plaintext) kek file is found.
    assert.throws(() => assertNoPlaintext(m.stateDir, [needle('kek', readFileSync(join(m.stateDir, 'kek')))], 'control'),
      /kek found in plaintext in .*\/kek /);

    // No plaintext on disk, while running (WAL not checkpointed) and after a clean stop.
    const files = assertNoPlaintext(m.stateDir, values, 'manager running');
    assert.ok(files.files.some((f) => f.endsWith('manager.db-wal')), `expected a WAL file, got ${files.files.join(', ')}`);
    assert.ok(assertStateModes(m.stateDir).includes('control.sock'));
    await run.stop();
    assertNoPlaintext(m.stateDir, values, 'manager stopped');
    assertStateModes(m.stateDir);
  });
});

test('bad inputs: one "Error:" line each, non-zero exit, nothing created, manager still serving', async () => {
  await withManager(async (m, run) => {
    const env = m.env;
    // Boundaries that must pass: a 64-character name, 511,999 bytes.
    const name64 = 'n'.repeat(64);
    await hushOk(['secret', 'create', name64, '-'], { env, input: distinctive() });
    const maxFile = join(m.root, 'max.bin');
    writeFileSync(maxFile, randomBytes(511_999));
    await hushOk(['secret', 'create', 'max', maxFile], { env });
    const before = (await hushOk(['secret', 'ls', '--format', 'json'], { env })).stdout;
    assert.deepEqual(before.trim().split('\n').map((l) => (JSON.parse(l) as SecretJson).name), ['max', name64]);

    const bigFile = join(m.root, 'big.bin');
    writeFileSync(bigFile, randomBytes(512_000));
    const big = randomBytes(512_000);
    const value = () => distinctive();
    const cases: RefusedCall[] = [
      { what: 'name with a space', args: ['secret', 'create', 'a b', '-'], input: value(), error: /invalid name "a b"/ },
      { what: 'name with a leading dot', args: ['secret', 'create', '.hidden', '-'], input: value(), error: /invalid name "\.hidden"/ },
      { what: '65-character name', args: ['secret', 'create', 'n'.repeat(65), '-'], input: value(), error: /invalid name/ },
      { what: 'path-like name', args: ['secret', 'create', '../x', '-'], input: value(), error: /invalid name "\.\.\/x"/ },
      { what: 'empty data on stdin', args: ['secret', 'create', 'empty', '-'], input: '', error: /larger than 0 and less than 512000 bytes/ },
      { what: 'empty data, no FILE argument', args: ['secret', 'create', 'empty2'], error: /larger than 0/ },
      { what: '512000 bytes from a file', args: ['secret', 'create', 'big', bigFile], error: /less than 512000 bytes/ },
      { what: '512000 bytes on stdin', args: ['secret', 'create', 'big2', '-'], input: big, error: /less than 512000 bytes/ },
      { what: 'missing file', args: ['secret', 'create', 'nofile', join(m.root, 'does-not-exist')], error: /cannot read .*ENOENT/ },
      { what: 'directory as file', args: ['secret', 'create', 'dir', m.root], error: /is a directory/ },
      { what: 'label without a key', args: ['secret', 'create', 'lab1', '-', '--label', '=x'], input: value(), error: /invalid label "=x"/ },
      { what: 'label key with a space', args: ['secret', 'create', 'lab2', '-', '--label', 'a b=x'], input: value(), error: /invalid label key "a b"/ },
      { what: 'label value with a control character', args: ['secret', 'create', 'lab3', '-', '--label', 'k=a\u0007b'], input: value(), error: /invalid value for label "k"/ },
      { what: 'unknown ls format', args: ['secret', 'ls', '--format', 'yaml'], error: /unsupported format "yaml"/ },
      { what: 'update with empty data', args: ['secret', 'update', 'max', '-'], input: '', error: /larger than 0/ },
      { what: 'update with 512000 bytes', args: ['secret', 'update', 'max', bigFile], error: /less than 512000 bytes/ },
      { what: 'rm of an unknown secret', args: ['secret', 'rm', 'nope'], error: /secret nope not found/ },
    ];
    await assertRefused(cases, env, 2);

    assert.equal(run.proc.exitCode, null, 'manager exited');
    assert.equal(run.proc.signalCode, null, 'manager was killed');
    const after = (await hushOk(['secret', 'ls', '--format', 'json'], { env })).stdout;
    assert.equal(after, before, 'secret ls changed');
    assert.ok(!run.logs.some((l) => (l.level ?? 0) >= 50), `manager logged errors:\n${run.stderr()}`);
  });
});
