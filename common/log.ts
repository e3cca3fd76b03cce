import { pino, type DestinationStream, type Logger } from 'pino';

// JSON logs on stderr for the daemons. Never pass a secret value to a logger:
// log ids, names and versions only.
// Asynchronous writes: a slow reader of stderr must not stall the event loop (the
// dispatcher writes an audit line per secret per node); pino flushes on exit.

/**
 * Fields that hold secret material anywhere in hush's requests and records. Logging them is a bug;
 * redacting them (at the top level and one level down, e.g. `log.info({ req })`) keeps such a bug
 * from writing a value to a log.
 */
const SECRET_FIELDS = ['data', 'payload', 'keyPem', 'key', 'privateKey', 'unlockKey', 'token', 'password', 'bindPassword', 'dek', 'kek'];
export const REDACT_PATHS = SECRET_FIELDS.flatMap((f) => [f, `*.${f}`]);

export function createLogger(name: string, dest: DestinationStream = pino.destination({ dest: 2, sync: false, minLength: 0 })): Logger {
  return pino({ name, level: process.env.HUSH_LOG_LEVEL ?? 'info', redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, dest);
}
export type { Logger };
