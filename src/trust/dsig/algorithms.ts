// The algorithm identifiers of the signature profile (spec/edxml.md §5, issue 5): what is accepted on
// input and what is emitted. Anything not listed here is refused as EDX_ERR_SIGNATURE_UNSUPPORTED,
// so the list is the whole attack surface of "which algorithms": no HMAC (a key-less forgery when the
// verifier is tricked into using a public value as the secret), no XPath/XSLT transforms (they let a
// signature cover less than the document), no comments (they are not what the parser processes).

import type { Canonicalization, DigestAlgorithm, SignatureAlgorithm } from '../types.ts';

export const ALGORITHM = {
  c14n: 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315',
  excC14n: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  envelopedSignature: 'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
  rsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  rsaSha1: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
  sha1: 'http://www.w3.org/2000/09/xmldsig#sha1',
} as const;

/** The namespace of exc-c14n's InclusiveNamespaces element. */
export const EXC_C14N_NAMESPACE = ALGORITHM.excC14n;

export const CANONICALIZATION_BY_URI: ReadonlyMap<string, Canonicalization> = new Map([
  [ALGORITHM.c14n, 'c14n'],
  [ALGORITHM.excC14n, 'exc-c14n'],
]);

export const CANONICALIZATION_URI: Readonly<Record<Canonicalization, string>> = {
  c14n: ALGORITHM.c14n,
  'exc-c14n': ALGORITHM.excC14n,
};

export const SIGNATURE_ALGORITHM_BY_URI: ReadonlyMap<string, SignatureAlgorithm> = new Map([
  [ALGORITHM.rsaSha256, 'rsa-sha256'],
  [ALGORITHM.rsaSha1, 'rsa-sha1'],
]);

export const DIGEST_ALGORITHM_BY_URI: ReadonlyMap<string, DigestAlgorithm> = new Map([
  [ALGORITHM.sha256, 'sha256'],
  [ALGORITHM.sha1, 'sha1'],
]);

/** node:crypto's name of the hash behind each digest or signature algorithm. */
export const HASH_NAME: Readonly<Record<DigestAlgorithm, string>> = { sha256: 'sha256', sha1: 'sha1' };
export const SIGNATURE_HASH_NAME: Readonly<Record<SignatureAlgorithm, string>> = {
  'rsa-sha256': 'sha256',
  'rsa-sha1': 'sha1',
};

/** Digest sizes in bytes, to refuse a DigestValue of the wrong length as malformed rather than mismatched. */
export const DIGEST_LENGTH: Readonly<Record<DigestAlgorithm, number>> = { sha256: 32, sha1: 20 };

/** The comment-keeping variants, named so that the refusal can say what was seen. */
export const WITH_COMMENTS_URIS: ReadonlySet<string> = new Set([
  `${ALGORITHM.c14n}#WithComments`,
  'http://www.w3.org/2001/10/xml-exc-c14n#WithComments',
]);
