import type { BundlePolicy, ExtraPolicyFile } from './bundle-types.ts';
import { policyToJson, splitPolicies } from './wasm.ts';

// policies/*.cedar: platform-wide Cedar policies merged into every bundle. Each policy gets the
// id `extra:FILE#N` (N counts from 0 in file order) or `extra:FILE#NAME` when it carries
// @id("NAME"). Only three annotations mean something to Paddock and only those are accepted,
// so a typo cannot silently drop a review gate: @id, @reason("code") and @review("required"|"none").

/** A problem in a policy file, located as `paddock validate` prints problems. */
export interface PolicyProblem {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly path: string;
  readonly message: string;
  /** PDK_POLICY_PARSE for syntax, PDK_POLICY_INVALID for everything else. */
  readonly code: 'PDK_POLICY_PARSE' | 'PDK_POLICY_INVALID';
}

/** An extra policy, and where a byte offset inside its text falls in its file. */
export interface ParsedExtraPolicy {
  readonly policy: BundlePolicy;
  locate(byteOffset: number): { line: number; column: number };
}

const REASON = /^[a-z][a-z0-9_]{0,63}$/;
const NAME = /^[A-Za-z][A-Za-z0-9._-]{0,63}$/;
const ANNOTATIONS = new Set(['id', 'reason', 'review']);

/** 1-based line and column of a UTF-16 index in `text`. */
export function lineColumn(text: string, index: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, index));
  const lines = before.split('\n');
  return { line: lines.length, column: lines[lines.length - 1]!.length + 1 };
}

/** The UTF-16 index of a UTF-8 byte offset (Cedar reports byte offsets). */
export function indexOfByte(text: string, byteOffset: number): number {
  return Buffer.from(text, 'utf8').subarray(0, byteOffset).toString('utf8').length;
}

/**
 * Parses every extra policy file. Policies come out in file order (files sorted by name) with
 * their ids and sources; `problems` lists parse errors and unsupported annotations.
 */
export function parseExtraPolicies(files: readonly ExtraPolicyFile[]): {
  policies: ParsedExtraPolicy[];
  problems: PolicyProblem[];
} {
  const policies: ParsedExtraPolicy[] = [];
  const problems: PolicyProblem[] = [];
  const sorted = [...files].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  for (const { file, text } of sorted) {
    const at = (index: number, message: string, code: PolicyProblem['code'] = 'PDK_POLICY_INVALID') => ({
      file,
      ...lineColumn(text, index),
      path: '',
      message,
      code,
    });
    const split = splitPolicies(text);
    if (!split.ok) {
      for (const problem of split.problems)
        problems.push(
          at(
            problem.offset === undefined ? 0 : indexOfByte(text, problem.offset),
            problem.message,
            'PDK_POLICY_PARSE',
          ),
        );
      continue;
    }
    // Cedar returns the parts sorted by its own ids (policy0, policy10, policy2, …): put them
    // back in file order by where each exact source slice starts.
    const claimed = new Set<number>();
    const located = split.policies.map((source) => {
      let index = text.indexOf(source);
      while (index >= 0 && claimed.has(index)) index = text.indexOf(source, index + 1);
      claimed.add(index);
      return { source, index };
    });
    located.sort((a, b) => a.index - b.index);
    const names = new Set<string>();
    located.forEach(({ source, index }, position) => {
      const json = policyToJson(source);
      const annotations = json.annotations ?? {};
      let suffix = String(position);
      for (const [key, value] of Object.entries(annotations)) {
        if (!ANNOTATIONS.has(key)) {
          problems.push(at(index, `unknown annotation @${key}: Paddock reads @id, @reason and @review`));
        } else if (key === 'reason' && !REASON.test(value)) {
          problems.push(
            at(index, `@reason("${value}") must be a code of lower-case letters, digits and "_"`),
          );
        } else if (key === 'review' && value !== 'required' && value !== 'none') {
          problems.push(at(index, `@review("${value}") must be "required" or "none"`));
        } else if (key === 'review' && json.effect === 'forbid') {
          problems.push(at(index, '@review marks a permit as a review gate; a forbid cannot carry it'));
        } else if (key === 'id') {
          if (!NAME.test(value) || names.has(value)) {
            problems.push(
              at(
                index,
                `@id("${value}") must be a unique name: a letter, then letters, digits, ".", "_" or "-"`,
              ),
            );
          } else {
            names.add(value);
            suffix = value;
          }
        }
      }
      policies.push({
        policy: {
          id: `extra:${file}#${suffix}`,
          effect: json.effect,
          text: source,
          source: { file, line: lineColumn(text, index).line },
        },
        locate: (byteOffset) => lineColumn(text, index + indexOfByte(source, byteOffset)),
      });
    });
  }
  return { policies, problems };
}
