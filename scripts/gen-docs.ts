// Regenerates the documents derived from code: docs/errors.md from the error
// registry, and the command table in README.md from the CLI's command list.
import { readFileSync, writeFileSync } from 'node:fs';
import { withCommandsTable } from '../src/cli/commands-doc.ts';
import { renderErrorsDoc } from '../src/core/errors-doc.ts';

const errorsDoc = new URL('../docs/errors.md', import.meta.url);
writeFileSync(errorsDoc, renderErrorsDoc());
const readme = new URL('../README.md', import.meta.url);
writeFileSync(readme, withCommandsTable(readFileSync(readme, 'utf8')));
process.stderr.write('wrote docs/errors.md and the command table in README.md\n');
