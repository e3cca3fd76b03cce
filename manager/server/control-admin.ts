// The Control RPCs behind `hush service` and `hush node update|rm`.
import type { ControlHandlers } from '../../proto/gen/hush/v1/Control.js';
import type { ServiceSecretReference__Output } from '../../proto/gen/hush/v1/ServiceSecretReference.js';
import { invalidArgument, notFound } from '../../common/errors.js';
import { validateRef } from '../refs.js';
import type { Manager } from '../manager.js';
import type { ReferenceRequest } from '../services/spec.js';
import { nodeToProto, serviceToProto, taskToProto } from './convert.js';
import { unary, type RpcContext } from './rpc.js';

type AdminHandlers = Pick<ControlHandlers,
  'CreateService' | 'UpdateService' | 'GetService' | 'ListServices' | 'RemoveService' | 'ListTasks' | 'UpdateNode' | 'RemoveNode'>;

/** A reference from the wire: by name or id (secret_name, else secret_id); every field is checked by the service layer. */
function referenceFromWire(r: ServiceSecretReference__Output): ReferenceRequest {
  const source = r.secretName || r.secretId;
  return {
    source, secretId: r.secretName && r.secretId ? r.secretId : undefined,
    version: r.version, target: r.target, uid: r.uid, gid: r.gid, mode: r.mode,
  };
}

export function adminHandlers(ctx: RpcContext, manager: Manager): AdminHandlers {
  return {
    CreateService: unary(ctx, 'Control.CreateService', async (req) => serviceToProto(await manager.unlocked().services.create({
      name: req.name, mode: req.mode, replicas: req.replicas, secrets: req.secrets.map(referenceFromWire),
      constraints: req.constraints, labels: req.labels,
    }))),
    UpdateService: unary(ctx, 'Control.UpdateService', async (req) => {
      if (!req.setReplicas && req.replicas !== 0) throw invalidArgument('replicas given without set_replicas');
      return serviceToProto(await manager.unlocked().services.update(req.ref, {
        secretAdd: req.secretAdd.map(referenceFromWire), secretRm: req.secretRm,
        replicas: req.setReplicas ? req.replicas : undefined,
        constraintAdd: req.constraintAdd, constraintRm: req.constraintRm,
      }));
    }),
    GetService: unary(ctx, 'Control.GetService', async (req) => serviceToProto(await manager.unlocked().services.get(req.ref))),
    ListServices: unary(ctx, 'Control.ListServices', () => ({
      services: manager.unlocked().services.list().map(serviceToProto), warning: manager.staleness() ?? '',
    })),
    RemoveService: unary(ctx, 'Control.RemoveService', async (req) => {
      const removed = await manager.unlocked().services.remove(req.ref);
      return { id: removed.id, name: removed.name };
    }),
    ListTasks: unary(ctx, 'Control.ListTasks', async (req) => {
      const { services, nodes } = manager.unlocked();
      const warning = manager.staleness();
      // Without etcd the refs are resolved in the manager's view (as docker does: id, name, id prefix).
      const serviceId = !req.service ? undefined : warning ? inView(manager.unlocked().view.services.values(), req.service, 'service')
        : (await services.resolve(req.service)).record.id;
      const nodeId = !req.node ? undefined : warning ? inView(manager.unlocked().view.nodes.values(), req.node, 'node')
        : (await nodes.resolve(req.node)).id;
      return { tasks: services.listTasks({ serviceId, nodeId }).map(taskToProto), warning: warning ?? '' };
    }),

    UpdateNode: unary(ctx, 'Control.UpdateNode', async (req) => nodeToProto(await manager.unlocked().nodeAdmin.update(req.ref, {
      availability: req.availability, labelAdd: req.labelAdd, labelRm: req.labelRm,
    }))),
    RemoveNode: unary(ctx, 'Control.RemoveNode', async (req) => ({ id: (await manager.unlocked().nodeAdmin.remove(req.ref, req.force)).id })),
  };
}

/** The id of the record `ref` names in the view: exact id, then exact name (or hostname), then a unique id prefix. */
function inView(records: Iterable<{ id: string; name?: string; hostname?: string }>, ref: string, kind: 'service' | 'node'): string {
  validateRef(ref, kind);
  const all = [...records];
  const found = all.find((r) => r.id === ref) ?? all.find((r) => (r.name ?? r.hostname) === ref);
  if (found) return found.id;
  const prefixed = all.filter((r) => r.id.startsWith(ref));
  if (prefixed.length === 1) return prefixed[0].id;
  if (prefixed.length > 1) throw invalidArgument(`${kind} id prefix ${ref} is ambiguous (${prefixed.length} matches)`);
  throw notFound(`${kind} ${ref} not found`);
}
