import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ETC_CONTENT } from '../../src/supervisor/sandbox/sandbox-state.ts';
import { runShell } from '../support/sandbox-harness.ts';

// The files the launcher writes into the sandbox's /etc itself. /etc/resolv.conf names no
// resolver: DNS is not a channel out (DESIGN.md §5 invariant 1), and a lookup must fail at
// once rather than hang on a resolver that is not there.

describe('/etc/resolv.conf inside the sandbox', () => {
  it('lists no nameserver and says where names resolve', () => {
    assert.doesNotMatch(ETC_CONTENT['resolv.conf'], /^\s*nameserver/m);
    assert.match(ETC_CONTENT['resolv.conf'], /^# .*Names resolve at the egress proxy/m);
  });

  it('exists read-only in a real sandbox, and name lookups fail fast (python and node)', async () => {
    const python = [
      'import socket, time',
      't = time.monotonic()',
      'try: socket.getaddrinfo("example.com", 443); print("RESOLVED")',
      'except socket.gaierror as e: print("gaierror", round((time.monotonic() - t) * 1000))',
    ].join('\n');
    const node =
      'const t = performance.now(); require("dns").lookup("example.com", (e) => console.log(e ? e.code : "RESOLVED", Math.round(performance.now() - t)))';
    const run = await runShell(
      [
        'grep -c nameserver /etc/resolv.conf',
        'head -1 /etc/resolv.conf',
        // Root-owned 0444 in a read-only mount: the mount options of /etc say the latter.
        `awk '$5 == "/etc" { print $6 }' /proc/self/mountinfo`,
        `python3 -c '${python}'`,
        `node -e '${node}'`,
      ].join('; '),
      { network: true },
    );
    const [count, comment, mountOptions, py, js] = run.stdout.trim().split('\n');
    assert.equal(count, '0', run.stderr);
    assert.match(comment!, /^# Paddock sandbox: no DNS resolver/);
    assert.match(mountOptions!, /^ro,/);
    const [pyOutcome, pyMs] = py!.split(' ');
    assert.equal(pyOutcome, 'gaierror');
    assert.ok(Number(pyMs) < 500, `python lookup took ${pyMs} ms`);
    const [jsOutcome, jsMs] = js!.split(' ');
    assert.match(jsOutcome!, /^EAI_(AGAIN|NONAME|FAIL)$/);
    assert.ok(Number(jsMs) < 500, `node lookup took ${jsMs} ms`);
  });
});
