import {
  explainBlueprintJson,
  readBlueprintFile,
  renderExplainedBlueprint,
  resolveBlueprint,
  withBlueprint,
} from '../../config/index.ts';
import { PaddockError } from '../../core/errors.ts';
import { CONFIG_HELP, CONFIG_OPTION, type Command, JSON_HELP, JSON_OPTION } from '../command.ts';
import { describeProblems, loadStateFor } from '../load-state.ts';
import { writeJson } from '../output.ts';

const HELP = `Prints the effective blueprint NAME: its \`extends\` chain applied (a field the
blueprint sets replaces the parent's, one it omits is inherited) and services named
without hosts filled in from services/NAME.yaml. Each line ends with a comment naming
the file its value came from; "(default)" marks a default filled in (ports [443]).

NAME is a blueprint's metadata.name, or a path to a blueprint file (anything that is
not a plain name, e.g. ./draft.yaml); a file is explained in place of the repository's
blueprint of the same name, and its parents still come from the repository.

The blueprint's chain must be valid: an unknown parent, a cycle or a widening is an
error listing each problem. Problems in blueprints/ or services/ stop the command;
problems elsewhere in the repository are noted on stderr.

--json prints {"name", "chain", "blueprint", "sources": {"spec.services[0].hosts[0]": FILE, ...}}.

Exit codes: 0 explained, 1 not found or invalid, 2 usage error.

Options:
${CONFIG_HELP}
${JSON_HELP}
`;

/** A blueprint name is a DNS label; anything else on the command line is a file path. */
const BLUEPRINT_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Files whose problems could change the explained blueprint. */
const RELEVANT_FOLDERS = ['blueprints/', 'services/'];

/** `paddock blueprint explain NAME`: where every value of an effective blueprint comes from. */
export const blueprintExplainCommand: Command = {
  name: 'blueprint explain',
  summary: 'print the effective blueprint, each value with the file it comes from',
  usage: 'NAME|FILE',
  help: HELP,
  options: { ...CONFIG_OPTION, ...JSON_OPTION },
  async run(ctx) {
    if (ctx.positionals.length !== 1) {
      throw new PaddockError(
        'PDK_CLI_USAGE',
        `paddock blueprint explain takes one NAME or FILE, got ${ctx.positionals.length}`,
      );
    }
    const target = ctx.positionals[0]!;
    const { state, problems } = await loadStateFor(ctx, RELEVANT_FOLDERS, 'the blueprint');
    if (problems.length > 0) {
      ctx.stderr.write(
        `note: ${describeProblems(problems)} elsewhere in ${state.root}; run \`paddock validate\`\n`,
      );
    }
    let name = target;
    let effectiveState = state;
    if (!BLUEPRINT_NAME.test(target)) {
      const document = await readBlueprintFile(state.root, target, ctx.cwd);
      name = document.value.metadata.name;
      effectiveState = withBlueprint(state, document);
    }
    const resolved = resolveBlueprint(effectiveState, name);
    if (ctx.values['json']) writeJson(ctx.stdout, explainBlueprintJson(resolved));
    else ctx.stdout.write(renderExplainedBlueprint(resolved));
    return 0;
  },
};
