import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { COMMANDS } from '../../src/cli/commands/index.ts';
import { withCommandsTable } from '../../src/cli/commands-doc.ts';

const root = new URL('../../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');

describe('README', () => {
  it('lists every command (run `npm run docs` after adding one)', () => {
    assert.equal(readme, withCommandsTable(readme));
    for (const command of COMMANDS) assert.ok(readme.includes(`\`paddock ${command.name}`), command.name);
  });

  it('lists each command with the name, summary and usage of the module that implements it', async () => {
    for (const entry of COMMANDS) {
      const command = await entry.load();
      assert.deepEqual(
        { name: command.name, summary: command.summary, usage: command.usage },
        { name: entry.name, summary: entry.summary, usage: entry.usage },
      );
    }
  });

  it('gives the quick start that .ci/run runs, word for word', () => {
    const ciCommands = readFileSync(new URL('.ci/run', root), 'utf8')
      .split('\n')
      .filter((line) => line && !line.startsWith('#') && !line.startsWith('set ') && !line.startsWith('cd '));
    assert.deepEqual(ciCommands, ['./scripts/setup.sh && npm ci && npm start', 'npm test']);
    const quickStart = /## Quick start[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.equal(quickStart, `${ciCommands.join('\n')}\n`);
  });

  it('links only to files that exist', () => {
    for (const [, target] of readme.matchAll(/\]\(([^)#]+)\)/g)) {
      if (/^[a-z]+:/.test(target as string)) continue;
      assert.ok(existsSync(new URL(target as string, root)), `README links to missing ${target}`);
    }
  });
});
