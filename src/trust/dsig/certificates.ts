// KeyInfo certificates: base64 text → DER → the RSA public key SignatureValue is checked with.
//
// Parsing a certificate costs more than verifying an RSA signature with it (measured: ~160 µs of CPU
// for `new X509Certificate` + `publicKey`, vs ~30 µs for a 2048-bit verify), and a sender signs every
// packet with the same certificate, so decoded keys are kept in a small LRU keyed by the certificate
// text. What is cached is derived from public data only; a hostile sender can at worst evict entries.

import { X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

/** A decoded KeyInfo certificate: its DER, and its key when it is one we verify with. */
export interface DecodedCertificate {
  readonly der: Buffer;
  /** The RSA public key, or why the certificate's key cannot be used. */
  readonly key: { readonly ok: true; readonly publicKey: KeyObject } | { readonly ok: false; readonly reason: string };
}

/** RSA moduli below this are refused: 512-bit keys are factored for a few dollars. */
export const MIN_RSA_BITS = 1024;
/** Most certificates read from one KeyInfo (a chain is 2–4; more is noise or an attack on our time). */
export const MAX_CERTIFICATES = 16;
/** Longest certificate text accepted and cached (real ones are 1–3 KB of base64). */
const MAX_CERTIFICATE_TEXT = 32 * 1024;
const CACHE_SIZE = 256;

const cache = new Map<string, DecodedCertificate>();

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const WHITESPACE = /[ \t\r\n]+/g;

/** Strict base64 (whitespace allowed between characters, as XML-DSig's base64Binary allows); undefined if not base64. */
export function decodeBase64(text: string): Buffer | undefined {
  const compact = text.includes(' ') || text.includes('\n') || text.includes('\t') || text.includes('\r') ? text.replace(WHITESPACE, '') : text;
  if (!BASE64.test(compact)) return undefined;
  return Buffer.from(compact, 'base64');
}

/** Decodes one X509Certificate text; a string explains a refusal. */
export function decodeCertificate(text: string): DecodedCertificate | string {
  const compact = text.replace(WHITESPACE, '');
  if (compact.length > MAX_CERTIFICATE_TEXT) return 'an X509Certificate is implausibly long';
  const cached = cache.get(compact);
  if (cached !== undefined) {
    // Refresh its place: Map iteration order is insertion order, so the first key is the oldest.
    cache.delete(compact);
    cache.set(compact, cached);
    return cached;
  }
  const der = decodeBase64(compact);
  if (der === undefined || der.length === 0) return 'an X509Certificate is not base64';
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(der);
  } catch {
    return 'an X509Certificate is not a DER-encoded X.509 certificate';
  }
  const decoded: DecodedCertificate = { der, key: usableKey(certificate.publicKey) };
  cache.set(compact, decoded);
  if (cache.size > CACHE_SIZE) {
    const oldest = cache.keys().next();
    if (oldest.done !== true) cache.delete(oldest.value);
  }
  return decoded;
}

function usableKey(publicKey: KeyObject): DecodedCertificate['key'] {
  if (publicKey.asymmetricKeyType !== 'rsa') return { ok: false, reason: `the certificate's key is ${publicKey.asymmetricKeyType ?? 'of an unknown type'}, not RSA` };
  const bits = publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) return { ok: false, reason: `the certificate's RSA key has ${bits} bits, fewer than ${MIN_RSA_BITS}` };
  return { ok: true, publicKey };
}
