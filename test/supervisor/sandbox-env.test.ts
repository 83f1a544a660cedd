import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSandboxEnv, CA_VARIABLES, PROXY_VARIABLES } from '../../src/supervisor/sandbox/sandbox-env.ts';
import { runShell } from '../support/sandbox-harness.ts';

const HOST = {
  PATH: '/root/.pyenv/shims:/usr/bin',
  HOME: '/root',
  GITHUB_TOKEN: 'ghp_secret',
  AWS_SECRET_ACCESS_KEY: 'aws-secret',
  SSH_AUTH_SOCK: '/tmp/ssh-agent.sock',
  LD_PRELOAD: '/tmp/evil.so',
  HTTP_PROXY: 'http://host-proxy:3128',
  NODE_OPTIONS: '--require /tmp/evil.js',
  TERM: 'xterm-256color',
  LANG: 'de_DE.UTF-8',
  LC_TIME: 'C',
  TZ: 'Europe/Berlin',
};

describe('buildSandboxEnv', () => {
  it('keeps only presentation variables from the host and fixes the sandbox paths', () => {
    assert.deepEqual(buildSandboxEnv({ hostEnv: HOST, caMounted: false }), {
      TERM: 'xterm-256color',
      LANG: 'de_DE.UTF-8',
      LC_TIME: 'C',
      TZ: 'Europe/Berlin',
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: '/home/agent',
      USER: 'agent',
      LOGNAME: 'agent',
      SHELL: '/bin/bash',
      PWD: '/workspace',
      TMPDIR: '/tmp',
    });
  });

  it("takes proxy variables from the network plumbing only, never the host's", () => {
    const proxyEnv = Object.fromEntries(PROXY_VARIABLES.map((name) => [name, `value-of-${name}`]));
    const env = buildSandboxEnv({
      hostEnv: HOST,
      proxyEnv: { ...proxyEnv, GITHUB_TOKEN: 'x' },
      caMounted: false,
    });
    for (const name of PROXY_VARIABLES) assert.equal(env[name], `value-of-${name}`);
    assert.equal(env.GITHUB_TOKEN, undefined);
    assert.equal(buildSandboxEnv({ hostEnv: HOST, caMounted: false }).HTTP_PROXY, undefined);
  });

  it('points every CA variable at the mounted bundle, only when one is mounted', () => {
    const env = buildSandboxEnv({ hostEnv: {}, caMounted: true });
    for (const name of CA_VARIABLES) assert.equal(env[name], '/etc/paddock/ca.pem');
    assert.equal(buildSandboxEnv({ hostEnv: {}, caMounted: false }).SSL_CERT_FILE, undefined);
  });
});

describe('buildSandboxEnv credential placeholders', () => {
  it('takes only PADDOCK_CREDENTIAL_* names from the gateway, nothing else', () => {
    const env = buildSandboxEnv({
      hostEnv: { PADDOCK_CREDENTIAL_HOST: 'from-host' },
      caMounted: false,
      credentialEnv: { PADDOCK_CREDENTIAL_GH_TOKEN: 'pdk_ph_gh_token_1', PATH: '/evil', LD_PRELOAD: '/x.so' },
    });
    assert.equal(env['PADDOCK_CREDENTIAL_GH_TOKEN'], 'pdk_ph_gh_token_1');
    assert.equal(env['PADDOCK_CREDENTIAL_HOST'], undefined, 'the host environment never supplies one');
    assert.notEqual(env['PATH'], '/evil');
    assert.equal(env['LD_PRELOAD'], undefined);
  });
});

describe('sandbox environment (real sandbox)', () => {
  it('is exactly the built environment inside', async () => {
    const run = await runShell('env | sort', { hostEnv: { ...HOST } });
    assert.equal(run.code, 0, run.stderr);
    const names = run.stdout
      .trim()
      .split('\n')
      .map((line) => line.split('=')[0]);
    assert.deepEqual(names, [
      'HOME',
      'LANG',
      'LC_TIME',
      'LOGNAME',
      'PATH',
      'PWD',
      'SHELL',
      'TERM',
      'TMPDIR',
      'TZ',
      'USER',
    ]);
    assert.ok(!run.stdout.includes('secret'));
  });
});
