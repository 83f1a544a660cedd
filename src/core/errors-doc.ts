import { ERRORS, type ErrorSpec } from './errors.ts';

// docs/errors.md is generated from the registry so that the two cannot drift;
// test/core/errors.test.ts fails when the committed file differs.

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

/** Renders the error registry as the Markdown of docs/errors.md. */
export function renderErrorsDoc(errors: Record<string, ErrorSpec> = ERRORS): string {
  const rows = Object.entries(errors).map(
    ([code, spec]) => `| \`${code}\` | ${cell(spec.message)} | ${cell(spec.fix)} | ${spec.status} |`,
  );
  return [
    '# Error codes',
    '',
    '<!-- Generated from src/core/errors.ts by `npm run docs`. Do not edit by hand. -->',
    '',
    'Every error Paddock reports carries one of these codes. Codes are never renamed or reused;',
    'match on the code, not on the message.',
    '',
    '| Code | Meaning | How to fix | HTTP status |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
