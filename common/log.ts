import { pino, type Logger } from 'pino';

// JSON logs on stderr for the daemons. Never pass a secret value to a logger:
// log ids, names and versions only.
export function createLogger(name: string): Logger {
  return pino({ name, level: process.env.HUSH_LOG_LEVEL ?? 'info' }, pino.destination({ dest: 2, sync: true }));
}
export type { Logger };
