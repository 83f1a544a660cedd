import { resolveBlueprint } from '../../config/index.ts';
import { PaddockError } from '../../core/errors.ts';
import { compilePolicyBundle, createDecisionPoint, POLICY_ACTIONS, toCedarJson } from '../../policy/index.ts';
import { policyInputFromBlueprint } from '../../supervisor/index.ts';
import { CONFIG_HELP, CONFIG_OPTION, type Command, JSON_HELP, JSON_OPTION } from '../command.ts';
import { loadStateFor } from '../load-state.ts';
import { writeJson } from '../output.ts';
import { explainJson, renderExplanation } from './policy-explain-render.ts';
import { requestFromResource } from './policy-resource.ts';

const HELP = `Compiles blueprint NAME and the repository's policies/*.cedar into the Cedar policy
bundle a supervisor enforces, decides one request with it, and prints the decision (allow,
deny or review), the policies that determined it with the blueprint field and file each was
compiled from, and why. The decision is computed by the decision point exactly as the
supervisor does, and checked against Cedar itself.

Resource syntax per --action:
  exec          'git push origin main'                 (quotes and \\ escapes as in a shell)
  read_file     '/workspace/src/index.ts'              (absolute, canonical)
  write_file    '/workspace/.github/workflows/ci.yml'
  connect       'api.github.com:443'                   (port 443 when omitted)
  http_request  'POST https://api.github.com/repos/a/b/pulls/1/reviews'
  mcp_call      'github/create_pending_review'         (--arguments '{"owner":"a"}')

--json prints {"decision", "reason", "policyIds", "bundle", "engine", "cedarAgrees",
"request", "context", "policies": [{id, effect, review, field, file, line, text}], "why"}.

Exit codes: 0 explained (whatever the decision), 1 blueprint or repository invalid, 2 usage error.

Options:
  -b, --blueprint NAME   the blueprint (metadata.name) whose bundle decides
  -a, --action ACTION    ${POLICY_ACTIONS.join(', ')}
  -r, --resource TEXT    what the action is on (see above)
      --arguments JSON   mcp_call arguments (default {})
      --user ID          the user the session belongs to (default "explain")
      --group NAME       a group of that user (repeatable)
${CONFIG_HELP}
${JSON_HELP}
`;

/** Files whose problems could change the bundle. */
const RELEVANT_FOLDERS = ['blueprints/', 'services/', 'policies/'];

/** `paddock policy explain`: one decision of a blueprint's bundle, and why. */
export const policyExplainCommand: Command = {
  name: 'policy explain',
  summary: "decide one request with a blueprint's Cedar bundle and print the determining policies",
  usage: '--blueprint NAME --action ACTION --resource TEXT',
  help: HELP,
  options: {
    ...CONFIG_OPTION,
    ...JSON_OPTION,
    blueprint: { type: 'string', short: 'b' },
    action: { type: 'string', short: 'a' },
    resource: { type: 'string', short: 'r' },
    arguments: { type: 'string' },
    user: { type: 'string' },
    group: { type: 'string', multiple: true },
  },
  async run(ctx) {
    const value = (name: string) => ctx.values[name] as string | undefined;
    const [name, action, resource] = [value('blueprint'), value('action'), value('resource')];
    if (ctx.positionals.length > 0)
      throw new PaddockError('PDK_CLI_USAGE', 'paddock policy explain takes no positional arguments');
    if (!name || !action || resource === undefined)
      throw new PaddockError(
        'PDK_CLI_USAGE',
        'paddock policy explain needs --blueprint, --action and --resource',
      );
    const request = requestFromResource(action, resource, value('arguments'));

    const { state } = await loadStateFor(ctx, RELEVANT_FOLDERS, 'the bundle');
    const resolved = resolveBlueprint(state, name);
    const bundle = compilePolicyBundle(policyInputFromBlueprint(resolved, state.policies));
    const principal = {
      session: 'explain',
      user: value('user') ?? 'explain',
      groups: (ctx.values['group'] as string[] | undefined) ?? [],
    };
    const pdp = createDecisionPoint(bundle, { principal, memoEntries: 0 });
    const decision = pdp.decide(request);
    const prepared = pdp.prepare(request);
    const context =
      'input' in prepared ? (toCedarJson(prepared.input.context) as Record<string, unknown>) : undefined;
    const engine = 'input' in prepared ? pdp.engines[prepared.input.action] : undefined;
    const cedar = pdp.decideWith('cedar', request);
    const explanation = {
      resolved,
      bundle,
      request,
      resource,
      decision,
      context,
      engine,
      cedarAgrees:
        cedar.decision === decision.decision && cedar.policyIds.join('\n') === decision.policyIds.join('\n'),
    };
    if (ctx.values['json']) writeJson(ctx.stdout, explainJson(explanation));
    else ctx.stdout.write(renderExplanation(explanation));
    return 0;
  },
};
