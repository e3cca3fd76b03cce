// Test helper: a real 3-member etcd cluster on loopback (free ports, temporary data dirs, --pre-vote,
// --logger zap), each member serving clients over plain HTTP and over TLS with client certificates
// (a CA, server and client certificates made with openssl for the run). Members run in their own
// session (setsid: a dying test does not take them along) and stop() kills each by pid.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { waitUntil } from '../../../common/testing/wait.js';
import { EtcdClient } from '../etcd-rpc.js';

export interface EtcdTls { ca: Buffer; cert: Buffer; key: Buffer }

export interface EtcdMember {
  name: string;
  /** host:port, plain and TLS. */
  client: string;
  tlsClient: string;
  proc: ChildProcess | undefined;
}

export interface EtcdCluster {
  members: EtcdMember[];
  endpoints: string[];
  tlsEndpoints: string[];
  tls: EtcdTls;
  dir: string;
  /** Kills one member (SIGKILL) and waits for it to exit. */
  kill(m: EtcdMember): Promise<void>;
  /** Starts a killed member again on its data dir and waits until it answers. */
  restart(m: EtcdMember): Promise<void>;
  stop(): Promise<void>;
}

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<net.Server>((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve(s));
  })));
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

function makeCerts(dir: string): EtcdTls & { serverCert: string; serverKey: string; caFile: string } {
  const f = (n: string) => path.join(dir, n);
  const ossl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  ossl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', '/CN=hush-test-etcd-ca', '-keyout', f('ca.key'), '-out', f('ca.crt'));
  for (const [name, ext] of [['server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth'],
    ['client', 'extendedKeyUsage=clientAuth']] as const) {
    fs.writeFileSync(f(`${name}.ext`), ext + '\n');
    ossl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=hush-test-${name}`,
      '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`));
    ossl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial',
      '-days', '2', '-extfile', f(`${name}.ext`), '-out', f(`${name}.crt`));
  }
  return {
    ca: fs.readFileSync(f('ca.crt')), cert: fs.readFileSync(f('client.crt')), key: fs.readFileSync(f('client.key')),
    serverCert: f('server.crt'), serverKey: f('server.key'), caFile: f('ca.crt'),
  };
}

export interface EtcdClusterOptions {
  /** --quota-backend-bytes (etcd's default: 2 GiB). */
  quotaBytes?: number;
}

export async function startEtcdCluster(opts: EtcdClusterOptions = {}): Promise<EtcdCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hush-etcd-'));
  const members: EtcdMember[] = [];
  const stop = async () => {
    process.removeListener('exit', onExit);
    await Promise.all(members.map((m) => kill(m)));
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const kill = async (m: EtcdMember) => {
    const p = m.proc;
    m.proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.ref(); // unref'd while it runs; the wait for its exit must keep this process alive
    p.kill('SIGKILL');
    await exited;
  };
  // Should the test process die without stop(), its members must not outlive it.
  const onExit = () => members.forEach((m) => {
    try {
      if (m.proc?.pid) process.kill(m.proc.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  process.once('exit', onExit);
  try {
    const certs = makeCerts(dir);
    const ports = await freePorts(9);
    const names = ['m1', 'm2', 'm3'];
    const peer = (i: number) => `http://127.0.0.1:${ports[3 * i + 1]}`;
    const initial = names.map((n, i) => `${n}=${peer(i)}`).join(',');
    names.forEach((name, i) => members.push({
      name, client: `127.0.0.1:${ports[3 * i]}`, tlsClient: `127.0.0.1:${ports[3 * i + 2]}`, proc: undefined,
    }));
    const start = (m: EtcdMember, i: number, state: 'new' | 'existing') => {
      const log = fs.openSync(path.join(dir, `${m.name}.log`), 'a');
      m.proc = spawn('etcd', [
        '--name', m.name, '--data-dir', path.join(dir, `${m.name}.etcd`),
        '--listen-client-urls', `http://${m.client},https://${m.tlsClient}`,
        '--advertise-client-urls', `http://${m.client}`,
        '--listen-peer-urls', peer(i), '--initial-advertise-peer-urls', peer(i),
        '--initial-cluster', initial, '--initial-cluster-token', `hush-test-${path.basename(dir)}`,
        '--initial-cluster-state', state, '--logger', 'zap', '--log-outputs', 'stderr', '--pre-vote',
        ...(opts.quotaBytes ? ['--quota-backend-bytes', String(opts.quotaBytes)] : []),
        '--cert-file', certs.serverCert, '--key-file', certs.serverKey, '--trusted-ca-file', certs.caFile, '--client-cert-auth',
      ], { detached: true, stdio: ['ignore', log, log] });
      fs.closeSync(log);
      m.proc.unref();
    };
    members.forEach((m, i) => start(m, i, 'new'));
    const healthy = async (m: EtcdMember) => {
      const c = new EtcdClient({ endpoints: [m.client], deadlineMs: 500 });
      try {
        // A linearizable read succeeds only once the member is in a cluster with a leader.
        await waitUntil(`etcd member ${m.name} answers`, async () => (await c.range({ key: Buffer.from('health') }), true), 20_000,
          { intervalMs: 100 });
      } finally {
        c.close();
      }
    };
    await Promise.all(members.map(healthy));
    return {
      members, dir,
      endpoints: members.map((m) => m.client),
      tlsEndpoints: members.map((m) => m.tlsClient),
      tls: { ca: certs.ca, cert: certs.cert, key: certs.key },
      kill,
      async restart(m) {
        await kill(m);
        start(m, members.indexOf(m), 'existing');
        await healthy(m);
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
