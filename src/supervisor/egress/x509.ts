import { createHash, type KeyObject, randomBytes, sign } from 'node:crypto';
import { isIP } from 'node:net';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import * as asn from '@peculiar/asn1-x509';

// The one boundary to @peculiar/asn1-x509 (see docs/egress.md, "Why this dependency").
// Node's crypto can generate keys, sign and parse certificates, but not build them; this
// module lays out the DER with the library and signs with Node's crypto, so private keys
// never leave KeyObjects. ECDSA P-256 with SHA-256 throughout. The extensions are the
// ones strict verifiers (OpenSSL's X509_STRICT, as Python 3.13 enables) require: critical
// basicConstraints and keyUsage, subject and authority key identifiers.

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const COMMON_NAME = '2.5.4.3';
const ORGANIZATION = '2.5.4.10';
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

export interface CertificateRequest {
  readonly subject: string;
  readonly issuer: string;
  /** Key of the certificate's subject. */
  readonly publicKey: KeyObject;
  /** Key that signs (the issuer's; the subject's own for a self-signed CA). */
  readonly signingKey: KeyObject;
  /** Public key of the issuer, for the authority key identifier. */
  readonly issuerPublicKey: KeyObject;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** A CA certificate (may sign leaves, not other CAs) or a TLS server leaf for `host`. */
  readonly kind: { readonly ca: true } | { readonly ca: false; readonly host: string };
}

/** Builds and signs a certificate; returns its DER encoding. */
export function buildCertificate(request: CertificateRequest): Buffer {
  const extensions: asn.Extension[] = [];
  const add = (id: string, critical: boolean, value: unknown) =>
    extensions.push(
      new asn.Extension({ extnID: id, critical, extnValue: new OctetString(AsnConvert.serialize(value)) }),
    );
  add(
    asn.id_ce_basicConstraints,
    true,
    new asn.BasicConstraints(request.kind.ca ? { cA: true, pathLenConstraint: 0 } : { cA: false }),
  );
  add(
    asn.id_ce_keyUsage,
    true,
    new asn.KeyUsage(
      request.kind.ca
        ? asn.KeyUsageFlags.keyCertSign | asn.KeyUsageFlags.cRLSign
        : asn.KeyUsageFlags.digitalSignature,
    ),
  );
  add(asn.id_ce_subjectKeyIdentifier, false, new asn.SubjectKeyIdentifier(keyIdentifier(request.publicKey)));
  if (!request.kind.ca) {
    add(
      asn.id_ce_authorityKeyIdentifier,
      false,
      new asn.AuthorityKeyIdentifier({
        keyIdentifier: new asn.KeyIdentifier(keyIdentifier(request.issuerPublicKey)),
      }),
    );
    add(asn.id_ce_extKeyUsage, false, new asn.ExtendedKeyUsage([SERVER_AUTH]));
    const host = request.kind.host;
    const name = isIP(host)
      ? new asn.GeneralName({ iPAddress: host })
      : new asn.GeneralName({ dNSName: host });
    add(asn.id_ce_subjectAltName, false, new asn.SubjectAlternativeName([name]));
  }
  const serial = randomBytes(16);
  serial[0]! &= 0x7f; // positive INTEGER
  serial[0]! |= 0x01; // and no leading zero byte
  const algorithm = new asn.AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA256 });
  const tbs = new asn.TBSCertificate({
    version: asn.Version.v3,
    serialNumber: new Uint8Array(serial).buffer,
    signature: algorithm,
    issuer: distinguishedName(request.issuer),
    subject: distinguishedName(request.subject),
    validity: new asn.Validity({ notBefore: request.notBefore, notAfter: request.notAfter }),
    subjectPublicKeyInfo: AsnConvert.parse(
      request.publicKey.export({ type: 'spki', format: 'der' }),
      asn.SubjectPublicKeyInfo,
    ),
    extensions: new asn.Extensions(extensions),
  });
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  const signature = sign('sha256', tbsDer, request.signingKey);
  // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING },
  // assembled from the parts so the TBS is serialized once.
  const bitString = derElement(0x03, Buffer.concat([Buffer.of(0), signature]));
  return derElement(0x30, Buffer.concat([tbsDer, Buffer.from(AsnConvert.serialize(algorithm)), bitString]));
}

/** One DER element: tag, definite length, contents. */
function derElement(tag: number, contents: Buffer): Buffer {
  const length = contents.length;
  const lengthBytes =
    length < 0x80
      ? Buffer.of(length)
      : length < 0x100
        ? Buffer.of(0x81, length)
        : Buffer.of(0x82, length >> 8, length & 0xff);
  return Buffer.concat([Buffer.of(tag), lengthBytes, contents]);
}

/** PEM text of a DER certificate. */
export function certificatePem(der: Buffer): string {
  const base64 = der.toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${base64}${base64.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE-----\n`;
}

function distinguishedName(commonName: string): asn.Name {
  const attribute = (type: string, value: string) =>
    new asn.RelativeDistinguishedName([
      new asn.AttributeTypeAndValue({ type, value: new asn.AttributeValue({ utf8String: value }) }),
    ]);
  return new asn.Name([attribute(ORGANIZATION, 'Paddock'), attribute(COMMON_NAME, commonName.slice(0, 64))]);
}

/**
 * RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bit string, which for an EC key
 * is the uncompressed point 04 || x || y.
 */
function keyIdentifier(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty !== 'EC' || !jwk.x || !jwk.y) throw new TypeError('only EC keys are supported');
  const point = Buffer.concat([
    Buffer.of(0x04),
    Buffer.from(jwk.x, 'base64url'),
    Buffer.from(jwk.y, 'base64url'),
  ]);
  return createHash('sha1').update(point).digest();
}
