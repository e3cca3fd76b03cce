// Test helper, run as a child process: mounts a NodeSecrets holding one task (web.1 of service web,
// file `f` with the text given) at MOUNTPOINT with mountSecrets, prints "ready", and on the stdin line
// "unmount" unmounts, prints "unmounted" and stops reading stdin. It never calls process.exit: the
// test checks that the process then exits by itself.
// With a third argument ANCHORS, it also keeps per-task anchors there (fs/anchors.ts, as the agent
// does) before printing "ready": the anchors test SIGKILLs it to leave a killed agent's binds behind.
import { createInterface } from 'node:readline';
import { NodeSecrets } from '../../agent/secrets/node-secrets.js';
import { mountSecrets } from '../mount.js';
import { TaskAnchors } from '../anchors.js';

const [mountPoint, text, anchorDir] = process.argv.slice(2);
const secrets = new NodeSecrets();
secrets.replaceAll(
  [{ id: 't1', name: 'web.1', serviceName: 'web', files: [{ secretId: 's1', secretName: 's', version: 1, target: 'f', uid: 0, gid: 0, mode: 0o444 }] }],
  [{ id: 's1', name: 's', version: 1, data: Buffer.from(text ?? 'child'), createdAtMs: Date.now() }],
);
const mounted = await mountSecrets(mountPoint, secrets);
const anchors = anchorDir ? new TaskAnchors(anchorDir, mounted.mountPoint, secrets) : undefined;
if (anchors) {
  await anchors.start();
  await anchors.follow();
}
console.log('ready');
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (line.trim() !== 'unmount') return;
  rl.close();
  process.stdin.destroy();
  void (anchors?.stop() ?? Promise.resolve()).then(() => mounted.unmount()).then(() => console.log('unmounted'));
});
