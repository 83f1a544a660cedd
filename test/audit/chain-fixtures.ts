import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { execDecisionEvent, type OcsfEvent } from '../../src/audit/index.ts';
import { recordHash } from '../../src/audit/chain/record.ts';

// Fixtures for the chain tests: a temp directory per test file, realistic events, and the
// tampering an attacker with write access to the log could do.

/** A fresh temp directory, removed when the test file finishes. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'paddock-audit-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A valid exec decision event; `n` varies the command so every record differs. */
export function sampleEvent(n: number): OcsfEvent {
  return execDecisionEvent({
    time: Date.UTC(2026, 0, 15) + n,
    uid: `evt-${n}`,
    workspaceId: 'ws-alice-01',
    sessionId: 'as-7f3c2e',
    user: { uid: 'oidc|5f2a9c', name: 'alice' },
    decision: n % 3 === 0 ? 'deny' : 'allow',
    reasonCode: n % 3 === 0 ? 'command_denied' : 'command_allowed',
    bundle: { id: 'bundle-code-review', version: '42' },
    argv: ['npm', 'run', `task-${n}`],
    processUid: `p-${n}`,
  });
}

/** The lines of a log, without the final newline. */
export function readLines(file: string): string[] {
  return readFileSync(file, 'utf8').replace(/\n$/, '').split('\n');
}

/** Writes lines back as a log (each newline-terminated) to a new file next to `file`. */
export function writeLines(file: string, lines: readonly string[], suffix: string): string {
  const target = `${file}.${suffix}`;
  writeFileSync(target, lines.map((line) => `${line}\n`).join(''));
  return target;
}

type Json = { seq: number; time: number; prev: string; hash: string; event: Record<string, unknown> };

/** Parses a record line. */
export function parse(line: string): Json {
  return JSON.parse(line) as Json;
}

/** Serializes a record after recomputing its hash, as an attacker who knows the format would. */
export function rehash(record: Json): string {
  const hash = recordHash(record.seq, record.time, record.prev, record.event);
  return JSON.stringify({ ...record, hash });
}
