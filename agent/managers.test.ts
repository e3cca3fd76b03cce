// The agent's list of managers (agent/managers.ts): the --manager list, replaced by the set the
// cluster announces; what it ignores; and that the try after the followed manager dies goes elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../common/testing/seeded-random.js';
import { MAX_MANAGERS, ManagerList } from './managers.js';

const SEED = 0x5eed_0011;

test('the rotation starts at a random manager and goes through all of them in turn', () => {
  const list = new ManagerList(['a:1', 'b:2', 'c:3'], () => 0.5);
  assert.deepEqual([list.take(), list.take(), list.take(), list.take()], ['b:2', 'c:3', 'a:1', 'b:2']);
  assert.equal(new ManagerList(['a:1', 'b:2'], () => 1 - 2 ** -53).take(), 'b:2');
  assert.deepEqual(new ManagerList(['a:1', 'a:1']).addresses, ['a:1'], 'duplicates are tried once');
  assert.throws(() => new ManagerList([]), /no manager address/);
});

test('an announced set replaces the --manager list: joined managers are learned, removed ones dropped', () => {
  const list = new ManagerList(['10.0.0.1:4242'], () => 0);
  assert.equal(list.learned, false);
  const following = list.take();
  assert.deepEqual(list.learn(['10.0.0.3:4242', '10.0.0.1:4242', '10.0.0.2:4242'], following), { changed: true, ignored: [] });
  assert.deepEqual(list.addresses, ['10.0.0.1:4242', '10.0.0.2:4242', '10.0.0.3:4242'], 'sorted');
  assert.equal(list.learned, true);
  assert.deepEqual(list.learn(['10.0.0.2:4242', '10.0.0.3:4242'], following), { changed: true, ignored: [] });
  assert.deepEqual(list.addresses, ['10.0.0.2:4242', '10.0.0.3:4242'], 'the removed manager is dropped, even the one followed');
  // The same set again, in any order or with duplicates: nothing changes (and nothing is logged).
  assert.deepEqual(list.learn(['10.0.0.3:4242', '10.0.0.2:4242', '10.0.0.3:4242'], '10.0.0.2:4242'), { changed: false, ignored: [] });
});

test('entries that are not HOST:PORT are ignored and reported; nothing valid leaves the list as it was', () => {
  const list = new ManagerList(['m1:4242'], () => 0);
  const bad = ['', 'no-port', 'host:99999', 'a b:1', '[zz]:1', 'h:1:2', 'x'.repeat(300)];
  assert.deepEqual(list.learn([...bad, '[fd00::1]:4242', 'm2.example:4242'], 'm1:4242'), { changed: true, ignored: bad });
  assert.deepEqual(list.addresses, ['[fd00::1]:4242', 'm2.example:4242']);
  assert.deepEqual(list.learn(bad, 'm2.example:4242'), { changed: false, ignored: bad });
  assert.deepEqual(list.learn([], 'm2.example:4242'), { changed: false, ignored: [] });
  assert.deepEqual(list.addresses, ['[fd00::1]:4242', 'm2.example:4242'], 'an announcement with nothing usable is no news');
  assert.deepEqual(list.learn([42 as unknown as string, 'm3:1'], undefined).ignored, [42], 'not even a string');
});

test(`at most ${MAX_MANAGERS} managers are kept from one announcement`, () => {
  const list = new ManagerList(['m:1']);
  const many = Array.from({ length: MAX_MANAGERS + 3 }, (_, i) => `m${String(i).padStart(3, '0')}:4242`);
  const { changed, ignored } = list.learn(many, 'm:1');
  assert.equal(changed, true);
  assert.equal(list.addresses.length, MAX_MANAGERS);
  assert.deepEqual(ignored, many.slice(MAX_MANAGERS));
});

test('after the followed manager dies, the next try goes to another one, also right after a set is learned', () => {
  const random = seededRandom(SEED);
  for (let round = 0; round < 200; round++) {
    const n = 2 + Math.floor(random() * 5);
    const initial = Array.from({ length: n }, (_, i) => `10.0.${round}.${i}:4242`);
    const list = new ManagerList(initial, random);
    // Connected to one of them, a stream announces a set that has it (somewhere) and others.
    const following = list.take();
    const others = Array.from({ length: 1 + Math.floor(random() * 5) }, (_, i) => `10.1.${round}.${i}:4242`);
    const announced = [...others, following].sort(() => random() - 0.5);
    assert.equal(list.learn(announced, following).changed, true, `seed ${SEED} round ${round}`);
    // It dies: the tries that follow go through every other manager before it comes up again.
    const tries = Array.from({ length: list.addresses.length }, () => list.take());
    assert.notEqual(tries[0], following, `seed ${SEED} round ${round}: the dead manager is not tried first`);
    assert.equal(tries[tries.length - 1], following, `seed ${SEED} round ${round}: it is tried last`);
    assert.deepEqual([...tries].sort(), [...list.addresses], `seed ${SEED} round ${round}: each once`);
  }
  // Without a set learned: the one after it in the --manager list.
  const list = new ManagerList(['a:1', 'b:2'], () => 0);
  const dead = list.take();
  assert.notEqual(list.take(), dead);
});

test('a set without the followed manager starts the rotation at a random one of the set', () => {
  const starts = new Set<string>();
  const random = seededRandom(SEED + 1);
  for (let i = 0; i < 100; i++) {
    const list = new ManagerList(['lb.example:4242'], random);
    list.learn(['m1:4242', 'm2:4242', 'm3:4242'], list.take());
    starts.add(list.take());
  }
  assert.deepEqual([...starts].sort(), ['m1:4242', 'm2:4242', 'm3:4242'], `seed ${SEED + 1}: agents spread over the managers`);
});
