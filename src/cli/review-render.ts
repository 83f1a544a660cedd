import type { ReviewView } from '../policy/index.ts';

// How `paddock review` prints requests. Agents choose the tool names, resources and arguments
// printed here, so every string goes through printable(): a control or bidi character could
// otherwise move the cursor, rewrite earlier lines or reorder what the reviewer reads.

const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/gu;

/** `text` with control, bidi and invisible characters shown as `\u{…}` escapes. */
export function printable(text: string): string {
  return text.replace(UNSAFE, (char) => `\\u{${(char.codePointAt(0) as number).toString(16)}}`);
}

function approvalsOf(view: ReviewView): string {
  return `${view.approvals.length}/${view.minApprovals}`;
}

function heldAction(view: ReviewView): string {
  return view.action ? `${view.action} ${view.resource}` : view.tool;
}

/** One row per request under a header; `none` when the list is empty. */
export function renderList(views: readonly ReviewView[], none: string): string {
  if (views.length === 0) return `${none}\n`;
  const rows = views.map((view) => [
    view.id,
    view.timedOut && view.status === 'approved' ? 'approved (timeout)' : view.status,
    view.expiresAt,
    printable(view.requester),
    approvalsOf(view),
    printable(heldAction(view)),
  ]);
  const header = ['ID', 'STATUS', 'EXPIRES', 'REQUESTER', 'APPROVALS', 'ACTION'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] as string).length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] as number)))
      .join('  ');
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

function quoted(text: string | null): string {
  return text === null ? '' : ` "${printable(text)}"`;
}

/** Every field a reviewer needs to decide, the recorded arguments last. */
export function renderShow(view: ReviewView): string {
  const lines: [string, string][] = [
    [
      'status',
      view.timedOut && view.status === 'approved' ? 'approved by timeout (onTimeout allow)' : view.status,
    ],
    ['requester', printable(view.requester)],
    ['session', printable(`${view.sessionId ?? '-'}${view.harness ? ` (${view.harness})` : ''}`)],
    ['workspace', printable(view.workspaceId)],
    ['blueprint', printable(view.blueprint)],
    ['tool', printable(view.tool)],
    ['action', printable(heldAction(view))],
    ['rules', view.ruleIds.length > 0 ? printable(view.ruleIds.join(', ')) : '-'],
    ['digest', view.digest],
    [
      'reviewers',
      `${printable(view.reviewers.join(', ') || 'nobody')} (${view.minApprovals} distinct approval${view.minApprovals === 1 ? '' : 's'}; onTimeout ${view.onTimeout})`,
    ],
    ['created', view.createdAt],
    ['expires', view.expiresAt],
  ];
  if (view.decidedAt) {
    const by = view.decidedBy ? ` by ${printable(view.decidedBy)}` : view.timedOut ? ' by the timeout' : '';
    lines.push(['decided', `${view.decidedAt}${by}${quoted(view.decisionReason)}`]);
  }
  if (view.consumedAt) lines.push(['used', `${view.consumedAt} (the approved call went through)`]);
  const out = [`review ${view.id}`, ...lines.map(([key, value]) => `  ${key.padEnd(10)} ${value}`)];
  out.push(`  approvals  ${approvalsOf(view)}`);
  for (const approval of view.approvals) {
    out.push(`    ${printable(approval.reviewer)}  ${approval.at}${quoted(approval.reason)}`);
  }
  // JSON.stringify escapes C0 controls; printable() catches what it leaves (C1, bidi, U+2028).
  const args =
    view.arguments === null
      ? '    (not recorded: the blueprint logs no tool arguments; the approval is bound to their digest)'
      : JSON.stringify(view.arguments, null, 2)
          .split('\n')
          .map((line) => `    ${printable(line)}`)
          .join('\n');
  out.push('  arguments', args);
  return `${out.join('\n')}\n`;
}

/** One line after approve or deny. */
export function renderAnswer(view: ReviewView, verdict: 'approve' | 'deny'): string {
  if (verdict === 'deny') return `denied ${view.id}: the agent's call is refused\n`;
  if (view.status === 'approved') {
    return `approved ${view.id} (${approvalsOf(view)} approvals): the agent may retry the identical call once\n`;
  }
  const needed = view.minApprovals - view.approvals.length;
  return `recorded approval ${approvalsOf(view)} for ${view.id}: still pending, ${needed} more distinct approval${needed === 1 ? '' : 's'} needed\n`;
}
