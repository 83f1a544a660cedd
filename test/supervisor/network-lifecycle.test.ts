// Issue 3 (Network): building, handing out and removing sandbox networks — addresses, names,
// the proxy environment, concurrent creation, teardown with a straggler inside, the stale sweep,
// the pool, and a failed build leaving nothing behind.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { isPaddockError } from '../../src/core/errors.ts';
import { parseAddressPool, planSlot } from '../../src/supervisor/sandbox/network/address-plan.ts';
import { buildSlot, deleteNetns } from '../../src/supervisor/sandbox/network/netns-commands.ts';
import { releaseSlot, reserveSlot } from '../../src/supervisor/sandbox/network/slot-allocator.ts';
import {
  createSandboxNetwork,
  createSandboxNetworkPool,
  type SandboxNetwork,
  sweepStaleSandboxNetworks,
} from '../../src/supervisor/sandbox/network/index.ts';
import { assertGone, requireRoot, runInNetwork, TEST_PORTS } from './network-support.ts';

const nft = (...args: string[]) => execFileSync('nft', args, { encoding: 'utf8' });

describe('sandbox network lifecycle', () => {
  before(async () => {
    requireRoot();
    await sweepStaleSandboxNetworks();
  });

  it('builds a namespace with one veth, a /30, the proxy environment, and both rulesets', async () => {
    const network = await createSandboxNetwork({ ports: TEST_PORTS });
    try {
      assert.match(network.id, new RegExp(`^pdk-\\d+-${process.pid}$`));
      assert.equal(network.netnsPath, `/run/netns/${network.id}`);
      assert.ok(existsSync(network.netnsPath));
      const [a, b, c, d] = network.hostAddress.split('.').map(Number);
      assert.deepEqual([a, b], [10, 231]);
      assert.equal(d! % 4, 1, 'host end is .1 of its /30');
      assert.equal(network.sandboxAddress, `10.231.${c}.${d! + 1}`);
      assert.deepEqual(network.ports, TEST_PORTS);
      assert.ok(Object.isFrozen(network) && Object.isFrozen(network.ports) && Object.isFrozen(network.env));
      const proxy = `http://${network.hostAddress}:${TEST_PORTS.httpProxy}`;
      const socks = `socks5h://${network.hostAddress}:${TEST_PORTS.socks}`;
      assert.deepEqual(network.env, {
        HTTP_PROXY: proxy,
        HTTPS_PROXY: proxy,
        ALL_PROXY: socks,
        NO_PROXY: 'localhost,127.0.0.1,::1',
        http_proxy: proxy,
        https_proxy: proxy,
        all_proxy: socks,
        no_proxy: 'localhost,127.0.0.1,::1',
      });
      // Inside: lo and eth0 only, the sandbox address, a default route via the host end.
      const inside = await runInNetwork(network, ['sh', '-c', 'ip -br link; ip -br -4 addr; ip route'], {
        uid: 0,
      });
      const names = inside.stdout.split('\n').filter((line) => /^\S+\s+(UP|UNKNOWN|DOWN)/.test(line));
      assert.deepEqual(
        [...new Set(names.map((line) => line.split(/[\s@]/)[0]))],
        ['lo', 'eth0'],
        inside.stdout,
      );
      assert.match(
        inside.stdout,
        new RegExp(`eth0\\S*\\s+UP\\s+${network.sandboxAddress.replaceAll('.', '\\.')}/30`),
      );
      assert.match(
        inside.stdout,
        new RegExp(`default via ${network.hostAddress.replaceAll('.', '\\.')} dev eth0`),
      );
      // The host end: its address, no IPv6.
      assert.match(
        execFileSync('ip', ['-br', '-4', 'addr', 'show', network.hostInterface], { encoding: 'utf8' }),
        /\/30/,
      );
      assert.equal(
        readFileSync(`/proc/sys/net/ipv6/conf/${network.hostInterface}/disable_ipv6`, 'utf8').trim(),
        '1',
      );
      // The sandbox table (inside) and the shared host table (outside).
      const table = await runInNetwork(network, ['nft', 'list', 'table', 'inet', 'paddock'], { uid: 0 });
      assert.match(
        table.stdout,
        new RegExp(`tcp dport 80 dnat ip to ${network.hostAddress}:${TEST_PORTS.transparentHttp}`),
      );
      assert.match(table.stdout, /policy drop;/);
      const host = nft('list', 'table', 'inet', 'paddock_host');
      assert.match(host, /iifname "pdkh\*" jump from_sandbox/);
      assert.match(host, /fib daddr \. iif type local socket wildcard 0 accept/);
      for (const port of Object.values(TEST_PORTS)) assert.match(host, new RegExp(`\\b${port}\\b`));
    } finally {
      await network.close();
    }
    assertGone(network);
    await network.close(); // idempotent
    await assert.rejects(network.dropCounters(), (error: unknown) =>
      isPaddockError(error, 'PDK_NETWORK_COUNTERS'),
    );
  });

  it('gives concurrent networks distinct slots, and removes them all', async () => {
    const networks = await Promise.all(
      Array.from({ length: 8 }, () => createSandboxNetwork({ ports: TEST_PORTS })),
    );
    try {
      assert.equal(new Set(networks.map((network) => network.hostAddress)).size, 8);
      assert.equal(new Set(networks.map((network) => network.hostInterface)).size, 8);
    } finally {
      await Promise.all(networks.map((network) => network.close()));
    }
    for (const network of networks) assertGone(network);
  });

  it('cuts off a process left inside: the veth is deleted even though the namespace lives on', async () => {
    const network = await createSandboxNetwork({ ports: TEST_PORTS, teardownWaitMs: 100 });
    const straggler = spawn('nsenter', [`--net=${network.netnsPath}`, '--', 'sleep', '60'], {
      stdio: 'ignore',
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      await network.close();
      assertGone(network);
      const links = spawnSync('nsenter', [`--net=/proc/${straggler.pid}/ns/net`, '--', 'ip', '-br', 'link'], {
        encoding: 'utf8',
      });
      assert.deepEqual(
        links.stdout
          .trim()
          .split('\n')
          .map((line) => line.split(/\s+/)[0]),
        ['lo'],
      );
    } finally {
      straggler.kill('SIGKILL');
    }
  });

  it('tears down from a detached process: returns at once, removes both, cuts off a straggler', async () => {
    const network = await createSandboxNetwork({ ports: TEST_PORTS, teardownWaitMs: 100 });
    const straggler = spawn('nsenter', [`--net=${network.netnsPath}`, '--', 'sleep', '60'], {
      stdio: 'ignore',
    });
    const present = () =>
      existsSync(network.netnsPath) || existsSync(`/sys/class/net/${network.hostInterface}`);
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      network.closeDetached();
      // The straggler holds the namespace, so the veth stays until the detached wait runs out.
      assert.ok(
        existsSync(`/sys/class/net/${network.hostInterface}`),
        'closeDetached() waited for the teardown',
      );
      for (let i = 0; i < 300 && present(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
      assertGone(network);
      const links = spawnSync('nsenter', [`--net=/proc/${straggler.pid}/ns/net`, '--', 'ip', '-br', 'link'], {
        encoding: 'utf8',
      });
      assert.deepEqual(
        links.stdout
          .trim()
          .split('\n')
          .map((line) => line.split(/\s+/)[0]),
        ['lo'],
      );
    } finally {
      straggler.kill('SIGKILL');
    }
  });

  it('sweeps networks of dead supervisors and leaves live ones alone', async () => {
    // A supervisor that builds a network and dies without closing it.
    const code = [
      "import { createSandboxNetwork } from './src/supervisor/sandbox/network/index.ts';",
      `const n = await createSandboxNetwork({ ports: ${JSON.stringify(TEST_PORTS)} });`,
      'console.log(JSON.stringify({ id: n.id, hostInterface: n.hostInterface }));',
      'process.exit(0);',
    ].join('\n');
    const crashed = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
      encoding: 'utf8',
      cwd: new URL('../../', import.meta.url),
    });
    assert.equal(crashed.status, 0, crashed.stderr);
    const left = JSON.parse(crashed.stdout) as { id: string; hostInterface: string };
    assert.ok(existsSync(`/run/netns/${left.id}`));
    const mine = await createSandboxNetwork({ ports: TEST_PORTS });
    try {
      const report = await sweepStaleSandboxNetworks();
      // This sweep removed it, or a concurrent one did (other test files sweep too); either way
      // without an error.
      assert.ok(
        report.namespaces.includes(left.id) || !existsSync(`/run/netns/${left.id}`),
        JSON.stringify(report),
      );
      assert.deepEqual(report.errors, [], JSON.stringify(report));
      assert.ok(!existsSync(`/run/netns/${left.id}`));
      assert.ok(!existsSync(`/sys/class/net/${left.hostInterface}`));
      assert.ok(!report.namespaces.includes(mine.id));
      assert.ok(existsSync(mine.netnsPath) && existsSync(`/sys/class/net/${mine.hostInterface}`));
    } finally {
      await mine.close();
    }
  });

  it('pools networks ahead of time and hands each out once', async () => {
    const pool = createSandboxNetworkPool({ ports: TEST_PORTS, size: 2 });
    const handedOut: SandboxNetwork[] = [];
    try {
      for (let i = 0; i < 200 && pool.ready < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal(pool.ready, 2);
      const prepared = readdirNetns().filter((name) => name.endsWith(`-${process.pid}`));
      handedOut.push(await pool.acquire());
      assert.ok(prepared.includes(handedOut[0]!.id), 'the network handed out was prepared ahead of time');
      for (let i = 0; i < 200 && pool.ready < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      handedOut.push(await pool.acquire());
      handedOut.push(await pool.acquire());
      assert.equal(new Set(handedOut.map((network) => network.id)).size, 3);
      for (const network of handedOut) assert.ok(existsSync(network.netnsPath));
    } finally {
      await pool.close();
      await Promise.all(handedOut.map((network) => network.close()));
    }
    for (const network of handedOut) assertGone(network);
    assert.equal(pool.ready, 0);
    await assert.rejects(pool.acquire(), /closed/);
  });

  it('discards a pooled network that was damaged while it waited', async () => {
    const pool = createSandboxNetworkPool({ ports: TEST_PORTS, size: 1 });
    let network: SandboxNetwork | undefined;
    try {
      for (let i = 0; i < 200 && pool.ready < 1; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      const victim = readdirNetns().find((name) => name.endsWith(`-${process.pid}`));
      assert.ok(victim);
      await deleteNetns(victim, 5000);
      network = await pool.acquire();
      assert.notEqual(network.id, victim);
      assert.ok(existsSync(network.netnsPath));
    } finally {
      await pool.close();
      await network?.close();
    }
  });

  it('rejects address pools that are not private, aligned, /12 to /29', async () => {
    for (const cidr of ['8.8.0.0/16', '10.231.0.1/16', '10.0.0.0/8', '10.231.0.0/30', 'nonsense']) {
      await assert.rejects(createSandboxNetwork({ addressPool: cidr }), (error: unknown) => {
        assert.ok(isPaddockError(error, 'PDK_NETWORK_ADDRESS_POOL'), String(error));
        assert.match(error.message, new RegExp(cidr.replaceAll('.', '\\.')));
        return true;
      });
    }
  });

  it('removes what a failed build created', async () => {
    const pool = parseAddressPool('10.231.0.0/16');
    const slot = reserveSlot(pool);
    assert.ok(slot !== undefined);
    const plan = planSlot(pool, slot, process.pid);
    const outcome = await buildSlot(plan, 'table inet paddock { this is not nftables }', 10_000);
    releaseSlot(slot);
    assert.equal(outcome.kind, 'failed');
    assert.ok(outcome.kind === 'failed' && outcome.createdNetns);
    assert.match(outcome.kind === 'failed' ? outcome.detail : '', /syntax error/);
    await deleteNetns(plan.netnsName, 10_000);
    for (let i = 0; i < 100 && existsSync(`/sys/class/net/${plan.hostInterface}`); i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.ok(!existsSync(`/run/netns/${plan.netnsName}`));
    assert.ok(!existsSync(`/sys/class/net/${plan.hostInterface}`));
  });
  it('reports a slot whose namespace name already exists as busy, touching nothing', async () => {
    const pool = parseAddressPool('10.231.0.0/16');
    const slot = reserveSlot(pool);
    assert.ok(slot !== undefined);
    const plan = planSlot(pool, slot, process.pid);
    execFileSync('ip', ['netns', 'add', plan.netnsName]);
    try {
      const outcome = await buildSlot(plan, 'table inet paddock {}', 10_000);
      assert.deepEqual(outcome, { kind: 'slot-busy' });
      assert.ok(!existsSync(`/sys/class/net/${plan.hostInterface}`), 'no interface was created');
    } finally {
      await deleteNetns(plan.netnsName, 10_000);
      releaseSlot(slot);
    }
  });
});

function readdirNetns(): string[] {
  return spawnSync('ls', ['/run/netns'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
}
