import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { didYouMean, findKind, KINDS, type KindSpec, renderJsonSchema } from '../../config/index.ts';
import { PaddockError } from '../../core/errors.ts';
import type { Command } from '../command.ts';

const KIND_NAMES = KINDS.map((spec) => spec.kind.toLowerCase());

const HELP = `Writes the JSON Schema (draft 2020-12) of each desired-state kind, generated from
the schemas \`paddock validate\` enforces, for editors that check YAML as you type
(see docs/desired-state.md for VS Code). With --out DIR it writes
${KINDS.map((spec) => spec.schemaFile).join(', ')}
(or only the --kind given); with --kind alone it prints that one schema to stdout.

KIND is one of: ${KIND_NAMES.join(', ')}.

Exit codes: 0 written, 1 a file could not be written, 2 usage error.

Options:
  -o, --out DIR      write the schema files into DIR (created when missing)
  -k, --kind KIND    only this kind
`;

/** `paddock schema [--out DIR] [--kind KIND]`: JSON Schema for editor integration. */
export const schemaCommand: Command = {
  name: 'schema',
  summary: 'write the JSON Schema of each desired-state kind for editors',
  usage: '[--out DIR] [--kind KIND]',
  help: HELP,
  options: { out: { type: 'string', short: 'o' }, kind: { type: 'string', short: 'k' } },
  async run(ctx) {
    if (ctx.positionals.length > 0) {
      throw new PaddockError(
        'PDK_CLI_USAGE',
        `paddock schema takes no arguments, got "${ctx.positionals[0]}"`,
      );
    }
    const kindName = ctx.values['kind'] as string | undefined;
    const out = ctx.values['out'] as string | undefined;
    const kinds = kindName === undefined ? KINDS : [parseKind(kindName)];
    if (out === undefined) {
      if (kindName === undefined) {
        throw new PaddockError(
          'PDK_CLI_USAGE',
          'paddock schema needs --out DIR (all kinds) or --kind KIND (one kind to stdout)',
        );
      }
      ctx.stdout.write(renderJsonSchema(kinds[0]!));
      return 0;
    }
    const dir = resolve(ctx.cwd, out);
    try {
      await mkdir(dir, { recursive: true });
      for (const spec of kinds) {
        const file = join(dir, spec.schemaFile);
        await writeFile(file, renderJsonSchema(spec));
        ctx.stdout.write(`wrote ${file}\n`);
      }
    } catch (error) {
      throw new PaddockError(
        'PDK_CONFIG_SCHEMA_WRITE',
        `cannot write JSON Schema files to ${dir}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    return 0;
  },
};

function parseKind(name: string): KindSpec {
  const spec = findKind(name);
  if (spec) return spec;
  const match = didYouMean(name, KIND_NAMES);
  throw new PaddockError(
    'PDK_CLI_USAGE',
    `unknown kind "${name}"${match ? ` (did you mean "${match}"?)` : ''}; kinds: ${KIND_NAMES.join(', ')}`,
  );
}
