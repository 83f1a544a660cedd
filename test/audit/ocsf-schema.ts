import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadOcsfSchema } from '../../src/audit/ocsf/schema-loader.ts';
import type { OcsfProblem, OcsfSchema } from '../../src/audit/ocsf/schema-types.ts';
import { validateOcsfEvent } from '../../src/audit/ocsf/schema-validator.ts';

// Test support: the official OCSF 1.8.0 source schema, shared beside the repository (never
// copied into it), compiled once per test process, and helpers to check events against it.

/** ../shared/ocsf/1.8.0 relative to the repository root. */
export const OCSF_SCHEMA_DIR = new URL('../../../shared/ocsf/1.8.0/', import.meta.url);

let cached: OcsfSchema | undefined;

/** The compiled 1.8.0 schema. Fails loudly when the shared copy is missing: tests never skip. */
export function ocsfSchema(): OcsfSchema {
  if (!cached) {
    const dir = fileURLToPath(OCSF_SCHEMA_DIR);
    assert.ok(existsSync(dir), `OCSF 1.8.0 schema not found at ${dir}; it must sit beside the repository`);
    cached = loadOcsfSchema(OCSF_SCHEMA_DIR);
  }
  return cached;
}

/** Every way `event` departs from OCSF 1.8.0; empty when it is valid. */
export function ocsfProblems(event: unknown): OcsfProblem[] {
  return validateOcsfEvent(ocsfSchema(), event);
}

/** Asserts `event` is valid OCSF 1.8.0, listing every problem on failure. */
export function assertValidOcsf(event: unknown): void {
  const problems = ocsfProblems(event);
  assert.deepEqual(
    problems,
    [],
    `not valid OCSF 1.8.0:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`,
  );
}

/** Asserts validation reports a problem at `path` whose message matches `message`. */
export function assertProblem(event: unknown, path: string, message: RegExp): void {
  const problems = ocsfProblems(event);
  assert.ok(
    problems.some((p) => p.path === path && message.test(p.message)),
    `expected a problem at ${path} matching ${message}, got:\n${JSON.stringify(problems, null, 2)}`,
  );
}
