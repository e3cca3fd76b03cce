import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

// The owner file of an anchor directory (fs/anchors.ts): one agent per directory.

/**
 * DIR/.hush-agent: "PID STARTTIME MOUNTPOINT" of the agent using DIR. A second agent on the machine with
 * the same anchor directory would detach the first one's binds at its start: it is refused instead.
 * (Task names never start with a dot; consumers bind DIR/<task> and never see this file.)
 */
const OWNER_FILE = '.hush-agent';

/**
 * The start time of a live process (field 22 of /proc/PID/stat), which tells it from a later process with
 * the same pid; undefined when there is no such process or it has exited (a zombie not reaped yet).
 */
async function processStartTime(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' || fields[0] === 'X' ? undefined : fields[19];
  } catch {
    return undefined;
  }
}

/**
 * Makes this process the owner of the anchor directory `dir` (canonical) serving `mountPoint`; throws
 * when another running agent owns it (one that died, or whose pid now names another process, does not count).
 */
export async function claimAnchorDirectory(dir: string, mountPoint: string): Promise<void> {
  const owner = (await readFile(join(dir, OWNER_FILE), 'utf8').catch(() => '')).trim().split(' ');
  const ownerPid = Number(owner[0]);
  if (Number.isInteger(ownerPid) && ownerPid > 0 && ownerPid !== process.pid && owner[1] && (await processStartTime(ownerPid)) === owner[1]) {
    throw new Error(`hush: ${dir} is the anchor directory of another running agent (pid ${ownerPid}, mount ${owner.slice(2).join(' ')}): give each agent its own --anchors`);
  }
  await writeFile(join(dir, OWNER_FILE), `${process.pid} ${await processStartTime(process.pid)} ${mountPoint}\n`, { mode: 0o644 });
}
