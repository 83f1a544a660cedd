// `npm run bench -- NAME…`: runs bench/NAME.ts for each name given (`npm run bench` alone runs
// every bench/*.ts but this dispatcher), one after another, in this same Node.js. Benchmarks
// print ratios against a peer measured in the same run and write JSON under bench/results/
// (gitignored). They are not tests: they fail only when they cannot run.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const available = readdirSync(BENCH_DIR)
  .filter((name) => name.endsWith('.ts') && name !== 'run.ts')
  .map((name) => name.slice(0, -3))
  .sort();
const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !available.includes(name));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark ${unknown.join(', ')}; available: ${available.join(', ')}\n`);
  process.exit(2);
}
let failed = false;
for (const name of wanted.length > 0 ? wanted : available) {
  process.stdout.write(`# bench ${name}\n`);
  const result = spawnSync(process.execPath, [`${BENCH_DIR}${name}.ts`], { stdio: 'inherit' });
  if (result.status !== 0) failed = true;
}
process.exitCode = failed ? 1 : 0;
