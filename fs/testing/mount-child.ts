// Test helper, run as a child process: mounts a NodeSecrets holding one task (web.1 of service web,
// file `f` with the text given) at MOUNTPOINT with mountSecrets, prints "ready", and on the stdin line
// "unmount" unmounts, prints "unmounted" and stops reading stdin. It never calls process.exit: the
// test checks that the process then exits by itself.
import { createInterface } from 'node:readline';
import { NodeSecrets } from '../../agent/secrets/node-secrets.js';
import { mountSecrets } from '../mount.js';

const [mountPoint, text] = process.argv.slice(2);
const secrets = new NodeSecrets();
secrets.replaceAll(
  [{ id: 't1', name: 'web.1', serviceName: 'web', files: [{ secretId: 's1', secretName: 's', version: 1, target: 'f', uid: 0, gid: 0, mode: 0o444 }] }],
  [{ id: 's1', name: 's', version: 1, data: Buffer.from(text ?? 'child'), createdAtMs: Date.now() }],
);
const mounted = await mountSecrets(mountPoint, secrets);
console.log('ready');
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (line.trim() !== 'unmount') return;
  rl.close();
  process.stdin.destroy();
  void mounted.unmount().then(() => console.log('unmounted'));
});
