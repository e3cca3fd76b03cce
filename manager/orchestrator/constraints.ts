// Placement constraints, as Swarm's: node.id, node.hostname, node.role,
// node.labels.KEY, compared with == or !=.
import { invalidArgument } from '../../common/errors.js';
import type { NodeRecord } from '../state/records.js';

export interface Constraint {
  field: 'id' | 'hostname' | 'role' | 'label';
  label?: string;
  op: '==' | '!=';
  value: string;
}

const EXPR = /^\s*node\.(id|hostname|role|labels\.([A-Za-z0-9][A-Za-z0-9._/-]{0,127}))\s*(==|!=)\s*(\S(?:.{0,254}\S)?)\s*$/;

export function parseConstraint(expr: string): Constraint {
  const m = typeof expr === 'string' && expr.length <= 512 ? EXPR.exec(expr) : null;
  if (!m) {
    throw invalidArgument(`invalid constraint ${JSON.stringify(String(expr).slice(0, 80))}: expected node.id|node.hostname|node.role|node.labels.KEY followed by == or != and a value`);
  }
  const field = m[1].startsWith('labels.') ? 'label' : (m[1] as Constraint['field']);
  const value = m[4];
  if (/[\u0000-\u001f\u007f]/.test(value)) throw invalidArgument('invalid constraint: control characters in the value');
  if (field === 'role' && value !== 'worker' && value !== 'manager') {
    throw invalidArgument(`invalid constraint ${JSON.stringify(expr)}: node.role is worker or manager`);
  }
  return { field, label: m[2], op: m[3] as Constraint['op'], value };
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
