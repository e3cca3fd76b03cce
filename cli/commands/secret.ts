// `hush secret ...`
import type { Command } from 'commander';
import type { Secret__Output } from '../../proto/gen/hush/v1/Secret.js';
import { CliErrors } from '../client.js';
import { parseLabels, readSecretData } from '../input.js';
import { ago, iso, table } from '../output.js';
import { validateRef } from '../../manager/refs.js';
import { action, collect, controlFor, printJsonFormat, warnIfStale } from './common.js';

function secretJson(s: Secret__Output) {
  return {
    id: s.id, name: s.name, labels: s.labels, createdAt: iso(s.createdAtMs), updatedAt: iso(s.updatedAtMs),
    versions: s.versions.map((v) => ({ version: v.version, createdAt: iso(v.createdAtMs), size: v.size })),
  };
}

/** The subcommands of `hush secret` (main.ts declares the group). */
export function secretCommands(secret: Command): void {
  secret.command('create').argument('<name>').argument('[file]', 'file holding the data, or - for stdin (default: stdin)')
    .description('create a secret from a file or stdin')
    .option('-l, --label <key=value>', 'set a label (repeatable)', collect, [])
    .action(action(async (cmd, name: string, file: string | undefined, opts: { label: string[] }) => {
      const labels = parseLabels(opts.label);
      const data = readSecretData(file);
      try {
        const res = await controlFor(cmd).call<object, { secret: Secret__Output }>('CreateSecret', { name, data, labels });
        console.log(res.secret.id);
      } finally {
        data.fill(0);
      }
    }));

  secret.command('update').argument('<secret>', 'name or id').argument('[file]', 'file holding the new data, or - for stdin (default: stdin)')
    .description('add a new version of a secret; nodes following the latest version get it live')
    .action(action(async (cmd, ref: string, file: string | undefined) => {
      validateRef(ref, 'secret');
      const data = readSecretData(file);
      try {
        const res = await controlFor(cmd).call<object, { secret: Secret__Output }>('UpdateSecret', { ref, data });
        const v = res.secret.versions[res.secret.versions.length - 1];
        console.log(`${res.secret.id} version ${v.version}`);
      } finally {
        data.fill(0);
      }
    }));

  secret.command('ls').alias('list').description('list secrets')
    .option('-q, --quiet', 'only display ids')
    .option('--format <format>', 'json: one JSON object per line')
    .action(action(async (cmd, opts: { quiet?: boolean; format?: string }) => {
      const res = await controlFor(cmd).call<object, { secrets: Secret__Output[]; warning?: string }>('ListSecrets', {});
      warnIfStale(res);
      if (opts.quiet) {
        for (const s of res.secrets) console.log(s.id);
      } else if (printJsonFormat(opts.format, res.secrets.map(secretJson))) {
        // printed
      } else {
        console.log(table(['ID', 'NAME', 'VERSIONS', 'CREATED', 'UPDATED'], res.secrets.map((s) =>
          [s.id, s.name, String(s.versions.length), ago(s.createdAtMs), ago(s.updatedAtMs)])));
      }
    }));

  secret.command('inspect').argument('<secret...>', 'names or ids').description('show secrets\' metadata as JSON (never the data)')
    .action(action(async (cmd, refs: string[]) => {
      const control = controlFor(cmd);
      const found = [];
      const errors: string[] = [];
      for (const ref of refs) {
        try {
          found.push(secretJson((await control.call<object, { secret: Secret__Output }>('GetSecret', { ref: validateRef(ref, 'secret') })).secret));
        } catch (e) {
          errors.push((e as Error).message);
        }
      }
      console.log(JSON.stringify(found, null, 2));
      if (errors.length) throw new CliErrors(errors);
    }));

  secret.command('rm').alias('remove').argument('<secret...>', 'names or ids').description('remove secrets')
    .action(action(async (cmd, refs: string[]) => {
      const control = controlFor(cmd);
      const errors: string[] = [];
      for (const ref of refs) {
        try {
          await control.call('RemoveSecret', { ref: validateRef(ref, 'secret') });
          console.log(ref);
        } catch (e) {
          errors.push((e as Error).message);
        }
      }
      if (errors.length) throw new CliErrors(errors);
    }));
}
