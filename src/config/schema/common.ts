import { z } from 'zod';
import { parseDurationMs } from '../../core/clock.ts';
import { compileRedactPattern } from '../../core/redact.ts';

// Building blocks shared by every desired-state kind. Every object is strict
// (unknown keys are errors) and every field carries a description, which
// `paddock schema` carries into the JSON Schema that editors use.

export const API_VERSION = 'paddock.dev/v1';

export const apiVersion = z.literal(API_VERSION).describe(`Always "${API_VERSION}".`);

export const dnsLabel = z
  .string()
  .regex(
    /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/,
    'must be a DNS label: lowercase letters, digits and "-", 1-63 characters',
  )
  .describe(
    'A DNS label: lowercase letters, digits and "-", 1-63 characters, starting and ending alphanumeric.',
  );

export const semver = z
  .string()
  .regex(
    /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/,
    'must be a semantic version such as 1.3.0',
  )
  .describe('A semantic version (MAJOR.MINOR.PATCH).');

export const email = z.email('must be an e-mail address').describe('An e-mail address.');

export const duration = z
  .string()
  .refine((text) => parseDurationMs(text) !== undefined, 'must be a duration such as 30s, 15m, 4h or 90d')
  .describe('A duration: a whole number and a unit, ms, s, m, h or d (for example 4h or 90d).');

export const absolutePath = z
  .string()
  .refine(
    (p) =>
      p.startsWith('/') && !p.split('/').some((part) => part === '..' || part === '.') && !p.includes('\0'),
    'must be an absolute path without "." or ".." segments',
  )
  .describe('An absolute path inside the sandbox, without "." or ".." segments.');

const HOST_LABEL = '(?!-)[a-z0-9-]{1,63}(?<!-)';
const HOSTNAME = new RegExp(`^(\\*\\.)?${HOST_LABEL}(\\.${HOST_LABEL})+$`);
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** A host pattern: an exact lowercase DNS name, one leading-label wildcard, or an IP literal. */
export const hostPattern = z
  .string()
  .refine(
    (h) => HOSTNAME.test(h) || IPV4.test(h) || (h.startsWith('[') && h.endsWith(']') && h.length > 2),
    'must be a lowercase DNS name with at least two labels, "*.example.com" (one leading wildcard label), or an IP literal',
  )
  .describe(
    'Exact host name, "*.example.com" (matches exactly one extra leading label), or an IP literal ([::1] for IPv6).',
  );

export const port = z.int().min(1).max(65535).describe('A TCP port, 1-65535.');

export const HTTP_METHODS = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
  'CONNECT',
  'TRACE',
] as const;
export const httpMethod = z.enum(HTTP_METHODS).describe('An HTTP method, upper case.');

export const urlPathGlob = z
  .string()
  .regex(
    /^\/[^\s?#]*$/,
    'must be a URL path glob starting with "/" ("*" matches one segment, "**" any number)',
  )
  .describe('A URL path glob: "*" matches within one segment, "**" matches any number of segments.');

/** Regular expressions in the RE2-like form operators write, e.g. "(?i)password" (compiled in core). */
export { compileRedactPattern };

export const redactPattern = z
  .string()
  .refine((source) => {
    try {
      compileRedactPattern(source);
      return true;
    } catch {
      return false;
    }
  }, 'must be a valid regular expression (a leading "(?i)" makes it case-insensitive)')
  .describe('A regular expression; a leading "(?i)" makes it case-insensitive.');

export const metadataName = z.strictObject({
  name: dnsLabel.describe('Unique name of this object within its kind (a DNS label).'),
});
