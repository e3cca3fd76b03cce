// The Control service: the admin API behind `hush secret`, `hush join-token`, `hush manager`.
import type { ControlHandlers } from '../../proto/gen/hush/v1/Control.js';
import { invalidArgument } from '../../common/errors.js';
import { VERSION } from '../../common/version.js';
import { formatUnlockKey, parseUnlockKey } from '../crypto/keyring.js';
import type { Manager } from '../manager.js';
import { validateLabels } from '../secrets/validate.js';
import { adminHandlers } from './control-admin.js';
import { nodeToProto, secretToProto } from './convert.js';
import { unary, type RpcContext } from './rpc.js';


function role(value: string): 'worker' | 'manager' {
  if (value !== 'worker' && value !== 'manager') throw invalidArgument(`unknown role ${JSON.stringify(value.slice(0, 40))}: worker or manager`);
  return value;
}

export function controlHandlers(ctx: RpcContext, manager: Manager): ControlHandlers {
  return {
    CreateSecret: unary(ctx, 'Control.CreateSecret', async (req) => {
      validateLabels(req.labels);
      return { secret: secretToProto(await manager.unlocked().secrets.create(req.name, req.data, req.labels)) };
    }),
    UpdateSecret: unary(ctx, 'Control.UpdateSecret', async (req) =>
      ({ secret: secretToProto(await manager.unlocked().secrets.update(req.ref, req.data)) })),
    GetSecret: unary(ctx, 'Control.GetSecret', async (req) =>
      ({ secret: secretToProto(await manager.unlocked().secrets.get(req.ref)) })),
    ListSecrets: unary(ctx, 'Control.ListSecrets', async () => {
      const state = manager.unlocked();
      const warning = manager.staleness();
      // Without etcd a read would wait out its deadline: the manager's own view answers at once.
      const fromView = () => [...state.view.secrets.values()].sort((a, b) => a.name.localeCompare(b.name));
      const read = await readOrView(manager, warning, () => state.secrets.list(), fromView);
      return { secrets: read.records.map(secretToProto), warning: read.warning };
    }),
    RemoveSecret: unary(ctx, 'Control.RemoveSecret', async (req) => {
      const removed = await manager.unlocked().secrets.remove(req.ref);
      return { id: removed.id, name: removed.name };
    }),

    GetJoinToken: unary(ctx, 'Control.GetJoinToken', async (req) => {
      const r = role(req.role);
      const { cluster } = manager.unlocked();
      return { token: req.rotate ? await cluster.rotateJoinToken(r) : cluster.joinToken(r) };
    }),
    GetUnlockKey: unary(ctx, 'Control.GetUnlockKey', (req) => {
      const state = manager.unlocked();
      if (!manager.autolock) return { autolock: false, unlockKey: '' };
      const key = req.rotate ? manager.rotateUnlockKey() : state.unlockKey;
      return { autolock: true, unlockKey: key ? formatUnlockKey(key) : '' };
    }),
    Unlock: unary(ctx, 'Control.Unlock', async (req) => {
      let key: Buffer;
      try {
        key = parseUnlockKey(req.unlockKey);
      } catch (e) {
        throw invalidArgument((e as Error).message);
      }
      try {
        await manager.unlock(key);
      } finally {
        key.fill(0); // the manager keeps its own copy
      }
      return {};
    }),
    GetManagerStatus: unary(ctx, 'Control.GetManagerStatus', async () => {
      const cluster = manager.locked ? undefined : manager.unlocked().cluster;
      return {
        clusterId: cluster?.id ?? '', locked: manager.locked, autolock: manager.autolock,
        listenAddr: manager.locked ? '' : manager.unlocked().presence.addr, nodeId: cluster?.identity.id ?? '', version: VERSION,
      };
    }),

    ListManagers: unary(ctx, 'Control.ListManagers', () => ({
      managers: manager.unlocked().managers.list().map((m) => ({
        id: m.id, addr: m.addr, hostname: m.hostname, leader: m.leader, reachable: m.reachable, version: m.version,
        joinedAtMs: m.joinedAtMs, self: m.self,
      })),
    })),
    RemoveManager: unary(ctx, 'Control.RemoveManager', async (req) => ({ id: await manager.unlocked().managers.remove(req.ref, req.force) })),

    ListNodes: unary(ctx, 'Control.ListNodes', async () => {
      const state = manager.unlocked();
      const warning = manager.staleness();
      const fromView = () => [...state.view.nodes.values()].sort((a, b) => a.hostname.localeCompare(b.hostname) || a.id.localeCompare(b.id));
      const read = await readOrView(manager, warning, () => state.nodes.list(), fromView);
      return { nodes: read.records.map(nodeToProto), warning: read.warning };
    }),
    GetNode: unary(ctx, 'Control.GetNode', async (req) => nodeToProto(await manager.unlocked().nodes.resolve(req.ref))),

    ...adminHandlers(ctx, manager),
  };
}

/**
 * A listing read from the store, or from the manager's view (with a warning) when the store is known
 * to be silent or its read fails on a shared store (etcd without a quorum): an answer that may be
 * stale, at once, rather than an error after the read's deadline.
 */
async function readOrView<T>(manager: Manager, warning: string | undefined, read: () => Promise<T[]>, view: () => T[]): Promise<{ records: T[]; warning: string }> {
  if (warning) return { records: view(), warning };
  try {
    return { records: await read(), warning: '' };
  } catch (err) {
    if (!manager.shared) throw err;
    return { records: view(), warning: `this manager cannot read etcd (${(err as Error).message.split('\n')[0]}): what it lists may be stale` };
  }
}
