import { existsSync, readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';

// The CA bundle a gateway's clients trust: SSL_CERT_FILE (and the like) replaces OpenSSL's
// default store, so the bundle must hold the public roots too, or every site the gateway
// splices (not inspected) would fail verification; the workspace CA last, for the sites it
// inspects.

/** Debian's system bundle; Node's own store stands in where it is missing (Windows, macOS). */
const SYSTEM_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/**
 * The bundle's PEM text: the system roots (or Node's), then `caCertPem`.
 * @example writeFileSync(path, caBundlePem(gateway.caCertPem), { mode: 0o644 });
 */
export function caBundlePem(caCertPem: string): string {
  const system = existsSync(SYSTEM_BUNDLE)
    ? readFileSync(SYSTEM_BUNDLE, 'utf8')
    : `${rootCertificates.join('\n')}\n`;
  return `${system.trimEnd()}\n${caCertPem.trimEnd()}\n`;
}
