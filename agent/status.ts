// `hush agent status`: a local unix socket (0600, root only) that answers one JSON
// document per connection. Metadata only: paths and versions, never values.
import { createServer, type Server } from 'node:net';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeSecrets } from './secrets/node-secrets.js';
import type { ConnectionStatus } from './connection.js';
import type { MemoryLock } from '../fs/engines/engine.js';

export const AGENT_STATUS_SOCKET = 'agent.sock';

export interface AgentStatus {
  nodeId: string;
  role: string;
  /** The managers the agent tries in turn: the set the cluster announced, else the --manager list. */
  managers: string[];
  /** Where `managers` comes from (absent from an older agent). */
  managersFrom?: 'cluster' | 'command line';
  mount: string;
  /** The per-task anchor directory, or null when the agent runs without anchors. */
  anchors: string | null;
  connection: ConnectionStatus;
  certNotAfter: string;
  /** Whether the secrets held are locked in memory (out of swap): fs/engines/engine.ts MemoryLock. */
  memoryLock: MemoryLock;
  /**
   * anchor: the directory a container bind-mounts (rslave) for this task, once bound; its files are in <anchor>/secrets.
   * notServed: why the mount does not serve this task (two services claim its name); its files then have no path,
   * so that no path is ever listed for two tasks.
   */
  tasks: Array<{ id: string; name: string; service: string; anchor?: string; notServed?: string; files: Array<{ path: string | null; secret: string; secretId: string; version: number; uid: number; gid: number; mode: string }> }>;
}

export function describeTasks(secrets: NodeSecrets, mount: string, anchors?: Map<string, string>): AgentStatus['tasks'] {
  return secrets.taskList().sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id)).map((t) => {
    const notServed = secrets.unservedReason(t);
    return {
      id: t.id, name: t.name, service: t.serviceName, ...(anchors?.has(t.name) ? { anchor: anchors.get(t.name) } : {}),
      ...(notServed ? { notServed } : {}),
      files: t.files.map((f) => ({
        path: notServed ? null : join(mount, t.name, f.target), secret: f.secretName, secretId: f.secretId, version: f.version,
        uid: f.uid, gid: f.gid, mode: '0' + f.mode.toString(8),
      })),
    };
  });
}

export function serveStatus(path: string, status: () => AgentStatus): Promise<Server> {
  rmSync(path, { force: true });
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.end(JSON.stringify(status()) + '\n');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const umask = process.umask(0o177); // the socket is created 0600; a unix socket binds synchronously
    try {
      server.listen(path, () => resolve(server));
    } finally {
      process.umask(umask);
    }
  });
}
