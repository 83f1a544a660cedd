import { describe } from 'node:test';
import { decisionTable } from './decision-table.ts';

// Decision tables for the non-coding blueprints of examples/platform, with the repository's
// policies/*.cedar merged in. Each row runs on both paths.

const FORCE_PUSH = 'extra:policies/no-force-push.cedar#no-force-push';
const CI_EDITS = 'extra:policies/protect-ci.cedar#no-ci-edits';
const WAREHOUSE = 'https://warehouse.data.example.com/api/v2';
const JIRA = 'https://tickets.example.com/rest/api/3';

describe('decision table: data-analysis', () => {
  decisionTable('data-analysis', [
    ['exec', 'python3 analyze.py', 'allow', 'command_allowed', ['commands.allow[0]']],
    ['exec', 'head -n 5 data.csv', 'allow', 'command_allowed', ['commands.allow[3]']],
    ['exec', 'pip install pandas', 'deny', 'command_denied', ['commands.deny[2]']],
    // Deny patterns are anchored at the start: this is "python3 *", not "pip install *".
    ['exec', 'python3 -m pip install pandas', 'allow', 'command_allowed', ['commands.allow[0]']],
    ['exec', 'wget http://example.com/x', 'deny', 'command_denied', ['commands.deny[1]']],
    ['exec', 'git status', 'deny', 'command_not_allowed'],
    ['read_file', '/workspace/data.csv', 'allow', 'path_allowed', ['dataScope.read[0]']],
    [
      'read_file',
      '/workspace/reports/q3.md',
      'allow',
      'path_allowed',
      ['dataScope.read[0]', 'dataScope.write[0]'],
    ],
    ['write_file', '/workspace/reports/q3.md', 'allow', 'path_allowed', ['dataScope.write[0]']],
    ['write_file', '/workspace/data.csv', 'deny', 'path_not_in_scope'],
    ['write_file', '/workspace/reports2/x.md', 'deny', 'path_not_in_scope'],
    ['write_file', '/workspace/reports/.claude/agents.md', 'deny', 'path_protected', ['protected[.claude/]']],
    ['write_file', '/workspace/reports/sub/.git/config', 'deny', 'path_protected', ['protected[**/.git/]']],
    // A forbid decides even where nothing permits: the determining policy is the forbid.
    ['write_file', '/workspace/.github/workflows/x.yml', 'deny', 'ci_config_protected', [CI_EDITS]],
    ['connect', 'warehouse.data.example.com:443', 'allow', 'host_allowed', ['services[warehouse].hosts']],
    ['connect', 'warehouse.data.example.com:5432', 'deny', 'host_not_allowed'],
    [
      'http_request',
      `POST ${WAREHOUSE}/queries`,
      'allow',
      'request_allowed',
      ['services[warehouse].rules[1]'],
    ],
    [
      'http_request',
      `GET ${WAREHOUSE}/queries/42/results`,
      'allow',
      'request_allowed',
      ['services[warehouse].rules[0]'],
    ],
    ['http_request', `GET ${WAREHOUSE}/queries/42/results/raw`, 'deny', 'request_not_allowed'],
    [
      'http_request',
      `GET ${WAREHOUSE}/tables/sales/columns`,
      'allow',
      'request_allowed',
      ['services[warehouse].rules[0]'],
    ],
    ['http_request', `GET ${WAREHOUSE}/tables`, 'allow', 'request_allowed', ['services[warehouse].rules[0]']],
    ['http_request', `DELETE ${WAREHOUSE}/queries`, 'deny', 'request_not_allowed'],
    ['http_request', `GET ${WAREHOUSE}/tables/%2e%2e/secrets`, 'deny', 'path_ambiguous'],
    [
      'http_request',
      'POST https://llm.example.com/v1/chat/completions',
      'allow',
      'request_allowed',
      ['services[llm-gateway].rules[0]'],
    ],
    ['mcp_call', 'github/get_pull_request', 'deny', 'tool_not_allowed'],
  ]);
});

describe('decision table: docs-research', () => {
  decisionTable('docs-research', [
    ['exec', 'pandoc a.md -o a.pdf', 'allow', 'command_allowed', ['commands.allow[5]']],
    ['exec', 'rg TODO', 'allow', 'command_allowed', ['commands.allow[3]']],
    ['exec', 'curl -s https://example.com', 'deny', 'command_denied', ['commands.deny[0]']],
    ['exec', 'git log', 'deny', 'command_not_allowed'],
    ['exec', 'git push --force', 'deny', 'force_push_forbidden', [FORCE_PUSH]],
    ['write_file', '/workspace/notes/summary.md', 'allow', 'path_allowed', ['dataScope.write[0]']],
    ['write_file', '/workspace/notes', 'allow', 'path_allowed', ['dataScope.write[0]']],
    ['write_file', '/workspace/notesX', 'deny', 'path_not_in_scope'],
    ['write_file', '/workspace/README.md', 'deny', 'path_not_in_scope'],
    ['read_file', '/lib/x86_64-linux-gnu/libc.so.6', 'allow', 'path_allowed', ['dataScope.read[2]']],
    [
      'http_request',
      'GET https://wiki.example.com/rest/api/content/123',
      'allow',
      'request_allowed',
      ['services[wiki].rules[0]'],
    ],
    [
      'http_request',
      'GET https://wiki.example.com/rest/api/search?cql=type=page',
      'allow',
      'request_allowed',
      ['services[wiki].rules[0]'],
    ],
    ['http_request', 'POST https://wiki.example.com/rest/api/content', 'deny', 'request_not_allowed'],
    ['http_request', 'GET https://wiki.example.com/rest/api/user', 'deny', 'request_not_allowed'],
    [
      'http_request',
      'GET https://WIKI.example.com:443/rest/api/space/DOC',
      'allow',
      'request_allowed',
      ['services[wiki].rules[0]'],
    ],
    ['http_request', 'GET http://wiki.example.com/rest/api/content/1', 'deny', 'request_not_allowed'],
    ['connect', 'wiki.example.com:443', 'allow', 'host_allowed', ['services[wiki].hosts']],
    ['connect', 'wiki.example.com:80', 'deny', 'host_not_allowed'],
    ['mcp_call', 'wiki/get_page', 'allow', 'tool_allowed', ['mcp[wiki].allow']],
    ['mcp_call', 'wiki/update_page', 'deny', 'tool_not_allowed'],
    ['mcp_call', 'github/submit_pending_review', 'deny', 'tool_not_allowed'],
  ]);
});

describe('decision table: ticket-triage', () => {
  decisionTable('ticket-triage', [
    ['exec', 'jq .fields issue.json', 'allow', 'command_allowed', ['commands.allow[1]']],
    ['exec', 'python3 triage.py --dry-run', 'allow', 'command_allowed', ['commands.allow[0]']],
    ['exec', 'wget -q https://example.com', 'deny', 'command_denied', ['commands.deny[1]']],
    [
      'exec',
      { action: 'exec', argv: ['/usr/local/bin/wget', 'x'] },
      'deny',
      'command_denied',
      ['commands.deny[1]'],
    ],
    ['http_request', `GET ${JIRA}/search`, 'allow', 'request_allowed', ['services[jira].rules[0]']],
    ['http_request', `GET ${JIRA}/issue/PROJ-1`, 'allow', 'request_allowed', ['services[jira].rules[0]']],
    [
      'http_request',
      `PUT ${JIRA}/issue/PROJ-1`,
      'review',
      'review_required',
      ['services[jira].rules[2]', 'writes[0].review'],
    ],
    [
      'http_request',
      `POST ${JIRA}/issue/PROJ-1/transitions`,
      'review',
      'review_required',
      ['services[jira].rules[1]', 'writes[1].review'],
    ],
    // writes[2] has review: none, so it adds no gate: the service rule alone decides.
    [
      'http_request',
      `POST ${JIRA}/issue/PROJ-1/comment`,
      'allow',
      'request_allowed',
      ['services[jira].rules[1]'],
    ],
    ['http_request', `DELETE ${JIRA}/issue/PROJ-1`, 'deny', 'request_not_allowed'],
    ['http_request', `PUT ${JIRA}/issue/PROJ-1/comment`, 'deny', 'request_not_allowed'],
    ['http_request', `POST ${JIRA}/issue`, 'deny', 'request_not_allowed'],
    ['connect', 'tickets.example.com', 'allow', 'host_allowed', ['services[jira].hosts']],
    ['mcp_call', 'jira/update_issue', 'allow', 'tool_allowed', ['mcp[jira].allow']],
    ['mcp_call', 'jira/delete_issue', 'deny', 'tool_not_allowed'],
    [
      'mcp_call',
      { action: 'mcp_call', server: 'jira', tool: 'add_comment', arguments: { issue: 'PROJ-1', body: 'hi' } },
      'allow',
      'tool_allowed',
      ['mcp[jira].allow'],
    ],
    ['write_file', '/workspace/triage.md', 'allow', 'path_allowed', ['dataScope.write[0]']],
    ['write_file', '/workspace/.zshrc', 'deny', 'path_protected', ['protected[.zshrc]']],
    ['write_file', '/workspace/.codex/config.toml', 'deny', 'path_protected', ['protected[.codex/]']],
    ['read_file', '/workspace/./x', 'deny', 'path_invalid'],
  ]);
});
