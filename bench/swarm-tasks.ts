// Swarm services with real tasks, for the deliver and revoke baselines: on a RunningSwarm
// (bench/swarm.ts), a local image holding one static binary that sleeps (bench/swarm-image/pause.c,
// built with gcc -static and imported with POST /images/create?fromSrc=-: no registry needed),
// services that reference a secret, and where a task's secret file shows on the host:
// DATA_ROOT/containers/<container id>/mounts/secrets/<secret id> (shared/reference/swarm-on-this-machine.md).
//
// Services are created like `docker service create --stop-grace-period 0s --restart-condition none`
// and the image is referenced by its id (sha256:...), which makes the daemon skip the registry pull
// it otherwise tries for every task (there is no registry here).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from './harness.js';
import { API_VERSION, BaselineUnavailable, type RunningSwarm } from './swarm.js';

/** bench/swarm-image/pause.c in the source tree (this file runs as dist/bench/swarm-tasks.js). */
const PAUSE_C = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'swarm-image', 'pause.c');

export interface SwarmTasks {
  /** DATA_ROOT/containers on the host. */
  containersDir: string;
  imageId: string;
  createSecret(name: string, data: Buffer): Promise<string>;
  /** Creates a 1-replica service whose task gets secret `secretId` as /run/secrets/pw; its id. */
  createService(name: string, secretId: string, secretName: string): Promise<string>;
  removeService(id: string): Promise<void>;
  /** The host path of a task's secret file, relative to containersDir/<container id>. */
  secretRel(secretId: string): string;
  /** Waits (up to timeoutMs) until containersDir/<id> is gone (the container removed). */
  waitContainerGone(containerId: string, timeoutMs: number): Promise<boolean>;
}

async function api(swarm: RunningSwarm, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await swarm.api(method, `/${API_VERSION}${path}`, body);
  if (res.status < 200 || res.status >= 300) throw new Error(`swarm ${method} ${path}: ${res.status} ${res.body.trim()}`);
  return res.body ? JSON.parse(res.body) : undefined;
}

/** POST a tar stream to /images/create?fromSrc=- (docker import). */
function importTar(socketPath: string, tar: Buffer, repo: string, tag: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const req = http.request({
      socketPath, method: 'POST', path: `/${API_VERSION}/images/create?fromSrc=-&repo=${repo}&tag=${tag}`,
      headers: { 'Content-Type': 'application/x-tar', 'Content-Length': tar.length }, timeout: 60_000,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200 || /"error"/.test(text)) reject(new Error(`image import: ${res.statusCode} ${text.trim()}`));
        else resolvePromise(text);
      });
    });
    req.on('timeout', () => req.destroy(new Error('image import: no answer after 60 s')));
    req.on('error', reject);
    req.end(tar);
  });
}

/** Builds and imports the pause image; BaselineUnavailable when it cannot (no gcc, no static libc). */
export async function prepareSwarmTasks(swarm: RunningSwarm, log: (line: string) => void): Promise<SwarmTasks> {
  const dir = mkdtempSync('/tmp/hush-bench-pause-');
  let tar: Buffer;
  try {
    try {
      execFileSync('gcc', ['-O2', '-static', '-o', join(dir, 'pause'), PAUSE_C], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e) {
      throw new BaselineUnavailable(`cannot build the static pause binary for the swarm image (gcc -static; apt-get install -y gcc libc6-dev): ${(e as Error).message.split('\n')[0]}`);
    }
    tar = execFileSync('tar', ['-C', dir, '--owner=0', '--group=0', '-cf', '-', 'pause'], { maxBuffer: 64 * 1024 * 1024 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await importTar(swarm.socketPath, tar, 'hush-bench-pause', '1');
  const image = await api(swarm, 'GET', '/images/hush-bench-pause:1/json') as { Id: string };
  const info = await api(swarm, 'GET', '/info') as { DockerRootDir: string };
  const containersDir = join(info.DockerRootDir, 'containers');
  log(`swarm: image hush-bench-pause:1 imported (${image.Id.slice(0, 19)}), containers in ${containersDir}`);

  return {
    containersDir,
    imageId: image.Id,
    async createSecret(name, data) {
      const r = await api(swarm, 'POST', '/secrets/create', { Name: name, Data: data.toString('base64'), Labels: {} }) as { ID: string };
      return r.ID;
    },
    async createService(name, secretId, secretName) {
      const r = await api(swarm, 'POST', '/services/create', {
        Name: name,
        TaskTemplate: {
          ContainerSpec: {
            Image: image.Id,
            Command: ['/pause'],
            StopGracePeriod: 0,
            Secrets: [{ File: { Name: 'pw', UID: '0', GID: '0', Mode: 0o444 }, SecretID: secretId, SecretName: secretName }],
          },
          RestartPolicy: { Condition: 'none' },
        },
        Mode: { Replicated: { Replicas: 1 } },
      }) as { ID: string };
      return r.ID;
    },
    async removeService(id) {
      await api(swarm, 'DELETE', `/services/${id}`);
    },
    secretRel: (secretId) => join('mounts', 'secrets', secretId),
    async waitContainerGone(containerId, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (existsSync(join(containersDir, containerId))) {
        if (Date.now() > deadline) return false;
        await sleep(20);
      }
      return true;
    },
  };
}
