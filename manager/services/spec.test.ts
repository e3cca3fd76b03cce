import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { HushError } from '../../common/errors.js';
import type { SecretRecord, SecretReferenceRecord } from '../state/records.js';
import {
  DEFAULT_MODE, MAX_OWNER_ID, formatMode, referenceTo, sameConstraint, validateConstraints, validateMode, validateOwnerId,
  validateReferenceRequest, validateReferences, validateReplicas, validateServiceMode, validateServiceName, validateTarget,
  validateVersion,
} from './spec.js';
import { parseConstraint } from '../orchestrator/constraints.js';

const invalid = (pattern: RegExp) => (e: unknown) => e instanceof HushError && e.code === status.INVALID_ARGUMENT && pattern.test(e.message);

const secret: SecretRecord = {
  id: 'a'.repeat(25), name: 'db_password', labels: {}, createdAtMs: 1, updatedAtMs: 2,
  versions: [{ version: 1, createdAtMs: 1, size: 3 }, { version: 2, createdAtMs: 2, size: 4 }],
};

test('targets are one path component with secret-name characters', () => {
  for (const ok of ['db_password', 'a', 'tls.key', 'x'.repeat(64), 'A-1_b.c']) assert.doesNotThrow(() => validateTarget(ok), ok);
  for (const bad of ['', '.', '..', '../x', 'a/b', '/etc/passwd', 'a\\b', '.hidden', 'a ', 'a\n', 'x'.repeat(65), 'é', 'a\u0000b']) {
    assert.throws(() => validateTarget(bad), invalid(/^invalid target /), JSON.stringify(bad));
  }
});

test('uid and gid: 0 to 2^32-2', () => {
  for (const ok of [0, 1, 33, 65534, MAX_OWNER_ID]) assert.doesNotThrow(() => validateOwnerId(ok, 'uid'), String(ok));
  for (const bad of [-1, MAX_OWNER_ID + 1, 2 ** 32, 1.5, NaN, Infinity]) {
    assert.throws(() => validateOwnerId(bad, 'gid'), invalid(/^invalid gid .*0 to 4294967294/), String(bad));
  }
});

test('modes: permission bits only, setuid/setgid/sticky refused', () => {
  for (const ok of [0, 0o400, 0o440, 0o444, 0o600, 0o777]) assert.doesNotThrow(() => validateMode(ok), ok.toString(8));
  for (const bad of [0o1000, 0o2400, 0o4755, 0o7777]) {
    assert.throws(() => validateMode(bad), invalid(/no setuid, setgid or sticky bit/), bad.toString(8));
  }
  assert.throws(() => validateMode(0o4755), invalid(/^invalid mode 04755:/));
  for (const bad of [-1, 0o10000, 2 ** 32, 0.5, NaN]) assert.throws(() => validateMode(bad), invalid(/^invalid mode/), String(bad));
  assert.equal(formatMode(0o400), '0400');
  assert.equal(formatMode(0), '0000');
  assert.equal(formatMode(0o7), '0007');
  assert.equal(DEFAULT_MODE, 0o400);
});

test('versions start at 1; replicas 0 to 10,000; modes replicated|global', () => {
  for (const bad of [0, -1, 1.5, 2 ** 32]) assert.throws(() => validateVersion(bad), invalid(/versions start at 1/), String(bad));
  assert.doesNotThrow(() => validateVersion(1));
  for (const ok of [0, 1, 10_000]) assert.doesNotThrow(() => validateReplicas(ok));
  assert.throws(() => validateReplicas(10_001), invalid(/^too many replicas \(10001\): at most 10000/));
  assert.throws(() => validateReplicas(100_000_000), invalid(/^too many replicas \(100000000\)/));
  assert.throws(() => validateReplicas(2 ** 32 - 1), invalid(/^too many replicas/));
  for (const bad of [-1, 1.5, NaN]) assert.throws(() => validateReplicas(bad), invalid(/^invalid replica count/), String(bad));
  assert.equal(validateServiceMode('global'), 'global');
  assert.equal(validateServiceMode('replicated'), 'replicated');
  for (const bad of ['', 'Global', 'job', 'replicated ']) assert.throws(() => validateServiceMode(bad), invalid(/invalid service mode/));
});

test('service names are DNS name components, as Swarm\'s: no dot, at most 63 characters', () => {
  for (const good of ['web-1', 'w', 'a_b', 'A9', 'x'.repeat(63), 'a--_b']) assert.doesNotThrow(() => validateServiceName(good), good);
  for (const bad of ['', '../x', 'a b', '-a', 'a-', '_a', 'x'.repeat(64), 'web.1', 'web.', '.web', 'a.b.c', '1.2']) {
    assert.throws(() => validateServiceName(bad), invalid(/^invalid service name .*no '\.'/), bad);
  }
  // One line, whatever the input (it is shown as the CLI's `Error: ...` line).
  assert.throws(() => validateServiceName('web\n.1'), (e: Error) => !e.message.includes('\n'));
  // A long run of name characters before a bad one is refused at once (no backtracking blow-up).
  const started = performance.now();
  assert.throws(() => validateServiceName('a'.repeat(60) + '!'), invalid(/invalid service name/));
  assert.ok(performance.now() - started < 100);
});

test('constraints are parsed (bad syntax refused) and compared whatever their spacing', () => {
  assert.equal(validateConstraints(['node.role==worker', 'node.labels.zone != eu']).length, 2);
  for (const bad of ['node.role=worker', 'role==worker', 'node.role==boss', 'node.labels.==x', 'node.id==']) {
    assert.throws(() => validateConstraints([bad]), invalid(/invalid constraint/), bad);
  }
  assert.throws(() => validateConstraints(Array.from({ length: 65 }, () => 'node.role==worker')), invalid(/too many constraints/));
  assert.ok(sameConstraint(parseConstraint('node.labels.zone==eu'), parseConstraint('  node.labels.zone ==  eu ')));
  assert.ok(!sameConstraint(parseConstraint('node.labels.zone==eu'), parseConstraint('node.labels.zone!=eu')));
});

test('referenceTo: defaults (target = secret name, 0:0, 0400), pinned versions must exist', () => {
  assert.deepEqual(referenceTo(secret, { source: 'db_password' }), {
    secretId: secret.id, secretName: 'db_password', target: 'db_password', uid: 0, gid: 0, mode: 0o400,
  });
  // By id, the target defaults to the name, not the id.
  assert.equal(referenceTo(secret, { source: secret.id }).target, 'db_password');
  assert.deepEqual(referenceTo(secret, { source: 'db_password', version: 2, target: 'pw', uid: 33, gid: 44, mode: 0o440 }), {
    secretId: secret.id, secretName: 'db_password', version: 2, target: 'pw', uid: 33, gid: 44, mode: 0o440,
  });
  // Version 0 on the wire: follow the latest (no version field stored).
  assert.equal(referenceTo(secret, { source: 'db_password', version: 0 }).version, undefined);
  // Wire values are literal: mode 0 is 0000 (fail closed), not the CLI's default.
  assert.equal(referenceTo(secret, { source: 'db_password', mode: 0 }).mode, 0);
  assert.throws(() => referenceTo(secret, { source: 'db_password', version: 9 }), invalid(/^secret db_password has no version 9 \(it has versions 1 to 2\)$/));
  assert.throws(() => referenceTo(secret, { source: 'db_password', target: '..' }), invalid(/invalid target "\.\."/));
  assert.throws(() => referenceTo(secret, { source: 'db_password', mode: 0o4755 }), invalid(/setuid/));
  assert.throws(() => referenceTo(secret, { source: 'db_password', uid: 2 ** 32 - 1 }), invalid(/invalid uid/));
  assert.throws(() => referenceTo(secret, { source: 'db_password', secretId: 'b'.repeat(25) }), invalid(/not its id/));
  assert.throws(() => validateReferenceRequest({ source: '' }), invalid(/needs a source secret/));
});

test('validateReferences: no two references on one target; bounded', () => {
  const ref = (target: string, secretName = 's'): SecretReferenceRecord => ({ secretId: 'i', secretName, target, uid: 0, gid: 0, mode: 0o400 });
  assert.doesNotThrow(() => validateReferences([ref('a'), ref('b', 's'), ref('c', 't')]));
  assert.throws(() => validateReferences([ref('a', 's'), ref('b'), ref('a', 't')]), invalid(/^duplicate target a: /));
  assert.throws(() => validateReferences(Array.from({ length: 257 }, (_, i) => ref(`t${i}`))), invalid(/too many secret references/));
  assert.throws(() => validateReferences([ref('a/b')]), invalid(/invalid target/));
});
