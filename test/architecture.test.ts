import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';

// The one-way layers of docs/architecture.md, checked against every import in src/.
const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  config: ['core'],
  policy: ['core'],
  audit: ['core'],
  providers: ['core', 'config', 'policy', 'audit'],
  supervisor: ['core', 'config', 'policy', 'audit', 'providers'],
  controlplane: ['core', 'config', 'policy', 'audit', 'providers'],
  cli: ['core', 'config', 'policy', 'audit', 'providers', 'supervisor', 'controlplane'],
  console: ['core', 'config', 'policy', 'audit', 'providers', 'supervisor', 'controlplane'],
};

const src = new URL('../src/', import.meta.url).pathname;

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (/\.(ts|tsx)$/.test(entry.name)) yield path;
  }
}

function planeOf(file: string): string {
  return relative(src, file).split('/')[0] as string;
}

describe('architecture', () => {
  it('has exactly the planes docs/architecture.md lists', () => {
    const planes = readdirSync(src, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    assert.deepEqual(planes.sort(), Object.keys(ALLOWED).sort());
  });

  it('imports only along the one-way layers', () => {
    const violations: string[] = [];
    for (const file of sourceFiles(src)) {
      const from = planeOf(file);
      const text = readFileSync(file, 'utf8');
      for (const [, specifier] of text.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/g)) {
        if (!specifier?.startsWith('.')) continue;
        const to = planeOf(join(file, '..', specifier));
        if (to !== from && !ALLOWED[from]?.includes(to))
          violations.push(`${relative(src, file)} imports ${to}`);
      }
    }
    assert.deepEqual(violations, []);
  });
});
