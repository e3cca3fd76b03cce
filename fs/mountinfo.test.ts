import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isFuse, mountPointsUnder, parseMountInfo, peerGroup, readMountInfo } from './mountinfo.js';

const TEXT = [
  '22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
  '30 22 0:25 / /run/hush rw,nosuid shared:7 master:2 - tmpfs tmpfs rw,mode=755',
  '41 30 0:40 /web.1 /run/hush/web.1/secrets ro,nosuid,nodev master:7 - fuse hush ro,user_id=0,group_id=0,default_permissions,allow_other',
  '42 30 0:41 / /run/hush/with\\040space ro - fuse.sshfs a\\134b rw',
  '43 41 0:40 / /run/hush/web.1/secrets ro - fuse hush ro',
  '',
].join('\n');

test('parses every field of a mountinfo line; \\ooo escapes in paths and sources are undone', () => {
  const mounts = parseMountInfo(TEXT);
  assert.equal(mounts.length, 5);
  assert.deepEqual(mounts[2], {
    id: 41, parentId: 30, mountPoint: '/run/hush/web.1/secrets', mountOptions: ['ro', 'nosuid', 'nodev'], optional: ['master:7'],
    fstype: 'fuse', source: 'hush', superOptions: ['ro', 'user_id=0', 'group_id=0', 'default_permissions', 'allow_other'],
  });
  assert.equal(mounts[3].mountPoint, '/run/hush/with space');
  assert.equal(mounts[3].source, 'a\\b');
  assert.deepEqual(mounts[3].optional, []);
  assert.equal(peerGroup(mounts[1]), 7);
  assert.equal(peerGroup(mounts[2]), undefined, 'a slave is in no peer group of its own');
  assert.deepEqual(mounts.map((m) => isFuse(m.fstype)), [false, false, true, true, true]);
});

test('mountPointsUnder: at or below a directory, deepest first, once per stacked mount', () => {
  const mounts = parseMountInfo(TEXT);
  assert.deepEqual(mountPointsUnder(mounts, '/run/hush'), ['/run/hush/web.1/secrets', '/run/hush/web.1/secrets', '/run/hush/with space', '/run/hush']);
  assert.deepEqual(mountPointsUnder(mounts, '/run/hus'), [], 'a prefix of a name is not a parent');
});

test('this process\'s own mountinfo has its root mount', async () => {
  assert.ok((await readMountInfo()).some((m) => m.mountPoint === '/'));
});
