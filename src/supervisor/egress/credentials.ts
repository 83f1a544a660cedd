import { randomBytes } from 'node:crypto';
import type { EgressPolicy } from '../../policy/index.ts';
import type { HeaderField } from './http-head.ts';

// Credential placeholders. The sandbox holds a random placeholder per credential; only the
// gateway maps it to the secret, only on requests to a service bound to that credential,
// and only after the request is allowed. A placeholder seen on its way anywhere else is
// refused. Placeholders share one prefix so a single indexOf finds every candidate.

/** Environment variable prefix: credential `github-pat` → PADDOCK_CREDENTIAL_GITHUB_PAT. */
export const CREDENTIAL_ENV_PREFIX = 'PADDOCK_CREDENTIAL_';
export const PLACEHOLDER_PREFIX = 'pdk_ph_';
const PLACEHOLDER = /pdk_ph_[a-z0-9_]+_[0-9a-f]{32}/g;

export interface CredentialBinding {
  /** The secret's name (the services' `credential`). */
  readonly credential: string;
  readonly placeholder: string;
  /** The sandbox environment variable that carries the placeholder. */
  readonly envName: string;
  /** Services whose requests may carry it. */
  readonly services: ReadonlySet<string>;
}

/** Placeholders for one sandbox: random per credential, fixed for the sandbox's life. */
export class CredentialPlaceholders {
  private readonly byCredential = new Map<string, CredentialBinding>();
  private readonly byPlaceholder = new Map<string, CredentialBinding>();

  /** Issues placeholders for every credential the policy names (existing ones are kept, so a policy update does not change them). */
  bind(policy: EgressPolicy): void {
    const services = new Map<string, Set<string>>();
    for (const service of policy.services) {
      if (!service.credential) continue;
      const set = services.get(service.credential) ?? new Set<string>();
      set.add(service.name);
      services.set(service.credential, set);
    }
    const previous = new Map(this.byCredential);
    this.byCredential.clear();
    this.byPlaceholder.clear();
    for (const [credential, bound] of services) {
      const slug = credential.replaceAll('-', '_');
      const placeholder =
        previous.get(credential)?.placeholder ??
        `${PLACEHOLDER_PREFIX}${slug}_${randomBytes(16).toString('hex')}`;
      const binding = {
        credential,
        placeholder,
        envName: `${CREDENTIAL_ENV_PREFIX}${slug.toUpperCase()}`,
        services: bound,
      };
      this.byCredential.set(credential, binding);
      this.byPlaceholder.set(placeholder, binding);
    }
  }

  /** The variables to set in the sandbox: name → placeholder. */
  env(): Record<string, string> {
    return Object.fromEntries(
      [...this.byCredential.values()].map((binding) => [binding.envName, binding.placeholder]),
    );
  }

  /** The binding of a credential, if the policy names it. */
  forCredential(credential: string): CredentialBinding | undefined {
    return this.byCredential.get(credential);
  }

  /** Issued placeholders occurring in `text`. */
  findIn(text: string): CredentialBinding[] {
    if (!text.includes(PLACEHOLDER_PREFIX)) return [];
    const found: CredentialBinding[] = [];
    for (const match of text.matchAll(PLACEHOLDER)) {
      const binding = this.byPlaceholder.get(match[0]);
      if (binding && !found.includes(binding)) found.push(binding);
    }
    return found;
  }
}

/**
 * Every placeholder a request carries where the gateway can see it: the target, each header
 * value (Basic credentials decoded), and the start of the body already received.
 */
export function placeholdersInRequest(
  placeholders: CredentialPlaceholders,
  target: string,
  fields: readonly HeaderField[],
  bodyStart: Buffer,
): CredentialBinding[] {
  const texts = [target, bodyStart.toString('latin1')];
  if (target.includes('%')) texts.push(safeDecode(target));
  for (const field of fields) {
    texts.push(field.value);
    const basic = /^basic\s+([A-Za-z0-9+/=]+)$/i.exec(field.value);
    if (basic) texts.push(Buffer.from(basic[1]!, 'base64').toString('latin1'));
  }
  const found = new Set<CredentialBinding>();
  for (const text of texts) for (const binding of placeholders.findIn(text)) found.add(binding);
  return [...found];
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * The request's headers with the credential in `header`: the placeholder replaced where the
 * client put it (as is, or inside Basic credentials), otherwise the header set to
 * `Bearer SECRET` (authorization) or `SECRET` (any other header). Any client-supplied value
 * without the placeholder is replaced, and duplicates of the header are dropped.
 */
export function injectCredential(
  fields: readonly HeaderField[],
  header: string,
  placeholder: string,
  secret: string,
): HeaderField[] {
  const existing = fields.filter((field) => field.lower === header);
  let value = header === 'authorization' ? `Bearer ${secret}` : secret;
  const only = existing.length === 1 ? existing[0]!.value : undefined;
  if (only?.includes(placeholder)) value = only.replaceAll(placeholder, secret);
  else if (only) {
    const basic = /^(basic\s+)([A-Za-z0-9+/=]+)$/i.exec(only);
    const decoded = basic ? Buffer.from(basic[2]!, 'base64').toString('latin1') : '';
    if (basic && decoded.includes(placeholder)) {
      value = `${basic[1]}${Buffer.from(decoded.replaceAll(placeholder, secret), 'latin1').toString('base64')}`;
    }
  }
  const result: HeaderField[] = [];
  let placed = false;
  for (const field of fields) {
    if (field.lower !== header) result.push(field);
    else if (!placed) {
      result.push({ name: field.name, lower: header, value });
      placed = true;
    }
  }
  if (!placed)
    result.push({ name: header === 'authorization' ? 'Authorization' : header, lower: header, value });
  return result;
}
