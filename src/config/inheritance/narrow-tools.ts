import type { EffectiveCommands } from './effective-scope.ts';
import { quoteAll } from './effective-scope.ts';
import { commandPatternContains } from './glob-containment.ts';
import type { WideningReport } from './widening-report.ts';

// spec.tools: what the agent may execute and which MCP tools it may call.

/**
 * tools.commands: each child allow pattern must be covered by one parent allow
 * pattern ("git status" is covered by "git *", not the reverse), and every
 * parent deny must still be denied: the child keeps it or denies a pattern
 * covering it ("git push*" covers "git push *"). Deny wins over allow, so a
 * child may always add denies.
 */
export function checkCommandsNarrow(
  child: EffectiveCommands,
  parent: EffectiveCommands,
  report: WideningReport,
): void {
  const base = ['spec', 'tools', 'commands'];
  const extra = child.allow.filter(
    (pattern) => !parent.allow.some((outer) => commandPatternContains(outer, pattern)),
  );
  if (extra.length > 0) {
    report.widens([...base, 'allow'], 'spec.tools.commands.allow', `adds ${quoteAll(extra)}`, [
      ...base,
      'allow',
      child.allow.indexOf(extra[0]!),
    ]);
  }
  const dropped = parent.deny.filter(
    (pattern) => !child.deny.some((outer) => commandPatternContains(outer, pattern)),
  );
  if (dropped.length > 0) {
    report.widens([...base, 'deny'], 'spec.tools.commands.deny', `removes ${quoteAll(dropped)}`);
  }
}

type McpServers = readonly { readonly server: string; readonly allow: readonly string[] }[];

/**
 * tools.mcp: each child server must be one of the parent's, and each tool it
 * allows must be in the parent's allow list for that server. Tool names are
 * compared exactly: a name that looks like a pattern is not treated as one.
 */
export function checkMcpNarrow(child: McpServers, parent: McpServers, report: WideningReport): void {
  const parentByServer = new Map<string, readonly string[]>();
  for (const entry of parent)
    if (!parentByServer.has(entry.server)) parentByServer.set(entry.server, entry.allow);
  child.forEach((entry, index) => {
    const base = ['spec', 'tools', 'mcp', index];
    const label = `spec.tools.mcp[${entry.server}]`;
    const allowed = parentByServer.get(entry.server);
    if (allowed === undefined) {
      report.widens(base, label, `adds server "${entry.server}"`);
      return;
    }
    const extra = entry.allow.filter((tool) => !allowed.includes(tool));
    if (extra.length > 0) {
      report.widens([...base, 'allow'], `${label}.allow`, `adds ${quoteAll(extra)}`, [
        ...base,
        'allow',
        entry.allow.indexOf(extra[0]!),
      ]);
    }
  });
}
