// Test helper (run by etcd.test.ts, compiled to dist/): opens the etcd store at argv[2] (endpoints,
// comma-separated) with a watch, says "ready", and on the line "close" on stdin closes the store and
// says "closed". Nothing else ends it: the test checks that the process then exits by itself.
import { openEtcdStore } from '../etcd.js';

const store = await openEtcdStore({ endpoints: process.argv[2].split(','), prefix: process.argv[3], deadlineMs: 500 });
store.watch(0, () => undefined, () => undefined);
process.stdout.write('ready\n');
process.stdin.setEncoding('utf8');
process.stdin.on('data', (line: string) => {
  if (!line.includes('close')) return;
  process.stdin.pause();
  process.stdin.unref();
  store.close().then(() => process.stdout.write('closed\n'), (e) => {
    console.error(e);
    process.exit(1);
  });
});
