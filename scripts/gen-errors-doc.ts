// Regenerates docs/errors.md from the error registry.
import { writeFileSync } from 'node:fs';
import { renderErrorsDoc } from '../src/core/errors-doc.ts';

const target = new URL('../docs/errors.md', import.meta.url);
writeFileSync(target, renderErrorsDoc());
process.stderr.write('wrote docs/errors.md\n');
