import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { HushError } from '../common/errors.js';
import { quote } from '../common/printable.js';
import { validateRef, type RefKind } from './refs.js';

function refused(ref: unknown, kind: RefKind, message: RegExp): void {
  assert.throws(() => validateRef(ref, kind), (err: unknown) => {
    assert.ok(err instanceof HushError, `HushError for ${JSON.stringify(ref)}`);
    assert.equal(err.code, status.INVALID_ARGUMENT);
    assert.match(err.message, message);
    assert.match(err.message, /^[\x20-\x7e…]*$/, 'printable ASCII only, one line');
    return true;
  }, `${kind} ${JSON.stringify(ref)}`);
}

test('secret and service refs: a name, an id or an id prefix', () => {
  for (const kind of ['secret', 'service'] as const) {
    for (const ok of ['db', 'tls.key', 'a-b_c.d', 'x'.repeat(64), '0123456789abcdefghijklmno', '01234']) assert.equal(validateRef(ok, kind), ok);
  }
});

test('a NUL, a control character, a path or an overlong ref is refused, naming it escaped', () => {
  refused('db\u0000', 'secret', /^invalid secret name or id "db\\u0000": a secret name or id \(up to 64/);
  refused('\u0000', 'service', /^invalid service name or id "\\u0000"/);
  refused('a\u001b[31mb', 'secret', /"a\\u001b\[31mb"/);
  refused('a\u007f', 'secret', /"a\\u007f"/);
  refused('a\u009b1m', 'service', /"a\\u009b1m"/);
  refused('a\u202eb', 'service', /"a\\u202eb"/);
  refused('a\nError: forged', 'secret', /"a\\nError: forged"/);
  refused('../x', 'secret', /invalid secret name or id "\.\.\/x"/);
  refused('a b', 'service', /"a b"/);
  refused('x'.repeat(65), 'secret', /invalid secret name or id "x{65}"/);
});

test('empty or missing: "is required"', () => {
  refused('', 'secret', /^a secret name or id is required$/);
  refused(undefined, 'service', /^a service name or id is required$/);
  refused('', 'node', /^a node id or hostname is required$/);
  refused('', 'secret reference to remove', /^a secret reference to remove needs a secret name, id or target$/);
});

test('node refs: id, id prefix, hostname or IP address', () => {
  for (const ok of ['0123456789abcdefghijklmno', '0123', 'node-a', 'web-1.example.com', '10.0.0.1', '::1', 'fe80::1%eth0']) {
    assert.equal(validateRef(ok, 'node'), ok);
  }
  refused('node-a\u0000', 'node', /^invalid node id or hostname "node-a\\u0000": a node id, id prefix, hostname or IP address$/);
  refused('fe80::1%\u001b', 'node', /invalid node id or hostname/);
  refused('a_b', 'node', /invalid node id or hostname "a_b"/);
  refused('-a', 'node', /invalid node id/);
  refused('a'.repeat(254), 'node', /invalid node id/);
});

test('a secret id given with a name is a full id', () => {
  assert.equal(validateRef('0123456789abcdefghijklmno', 'secret id'), '0123456789abcdefghijklmno');
  refused('0123', 'secret id', /^invalid secret id "0123": 25 characters \[0-9a-z\]$/);
  refused('0123456789abcdefghijklmn\u0000', 'secret id', /\\u0000/);
});

test('quote: printable ASCII as is, quotes and backslashes escaped, everything else \\uXXXX, cut at 80', () => {
  assert.equal(quote('db'), '"db"');
  assert.equal(quote('a"b\\c'), '"a\\"b\\\\c"');
  assert.equal(quote('\u0000\t\r\n\u00e9\u2028'), '"\\u0000\\t\\r\\n\\u00e9\\u2028"');
  assert.equal(quote('y'.repeat(100)), `"${'y'.repeat(80)}…"`);
  assert.equal(quote(undefined), '"undefined"');
});
