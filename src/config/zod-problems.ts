import type { z } from 'zod';
import { suggestion } from './did-you-mean.ts';
import { describeValue, problemAt } from './problem.ts';
import type { ConfigProblem, FieldPath } from './repository.ts';
import { allowedKeysAt } from './schema-keys.ts';
import type { YamlLocator } from './yaml-locator.ts';

// Turns zod issues into located problems with messages for operators. zod's own
// messages ("Invalid input: expected number, received string") name types in
// JavaScript terms and omit the value; these say what the field must be and what
// the file actually has: `must be a number, got string "abc"`.

type Issue = z.core.$ZodIssue & { input?: unknown; received?: string };

/** Messages written in the schemas themselves start like this; zod's defaults start with a capital. */
const AUTHORED = /^(must|is|are|may) /;

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  bigint: 'a whole number',
};

const FORMAT_NAMES: Record<string, string> = {
  email: 'an e-mail address',
  url: 'a URL',
  uuid: 'a UUID',
  datetime: 'an ISO 8601 date and time',
  ipv4: 'an IPv4 address',
  ipv6: 'an IPv6 address',
};

/** Converts every issue of a failed safeParse into problems located through `locator`. */
export function zodProblems(
  issues: readonly z.core.$ZodIssue[],
  schema: z.ZodType,
  data: unknown,
  locator: YamlLocator,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const raw of issues) {
    const issue = raw as Issue;
    const path = issue.path as (string | number)[];
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeysAt(schema, path, data);
      for (const key of issue.keys) {
        const fieldPath: FieldPath = [...path, key];
        const hint =
          suggestion(key, allowed) || (allowed.length ? `; allowed fields: ${allowed.join(', ')}` : '');
        problems.push(problemAt(locator.locateKey(fieldPath), fieldPath, `unknown field "${key}"${hint}`));
      }
      continue;
    }
    problems.push(problemAt(locator.locate(path), path, issueMessage(issue)));
  }
  return problems;
}

function got(issue: Issue): string {
  if (issue.received === 'Infinity' || issue.received === 'NaN') return `, got ${issue.received}`;
  return issue.input === undefined ? '' : `, got ${describeValue(issue.input)}`;
}

function quoted(values: readonly unknown[]): string {
  return values.map((value) => JSON.stringify(value)).join(', ');
}

/** The operator-facing message for one (non unknown-key) issue. */
export function issueMessage(issue: Issue): string {
  switch (issue.code) {
    case 'invalid_type':
      // A missing field has no input at all; custom messages on the schema are
      // about the value's format and would mislead here.
      // YAML has no undefined, so an undefined input is a field that is absent.
      if (issue.input === undefined && issue.received === undefined) return 'is required';
      return `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}${got(issue)}`;
    case 'invalid_value': {
      const values = issue.values;
      const hint = typeof issue.input === 'string' ? suggestion(issue.input, values.map(String)) : '';
      const want = values.length === 1 ? JSON.stringify(values[0]) : `one of ${quoted(values)}`;
      if (issue.input === undefined) return `is required (${want})`;
      return `must be ${want}${got(issue)}${hint}`;
    }
    case 'invalid_union': {
      const options = (issue as { options?: unknown[] }).options;
      const discriminator = (issue as { discriminator?: string }).discriminator;
      if (discriminator !== undefined && Array.isArray(options)) {
        const input = (issue.input as Record<string, unknown> | undefined)?.[discriminator];
        const hint = typeof input === 'string' ? suggestion(input, options.map(String)) : '';
        return `must be one of ${quoted(options)}${input === undefined ? '' : `, got ${describeValue(input)}`}${hint}`;
      }
      return `does not match any of the allowed forms${got(issue)}`;
    }
    case 'too_small':
    case 'too_big':
      return sizeMessage(issue);
    case 'invalid_format':
      if (AUTHORED.test(issue.message)) return `${issue.message}${got(issue)}`;
      if (issue.format === 'regex')
        return `must match ${(issue as { pattern?: string }).pattern ?? 'the required pattern'}${got(issue)}`;
      return `must be ${FORMAT_NAMES[issue.format] ?? `a valid ${issue.format}`}${got(issue)}`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}${got(issue)}`;
    default: {
      // Custom refinements carry authored messages; the value is shown only when it is a scalar.
      const scalar = issue.input !== undefined && (issue.input === null || typeof issue.input !== 'object');
      return `${issue.message}${scalar ? got(issue) : ''}`;
    }
  }
}

function sizeMessage(
  issue: Issue &
    ({ code: 'too_small'; minimum: number | bigint } | { code: 'too_big'; maximum: number | bigint }),
): string {
  const small = issue.code === 'too_small';
  const limit = Number(small ? issue.minimum : issue.maximum);
  const inclusive = issue.inclusive !== false;
  const bound = small ? (inclusive ? 'at least' : 'more than') : inclusive ? 'at most' : 'less than';
  switch (issue.origin) {
    case 'array':
    case 'set':
      if (small && limit === 1 && inclusive) return 'must not be empty';
      return `must have ${bound} ${limit} item${limit === 1 ? '' : 's'}${Array.isArray(issue.input) ? `, got ${issue.input.length}` : ''}`;
    case 'string':
      if (small && limit === 1 && inclusive) return 'must not be empty';
      return `must be ${bound} ${limit} character${limit === 1 ? '' : 's'} long${got(issue)}`;
    default:
      return `must be ${bound} ${limit}${got(issue)}`;
  }
}
