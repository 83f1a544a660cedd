import { resolve } from 'node:path';
import { requireValidRepository } from '../../config/index.ts';
import { bootstrapLocal } from '../../controlplane/index.ts';
import { ENV } from '../../core/env.ts';
import { PaddockError } from '../../core/errors.ts';
import { probeSandboxFeatures } from '../../supervisor/index.ts';
import { CONFIG_HELP, CONFIG_OPTION, type Command, JSON_HELP, JSON_OPTION } from '../command.ts';
import { resolveConfigDir } from '../config-dir.ts';
import { writeJson } from '../output.ts';
import { displayPath, summarize } from './validate.ts';

const HELP = `Brings Paddock up locally from a desired-state directory: validates it, opens
the control-plane store under the data directory (SQLite, migrated), registers the
embedded identity provider's demo users, gives the first assigned demo user a workspace,
and records that in the control plane's hash-chained audit log, which it then verifies.
Running it again is safe.

This build has no control-plane server yet: \`up\` prepares the store and returns.

Options:
${CONFIG_HELP}
      --data-dir DIR  where the store and audit log live (default: $${ENV.dataDir}, else ./.paddock)
${JSON_HELP}
`;

/** `paddock up`: what `npm start` runs. */
export const upCommand: Command = {
  name: 'up',
  summary: 'bring Paddock up locally from a desired-state directory',
  usage: '[--config DIR] [--data-dir DIR]',
  help: HELP,
  options: { ...CONFIG_OPTION, ...JSON_OPTION, 'data-dir': { type: 'string' } },
  async run(ctx) {
    if (ctx.positionals.length > 0) {
      throw new PaddockError('PDK_CLI_USAGE', `paddock up takes no arguments, got "${ctx.positionals[0]}"`);
    }
    const configDir = resolveConfigDir(ctx);
    const dataDir = resolve(
      ctx.cwd,
      (ctx.values['data-dir'] as string | undefined) ?? ctx.env[ENV.dataDir] ?? '.paddock',
    );
    const { state } = await requireValidRepository(configDir);
    const result = await bootstrapLocal({ state, dataDir });
    const missing = probeSandboxFeatures().filter((feature) => feature.required && feature.status !== 'ok');
    if (ctx.values['json']) {
      writeJson(ctx.stdout, { configDir, dataDir, ...result, sandboxReady: missing.length === 0 });
      return 0;
    }
    const show = (path: string) => displayPath(ctx.cwd, path);
    const out = (label: string, text: string) => ctx.stdout.write(`  ${label.padEnd(15)}${text}\n`);
    ctx.stdout.write('paddock up\n');
    out('desired state', `${show(configDir)}: valid (${summarize(state)})`);
    out(
      'store',
      `${result.storeUrl.startsWith('sqlite:') ? `sqlite:${show(result.storeUrl.slice(7))}` : 'postgres'} (schema version ${result.schemaVersion})`,
    );
    out(
      'users',
      result.users.length
        ? `${result.users.length} demo users: ${result.users.join(', ')}`
        : 'none (identity provider is not embedded)',
    );
    if (result.workspace) {
      const w = result.workspace;
      out(
        'workspace',
        `${w.id} for ${w.owner}, profile ${w.profile}${w.created ? ' (created)' : ' (exists)'}`,
      );
    }
    out(
      'sandbox',
      missing.length === 0
        ? 'this host can run agent sandboxes (details: npx paddock doctor)'
        : `NOT READY, missing: ${missing.map((feature) => feature.name).join(', ')} (run npx paddock doctor)`,
    );
    out(
      'audit',
      `${show(result.auditLog)}: ${result.auditRecords} records, chain intact (head ${result.auditHead.slice(0, 16)}…)`,
    );
    ctx.stdout.write(
      [
        '',
        'Not in this build yet: the control-plane server, console and sign-in. Try:',
        `  npx paddock blueprint explain code-review --config ${show(configDir)}`,
        `  npx paddock validate ${show(configDir)}`,
        `  npx paddock audit verify ${show(result.auditLog)}`,
        `  npx paddock run --blueprint coding-agent --config ${show(configDir)} -- bash`,
        '',
      ].join('\n'),
    );
    return 0;
  },
};
