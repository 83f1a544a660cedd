import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { OcsfEvent } from '../../src/audit/index.ts';
import { runSandbox } from '../../src/supervisor/index.ts';
import { createSandboxNetwork, type SandboxNetwork } from '../../src/supervisor/sandbox/network/index.ts';
import { makeWorkspace, WRITABLE_WORKSPACE } from '../support/sandbox-harness.ts';

// runSandbox's end (issue 3, `paddock run` latency): with detachNetworkTeardown it resolves once
// the command has exited and its audit events are written, never waiting for the kernel to free
// the network, which a detached process removes.

describe('runSandbox teardown', () => {
  it('resolves without waiting for the network teardown when asked to detach it', {
    timeout: 15_000,
  }, async () => {
    const workspace = makeWorkspace();
    let detached: SandboxNetwork | undefined;
    let awaited = false;
    const events: string[] = [];
    try {
      const result = await runSandbox({
        command: ['/bin/sh', '-c', 'exit 7'],
        workdir: workspace.dir,
        dataScope: WRITABLE_WORKSPACE,
        hostEnv: {},
        stdio: ['ignore', 'ignore', 'ignore'],
        audit: async (event: OcsfEvent) => {
          events.push(String((event as { metadata: { event_code: string } }).metadata.event_code));
        },
        // A close() that never finishes: awaiting it would hang this test until its timeout.
        createNetwork: async () => {
          const network = await createSandboxNetwork();
          detached = network;
          return {
            ...network,
            close: () => {
              awaited = true;
              return new Promise<void>(() => {});
            },
          };
        },
        detachNetworkTeardown: true,
      });
      assert.equal(result.exitCode, 7);
      assert.equal(awaited, false, 'close() was awaited');
      assert.deepEqual(events, ['sandbox.started', 'exec.allowed', 'process.exited', 'sandbox.stopped']);
      for (let i = 0; i < 300 && detached && existsNetwork(detached); i++)
        await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal(existsNetwork(detached!), false, 'the detached teardown removed the network');
    } finally {
      workspace.remove();
    }
  });
});

function existsNetwork(network: SandboxNetwork): boolean {
  return existsSync(network.netnsPath) || existsSync(`/sys/class/net/${network.hostInterface}`);
}
