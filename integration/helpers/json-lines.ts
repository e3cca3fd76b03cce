// A daemon's stderr as JSON log lines (pino), for the process helpers of managers and agents.
import type { Readable } from 'node:stream';

export interface LogLine {
  msg?: string;
  level?: number;
  [k: string]: unknown;
}

/** Calls onLine for every complete line of `stream`, parsed as JSON (or `{ text }` if it is not); onRaw gets every chunk. */
export function followJsonLines(stream: Readable, onLine: (line: LogLine) => void, onRaw: (chunk: string) => void = () => undefined): void {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    onRaw(chunk);
    partial += chunk;
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      let parsed: LogLine;
      try {
        parsed = JSON.parse(line) as LogLine;
      } catch {
        parsed = { msg: undefined, text: line };
      }
      onLine(parsed);
    }
  });
}
