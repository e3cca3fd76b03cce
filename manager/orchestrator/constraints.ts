// Placement constraints, as Swarm's: node.id, node.hostname, node.role,
// node.labels.KEY, compared with exactly == or !=.
import { invalidArgument } from '../../common/errors.js';
import { quote } from '../../common/printable.js';
import type { NodeRecord } from '../state/records.js';

export interface Constraint {
  field: 'id' | 'hostname' | 'role' | 'label';
  label?: string;
  op: '==' | '!=';
  value: string;
}

const MAX_EXPR_LENGTH = 512;
const MAX_VALUE_LENGTH = 256;
/** KEY OP VALUE: the key is everything before the first operator character, the operator the whole run of them. */
const SPLIT = /^\s*([^=!<>~\s]*)\s*([=!<>~]+)\s*(.*?)\s*$/s;
const KEY = /^node\.(id|hostname|role|labels\.([A-Za-z0-9][A-Za-z0-9._/-]{0,127}))$/;
// C0, DEL, C1, line separators and bidi overrides: nothing that could forge a line or hide text.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const SYNTAX = 'expected node.id|node.hostname|node.role|node.labels.KEY followed by == or != and a value';

export function parseConstraint(expr: string): Constraint {
  const fail = (why: string) => invalidArgument(`invalid constraint ${quote(expr)}: ${why}`);
  if (typeof expr !== 'string' || expr.length > MAX_EXPR_LENGTH) throw fail(SYNTAX);
  if (CONTROL.test(expr)) throw fail('control characters are not allowed');
  const m = SPLIT.exec(expr);
  if (!m) throw fail(SYNTAX);
  const [, key, op, value] = m;
  if (op !== '==' && op !== '!=') throw fail(`unknown operator ${quote(op)}: only == and != (no spaces inside)`);
  const k = KEY.exec(key);
  if (!k) throw fail(key === '' ? `no field before ${op}: ${SYNTAX}` : `unknown field ${quote(key)}: ${SYNTAX}`);
  if (value === '') throw fail(`no value after ${op}`);
  if (value.includes('=')) throw fail(`'=' is not allowed in a value (the operator is exactly ${op})`);
  if (value.startsWith('!')) throw fail(`a value cannot start with '!' (the operator is exactly == or !=)`);
  if (value.length > MAX_VALUE_LENGTH) throw fail(`the value is longer than ${MAX_VALUE_LENGTH} characters`);
  const field = k[1].startsWith('labels.') ? 'label' : (k[1] as Constraint['field']);
  if (field === 'role' && value !== 'worker' && value !== 'manager') throw fail('node.role is worker or manager');
  return { field, label: k[2], op, value };
}

function actual(c: Constraint, node: NodeRecord): string | undefined {
  switch (c.field) {
    case 'id': return node.id;
    case 'hostname': return node.hostname;
    case 'role': return node.role;
    case 'label': return node.labels[c.label!];
  }
}

/** A node satisfies every constraint. A missing label satisfies != and fails ==. */
export function satisfies(node: NodeRecord, constraints: Constraint[]): boolean {
  return constraints.every((c) => (actual(c, node) === c.value) === (c.op === '=='));
}
