// "The disk is full" as one typed error, whatever noticed it: SQLite (SQLITE_FULL), a file write
// (ENOSPC, or EDQUOT past a quota), or another store backend. The RPC layer answers it with
// RESOURCE_EXHAUSTED and this message; nothing of what failed is stored.

export const DISK_FULL_MESSAGE = "the manager's disk is full";

export class DiskFullError extends Error {
  constructor() {
    super(DISK_FULL_MESSAGE);
    this.name = 'DiskFullError';
  }
}

const DISK_FULL_CODES = new Set(['SQLITE_FULL', 'ENOSPC', 'EDQUOT']);

/** True for an error that says the disk (or the quota) is full. */
export function isDiskFull(err: unknown): boolean {
  if (err instanceof DiskFullError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && DISK_FULL_CODES.has(code);
}

/** err as a DiskFullError if it says the disk is full, else err unchanged. */
export function asDiskFull(err: unknown): unknown {
  return isDiskFull(err) && !(err instanceof DiskFullError) ? new DiskFullError() : err;
}
