import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSeccompDenials } from '../../src/supervisor/sandbox/seccomp-denials.ts';

// Parsing kernel-log audit records (type 1326) into per-syscall refusal counts for one sandbox.

const record = (usec: number, uid: number, syscall: number, code = '0x50000') =>
  `5,${usec},${usec},-;audit: type=1326 audit(1795633108.814:6): auid=4294967295 uid=${uid} gid=${uid} ses=4294967295 pid=9 comm="python3" exe="/usr/bin/python3.11" sig=0 arch=c000003e syscall=${syscall} compat=0 ip=0x7f code=${code}`;

describe('parseSeccompDenials', () => {
  it("counts this uid's errno refusals since the launch, by syscall name, most frequent first", () => {
    const records = [
      record(100, 2000000007, 101), // before the launch
      record(200, 2000000007, 101),
      record(210, 2000000007, 101),
      record(220, 2000000007, 425),
      record(230, 2000000008, 101), // another sandbox
      record(240, 2000000007, 101, '0x80000000'), // a kill, not a refusal
      record(250, 2000000007, 999),
    ];
    assert.deepEqual(parseSeccompDenials(records, 2000000007, 150, 'x86_64'), [
      { syscall: 'ptrace', count: 2 },
      { syscall: 'io_uring_setup', count: 1 },
      { syscall: 'syscall_999', count: 1 },
    ]);
  });

  it('ignores other kernel log lines', () => {
    assert.deepEqual(parseSeccompDenials(['6,1,300,-;eth0: link up', 'garbage'], 1, 0, 'x86_64'), []);
  });
});
