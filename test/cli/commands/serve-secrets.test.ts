import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from './run-cli.ts';

// `paddock serve --secrets`: the same store and checks as `paddock up --secrets` (up.test.ts),
// refused before the replica connects to anything. The URL below names no server: a refusal
// that came after the connect would fail on it instead.

const EXAMPLE = new URL('../../../examples/platform', import.meta.url).pathname;
const NO_SERVER = { PADDOCK_DATABASE_URL: 'postgres://paddock@127.0.0.1:1/paddock' };

describe('paddock serve --secrets', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'paddock-serve-secrets-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const serve = (args: string[]) =>
    runCli(['serve', '--config', EXAMPLE, '--host', '127.0.0.1', '--port', '0', ...args], dir, NO_SERVER);

  it('refuses a store inside the data directory workspaces, naming it', async () => {
    const dataDir = join(dir, 'data');
    const inside = join(dataDir, 'workspaces', 'ws-alice', 'workspace', 'secrets.json');
    const result = await serve(['--data-dir', dataDir, '--secrets', inside]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr,
      /^error PDK_SECRET_STORE_EXPOSED: .*secrets\.json is inside --data-dir workspaces/,
    );
  });

  it('refuses a store that cannot be opened, naming the file', async () => {
    const missing = join(dir, 'missing.json');
    const result = await serve(['--data-dir', join(dir, 'data'), '--secrets', missing]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /^error PDK_SECRET_STORE_INVALID: .*missing\.json/);
  });

  it('refuses --secrets-key without --secrets', async () => {
    const result = await serve(['--secrets-key', join(dir, 'key')]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^error PDK_CLI_USAGE: --secrets-key needs --secrets FILE/);
  });
});
