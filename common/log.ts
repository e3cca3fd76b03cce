import { pino, type Logger } from 'pino';

// JSON logs on stderr for the daemons. Never pass a secret value to a logger:
// log ids, names and versions only.
// Asynchronous writes: a slow reader of stderr must not stall the event loop (the
// dispatcher writes an audit line per secret per node); pino flushes on exit.
export function createLogger(name: string): Logger {
  return pino({ name, level: process.env.HUSH_LOG_LEVEL ?? 'info' }, pino.destination({ dest: 2, sync: false, minLength: 0 }));
}
export type { Logger };
