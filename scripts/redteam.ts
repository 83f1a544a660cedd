// The attack suite (`npm run redteam`): runs every attack in test/redteam/attacks/*.ts inside a
// real sandbox and prints one line per attack, then `N passed, N failed` alone on the last
// line. Exits 1 when any attack was not blocked (or crashed). Needs root, like `paddock run`.
//
//   node scripts/redteam.ts                 every attack
//   node scripts/redteam.ts process. fs.    attacks whose id starts with one of the prefixes
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Attack } from '../test/redteam/attack.ts';

const ATTACKS_DIR = fileURLToPath(new URL('../test/redteam/attacks/', import.meta.url));
/** Attacks run two at a time: the machine has two cores, and each attack is one short sandbox. */
const CONCURRENCY = 2;
/** An attack that has not finished by then failed (a hang is not a block). */
const ATTACK_TIMEOUT_MS = 30_000;

async function loadAttacks(): Promise<Attack[]> {
  const attacks: Attack[] = [];
  for (const file of readdirSync(ATTACKS_DIR)
    .filter((name) => name.endsWith('.ts'))
    .sort()) {
    const module = (await import(join(ATTACKS_DIR, file))) as { attacks?: Attack[] };
    if (!Array.isArray(module.attacks)) throw new Error(`${file} exports no attacks array`);
    attacks.push(...module.attacks);
  }
  const ids = new Set<string>();
  for (const attack of attacks) {
    if (ids.has(attack.id)) throw new Error(`duplicate attack id ${attack.id}`);
    ids.add(attack.id);
  }
  return attacks;
}

async function runOne(attack: Attack): Promise<{ blocked: boolean; evidence: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ATTACK_TIMEOUT_MS} ms`)), ATTACK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([attack.run(), timeout]);
  } catch (error) {
    return { blocked: false, evidence: `attack crashed: ${(error as Error).message}` };
  } finally {
    clearTimeout(timer);
  }
}

const prefixes = process.argv.slice(2);
const attacks = (await loadAttacks()).filter(
  (a) => prefixes.length === 0 || prefixes.some((p) => a.id.startsWith(p)),
);
let passed = 0;
let failed = 0;
const queue = [...attacks];
const started = performance.now();
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    for (let attack = queue.shift(); attack; attack = queue.shift()) {
      const result = await runOne(attack);
      if (result.blocked) passed++;
      else failed++;
      const verdict = result.blocked ? 'PASS' : 'FAIL';
      process.stdout.write(`${verdict}  ${attack.id.padEnd(34)} ${attack.title} — ${result.evidence}\n`);
    }
  }),
);
process.stderr.write(
  `redteam: ${attacks.length} attacks in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
);
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exitCode = failed > 0 || attacks.length === 0 ? 1 : 0;
