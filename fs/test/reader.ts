// Test helper, run as a CHILD process (never read a FUSE mount synchronously from the process
// serving it): opens FILE, reads it whole, then obeys one command per stdin line:
//   read  → reads the same descriptor again from offset 0, whole
//   close → closes the descriptor
// Prints one JSON line per step: {"step","len","sha256","text"} or {"step","error":"EACCES"}.
// Test data only: it prints the first bytes as text so that the tests can compare.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { createInterface } from 'node:readline';

const file = process.argv[2];
const fd = openSync(file, 'r');

function readWhole(step: string): void {
  const chunks: Buffer[] = [];
  try {
    for (let pos = 0; ; ) {
      const buf = Buffer.alloc(65536);
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) break;
      chunks.push(buf.subarray(0, n));
      pos += n;
    }
  } catch (err) {
    console.log(JSON.stringify({ step, error: (err as NodeJS.ErrnoException).code ?? String(err) }));
    return;
  }
  const all = Buffer.concat(chunks);
  console.log(JSON.stringify({ step, len: all.length, sha256: createHash('sha256').update(all).digest('hex'), text: all.subarray(0, 64).toString('latin1') }));
}

readWhole('open');
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const cmd = line.trim();
  if (cmd === 'read') readWhole('read');
  else if (cmd === 'close') {
    closeSync(fd);
    console.log(JSON.stringify({ step: 'close' }));
  } else if (cmd === 'exit') {
    rl.close();
  }
});
