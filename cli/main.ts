#!/usr/bin/env node
// The `hush` command. `hush --version` (alone) is answered here, as commander would answer it,
// without loading commander: scripts ask for it in loops (bench/cli-start.ts). Every other command
// line goes to the program (program.ts).
import { VERSION } from '../common/version.js';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
  process.stdout.write(`${VERSION}\n`);
} else {
  void import('./program.js').then((p) => p.run(process.argv));
}
