import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blueprintSchema } from '../../src/config/index.ts';
import { runSandbox } from '../../src/supervisor/index.ts';
import { makeWorkspace, WRITABLE_WORKSPACE } from '../support/sandbox-harness.ts';

// spec.sandbox.allowMissing: the only waivable layer is Landlock, the field is strict, and
// waiving it on a kernel that has Landlock changes nothing (the layer stays on).

const base = {
  apiVersion: 'paddock.dev/v1',
  kind: 'Blueprint',
  metadata: {
    name: 'weak',
    version: '1.0.0',
    owner: 'a@example.com',
    incidentContact: 'a@example.com',
    reviewCadence: '90d',
  },
};

describe('spec.sandbox.allowMissing', () => {
  it('accepts landlock, defaults to nothing, and rejects anything else', () => {
    const ok = blueprintSchema.parse({
      ...base,
      spec: { goal: 'g', sandbox: { allowMissing: ['landlock'] } },
    });
    assert.deepEqual(ok.spec.sandbox, { allowMissing: ['landlock'] });
    assert.deepEqual(blueprintSchema.parse({ ...base, spec: { goal: 'g', sandbox: {} } }).spec.sandbox, {
      allowMissing: [],
    });
    for (const bad of [
      { allowMissing: ['seccomp'] },
      { allowMissing: ['userns'] },
      { allowMissing: ['landlock'], extra: true },
    ]) {
      assert.equal(
        blueprintSchema.safeParse({ ...base, spec: { goal: 'g', sandbox: bad } }).success,
        false,
        JSON.stringify(bad),
      );
    }
  });

  it('keeps Landlock on when the kernel has it, and reports nothing weakened', async () => {
    const workspace = makeWorkspace();
    let out = '';
    try {
      const result = await runSandbox({
        command: ['/bin/sh', '-c', 'kill -0 1 2>/dev/null && echo signalled || echo scoped'],
        workdir: workspace.dir,
        dataScope: WRITABLE_WORKSPACE,
        allowMissing: ['landlock'],
        stdio: ['ignore', 'pipe', 'inherit'],
        onStarted: (sandbox) => {
          sandbox.child.stdout?.on('data', (chunk: Buffer) => {
            out += chunk;
          });
        },
      });
      assert.equal(result.exitCode, 0);
      assert.deepEqual(result.weakened, []);
      assert.equal(out, 'scoped\n');
    } finally {
      workspace.remove();
    }
  });
});
