// Input validation against a real `hush manager run` (unix socket, SQLite store), over the CLI and
// over raw gRPC: refs with NUL or control characters on every RPC that takes one, the default mode
// of a secret reference sent without one, and constraint operators that are not exactly == or !=.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  assertRefused, distinctive, hush, hushOk, oneErrorLine, withManager, type RefusedCall, type RunningManager,
} from './helpers/manager.js';
import { controlUnixClient, statusName, unary, unaryError } from './helpers/grpc.js';
import { startAgent, cleanUpAgents } from './helpers/agent-process.js';
import { statFile } from './helpers/proc.js';
import { waitUntil } from '../common/testing/wait.js';

interface WireReference { secretName: string; target: string; mode?: number }
interface WireService { id: string; name: string; secrets: WireReference[]; constraints: string[] }

/** Nothing but printable ASCII (and the … of a cut): the message cannot carry a control byte. */
const PRINTABLE_LINE = /^[\x20-\x7e…]*$/;

function assertAlive(run: RunningManager): void {
  assert.equal(run.proc.exitCode, null, 'manager exited');
  assert.equal(run.proc.signalCode, null, 'manager was killed');
}

function assertNoErrorLogs(run: RunningManager): void {
  assert.ok(!run.logs.some((l) => (l.level ?? 0) >= 50), `manager logged errors:\n${run.stderr()}`);
}

test('a ref with a NUL or control character: INVALID_ARGUMENT naming it (printable only) on every RPC that takes a ref, nothing stored', async () => {
  await withManager(async (m, run) => {
    await hushOk(['secret', 'create', 's1', '-'], { env: m.env, input: distinctive() });
    await hushOk(['service', 'create', '--name', 'svc', '--secret', 's1'], { env: m.env });
    const control = controlUnixClient(m.stateDir);
    try {
      const state = async () => [
        await unary<unknown>(control, 'ListServices', {}),
        await unary<unknown>(control, 'ListSecrets', {}),
        await unary<unknown>(control, 'ListNodes', {}),
        await unary<unknown>(control, 'ListTasks', {}),
      ];
      const before = await state();
      const data = Buffer.from(distinctive());
      const reference = (fields: object) => ({ secretName: 's1', ...fields });
      const create = (fields: object) => ({ name: 'x', secrets: [], ...fields });
      const calls: Array<{ method: string; request: (bad: string) => object; error: RegExp }> = [
        { method: 'UpdateSecret', request: (ref) => ({ ref, data }), error: /^invalid secret name or id "/ },
        { method: 'GetSecret', request: (ref) => ({ ref }), error: /^invalid secret name or id "/ },
        { method: 'RemoveSecret', request: (ref) => ({ ref }), error: /^invalid secret name or id "/ },
        { method: 'GetService', request: (ref) => ({ ref }), error: /^invalid service name or id "/ },
        { method: 'RemoveService', request: (ref) => ({ ref }), error: /^invalid service name or id "/ },
        { method: 'UpdateService', request: (ref) => ({ ref, setReplicas: true, replicas: 2 }), error: /^invalid service name or id "/ },
        { method: 'UpdateService', request: (s) => ({ ref: 'svc', secretRm: [s] }), error: /^invalid secret reference to remove "/ },
        { method: 'UpdateService', request: (s) => ({ ref: 'svc', secretAdd: [reference({ secretName: s, target: 'y' })] }), error: /^invalid secret name or id "/ },
        { method: 'CreateService', request: (s) => create({ secrets: [reference({ secretName: s })] }), error: /^invalid secret name or id "/ },
        { method: 'CreateService', request: (s) => create({ secrets: [reference({ secretName: '', secretId: s })] }), error: /^invalid secret name or id "/ },
        { method: 'CreateService', request: (s) => create({ secrets: [reference({ secretId: s })] }), error: /^invalid secret id "/ },
        { method: 'ListTasks', request: (service) => ({ service }), error: /^invalid service name or id "/ },
        { method: 'ListTasks', request: (node) => ({ node }), error: /^invalid node id or hostname "/ },
        { method: 'GetNode', request: (ref) => ({ ref }), error: /^invalid node id or hostname "/ },
        { method: 'UpdateNode', request: (ref) => ({ ref, availability: 'drain' }), error: /^invalid node id or hostname "/ },
        { method: 'RemoveNode', request: (ref) => ({ ref, force: true }), error: /^invalid node id or hostname "/ },
      ];
      // s1\0 and svc\0 would find the real objects if the store cut the key at the NUL.
      const bads: Array<[string, string]> = [
        ['s1\u0000', 's1\\u0000'], ['svc\u0000x', 'svc\\u0000x'], ['\u0000', '\\u0000'], ['a\u001b[31mb', 'a\\u001b[31mb'],
        ['a\u007fb', 'a\\u007fb'], ['a\u009bb', 'a\\u009bb'], ['a\u202eb', 'a\\u202eb'], ['a\nError: forged', 'a\\nError: forged'],
      ];
      for (const c of calls) {
        for (const [bad, echoed] of bads) {
          const what = `${c.method} ${JSON.stringify(c.request(bad))}`;
          const err = await unaryError(control, c.method, c.request(bad));
          assert.equal(statusName(err.code), 'INVALID_ARGUMENT', `${what}: ${err.details}`);
          assert.match(err.details, c.error, what);
          assert.ok(err.details.includes(`"${echoed}"`), `${what}: names the ref, escaped: ${err.details}`);
          assert.match(err.details, PRINTABLE_LINE, `${what}: printable, one line`);
        }
      }
      assert.deepEqual(await state(), before, 'something changed');
      assertAlive(run);
      assertNoErrorLogs(run);
    } finally {
      control.close();
    }
  });
});

test('the CLI refuses a ref with a control character on every command that takes one, before any call, echoing it escaped', async () => {
  await withManager(async (m, run) => {
    const env = m.env;
    await hushOk(['secret', 'create', 's1', '-'], { env, input: distinctive() });
    await hushOk(['service', 'create', '--name', 'svc', '--secret', 's1'], { env });
    const snapshot = async () => [
      (await hushOk(['service', 'ls', '--format', 'json'], { env })).stdout,
      (await hushOk(['secret', 'ls', '--format', 'json'], { env })).stdout,
    ];
    const before = await snapshot();
    // (A NUL cannot be passed in argv: the kernel would cut the argument there.)
    const bad = 's1\u001b[2J';
    const esc = /"s1\\u001b\[2J"/;
    const secret = new RegExp(`^Error: invalid secret name or id ${esc.source}: a secret name or id`);
    const service = new RegExp(`^Error: invalid service name or id ${esc.source}: a service name or id`);
    const node = new RegExp(`^Error: invalid node id or hostname ${esc.source}: a node id, id prefix, hostname or IP address$`);
    const cases: RefusedCall[] = [
      { what: 'secret update', args: ['secret', 'update', bad, '-'], input: distinctive(), error: secret },
      { what: 'secret rm', args: ['secret', 'rm', bad], error: secret },
      { what: 'service ps', args: ['service', 'ps', bad], error: service },
      { what: 'service rm', args: ['service', 'rm', bad], error: service },
      { what: 'service update', args: ['service', 'update', bad, '--replicas', '2'], error: service },
      { what: 'service update --secret-rm', args: ['service', 'update', 'svc', '--secret-rm', bad], error: new RegExp(`^Error: invalid secret reference to remove ${esc.source}`) },
      { what: 'node update', args: ['node', 'update', bad, '--availability', 'drain'], error: node },
      { what: 'node rm', args: ['node', 'rm', '--force', bad], error: node },
      { what: 'a DEL in a secret ref', args: ['secret', 'rm', 'a\u007f'], error: /^Error: invalid secret name or id "a\\u007f"/ },
      { what: 'a C1 CSI in a service ref', args: ['service', 'rm', 'a\u009b31m'], error: /^Error: invalid service name or id "a\\u009b31m"/ },
    ];
    await assertRefused(cases, env, 3);
    // inspect prints what it found (nothing: []) and one error line per ref it could not show.
    for (const [kind, error] of [['secret', secret], ['service', service], ['node', node]] as const) {
      const r = await hush([kind, 'inspect', bad], { env });
      assert.notEqual(r.code, 0, `${kind} inspect: exit code`);
      assert.equal(r.stdout, '[]\n', `${kind} inspect: stdout`);
      assert.match(oneErrorLine(r), error, `${kind} inspect`);
    }
    // The raw bytes written: no control character other than the line ends.
    for (const c of cases.slice(0, 3)) {
      const r = await hush(c.args, { env, input: c.input });
      assert.ok(!/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/.test(r.raw.toString()), `${c.what}: raw control bytes in the output`);
    }
    assert.deepEqual(await snapshot(), before, 'service ls or secret ls changed');
    assertAlive(run);
    assertNoErrorLogs(run);
  });
});

test('a secret reference without a mode over raw gRPC is mode 0400, as from the CLI; an explicit mode 0 stays 0000', async () => {
  await withManager(async (m, run) => {
    const env = m.env;
    for (const s of ['a', 'b', 'c', 'd']) await hushOk(['secret', 'create', s, '-'], { env, input: distinctive() });
    const control = controlUnixClient(m.stateDir);
    try {
      await unary(control, 'CreateService', { name: 'raw', secrets: [{ secretName: 'a' }, { secretName: 'b', mode: 0 }, { secretName: 'c', mode: 0o440 }] });
      await unary(control, 'UpdateService', { ref: 'raw', secretAdd: [{ secretName: 'd', target: 'd-default' }, { secretName: 'd', target: 'd-zero', mode: 0 }] });
      await hushOk(['service', 'create', '--name', 'cli', '--secret', 'a', '--secret', 'source=b,mode=0', '--secret', 'source=c,mode=0440'], { env });
      const modes = async (ref: string) => (await unary<WireService>(control, 'GetService', { ref })).secrets.map((r) => [r.target, r.mode]);
      assert.deepEqual(await modes('raw'), [['a', 0o400], ['b', 0], ['c', 0o440], ['d-default', 0o400], ['d-zero', 0]]);
      assert.deepEqual(await modes('cli'), [['a', 0o400], ['b', 0], ['c', 0o440]]);
      const inspected = JSON.parse((await hushOk(['service', 'inspect', 'raw', 'cli'], { env })).stdout) as Array<{ secrets: Array<{ target: string; mode: string }> }>;
      assert.deepEqual(inspected.map((s) => s.secrets.map((r) => `${r.target} ${r.mode}`)), [
        ['a 0400', 'b 0000', 'c 0440', 'd-default 0400', 'd-zero 0000'],
        ['a 0400', 'b 0000', 'c 0440'],
      ]);
      assertAlive(run);
    } finally {
      control.close();
    }
  });
});

test('on a real agent mount: a reference sent without a mode is a 0400 file, an explicit 0 a 0000 file', { timeout: 90_000 }, async () => {
  await withManager(async (m, run) => {
    const dir = join(m.root, 'agent');
    const control = controlUnixClient(m.stateDir);
    try {
      await startAgent({ managerPort: run.port!, token: m.workerToken, stateDir: join(dir, 'state'), mount: join(dir, 'mnt'), hostname: 'mode-node' });
      await hushOk(['secret', 'create', 'm', '-'], { env: m.env, input: distinctive() });
      await unary(control, 'CreateService', {
        name: 'modes', constraints: ['node.hostname==mode-node'],
        secrets: [{ secretName: 'm', target: 'absent' }, { secretName: 'm', target: 'zero', mode: 0 }],
      });
      const file = (name: string) => join(dir, 'mnt', 'modes.1', name);
      const st = await waitUntil('the task files', async () => {
        const [a, z] = await Promise.all([statFile(file('absent')), statFile(file('zero'))]);
        return !('error' in a) && !('error' in z) && { a, z };
      }, 30_000);
      assert.equal(st.a.mode, 0o400, 'no mode on the wire: 0400');
      assert.equal(st.z.mode, 0, 'explicit mode 0: 0000');
    } finally {
      control.close();
      await cleanUpAgents();
    }
  });
});

test('constraint operators are exactly == or !=: sloppy ones are refused by the CLI and over raw gRPC, nothing stored', async () => {
  await withManager(async (m, run) => {
    const env = m.env;
    await hushOk(['service', 'create', '--name', 'svc', '--constraint', 'node.role==worker'], { env });
    const control = controlUnixClient(m.stateDir);
    try {
      const before = await unary<unknown>(control, 'ListServices', {});
      const bad: Array<[string, RegExp]> = [
        ['node.id===x', /unknown operator "==="/],
        ['node.id!==x', /unknown operator "!=="/],
        ['node.id=!x', /unknown operator "=!"/],
        ['node.id==!x', /unknown operator "==!"/],
        ['node.id= =x', /unknown operator "="/],
        ['node.id! =x', /unknown operator "!"/],
        ['node.id=x', /unknown operator "="/],
        ['node.id=~x', /unknown operator "=~"/],
        ['node.id<>x', /unknown operator "<>"/],
        ['node.id== =x', /'=' is not allowed in a value/],
        ['node.id!= =x', /'=' is not allowed in a value/],
        ['node.labels.a==b=c', /'=' is not allowed in a value/],
        ['node.labels.a==b==c', /'=' is not allowed in a value/],
        ['node.id== !x', /cannot start with '!'/],
        ['node.id==', /no value after ==/],
        ['node.id!=   ', /no value after !=/],
        ['==x', /no field before ==/],
        ['  != x', /no field before !=/],
        ['node.labels. a==x', /expected node\.id\|node\.hostname/],
        ['node.lab els.a==x', /expected node\.id\|node\.hostname/],
      ];
      const cases: RefusedCall[] = bad.flatMap(([expr, why]) => {
        const error = new RegExp(`^Error: invalid constraint ${JSON.stringify(expr).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*${why.source}`);
        return [
          { what: `create ${expr}`, args: ['service', 'create', '--name', 'x', '--constraint', expr], error },
          { what: `update --constraint-add ${expr}`, args: ['service', 'update', 'svc', '--constraint-add', expr], error },
        ];
      });
      await assertRefused(cases, env, 3);
      for (const [expr, why] of bad) {
        for (const [method, request] of [
          ['CreateService', { name: 'x', constraints: [expr] }],
          ['UpdateService', { ref: 'svc', constraintAdd: [expr] }],
          ['UpdateService', { ref: 'svc', constraintRm: [expr] }],
        ] as const) {
          const err = await unaryError(control, method, request);
          assert.equal(statusName(err.code), 'INVALID_ARGUMENT', `${method} ${expr}: ${err.details}`);
          assert.match(err.details, why, `${method} ${expr}`);
          assert.match(err.details, PRINTABLE_LINE, `${method} ${expr}`);
        }
      }
      assert.deepEqual(await unary<unknown>(control, 'ListServices', {}), before, 'something was stored');
      // What is still accepted: spaces around the operator and inside a label value.
      await hushOk(['service', 'update', 'svc', '--constraint-add', ' node.labels.tier != front end '], { env });
      const svc = await unary<WireService>(control, 'GetService', { ref: 'svc' });
      assert.deepEqual(svc.constraints, ['node.role==worker', ' node.labels.tier != front end ']);
      assertAlive(run);
      assertNoErrorLogs(run);
    } finally {
      control.close();
    }
  });
});
