// `hush service ...` and `hush node update|rm` against a real `hush manager run` (unix socket,
// SQLite store): the lifecycle, secret removal while referenced, a bad-input corpus for every new
// command (CLI and raw gRPC), garbage protobuf, and node removal denying the node's certificate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitUntil } from '../common/testing/wait.js';
import { createCsr, generateNodeKey } from '../common/certs.js';
import { hushProto } from '../proto/load.js';
import {
  assertRefused, distinctive, hush, hushOk, oneErrorLine, withManager,
  type HushResult, type RefusedCall, type RunningManager,
} from './helpers/manager.js';
import {
  bootstrapCredentials, caClient, controlUnixClient, grpc, MANAGER_NAME, statusName, tlsCredentials, unary, unaryError,
} from './helpers/grpc.js';

interface ServiceJson {
  id: string;
  name: string;
  mode: string;
  replicas?: number;
  secrets: Array<{ secretId: string; secretName: string; version: number | null; target: string; uid: number; gid: number; mode: string }>;
  constraints: string[];
  labels: Record<string, string>;
  createdAt: string;
  updatedAt: string;
}

interface TaskJson {
  id: string;
  name: string;
  serviceName: string;
  slot: number;
  nodeId: string;
  node: string;
  desiredState: string;
  state: string;
  message: string;
  stateSince: string;
}

interface NodeJson {
  id: string;
  hostname: string;
  state: string;
  availability: string;
  labels: Record<string, string>;
  certSerial: string;
}

const ID = /^[0-9a-z]{25}$/;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

function jsonLines<T>(r: HushResult): T[] {
  return r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as T);
}

function assertAlive(run: RunningManager): void {
  assert.equal(run.proc.exitCode, null, 'manager exited');
  assert.equal(run.proc.signalCode, null, 'manager was killed');
}

/** Splits a table printed by the CLI into cells (columns are separated by 3 spaces). */
function tableRows(stdout: string): string[][] {
  return stdout.trimEnd().split('\n').map((l) => l.split(/ {3,}/));
}

test('service lifecycle: create, ls, inspect, ps, update, rm; secret rm refused while referenced', async (t) => {
  await withManager(async (m, run) => {
    const env = m.env;
    const ok = async (args: string[], input?: string) => {
      const r = await hush(args, { env, input });
      assert.equal(r.code, 0, `hush ${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr, '', `hush ${args.join(' ')} wrote to stderr`);
      return r;
    };
    const dbId = (await ok(['secret', 'create', 'db', '-'], distinctive())).stdout.trim();
    await ok(['secret', 'update', 'db', '-'], distinctive());
    const tlsId = (await ok(['secret', 'create', 'tls.key', '-'], distinctive())).stdout.trim();

    // create prints the id.
    const webId = (await ok(['service', 'create', '--name', 'web', '--replicas', '3',
      '--secret', 'db', '--secret', 'source=db@1,target=db_v1,uid=33,gid=44,mode=0440', '--secret', `source=${tlsId},mode=600`,
      '--constraint', 'node.labels.zone==eu', '--constraint', 'node.role != manager', '--label', 'team=payments'])).stdout.trim();
    assert.match(webId, ID);
    const aggId = (await ok(['service', 'create', '--name', 'agent', '--mode', 'global', '--secret', 'tls.key'])).stdout.trim();
    assert.match(aggId, ID);

    // ls: table, -q, --format json.
    const rows = tableRows((await ok(['service', 'ls'])).stdout);
    assert.deepEqual(rows[0], ['ID', 'NAME', 'MODE', 'REPLICAS', 'SECRETS']);
    assert.deepEqual(rows.slice(1).map((r) => [r[0], r[1], r[2], r[4]]), [[aggId, 'agent', 'global', '1'], [webId, 'web', 'replicated', '3']]);
    assert.match(rows[2][3], /^\d+\/3$/);
    assert.deepEqual((await ok(['service', 'ls', '-q'])).stdout.trim().split('\n'), [aggId, webId]);
    const listed = jsonLines<ServiceJson>(await ok(['service', 'ls', '--format', 'json']));
    assert.deepEqual(listed.map((s) => s.name), ['agent', 'web']);
    const web = listed[1];
    assert.equal(web.id, webId);
    assert.equal(web.mode, 'replicated');
    assert.equal(web.replicas, 3);
    assert.deepEqual(web.secrets, [
      { secretId: dbId, secretName: 'db', version: null, target: 'db', uid: 0, gid: 0, mode: '0400' },
      { secretId: dbId, secretName: 'db', version: 1, target: 'db_v1', uid: 33, gid: 44, mode: '0440' },
      { secretId: tlsId, secretName: 'tls.key', version: null, target: 'tls.key', uid: 0, gid: 0, mode: '0600' },
    ]);
    assert.deepEqual(web.constraints, ['node.labels.zone==eu', 'node.role != manager']);
    assert.deepEqual(web.labels, { team: 'payments' });
    assert.match(web.createdAt, ISO);
    assert.equal(listed[0].mode, 'global');
    assert.equal(listed[0].replicas, undefined);

    // inspect: a JSON array, by name, id and id prefix.
    const inspected = JSON.parse((await ok(['service', 'inspect', 'web', aggId, webId.slice(0, 10)])).stdout) as ServiceJson[];
    assert.deepEqual(inspected.map((s) => s.id), [webId, aggId, webId]);
    assert.deepEqual(inspected[0], web);

    // ps: no node has joined, so tasks (if the orchestrator is running) are pending with a reason.
    const ps = await ok(['service', 'ps', 'web']);
    const psRows = tableRows(ps.stdout);
    assert.deepEqual(psRows[0], ['ID', 'NAME', 'NODE', 'DESIRED STATE', 'CURRENT STATE', 'MESSAGE']);
    const tasks = jsonLines<TaskJson>(await ok(['service', 'ps', 'web', '--format', 'json']));
    t.diagnostic(`service ps web: ${tasks.length} tasks (0: no orchestrator running)`);
    if (tasks.length) {
      assert.deepEqual(tasks.map((t) => t.name).sort(), ['web.1', 'web.2', 'web.3']);
      for (const t of tasks) {
        assert.match(t.id, ID);
        assert.equal(t.serviceName, 'web');
        assert.equal(t.nodeId, '');
        assert.equal(t.node, '');
        assert.equal(t.desiredState, 'running');
        assert.equal(t.state, 'pending');
        assert.match(t.message, /\S/, 'a pending task says why');
        assert.match(t.stateSince, ISO);
      }
      // Table: NODE is blank while pending (so the row has one cell fewer when split on spaces).
      for (const row of psRows.slice(1)) {
        const t = tasks.find((x) => x.id === row[0]);
        assert.ok(t, `ps row ${row.join('|')}`);
        assert.deepEqual(row.slice(1, 4), [t.name, 'running', row[3]]);
        assert.match(row[3], /^pending (less than a second|\d+ seconds?) ago$/);
        assert.equal(row[4], t.message);
      }
      assert.deepEqual((await ok(['service', 'ps', '-q', 'web'])).stdout.trim().split('\n').sort(), tasks.map((t) => t.id).sort());
    } else {
      assert.equal(psRows.length, 1, 'no tasks: the header only');
    }

    // update: replace a reference (rm before add), drop one by target, scale, swap a constraint.
    assert.equal((await ok(['service', 'update', 'web', '--secret-rm', 'db_v1', '--secret-rm', 'tls.key',
      '--secret-add', 'source=tls.key,target=server.key,mode=0400', '--replicas', '2',
      '--constraint-rm', 'node.labels.zone == eu', '--constraint-add', 'node.labels.zone==us'])).stdout.trim(), webId);
    const [updated] = JSON.parse((await ok(['service', 'inspect', 'web'])).stdout) as ServiceJson[];
    assert.deepEqual(updated.secrets.map((r) => [r.secretName, r.target, r.mode]), [['db', 'db', '0400'], ['tls.key', 'server.key', '0400']]);
    assert.equal(updated.replicas, 2);
    assert.deepEqual(updated.constraints, ['node.role != manager', 'node.labels.zone==us']);
    assert.equal(updated.createdAt, web.createdAt);
    assert.ok(Date.parse(updated.updatedAt) >= Date.parse(web.updatedAt));
    await ok(['service', 'update', webId, '--replicas', '0']);
    assert.equal((JSON.parse((await ok(['service', 'inspect', 'web'])).stdout) as ServiceJson[])[0].replicas, 0);

    // secret rm is refused while a service references it, naming the services.
    const refused = await hush(['secret', 'rm', 'tls.key'], { env });
    assert.notEqual(refused.code, 0);
    assert.match(oneErrorLine(refused), /^Error: secret tls\.key is in use by the following services: agent, web$/);
    const refusedDb = await hush(['secret', 'rm', 'db'], { env });
    assert.match(oneErrorLine(refusedDb), /^Error: secret db is in use by the following service: web$/);
    assert.deepEqual(jsonLines<{ name: string }>(await ok(['secret', 'ls', '--format', 'json'])).map((s) => s.name), ['db', 'tls.key']);

    // rm: services and their tasks go; then the secrets can go too.
    assert.equal((await ok(['service', 'rm', 'web'])).stdout, 'web\n');
    assert.match(oneErrorLine(await hush(['secret', 'rm', 'tls.key'], { env })), /in use by the following service: agent$/);
    await ok(['secret', 'rm', 'db']);
    assert.equal((await ok(['service', 'rm', aggId])).stdout, `${aggId}\n`);
    await ok(['secret', 'rm', 'tls.key']);
    assert.equal((await ok(['service', 'ls'])).stdout.trim().split('\n').length, 1);
    assert.equal(jsonLines(await ok(['service', 'ls', '--format', 'json'])).length, 0);
    const gone = await hush(['service', 'ps', 'web'], { env });
    assert.match(oneErrorLine(gone), /^Error: service web not found$/);
    // No task of a removed service is left behind (one the orchestrator was creating as the service
    // went is for it to clean up: allow it a moment).
    const control = controlUnixClient(m.stateDir);
    try {
      await waitUntil('no task left', async () => {
        const { tasks } = await unary<{ tasks: unknown[] }>(control, 'ListTasks', {});
        if (tasks.length) throw new Error(`tasks left: ${JSON.stringify(tasks)}`);
        return true;
      }, 3000, { intervalMs: 100 });
    } finally {
      control.close();
    }
    // The name can be used again.
    await ok(['service', 'create', '--name', 'web']);
    assertAlive(run);
  });
});

test('bad inputs to every new command: one "Error:" line, non-zero exit, nothing changed, manager still serving', async () => {
  await withManager(async (m, run) => {
    const env = m.env;
    await hushOk(['secret', 'create', 's1', '-'], { env, input: distinctive() });
    await hushOk(['secret', 'create', 's2', '-'], { env, input: distinctive() });
    await hushOk(['service', 'create', '--name', 'web'], { env });
    await hushOk(['service', 'create', '--name', 'svc', '--secret', 's1', '--constraint', 'node.role==worker'], { env });
    await hushOk(['service', 'create', '--name', 'glob', '--mode', 'global'], { env });
    const snapshot = async () => [
      (await hushOk(['service', 'ls', '--format', 'json'], { env })).stdout,
      (await hushOk(['secret', 'ls', '--format', 'json'], { env })).stdout,
    ];
    const before = await snapshot();

    const create = (...args: string[]) => ['service', 'create', '--name', 'x', ...args];
    const update = (...args: string[]) => ['service', 'update', 'svc', ...args];
    const cases: RefusedCall[] = [
      // service create
      { what: 'bad constraint syntax', args: create('--constraint', 'node.labels.zone=eu'), error: /invalid constraint "node\.labels\.zone=eu"/ },
      { what: 'constraint on an unknown field', args: create('--constraint', 'node.zone==eu'), error: /invalid constraint/ },
      { what: 'constraint with a bad role', args: create('--constraint', 'node.role==boss'), error: /node\.role is worker or manager/ },
      { what: 'mode=0999', args: create('--secret', 'source=s1,mode=0999'), error: /invalid mode "0999"/ },
      { what: 'mode=4755', args: create('--secret', 'source=s1,mode=4755'), error: /invalid mode 04755: .*no setuid, setgid or sticky bit/ },
      { what: 'mode=abc', args: create('--secret', 'source=s1,mode=abc'), error: /invalid mode "abc"/ },
      { what: 'mode=01777', args: create('--secret', 'source=s1,mode=01777'), error: /sticky/ },
      { what: 'target ..', args: create('--secret', 'source=s1,target=..'), error: /invalid target "\.\."/ },
      { what: 'target a/b', args: create('--secret', 'source=s1,target=a/b'), error: /invalid target "a\/b"/ },
      { what: 'target /etc/passwd', args: create('--secret', 'source=s1,target=/etc/passwd'), error: /invalid target/ },
      { what: 'duplicate target', args: create('--secret', 's1', '--secret', 'source=s2,target=s1'), error: /duplicate target s1/ },
      { what: 'duplicate target (same secret twice)', args: create('--secret', 's1', '--secret', 's1'), error: /duplicate target s1/ },
      { what: 'unknown secret', args: create('--secret', 'nope'), error: /^Error: secret nope not found$/ },
      { what: 'unknown pinned version', args: create('--secret', 's1@9'), error: /secret s1 has no version 9/ },
      { what: 'version 0', args: create('--secret', 's1@0'), error: /versions start at 1/ },
      { what: 'uid -1', args: create('--secret', 'source=s1,uid=-1'), error: /invalid uid "-1"/ },
      { what: 'gid 2^32-1', args: create('--secret', 'source=s1,gid=4294967295'), error: /invalid gid/ },
      { what: 'unknown SPEC key', args: create('--secret', 'source=s1,owner=root'), error: /unknown key "owner"/ },
      { what: 'SPEC without source', args: create('--secret', 'target=x'), error: /source=NAME is required/ },
      { what: '--replicas 100000000', args: create('--replicas', '100000000'), error: /too many replicas \(100000000\): at most 10000/ },
      { what: '--replicas 10001', args: create('--replicas', '10001'), error: /too many replicas \(10001\)/ },
      { what: '--replicas 2^64', args: create('--replicas', '18446744073709551616'), error: /too many replicas/ },
      { what: '--replicas -1', args: create('--replicas', '-1'), error: /invalid --replicas "-1"/ },
      { what: '--replicas abc', args: create('--replicas', 'abc'), error: /invalid --replicas "abc"/ },
      { what: '--replicas 1.5', args: create('--replicas', '1.5'), error: /invalid --replicas "1\.5"/ },
      { what: '--replicas 0 at creation', args: create('--replicas', '0'), error: /created with 1 to 10000 replicas/ },
      { what: '--replicas with --mode global', args: create('--mode', 'global', '--replicas', '2'), error: /--replicas cannot be used with --mode global/ },
      { what: 'unknown --mode', args: create('--mode', 'job'), error: /invalid service mode "job"/ },
      { what: 'label without a key', args: create('--label', '=x'), error: /invalid label "=x"/ },
      { what: 'label key with a space', args: create('--label', 'a b=x'), error: /invalid label key "a b"/ },
      { what: 'label value with a control character', args: create('--label', 'k=a\u0007b'), error: /invalid value for label "k"/ },
      { what: 'duplicate service name', args: ['service', 'create', '--name', 'svc'], error: /^Error: service svc already exists$/ },
      { what: 'bad service name', args: ['service', 'create', '--name', '../x'], error: /invalid service name "\.\.\/x"/ },
      { what: 'no --name', args: ['service', 'create'], error: /--name is required/ },
      // service update
      { what: 'update: unknown service', args: ['service', 'update', 'nope', '--replicas', '1'], error: /^Error: service nope not found$/ },
      { what: 'update: duplicate target', args: update('--secret-add', 's1'), error: /duplicate target s1/ },
      { what: 'update: mode=4755', args: update('--secret-add', 'source=s2,mode=4755'), error: /setuid/ },
      { what: 'update: target ..', args: update('--secret-add', 'source=s2,target=..'), error: /invalid target "\.\."/ },
      { what: 'update: unknown secret', args: update('--secret-add', 'nope'), error: /secret nope not found/ },
      { what: 'update: unknown pinned version', args: update('--secret-add', 's2@9'), error: /secret s2 has no version 9/ },
      { what: 'update: --secret-rm of an unreferenced secret', args: update('--secret-rm', 's2'), error: /service svc has no secret reference "s2"/ },
      { what: 'update: --replicas 100000000', args: update('--replicas', '100000000'), error: /too many replicas \(100000000\)/ },
      { what: 'update: --replicas -1', args: update('--replicas', '-1'), error: /invalid --replicas "-1"/ },
      { what: 'update: --replicas abc', args: update('--replicas', 'abc'), error: /invalid --replicas "abc"/ },
      { what: 'update: --replicas on a global service', args: ['service', 'update', 'glob', '--replicas', '2'], error: /service glob is global: replicas cannot be set/ },
      { what: 'update: bad --constraint-add', args: update('--constraint-add', 'node.role=worker'), error: /invalid constraint/ },
      { what: 'update: --constraint-rm not present', args: update('--constraint-rm', 'node.role==manager'), error: /service svc has no constraint "node\.role==manager"/ },
      { what: 'update: a good change with a bad one', args: update('--replicas', '5', '--secret-add', 'nope'), error: /secret nope not found/ },
      // service ls / inspect / ps / rm
      { what: 'ls: unknown format', args: ['service', 'ls', '--format', 'yaml'], error: /unsupported format "yaml"/ },
      { what: 'ps: unknown format', args: ['service', 'ps', 'svc', '--format', 'yaml'], error: /unsupported format "yaml"/ },
      { what: 'ps: unknown service', args: ['service', 'ps', 'nope'], error: /^Error: service nope not found$/ },
      { what: 'rm: unknown service', args: ['service', 'rm', 'nope'], error: /^Error: service nope not found$/ },
      { what: 'rm: a newline in the name stays on one line', args: ['service', 'rm', 'a\nError: forged'], error: /^Error: invalid service name or id "a\\nError: forged": a service name or id \(/ },
      // node update / rm (no node has joined)
      { what: 'node update: bad availability', args: ['node', 'update', 'n1', '--availability', 'sleep'], error: /invalid availability "sleep": active, pause or drain/ },
      { what: 'node update: bad label', args: ['node', 'update', 'n1', '--label-add', '=x'], error: /invalid label "=x"/ },
      { what: 'node update: unknown node', args: ['node', 'update', 'n1', '--availability', 'drain'], error: /^Error: node n1 not found$/ },
      { what: 'node rm: unknown node', args: ['node', 'rm', 'n1'], error: /^Error: node n1 not found$/ },
      { what: 'node rm: unknown node, forced', args: ['node', 'rm', '--force', 'n1'], error: /^Error: node n1 not found$/ },
      { what: 'secret rm: a newline in the name stays on one line', args: ['secret', 'rm', 'a\nError: forged'], error: /^Error: invalid secret name or id "a\\nError: forged": a secret name or id \(/ },
    ];
    await assertRefused(cases, env, 3);
    assertAlive(run);
    assert.deepEqual(await snapshot(), before, 'service ls or secret ls changed');
    assert.ok(!run.logs.some((l) => (l.level ?? 0) >= 50), `manager logged errors:\n${run.stderr()}`);
  });
});

test('the manager checks every field again: bad requests over raw gRPC are refused and change nothing', async () => {
  await withManager(async (m, run) => {
    await hushOk(['secret', 'create', 's1', '-'], { env: m.env, input: distinctive() });
    await hushOk(['service', 'create', '--name', 'svc', '--secret', 's1'], { env: m.env });
    await hushOk(['service', 'create', '--name', 'glob', '--mode', 'global'], { env: m.env });
    const control = controlUnixClient(m.stateDir);
    try {
      const state = async () => [
        await unary<unknown>(control, 'ListServices', {}),
        await unary<unknown>(control, 'ListSecrets', {}),
        await unary<unknown>(control, 'ListNodes', {}),
      ];
      const before = await state();
      const ref = (fields: object) => ({ secretName: 's1', version: 0, target: '', uid: 0, gid: 0, mode: 0o400, ...fields });
      const create = (fields: object) => ({ name: 'x', mode: '', replicas: 0, secrets: [], constraints: [], labels: {}, ...fields });
      const cases: Array<{ what: string; method: string; request: object; code: string; error: RegExp }> = [
        { what: 'mode 04755', method: 'CreateService', request: create({ secrets: [ref({ mode: 0o4755 })] }), code: 'INVALID_ARGUMENT', error: /setuid/ },
        { what: 'mode 0o10000', method: 'CreateService', request: create({ secrets: [ref({ mode: 0o10000 })] }), code: 'INVALID_ARGUMENT', error: /invalid mode/ },
        { what: 'mode 2^32-1', method: 'CreateService', request: create({ secrets: [ref({ mode: 2 ** 32 - 1 })] }), code: 'INVALID_ARGUMENT', error: /invalid mode/ },
        { what: 'uid 2^32-1', method: 'CreateService', request: create({ secrets: [ref({ uid: 2 ** 32 - 1 })] }), code: 'INVALID_ARGUMENT', error: /invalid uid/ },
        { what: 'target ..', method: 'CreateService', request: create({ secrets: [ref({ target: '..' })] }), code: 'INVALID_ARGUMENT', error: /invalid target/ },
        { what: 'target a/b', method: 'CreateService', request: create({ secrets: [ref({ target: 'a/b' })] }), code: 'INVALID_ARGUMENT', error: /invalid target/ },
        { what: 'target with a NUL', method: 'CreateService', request: create({ secrets: [ref({ target: 'a\u0000b' })] }), code: 'INVALID_ARGUMENT', error: /invalid target/ },
        { what: 'duplicate target', method: 'CreateService', request: create({ secrets: [ref({}), ref({ target: 's1' })] }), code: 'INVALID_ARGUMENT', error: /duplicate target/ },
        { what: 'no source', method: 'CreateService', request: create({ secrets: [ref({ secretName: '' })] }), code: 'INVALID_ARGUMENT', error: /source/ },
        { what: 'unknown secret', method: 'CreateService', request: create({ secrets: [ref({ secretName: 'nope' })] }), code: 'NOT_FOUND', error: /secret nope not found/ },
        { what: 'unknown version', method: 'CreateService', request: create({ secrets: [ref({ version: 9 })] }), code: 'INVALID_ARGUMENT', error: /no version 9/ },
        { what: 'id of another secret', method: 'CreateService', request: create({ secrets: [ref({ secretId: 'a'.repeat(25) })] }), code: 'INVALID_ARGUMENT', error: /not its id/ },
        { what: 'replicas 100000000', method: 'CreateService', request: create({ replicas: 100_000_000 }), code: 'INVALID_ARGUMENT', error: /too many replicas/ },
        { what: 'replicas 2^32-1', method: 'CreateService', request: create({ replicas: 2 ** 32 - 1 }), code: 'INVALID_ARGUMENT', error: /too many replicas/ },
        { what: 'global with replicas', method: 'CreateService', request: create({ mode: 'global', replicas: 3 }), code: 'INVALID_ARGUMENT', error: /global/ },
        { what: 'unknown mode', method: 'CreateService', request: create({ mode: 'job' }), code: 'INVALID_ARGUMENT', error: /invalid service mode/ },
        { what: 'empty name', method: 'CreateService', request: create({ name: '' }), code: 'INVALID_ARGUMENT', error: /invalid service name/ },
        { what: 'bad constraint', method: 'CreateService', request: create({ constraints: ['node.id=1'] }), code: 'INVALID_ARGUMENT', error: /invalid constraint/ },
        { what: 'too many constraints', method: 'CreateService', request: create({ constraints: Array(65).fill('node.role==worker') }), code: 'INVALID_ARGUMENT', error: /too many constraints/ },
        { what: 'too many references', method: 'CreateService', request: create({ secrets: Array.from({ length: 257 }, (_, i) => ref({ target: `t${i}` })) }), code: 'INVALID_ARGUMENT', error: /too many secret references/ },
        { what: 'bad label', method: 'CreateService', request: create({ labels: { 'a=b': 'c' } }), code: 'INVALID_ARGUMENT', error: /invalid label key/ },
        { what: 'update: replicas without set_replicas', method: 'UpdateService', request: { ref: 'svc', replicas: 5 }, code: 'INVALID_ARGUMENT', error: /set_replicas/ },
        { what: 'update: replicas 2^32-1', method: 'UpdateService', request: { ref: 'svc', setReplicas: true, replicas: 2 ** 32 - 1 }, code: 'INVALID_ARGUMENT', error: /too many replicas/ },
        { what: 'update: global replicas', method: 'UpdateService', request: { ref: 'glob', setReplicas: true, replicas: 1 }, code: 'INVALID_ARGUMENT', error: /global/ },
        { what: 'update: mode 04000', method: 'UpdateService', request: { ref: 'svc', secretAdd: [ref({ target: 'y', mode: 0o4000 })] }, code: 'INVALID_ARGUMENT', error: /setuid/ },
        { what: 'update: empty secret_rm', method: 'UpdateService', request: { ref: 'svc', secretRm: [''] }, code: 'INVALID_ARGUMENT', error: /to remove/ },
        { what: 'update: empty ref', method: 'UpdateService', request: { ref: '' }, code: 'INVALID_ARGUMENT', error: /service name or id is required/ },
        { what: 'get: unknown', method: 'GetService', request: { ref: 'nope' }, code: 'NOT_FOUND', error: /service nope not found/ },
        { what: 'remove: unknown', method: 'RemoveService', request: { ref: 'nope' }, code: 'NOT_FOUND', error: /service nope not found/ },
        { what: 'tasks: unknown service', method: 'ListTasks', request: { service: 'nope' }, code: 'NOT_FOUND', error: /service nope not found/ },
        { what: 'tasks: unknown node', method: 'ListTasks', request: { node: 'nope' }, code: 'NOT_FOUND', error: /node nope not found/ },
        { what: 'node: bad availability', method: 'UpdateNode', request: { ref: 'n', availability: 'DRAIN' }, code: 'INVALID_ARGUMENT', error: /invalid availability/ },
        { what: 'node: unknown', method: 'UpdateNode', request: { ref: 'n', availability: 'drain' }, code: 'NOT_FOUND', error: /node n not found/ },
        { what: 'node rm: empty ref', method: 'RemoveNode', request: { ref: '' }, code: 'INVALID_ARGUMENT', error: /node id or hostname is required/ },
      ];
      for (const c of cases) {
        const err = await unaryError(control, c.method, c.request);
        assert.equal(statusName(err.code), c.code, `${c.what}: ${err.details}`);
        assert.match(err.details, c.error, c.what);
        assert.ok(!err.details.includes('\n'), `${c.what}: one line`);
      }
      assert.deepEqual(await state(), before);
      assertAlive(run);
      assert.ok(!run.logs.some((l) => (l.level ?? 0) >= 50), `manager logged errors:\n${run.stderr()}`);
    } finally {
      control.close();
    }
  });
});

test('garbage protobuf to the Control service: an error status, and the manager still answers', async () => {
  await withManager(async (m, run) => {
    await hushOk(['service', 'create', '--name', 'svc'], { env: m.env });
    const control = controlUnixClient(m.stateDir);
    const raw = new grpc.Client(`unix://${m.stateDir}/control.sock`, grpc.credentials.createInsecure());
    try {
      const before = await unary<unknown>(control, 'ListServices', {});
      const garbage = [
        Buffer.from([0xff, 0xff, 0xff, 0x0f]), // field 0 / wire type 7: no such thing
        Buffer.from([0xff, 0xff, 0xff, 0x0f, 0x0a, 0x03, 0x61, 0x62, 0x63, 0x00, 0xff]),
        Buffer.from([0x0f]), // wire type 7
        Buffer.from([0x0a, 0x80]), // truncated length
      ];
      const methods = ['CreateService', 'UpdateService', 'GetService', 'ListServices', 'RemoveService', 'ListTasks', 'UpdateNode', 'RemoveNode'];
      for (const method of methods) {
        for (const payload of garbage) {
          const err = await new Promise<grpc.ServiceError | null>((resolve) => {
            raw.makeUnaryRequest(`/hush.v1.Control/${method}`, (b: Buffer) => b, (b: Buffer) => b, payload,
              new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (e) => resolve(e));
          });
          assert.ok(err, `${method} ${payload.toString('hex')}: succeeded`);
          assert.ok(['INTERNAL', 'INVALID_ARGUMENT'].includes(statusName(err.code)), `${method} ${payload.toString('hex')}: ${statusName(err.code)} ${err.details}`);
        }
      }
      assertAlive(run);
      assert.deepEqual(await unary<unknown>(control, 'ListServices', {}), before);
      await hushOk(['service', 'create', '--name', 'after'], { env: m.env });
    } finally {
      raw.close();
      control.close();
    }
  });
});

type DispatcherCtor = new (addr: string, creds: grpc.ChannelCredentials, opts: grpc.ChannelOptions) => grpc.Client;

test('node update and rm: availability and labels; a ready node needs --force; removal revokes its certificate', async (t) => {
  await withManager(async (m, run) => {
    const env = m.env;
    const addr = `127.0.0.1:${run.port}`;
    const clients: grpc.Client[] = [];
    try {
      const boot = caClient(run.port!, bootstrapCredentials());
      clients.push(boot);
      const { certificatePem: rootPem } = await unary<{ certificatePem: string }>(boot, 'GetRootCACertificate', {});
      const ca = caClient(run.port!, tlsCredentials(rootPem));
      clients.push(ca);
      const join = async (hostname: string, labels: Record<string, string>) => {
        const keyPem = generateNodeKey();
        const issued = await unary<{ nodeId: string; certificatePem: string }>(ca, 'IssueNodeCertificate', {
          csrPem: createCsr(keyPem), token: m.workerToken, hostname, labels,
        });
        return { id: issued.nodeId, keyPem, certPem: issued.certificatePem };
      };
      const a = await join('node-a', { zone: 'eu' });
      const b = await join('node-b', {});
      const nodes = async () => jsonLines<NodeJson>(await hushOk(['node', 'ls', '--format', 'json'], { env }));

      // update: availability, label-add, label-rm; by hostname and by id prefix.
      assert.equal((await hushOk(['node', 'update', 'node-a', '--availability', 'drain', '--label-add', 'rack=7', '--label-rm', 'zone'], { env })).stdout.trim(), a.id);
      let na = (await nodes()).find((n) => n.id === a.id)!;
      assert.equal(na.availability, 'drain');
      assert.deepEqual(na.labels, { rack: '7' });
      await hushOk(['node', 'update', a.id.slice(0, 8), '--availability', 'active', '--label-add', 'zone=us'], { env });
      na = (await nodes()).find((n) => n.id === a.id)!;
      assert.equal(na.availability, 'active');
      assert.deepEqual(na.labels, { rack: '7', zone: 'us' });
      const noLabel = await hush(['node', 'update', 'node-a', '--label-rm', 'nope'], { env });
      assert.match(oneErrorLine(noLabel), /^Error: node node-a has no label "nope"$/);

      // Make node-a ready with a heartbeat (if the dispatcher serves it yet).
      const nodeCreds = tlsCredentials(rootPem, a.keyPem, a.certPem);
      const dispatcher = new (hushProto().Dispatcher as unknown as DispatcherCtor)(addr, nodeCreds, { 'grpc.ssl_target_name_override': MANAGER_NAME });
      clients.push(dispatcher);
      let ready = false;
      try {
        await unary(dispatcher, 'Heartbeat', {});
        ready = await waitUntil('node-a ready', async () => (await nodes()).find((n) => n.id === a.id)?.state === 'ready', 5000, { intervalMs: 100 })
          .then(() => true, () => false);
      } catch {
        // No dispatcher yet: the --force check below is skipped.
      }
      t.diagnostic(`node-a ready after a heartbeat: ${ready} (false: no dispatcher yet, --force check skipped)`);
      if (ready) {
        const refused = await hush(['node', 'rm', 'node-a'], { env });
        assert.notEqual(refused.code, 0);
        assert.match(oneErrorLine(refused), /^Error: node node-a \([0-9a-z]{25}\) is ready and cannot be removed: .*--force$/);
        assert.ok((await nodes()).some((n) => n.id === a.id), 'refused, yet removed');
      }

      // The node's certificate works before removal...
      const renewClient = caClient(run.port!, nodeCreds);
      clients.push(renewClient);
      await unary(renewClient, 'RenewNodeCertificate', { csrPem: createCsr(a.keyPem) });
      // ...rm (forced if it is ready; node-b was never ready).
      assert.equal((await hushOk(['node', 'rm', '--force', 'node-a', 'node-b'], { env })).stdout, 'node-a\nnode-b\n');
      assert.deepEqual(await nodes(), []);
      // The removed node's certificate (the one it joined with; denied by serial) is refused at once.
      const denied = await unaryError(renewClient, 'RenewNodeCertificate', { csrPem: createCsr(a.keyPem) });
      assert.equal(statusName(denied.code), 'PERMISSION_DENIED');
      assert.match(denied.details, /revoked|not a member/);
      const renewB = caClient(run.port!, tlsCredentials(rootPem, b.keyPem, b.certPem));
      clients.push(renewB);
      const deniedB = await unaryError(renewB, 'RenewNodeCertificate', { csrPem: createCsr(b.keyPem) });
      assert.equal(statusName(deniedB.code), 'PERMISSION_DENIED');
      assert.match(deniedB.details, /^certificate [0-9a-f]{32} of node [0-9a-z]{25} has been revoked/);
      assert.match(oneErrorLine(await hush(['node', 'rm', 'node-a'], { env })), /^Error: node node-a not found$/);
      assertAlive(run);
    } finally {
      for (const c of clients) c.close();
    }
  });
});
