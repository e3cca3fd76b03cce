// The hand-off state: a successor given it serves the same view as its predecessor, and a bad buffer
// is refused in one line with nothing applied.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { NodeSecrets, type NodeTask, type SecretPayload } from './secrets/node-secrets.js';
import { decodeHandoff, encodeHandoff } from './handoff-state.js';

function task(id: string, name: string, service: string, files: Array<[string, number, string]>): NodeTask {
  return { id, name, serviceName: service, files: files.map(([secretId, version, target]) => ({ secretId, secretName: secretId, version, target, uid: 1000, gid: 1000, mode: 0o400 })) };
}

function payload(id: string, version: number, bytes: number): SecretPayload {
  return { id, name: id, version, data: randomBytes(bytes), createdAtMs: 1_700_000_000_000 + version };
}

/** What a reader of the mount could see: every path with its bytes, mode and owner. */
function served(s: NodeSecrets): Array<[string, string, number, number, number]> {
  const v = s.view();
  return v.files.map((f) => [f.path, v.versions.get(f.version)?.toString('hex') ?? 'missing', f.mode, f.uid, f.gid] as [string, string, number, number, number])
    .sort((a, b) => a[0].localeCompare(b[0]));
}

test('a successor given the hand-off state serves the same files, bytes and modes as its predecessor', () => {
  const before = new NodeSecrets();
  before.replaceAll(
    [task('t1', 'web.1', 'web', [['s1', 2, 'db-password'], ['s2', 1, 'tls.key']]), task('t2', 'worker.1', 'worker', [['s1', 2, 'pw']])],
    [payload('s1', 2, 64), payload('s2', 1, 300_000)],
  );
  // A rotation before the hand-off: only the current version travels.
  before.apply([task('t2', 'worker.1', 'worker', [['s3', 1, 'pw']])], [], [payload('s3', 1, 10)]);
  const buf = encodeHandoff(before.handoffState());
  const after = new NodeSecrets();
  const state = decodeHandoff(buf);
  after.replaceAll(state.tasks, state.secrets);
  assert.deepEqual(served(after), served(before));
  assert.ok(served(after).length >= 3, 'the view has files');
  assert.deepEqual(after.taskList().map((t) => t.id).sort(), ['t1', 't2']);
  // The decoded values are buffers of their own: zeroing the wire buffer leaves them whole.
  const expected = served(after);
  buf.fill(0);
  assert.deepEqual(served(after), expected);
});

test('no value is in the header: the JSON part of the buffer holds none of the payload bytes', () => {
  const marker = Buffer.from(`hush-handoff-marker-${randomBytes(8).toString('hex')}`);
  const s = new NodeSecrets();
  s.replaceAll([task('t1', 'a.1', 'a', [['s1', 1, 'f']])], [{ id: 's1', name: 's1', version: 1, data: Buffer.from(marker), createdAtMs: 1 }]);
  const buf = encodeHandoff(s.handoffState());
  const headLength = buf.readUInt32BE(0);
  assert.equal(buf.subarray(4, 4 + headLength).indexOf(marker), -1);
  assert.equal(buf.indexOf(marker), 4 + headLength, 'the value follows the header, raw');
});

test('a bad hand-off buffer is refused in one line naming what is wrong', () => {
  const good = encodeHandoff({ tasks: [task('t1', 'a.1', 'a', [['s1', 1, 'f']])], secrets: [payload('s1', 1, 20)] });
  const cases: Array<[string, Buffer, RegExp]> = [
    ['empty', Buffer.alloc(0), /shorter than its header length/],
    ['truncated values', good.subarray(0, good.length - 1), /bytes where its header describes/],
    ['trailing bytes', Buffer.concat([good, Buffer.from([0])]), /bytes where its header describes/],
    ['header past the end', Buffer.from([0, 0, 1, 0, 0x7b]), /header runs past the end/],
    ['not JSON', Buffer.concat([Buffer.from([0, 0, 0, 3]), Buffer.from('{{{')]), /not JSON/],
    ['another format', withHeader({ format: 2, tasks: [], secrets: [] }), /format 2/],
    ['a malformed task', withHeader({ format: 1, tasks: [{ id: 't', name: 'n', serviceName: 's', files: [{ secretId: 's', secretName: 's', target: 'f', version: 1, uid: -1, gid: 0, mode: 0o400 }] }], secrets: [] }), /task 0 is malformed/],
    ['a malformed secret', withHeader({ format: 1, tasks: [], secrets: [{ id: 's', name: 's', version: 1, createdAtMs: 1, length: -5 }] }), /secret 0 is malformed/],
  ];
  for (const [what, buf, expected] of cases) {
    assert.throws(() => decodeHandoff(buf), (err: Error) => {
      assert.match(err.message, /^hand-off state refused: /, what);
      assert.match(err.message, expected, what);
      assert.doesNotMatch(err.message, /\n/, what);
      return true;
    }, what);
  }
});

function withHeader(header: unknown): Buffer {
  const head = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(4);
  len.writeUInt32BE(head.length);
  return Buffer.concat([len, head]);
}
