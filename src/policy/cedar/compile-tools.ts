import { PaddockError } from '../../core/index.ts';
import type { PolicyBlueprint } from './bundle-types.ts';
import type { GeneratedPolicy } from './cedar-text.ts';
import { anyOf, cedarLike, cedarString, cedarStringSet } from './cedar-text.ts';

// spec.tools: commands (exec) and MCP tools (mcp_call).
//
// Command patterns are matched against the command line as one string, exactly as the blueprint
// schema describes them and as the inheritance check compares them (glob-containment.ts), so a
// child that narrows its parent there narrows it here too:
//
//   - the pattern's words are separated by single spaces (runs of whitespace collapse);
//   - `*` matches any run of characters, spaces included: "git *" matches every git command
//     with arguments, "git push * main" matches "git push origin main" and
//     "git push -u origin main";
//   - a pattern ending in a space and a lone `*` also matches the command without that last
//     word: "git push *" matches "git push" (a deny of "git push *" must not miss a bare push);
//   - everything else is literal and case-sensitive.
//
// The command line is argv joined by single spaces, a word holding whitespace, a quote or a
// backslash single-quoted (pdp/request-forms.ts), so one string never stands for two argvs.
// Allow patterns match that line as given. Deny patterns also match it with argv[0] reduced to
// its basename: "/usr/bin/git push" is denied by "git push *" but not allowed by "git *".

/** Collapses whitespace runs and trims, as the inheritance check does. */
export function normalizeCommandPattern(pattern: string): string {
  return pattern.trim().split(/\s+/u).join(' ');
}

/** The Cedar condition for one pattern against one context attribute. */
export function commandPatternCondition(pattern: string, attribute: string): string {
  const normalized = normalizeCommandPattern(pattern);
  const test = (text: string) =>
    text.includes('*')
      ? `context.${attribute} like ${cedarLike(text, true)}`
      : `context.${attribute} == ${cedarString(text)}`;
  const alternatives = [test(normalized)];
  if (normalized.length > 2 && normalized.endsWith(' *')) alternatives.push(test(normalized.slice(0, -2)));
  return anyOf(alternatives);
}

/** Policies for `spec.tools.commands` and `spec.tools.mcp`. */
export function compileTools(blueprint: PolicyBlueprint): GeneratedPolicy[] {
  const policies: GeneratedPolicy[] = [];
  const commands = blueprint.commands ?? {};
  for (const [kind, patterns] of [
    ['allow', commands.allow ?? []],
    ['deny', commands.deny ?? []],
  ] as const) {
    patterns.forEach((pattern, index) => {
      if (normalizeCommandPattern(pattern) === '')
        throw new PaddockError(
          'PDK_POLICY_INVALID',
          `tools.commands.${kind}[${index}]: the pattern is empty`,
        );
    });
  }
  (commands.allow ?? []).forEach((pattern, index) => {
    policies.push({
      id: `commands.allow[${index}]`,
      effect: 'permit',
      actions: ['exec'],
      condition: commandPatternCondition(pattern, 'command'),
      reason: 'command_allowed',
      field: `spec.tools.commands.allow[${index}]`,
    });
  });
  (commands.deny ?? []).forEach((pattern, index) => {
    const asGiven = commandPatternCondition(pattern, 'command');
    const byName = commandPatternCondition(pattern, 'commandBasename');
    policies.push({
      id: `commands.deny[${index}]`,
      effect: 'forbid',
      actions: ['exec'],
      condition: `${asGiven} || ${byName}`,
      reason: 'command_denied',
      field: `spec.tools.commands.deny[${index}]`,
    });
  });
  (blueprint.mcp ?? []).forEach((entry, index) => {
    // An empty allow list grants nothing; no policy keeps the bundle smaller.
    if (entry.allow.length === 0) return;
    policies.push({
      id: `mcp[${entry.server}].allow`,
      effect: 'permit',
      actions: ['mcp_call'],
      condition: `context.server == ${cedarString(entry.server)} && ${cedarStringSet(entry.allow)}.contains(context.tool)`,
      reason: 'tool_allowed',
      field: `spec.tools.mcp[${index}].allow`,
    });
  });
  return policies;
}
