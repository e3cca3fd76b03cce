// A manager's own id, kept in its state directory (manager.json) so that several managers sharing
// one store each find their own identity there. A state directory made before this file existed
// belongs to the cluster's only manager, whose identity is the store's single /manager-identity.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurable } from '../../common/files.js';
import { ID_PATTERN } from '../../common/ids.js';

const FILE = 'manager.json';

export function readManagerId(stateDir: string): string | undefined {
  const path = join(stateDir, FILE);
  if (!existsSync(path)) return undefined;
  const { id } = JSON.parse(readFileSync(path, 'utf8')) as { id?: unknown };
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) throw new Error(`${path} holds no valid manager id`);
  return id;
}

export function writeManagerId(stateDir: string, id: string): void {
  writeFileDurable(join(stateDir, FILE), JSON.stringify({ id }) + '\n', 0o600);
}
