import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { HushError } from '../../common/errors.js';
import type { NodeRecord } from '../state/records.js';
import { parseConstraint, satisfies } from './constraints.js';

const node: NodeRecord = {
  id: 'abc123', role: 'worker', hostname: 'web-1', labels: { zone: 'eu-1', 'com.example/tier': 'front end' },
  certSerial: '01', certNotAfterMs: 0, state: 'ready', availability: 'active', createdAtMs: 0,
};

const ok = (...exprs: string[]) => satisfies(node, exprs.map(parseConstraint));

function rejects(expr: string, message: RegExp = /^invalid constraint/): void {
  assert.throws(() => parseConstraint(expr), (err: unknown) => {
    assert.ok(err instanceof HushError, `HushError for ${JSON.stringify(expr)}`);
    assert.equal(err.code, status.INVALID_ARGUMENT);
    assert.match(err.message, message);
    return true;
  }, JSON.stringify(expr));
}

test('parses the four fields with == and !=', () => {
  assert.deepEqual(parseConstraint('node.id==abc123'), { field: 'id', label: undefined, op: '==', value: 'abc123' });
  assert.deepEqual(parseConstraint('node.hostname!=web-1'), { field: 'hostname', label: undefined, op: '!=', value: 'web-1' });
  assert.deepEqual(parseConstraint('node.role==manager'), { field: 'role', label: undefined, op: '==', value: 'manager' });
  assert.deepEqual(parseConstraint('node.labels.com.example/tier==front end'), { field: 'label', label: 'com.example/tier', op: '==', value: 'front end' });
});

test('whitespace around the operator and the ends is ignored', () => {
  assert.deepEqual(parseConstraint('  node.labels.zone  !=  eu-1 '), { field: 'label', label: 'zone', op: '!=', value: 'eu-1' });
  assert.deepEqual(parseConstraint('node.role == worker'), parseConstraint('node.role==worker'));
});

test('rejects bad syntax: missing operator, unknown field, =, empty value, bad label key', () => {
  for (const bad of [
    'node.hostname', 'node.hostname web-1', 'node.hostname=web-1', 'node.hostname = web-1', 'node.hostname=~web',
    'node.ip==10.0.0.1', 'engine.labels.zone==eu', 'node.labels==x', 'node.labels.==x', 'node.labels.-a==x', 'hostname==web-1',
    'node.hostname==', 'node.hostname==   ', 'node.labels.zone!=', '', '   ', '==x', 'node.id==' + 'x'.repeat(600),
  ]) rejects(bad);
  rejects(undefined as unknown as string);
});

test('the operator is exactly == or !=: ===, !==, =!, ==!, = =, =~, <> are refused, naming the operator', () => {
  rejects('node.id===x', /^invalid constraint "node\.id===x": unknown operator "===": only == and !=/);
  rejects('node.id!==x', /unknown operator "!=="/);
  rejects('node.id=!x', /unknown operator "=!"/);
  rejects('node.id==!x', /unknown operator "==!"/);
  rejects('node.id= =x', /unknown operator "="/);
  rejects('node.id! =x', /unknown operator "!"/);
  rejects('node.id = = x', /unknown operator "="/);
  rejects('node.id=x', /unknown operator "="/);
  rejects('node.id=~x', /unknown operator "=~"/);
  rejects('node.id<>x', /unknown operator "<>"/);
  rejects('node.id>=x', /unknown operator ">="/);
});

test('a value with = in it, or starting with !, is refused (it would hide a mistyped operator)', () => {
  rejects('node.id== =x', /'=' is not allowed in a value/);
  rejects('node.id!= =x', /'=' is not allowed in a value/);
  rejects('node.labels.a==b=c', /'=' is not allowed in a value/);
  rejects('node.labels.a==b==c', /'=' is not allowed in a value/);
  rejects('node.hostname==a!=b', /'=' is not allowed in a value/);
  rejects('node.id== !x', /cannot start with '!'/);
  assert.deepEqual(parseConstraint('node.labels.a==b!'), { field: 'label', label: 'a', op: '==', value: 'b!' });
});

test('empty key or value, and spaces inside the key, are refused with a reason', () => {
  rejects('==x', /no field before ==/);
  rejects('  != x', /no field before !=/);
  rejects('node.id==', /no value after ==/);
  rejects('node.id!=  ', /no value after !=/);
  rejects('node. id==x');
  rejects('node.labels.a b==x');
  rejects('node.zone==x', /unknown field "node\.zone"/);
});

test('control and invisible characters anywhere are refused, and never echoed raw', () => {
  for (const bad of ['node.id==a\u0000', 'node.id\u0000==a', 'node.labels.a==\u009b31m', 'node.labels.a==x\u2028y', 'node.labels.a==\u202eabc']) {
    rejects(bad, /control characters are not allowed/);
    assert.throws(() => parseConstraint(bad), (e: Error) => /^[\x20-\x7e]*$/.test(e.message), JSON.stringify(bad));
  }
});

test('node.role is worker or manager', () => {
  rejects('node.role==admin', /node\.role is worker or manager/);
  rejects('node.role!=Manager', /node\.role is worker or manager/);
  assert.doesNotThrow(() => parseConstraint('node.role!=worker'));
});

test('rejects control characters', () => {
  rejects('node.hostname==web\t1', /control characters/);
  rejects('node.labels.zone==eu\u007f', /control characters/);
  rejects('node.labels.zone==eu\u001b[31m', /control characters/);
  rejects('node.hostname==web\n1');
  rejects('node.hostname==web-1\nnode.role==manager');
});

test('satisfies: every constraint must hold', () => {
  assert.equal(ok(), true);
  assert.equal(ok('node.id==abc123'), true);
  assert.equal(ok('node.id!=abc123'), false);
  assert.equal(ok('node.hostname==web-1', 'node.role==worker'), true);
  assert.equal(ok('node.hostname==web-1', 'node.role==manager'), false);
  assert.equal(ok('node.role!=manager'), true);
  assert.equal(ok('node.labels.zone==eu-1'), true);
  assert.equal(ok('node.labels.zone==EU-1'), false, 'values are case-sensitive');
  assert.equal(ok('node.labels.com.example/tier==front end'), true);
  assert.equal(ok('node.hostname==web'), false, 'no prefix match');
});

test('a missing label fails == and satisfies !=', () => {
  assert.equal(ok('node.labels.gpu==yes'), false);
  assert.equal(ok('node.labels.gpu!=yes'), true);
  assert.equal(satisfies({ ...node, labels: {} }, [parseConstraint('node.labels.zone!=eu-1')]), true);
});
