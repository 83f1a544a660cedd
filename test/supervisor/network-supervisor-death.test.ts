// DESIGN.md §5 invariant 6 (fail closed): when the supervisor process that owns a sandbox's
// egress listener dies (kill -9, no cleanup), the sandbox has no egress at all: nothing answers
// on the proxy ports, and a host service listening on every address at those very ports is not
// reachable either. The next supervisor's sweep then removes the network.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { sweepStaleSandboxNetworks } from '../../src/supervisor/sandbox/network/index.ts';
import { closeServer, DEAD_ADDRESS, probe, recordingServer, requireRoot } from './network-support.ts';

/** Own ports: this test listens on every address at them, which must not collide with other tests. */
const DEATH_PORTS = { httpProxy: 25128, transparentHttp: 25080, transparentHttps: 25443, socks: 25180 };
const SUPERVISOR = fileURLToPath(new URL('./fixtures/net-supervisor.ts', import.meta.url));

interface Started {
  id: string;
  netnsPath: string;
  hostAddress: string;
  hostInterface: string;
  sandboxPid: number;
}

type Outcome = { ok: boolean; code?: string };

describe('supervisor death', () => {
  it('leaves the sandbox with no egress at all, then is swept', async () => {
    requireRoot();
    const supervisor = spawn(process.execPath, [SUPERVISOR, JSON.stringify(DEATH_PORTS)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: supervisor.stdout }).once('line', resolve);
      supervisor.once('exit', (code) => reject(new Error(`supervisor exited ${code} before it was ready`)));
    });
    const started = JSON.parse(line) as Started;
    const inside = { netnsPath: started.netnsPath };
    const ports = Object.values(DEATH_PORTS);
    try {
      // Alive: every proxy port answers (with refusals).
      const alive = await probe<Outcome>(
        inside,
        ports.map((port) => ({ op: 'tcp', host: started.hostAddress, port })),
      );
      assert.deepEqual(
        alive.map((result) => result.ok),
        [true, true, true, true],
      );

      supervisor.kill('SIGKILL');
      await new Promise((resolve) => supervisor.once('exit', resolve));
      // The sandbox process outlived it; its namespace is still there.
      assert.ok(
        existsSync(`/proc/${started.sandboxPid}`),
        'the sandbox process should outlive the supervisor',
      );

      // A host service on every address at the proxy port must not stand in for the gateway.
      const squatter = await recordingServer('0.0.0.0', DEATH_PORTS.httpProxy);
      try {
        const dead = await probe<Outcome>(inside, [
          ...ports.map((port) => ({ op: 'tcp', host: started.hostAddress, port, timeoutMs: 1500 })),
          { op: 'tcp', host: DEAD_ADDRESS, port: 80, timeoutMs: 1500 },
          { op: 'tcp', host: DEAD_ADDRESS, port: 443, timeoutMs: 1500 },
        ]);
        for (const [index, result] of dead.entries()) {
          assert.equal(result.ok, false, `probe ${index} connected after the supervisor died`);
          // Refused at once by the host table's reset; or, when a concurrent sweep (another
          // supervisor starting) already removed the dead network, unreachable: no route at all.
          assert.ok(
            result.code === 'ECONNREFUSED' || result.code === 'ENETUNREACH',
            `probe ${index}: refused at once or unreachable, not ${result.code} (a timeout would mean packets leave)`,
          );
        }
        assert.equal(squatter.hits(), 0, 'the wildcard host service was reached');
      } finally {
        await closeServer(squatter.server);
      }
    } finally {
      if (supervisor.exitCode === null && supervisor.signalCode === null) supervisor.kill('SIGKILL');
      const report = await sweepStaleSandboxNetworks();
      try {
        process.kill(started.sandboxPid, 'SIGKILL');
      } catch {
        // already gone
      }
      // Other test files sweep stale networks when they start, and may run at the same time: the
      // dead supervisor's network must be gone, whichever sweep removed it (network-lifecycle's
      // crashed-owner test checks what a sweep reports).
      assert.ok(!existsSync(started.netnsPath), `namespace left behind; sweep: ${JSON.stringify(report)}`);
      assert.ok(
        !existsSync(`/sys/class/net/${started.hostInterface}`),
        `veth left behind; sweep: ${JSON.stringify(report)}`,
      );
    }
  });
});
