// Descriptor passing (common/fd-passing.ts over common/native/fdpass.c) between real processes on real
// unix sockets: what the next agent and systemd's fd store will do with the /dev/fuse descriptor.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { connectUnix, listenFds, peerCredentials, recvFds, sdNotify, sendFds, socketFd, storeFd } from './fd-passing.js';
import { nativeSys } from './native.js';

const MODULE = new URL('./fd-passing.js', import.meta.url).href;
const dir = mkdtempSync(join(tmpdir(), 'hush-fdpass-'));
const closers: Array<() => void> = [];
after(() => {
  for (const c of closers.reverse()) c();
  rmSync(dir, { recursive: true, force: true });
});

interface ChildResult { code: number | null; stdout: string; stderr: string }

/** Runs an ES module snippet in a new node process (which can import the module under test as M). */
function runChild(script: string, opts: { env?: NodeJS.ProcessEnv; uid?: number; gid?: number; stdio?: Array<'pipe' | 'ignore' | number> } = {}): Promise<ChildResult & { pid: number }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', `import * as M from ${JSON.stringify(MODULE)};\n${script}`], {
    env: opts.env ?? process.env, uid: opts.uid, gid: opts.gid, cwd: '/', stdio: opts.stdio ?? ['ignore', 'pipe', 'pipe'],
  });
  closers.push(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d));
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr, pid: child.pid! })));
}

/** A unix socket server whose accepted connections node never reads (their fds are ours). */
async function pausedServer(path: string, onConnection: (conn: net.Socket) => void): Promise<net.Server> {
  const server = net.createServer({ pauseOnConnect: true }, onConnection);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(path, resolve));
  closers.push(() => server.close());
  return server;
}

const openFds = () => readdirSync('/proc/self/fd').length;

function tempFile(name: string, content: string): number {
  const path = join(dir, name);
  writeFileSync(path, content);
  const fd = openSync(path, 'r+');
  closers.push(() => closeSync(fd));
  return fd;
}

for (const count of [1, 2]) {
  test(`a child process receives ${count} fd(s) with the payload and reads and writes through them`, async () => {
    const sock = join(dir, `pass${count}.sock`);
    const fds = Array.from({ length: count }, (_, i) => tempFile(`file${count}-${i}`, `parent content ${i}\n`));
    await pausedServer(sock, (conn) => sendFds(socketFd(conn), fds, Buffer.from(`take ${count}`)));
    const r = await runChild(`
      import { readSync, writeSync } from 'node:fs';
      const s = await M.connectUnix(${JSON.stringify(sock)});
      const got = M.recvFds(M.socketFd(s), 4, 1024, 10000);
      const read = got.fds.map((fd) => { const b = Buffer.alloc(100); return b.subarray(0, readSync(fd, b, 0, 100, 0)).toString(); });
      got.fds.forEach((fd, i) => writeSync(fd, 'child wrote ' + i + '\\n', 100));
      console.log(JSON.stringify({ payload: got.payload.toString(), read }));
      s.destroy();`);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { payload: string; read: string[] };
    assert.equal(out.payload, `take ${count}`);
    assert.deepEqual(out.read, fds.map((_, i) => `parent content ${i}\n`));
    fds.forEach((_, i) => assert.match(readFileSync(join(dir, `file${count}-${i}`), 'latin1'), new RegExp(`^parent content ${i}\\n\\0*child wrote ${i}\\n$`)));
  });
}

test('peerCredentials names the connecting process: its pid and uid, 65534 for a nobody child', async () => {
  const seen: Array<ReturnType<typeof peerCredentials>> = [];
  const name = `\0hush-fdpass-test-${process.pid}`; // abstract: uid 65534 may connect without a path it can reach
  await pausedServer(name, (conn) => {
    seen.push(peerCredentials(socketFd(conn)));
    conn.destroy();
  });
  const script = `import net from 'node:net'; const s = net.createConnection(${JSON.stringify(name)}); s.on('close', () => process.exit(0)); s.resume();`;
  const root = await runChild(script);
  assert.equal(root.code, 0, root.stderr);
  const nobody = await runChild(script, { uid: 65534, gid: 65534 });
  assert.equal(nobody.code, 0, nobody.stderr);
  assert.deepEqual(seen, [{ pid: root.pid, uid: 0, gid: 0 }, { pid: nobody.pid, uid: 65534, gid: 65534 }]);
});

/** A connected pair in this process: [client fd, server-side fd]. */
async function socketPair(name: string): Promise<[number, number]> {
  let accepted: net.Socket | undefined;
  const gotConnection = new Promise<void>((resolve) => pausedServer(join(dir, name), (c) => { accepted = c; closers.push(() => c.destroy()); resolve(); }));
  const client = await connectUnix(join(dir, name));
  closers.push(() => client.destroy());
  await gotConnection;
  return [socketFd(client), socketFd(accepted!)];
}

test('recvFds: a message without fds, and nothing waiting (EAGAIN at once, ETIMEDOUT after a wait)', async () => {
  const [client, server] = await socketPair('plain.sock');
  assert.throws(() => recvFds(server, 4, 100), { code: 'EAGAIN' });
  assert.throws(() => recvFds(server, 4, 100, 50), { code: 'ETIMEDOUT' });
  sendFds(client, [], Buffer.from('no fds here'));
  const got = recvFds(server, 4, 100, 5000);
  assert.equal(got.payload.toString(), 'no fds here');
  assert.deepEqual(got.fds, []);
});

test('recvFds: more fds than maxFds is an error and leaks none of them', async () => {
  const [client, server] = await socketPair('trunc.sock');
  const files = [0, 1, 2].map((i) => tempFile(`trunc-${i}`, 'x'));
  const before = openFds();
  for (const sent of [files.slice(0, 2), files]) { // 2 fit CMSG_SPACE(1 fd)'s padding; 3 set MSG_CTRUNC
    sendFds(client, sent, Buffer.from('too many'));
    assert.throws(() => recvFds(server, 1, 100, 5000), (e: NodeJS.ErrnoException) => e.code === 'EMSGSIZE' && /more descriptors than allowed/.test(e.message));
    assert.equal(openFds(), before, `no fd of the ${sent.length} leaked`);
  }
  sendFds(client, [files[0]!], Buffer.from('one'));
  const ok = recvFds(server, 1, 100, 5000);
  assert.equal(ok.fds.length, 1);
  closeSync(ok.fds[0]!);
});

test('recvFds on a datagram socket: a datagram longer than maxBytes is an error and its fd is closed', () => {
  const path = join(dir, 'dgram-trunc.sock');
  const dg = nativeSys().unixDatagramSocket(path);
  closers.push(() => closeSync(dg));
  const fd = tempFile('dgram-trunc', 'x');
  const before = openFds();
  nativeSys().sdNotifyWithFds(path, 'FDSTORE=1\nFDNAME=fuse', [fd]);
  assert.throws(() => recvFds(dg, 4, 8, 5000), (e: NodeJS.ErrnoException) => e.code === 'EMSGSIZE' && /longer than maxBytes/.test(e.message));
  assert.equal(openFds(), before);
});

for (const kind of ['path', 'abstract'] as const) {
  test(`storeFd sends FDSTORE=1 and FDNAME=fuse with a working fd to $NOTIFY_SOCKET (${kind})`, async () => {
    const address = kind === 'path' ? join(dir, 'notify.sock') : `@hush-fdpass-notify-${process.pid}`;
    const dg = nativeSys().unixDatagramSocket(address);
    closers.push(() => closeSync(dg));
    const file = join(dir, `stored-${kind}`);
    const r = await runChild(`
      import { openSync, writeSync } from 'node:fs';
      const fd = openSync(${JSON.stringify(file)}, 'w+');
      writeSync(fd, 'written by the child before storing\\n');
      console.log(M.storeFd('fuse', fd));`, { env: { ...process.env, NOTIFY_SOCKET: address } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'true');
    const got = recvFds(dg, 4, 4096, 5000); // the child has exited: only our copy keeps the file open
    assert.equal(got.payload.toString(), 'FDSTORE=1\nFDNAME=fuse');
    assert.equal(got.fds.length, 1);
    const buf = Buffer.alloc(100);
    assert.equal(buf.subarray(0, readSync(got.fds[0]!, buf, 0, 100, 0)).toString(), 'written by the child before storing\n');
    closeSync(got.fds[0]!);
  });
}

test('sdNotify and storeFd without NOTIFY_SOCKET send nothing and return false; a bad address is refused', () => {
  assert.equal(sdNotify('READY=1', [], {}), false);
  assert.equal(storeFd('fuse', 0, { NOTIFY_SOCKET: '' }), false);
  assert.throws(() => sdNotify('READY=1', [], { NOTIFY_SOCKET: 'relative/sock' }), /absolute path or an @abstract name/);
  assert.throws(() => storeFd('a:b', 0, {}), /without ':'/);
});

test('listenFds in a child given fds 3 and 4 the way systemd passes them', async () => {
  const a = tempFile('listen-a', 'first stored fd');
  const b = tempFile('listen-b', 'second stored fd');
  const script = (names: string | undefined) => `
    import { readSync } from 'node:fs';
    process.env.LISTEN_PID = String(process.pid); // systemd sets it after fork, when the pid is known
    const fds = M.listenFds(process.env, { unset: true });
    const read = fds.map(({ fd }) => { const b = Buffer.alloc(64); return b.subarray(0, readSync(fd, b, 0, 64, 0)).toString(); });
    console.log(JSON.stringify({ fds, read, left: ['LISTEN_PID', 'LISTEN_FDS', 'LISTEN_FDNAMES'].filter((k) => k in process.env) }));`;
  for (const names of ['fuse:other', undefined]) {
    const env: NodeJS.ProcessEnv = { ...process.env, LISTEN_FDS: '2' };
    if (names) env.LISTEN_FDNAMES = names;
    const r = await runChild(script(names), { env, stdio: ['ignore', 'pipe', 'pipe', a, b] });
    assert.equal(r.code, 0, r.stderr);
    const [n1, n2] = names ? names.split(':') : ['unknown', 'unknown'];
    assert.deepEqual(JSON.parse(r.stdout), { fds: [{ fd: 3, name: n1 }, { fd: 4, name: n2 }], read: ['first stored fd', 'second stored fd'], left: [] });
  }
});

test('listenFds: another pid, unset or zero mean none; bad values are refused in one line', () => {
  const pid = 4242;
  assert.deepEqual(listenFds({}, { pid }), []);
  assert.deepEqual(listenFds({ LISTEN_PID: '4243', LISTEN_FDS: '1', LISTEN_FDNAMES: 'fuse' }, { pid }), []);
  assert.deepEqual(listenFds({ LISTEN_PID: '4242' }, { pid }), []);
  assert.deepEqual(listenFds({ LISTEN_PID: '4242', LISTEN_FDS: '0' }, { pid }), []);
  const bad: Array<[NodeJS.ProcessEnv, RegExp]> = [
    [{ LISTEN_PID: '42x', LISTEN_FDS: '1' }, /LISTEN_PID must be a decimal number/],
    [{ LISTEN_PID: '0', LISTEN_FDS: '1' }, /LISTEN_PID must be a positive/],
    [{ LISTEN_PID: '4242', LISTEN_FDS: '-1' }, /LISTEN_FDS must be a decimal number/],
    [{ LISTEN_PID: '4242', LISTEN_FDS: '99999999999' }, /LISTEN_FDS must be a decimal number/],
    [{ LISTEN_PID: '4242', LISTEN_FDS: '2', LISTEN_FDNAMES: 'fuse' }, /names 1 descriptor\(s\) but LISTEN_FDS is 2/],
    [{ LISTEN_PID: '4242', LISTEN_FDS: '2', LISTEN_FDNAMES: 'a::b' }, /names 3 descriptor\(s\)/],
  ];
  for (const [env, message] of bad) {
    assert.throws(() => listenFds(env, { pid, unset: true }), (e: Error) => message.test(e.message) && !e.message.includes('\n'));
    assert.deepEqual(env, {}, 'unset also on error');
  }
});
