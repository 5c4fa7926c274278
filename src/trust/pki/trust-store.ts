// The trust store and the certificate decision. A TrustStore is an immutable snapshot of the CA
// certificates the operator trusts (anchors) and knows (intermediates); TrustStoreHolder swaps
// whole snapshots, so a reload never changes the store under an evaluation in progress and needs
// no restart. evaluate() answers, for the certificates of one signature: does the signer chain to
// an anchor, is every link valid at that time and not revoked, and may it sign for that agency.

import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { issue, warning } from '../../errors.ts';
import type { ErrorCode, Issue, Result } from '../../errors.ts';
import type { CertificateVerdict } from '../types.ts';
import { matchAgencyBinding } from './agency-binding.ts';
import type { AgencyBinding } from './agency-binding.ts';
import { errorText, isSelfSigned, isValidAt, parseCertificate, readCertificates, signedBy } from './certificate.ts';
import type { Certificate } from './certificate.ts';
import { crlCovers, crlIsCurrent, crlSignedBy, revokedEntry } from './crl.ts';
import type { Crl, RevocationSource, RevokedEntry } from './crl.ts';
import { nameKey, sameName } from './names.ts';

/** What to do when no current CRL says whether a certificate is revoked. */
export type RevocationPolicy = 'hard-fail' | 'soft-fail';

export interface EvaluateOptions {
  /** The instant the certificates must be valid at (normally the time the packet arrived). */
  readonly at: Date;
  /** The agency the packet claims to come from (MessageHeader/From/OrganId). */
  readonly agency: string;
  readonly binding: AgencyBinding;
  readonly revocation: RevocationPolicy;
}

/**
 * A certificate source: DER or PEM bytes, PEM text, or either with a label (a file name, a
 * database row id) that load errors name.
 */
export type TrustInput = Buffer | string | { readonly source: string; readonly data: Buffer | string };

export interface TrustMaterial {
  /** Trusted CA certificates; a chain must end at one of them. */
  readonly anchors: readonly TrustInput[];
  /** CA certificates used to complete chains whose KeyInfo omits them; trusted only through an anchor. */
  readonly intermediates?: readonly TrustInput[] | undefined;
  /** Where revocation lists come from (normally a CrlCache). */
  readonly crls?: RevocationSource | undefined;
}

/** Longest chain considered, signer and anchor included. Government PKIs use 2 or 3. */
const MAX_CHAIN_LENGTH = 8;
/** KeyInfo certificates beyond this are ignored, and signature checks per evaluation are capped, so a
 * packet stuffed with look-alike certificates cannot make path building expensive. */
const MAX_OFFERED_CERTIFICATES = 16;
const MAX_SIGNATURE_CHECKS = 64;

/** Refusal codes from least to most specific: when several chains fail, the one that got furthest is reported. */
const REFUSAL_ORDER: readonly ErrorCode[] = [
  'EDX_ERR_SIGNATURE_CERT_UNTRUSTED',
  'EDX_ERR_SIGNATURE_CERT_EXPIRED',
  'EDX_ERR_SIGNATURE_CERT_REVOKED',
  'EDX_ERR_SIGNATURE_CERT_WRONG_AGENCY',
  'EDX_ERR_SIGNATURE_CERT_REVOCATION_UNKNOWN',
];

type Refusal = Extract<CertificateVerdict, { ok: false }>;

type RevocationStatus =
  | { readonly status: 'good' }
  | { readonly status: 'revoked'; readonly entry: RevokedEntry; readonly crl: Crl }
  | { readonly status: 'unknown'; readonly reason: string };

export class TrustStore {
  readonly anchors: readonly Certificate[];
  readonly intermediates: readonly Certificate[];
  readonly crls: RevocationSource | undefined;
  readonly #anchorFingerprints: ReadonlySet<string>;
  /** Anchors, then intermediates, by subject name: where issuers are looked up. */
  readonly #bySubject: ReadonlyMap<string, readonly Certificate[]>;

  private constructor(anchors: readonly Certificate[], intermediates: readonly Certificate[], crls: RevocationSource | undefined) {
    this.anchors = Object.freeze([...anchors]);
    this.intermediates = Object.freeze([...intermediates]);
    this.crls = crls;
    this.#anchorFingerprints = new Set(anchors.map((certificate) => certificate.fingerprint256));
    const bySubject = new Map<string, Certificate[]>();
    for (const certificate of [...anchors, ...intermediates]) {
      const key = nameKey(certificate.subject);
      bySubject.set(key, [...(bySubject.get(key) ?? []), certificate]);
    }
    this.#bySubject = bySubject;
    Object.freeze(this);
  }

  /**
   * Builds a snapshot from certificates (PEM or DER, from files or database rows). Any unreadable
   * certificate fails the whole load: a trust store silently missing an anchor would refuse
   * packets with a misleading "untrusted", so the operator hears about it instead.
   */
  static from(material: TrustMaterial): Result<TrustStore> {
    const issues: Issue[] = [];
    const warnings: Issue[] = [];
    const anchors = readInputs(material.anchors, 'anchors', issues);
    const anchorFingerprints = new Set(anchors.map((certificate) => certificate.fingerprint256));
    const intermediates = readInputs(material.intermediates ?? [], 'intermediates', issues).filter(
      (certificate) => !anchorFingerprints.has(certificate.fingerprint256),
    );
    if (issues.length > 0) return { ok: false, issues };
    const now = new Date();
    if (anchors.length === 0) {
      warnings.push(
        warning('EDX_ERR_CONFIG_INVALID', 'anchors', 'The trust store has no anchors: every signed packet will be refused as untrusted.'),
      );
    }
    for (const certificate of [...anchors, ...intermediates]) {
      if (!isValidAt(certificate, now)) {
        warnings.push(
          warning(
            'EDX_ERR_SIGNATURE_CERT_EXPIRED',
            certificate.subject.text,
            `The CA certificate is not valid now (valid ${certificate.notBefore.toISOString()} to ${certificate.notAfter.toISOString()}); chains through it are refused.`,
          ),
        );
      }
    }
    for (const certificate of intermediates) {
      if (certificate.basicConstraints?.ca !== true) {
        warnings.push(
          warning('EDX_ERR_CONFIG_INVALID', certificate.subject.text, 'This intermediate is not a CA certificate (basicConstraints); it cannot issue certificates.'),
        );
      }
    }
    return { ok: true, value: new TrustStore(anchors, intermediates, material.crls), warnings };
  }

  /** A store that trusts nothing (before the first load, or when trust is not configured). */
  static empty(crls?: RevocationSource): TrustStore {
    return new TrustStore([], [], crls);
  }

  /** The same certificates with another revocation source. */
  withCrls(crls: RevocationSource | undefined): TrustStore {
    return new TrustStore(this.anchors, this.intermediates, crls);
  }

  /** Anchors and intermediates: the CAs whose CRLs may be needed and whose keys verify them. */
  caCertificates(): readonly Certificate[] {
    return [...this.anchors, ...this.intermediates];
  }

  /** CRL URLs the store's intermediates name (where their issuers publish revocations). */
  distributionPoints(): string[] {
    return [...new Set(this.intermediates.flatMap((certificate) => certificate.crlDistributionPoints))];
  }

  isAnchor(certificate: Certificate): boolean {
    return this.#anchorFingerprints.has(certificate.fingerprint256);
  }

  /**
   * Judges the certificates of one signature (DER, signer first, then whatever else KeyInfo
   * carried). Checks, in this order, and refuses with the first that fails: a chain to an anchor
   * with valid signatures and CA constraints (UNTRUSTED), validity at `at` (EXPIRED), CRLs
   * (REVOKED), the agency binding (WRONG_AGENCY), and a current CRL for every link
   * (REVOCATION_UNKNOWN under hard-fail). Never throws.
   */
  evaluate(certificates: readonly Buffer[], options: EvaluateOptions): CertificateVerdict {
    const [signerDer, ...others] = certificates;
    if (!signerDer) return refuse('EDX_ERR_SIGNATURE_CERT_UNTRUSTED', 'The signature carries no certificate.');
    // An Invalid Date compares false both ways and would pass every validity check.
    if (Number.isNaN(options.at.getTime())) {
      return refuse('EDX_ERR_SIGNATURE_CERT_UNTRUSTED', 'No valid time was given to judge the certificate at.');
    }
    const signer = parseCertificate(signerDer);
    if (!signer.ok) return refuse('EDX_ERR_SIGNATURE_CERT_UNTRUSTED', `The signer's certificate cannot be read: ${signer.reason}.`);
    const offered = others.slice(0, MAX_OFFERED_CERTIFICATES).flatMap((der) => {
      // An unreadable extra certificate cannot be part of any chain; ignoring it is enough.
      const parsed = parseCertificate(der);
      return parsed.ok ? [parsed.value] : [];
    });
    const search = this.#searchPaths(signer.value, offered, options.at);
    let best: Refusal | undefined;
    for (const path of search.anchored) {
      const verdict = this.#validatePath(path, options);
      if (verdict.ok) return verdict;
      if (!best || REFUSAL_ORDER.indexOf(verdict.code) > REFUSAL_ORDER.indexOf(best.code)) best = verdict;
    }
    return (
      best ??
      refuse(
        'EDX_ERR_SIGNATURE_CERT_UNTRUSTED',
        search.failures[0] ?? 'No chain from the signer to a trusted authority was found.',
        signer.value.subject.text,
      )
    );
  }

  /**
   * Every chain (signer first, anchor last) whose links are names that chain and signatures that
   * verify, depth-first, trying likelier issuers first. Dead ends are described in `failures`.
   */
  #searchPaths(signer: Certificate, offered: readonly Certificate[], at: Date): { anchored: Certificate[][]; failures: string[] } {
    const anchored: Certificate[][] = [];
    const failures: string[] = [];
    let signatureChecks = 0;
    const visit = (path: Certificate[]): void => {
      const current = path[path.length - 1] as Certificate;
      if (this.isAnchor(current)) {
        anchored.push(path);
        return;
      }
      if (current.selfIssued) {
        signatureChecks += 1;
        if (isSelfSigned(current)) {
          failures.push(
            path.length === 1
              ? `The certificate ${current.subject.text} is self-signed and is not a trusted authority.`
              : `The chain ends at the self-signed ${current.subject.text}, which is not in the trust store.`,
          );
          return;
        }
      }
      if (path.length >= MAX_CHAIN_LENGTH) {
        failures.push(`The chain is longer than ${MAX_CHAIN_LENGTH} certificates.`);
        return;
      }
      const inPath = new Set(path.map((certificate) => certificate.fingerprint256));
      const candidates = this.#issuerCandidates(current, offered, at).filter((candidate) => !inPath.has(candidate.fingerprint256));
      if (candidates.length === 0) {
        failures.push(
          `The issuer of ${current.subject.text} (${current.issuer.text}) is neither in the trust store nor among the certificates in KeyInfo.`,
        );
        return;
      }
      let linked = false;
      for (const candidate of candidates) {
        if (signatureChecks >= MAX_SIGNATURE_CHECKS) {
          failures.push('Too many candidate certificates to check.');
          return;
        }
        signatureChecks += 1;
        if (signedBy(current, candidate)) {
          linked = true;
          visit([...path, candidate]);
        }
      }
      if (!linked) {
        failures.push(
          `The signature on ${current.subject.text} does not verify with the key of ${(candidates[0] as Certificate).subject.text}, the CA it names as issuer.`,
        );
      }
    };
    visit([signer]);
    return { anchored, failures };
  }

  /** Certificates named like `child`'s issuer: matching key identifier first, then anchors, store, KeyInfo. */
  #issuerCandidates(child: Certificate, offered: readonly Certificate[], at: Date): Certificate[] {
    const known = this.#bySubject.get(nameKey(child.issuer)) ?? [];
    const sent = offered.filter((certificate) => sameName(certificate.subject, child.issuer));
    const unique = new Map<string, Certificate>();
    for (const certificate of [...known, ...sent]) {
      if (!unique.has(certificate.fingerprint256)) unique.set(certificate.fingerprint256, certificate);
    }
    const score = (candidate: Certificate): number =>
      (child.authorityKeyId !== undefined && candidate.subjectKeyId === child.authorityKeyId ? 2 : 0) +
      (isValidAt(candidate, at) ? 1 : 0);
    return [...unique.values()].sort((a, b) => score(b) - score(a)); // stable: keeps anchors first among equals
  }

  /** The checks on one chain that verified up to an anchor. */
  #validatePath(path: readonly Certificate[], options: EvaluateOptions): CertificateVerdict {
    const signer = path[0] as Certificate;
    const subject = signer.subject.text;
    const untrusted = (reason: string): Refusal => refuse('EDX_ERR_SIGNATURE_CERT_UNTRUSTED', reason, subject);

    // Anchors are the operator's explicit choice; everything below them must obey the profile.
    for (const certificate of path.slice(0, -1)) {
      if (certificate.unhandledCriticalExtensions.length > 0) {
        return untrusted(
          `${certificate.subject.text} has critical extensions this gateway does not process (${certificate.unhandledCriticalExtensions.join(', ')}).`,
        );
      }
    }
    for (let index = 1; index < path.length; index += 1) {
      const issuer = path[index] as Certificate;
      const issued = path[index - 1] as Certificate;
      const isAnchor = index === path.length - 1;
      // A version 1 root has no extensions at all, so no basicConstraints to consult.
      const isCa = issuer.basicConstraints?.ca === true || (isAnchor && issuer.version < 3);
      if (!isCa) return untrusted(`${issuer.subject.text} issued ${issued.subject.text} but is not a CA certificate (basicConstraints).`);
      if (issuer.keyUsage !== undefined && !issuer.keyUsage.has('keyCertSign')) {
        return untrusted(`The keyUsage of ${issuer.subject.text} does not allow signing certificates.`);
      }
      const pathLength = issuer.basicConstraints?.pathLength;
      // RFC 5280 §4.2.1.9: self-issued intermediates (key rollover) do not count.
      const intermediatesBelow = path.slice(1, index).filter((certificate) => !certificate.selfIssued).length;
      if (pathLength !== undefined && intermediatesBelow > pathLength) {
        return untrusted(`${issuer.subject.text} allows ${pathLength} intermediate CA(s) below it; this chain has ${intermediatesBelow}.`);
      }
    }
    if (signer.keyUsage !== undefined && !signer.keyUsage.has('digitalSignature') && !signer.keyUsage.has('nonRepudiation')) {
      return untrusted(`The keyUsage of ${subject} allows neither digitalSignature nor nonRepudiation.`);
    }

    // The chain is CA-signed from here on, so the CRL URLs it names are the CAs' own.
    const distributionPoints = [...new Set(path.slice(0, -1).flatMap((certificate) => certificate.crlDistributionPoints))];
    if (distributionPoints.length > 0) this.crls?.noteDistributionPoints?.(distributionPoints);

    const at = options.at;
    for (const certificate of path) {
      const role = certificate === signer ? `The certificate ${subject}` : `The CA certificate ${certificate.subject.text}`;
      if (at.getTime() < certificate.notBefore.getTime()) {
        return refuse('EDX_ERR_SIGNATURE_CERT_EXPIRED', `${role} is not valid before ${certificate.notBefore.toISOString()}.`, subject);
      }
      if (at.getTime() > certificate.notAfter.getTime()) {
        return refuse('EDX_ERR_SIGNATURE_CERT_EXPIRED', `${role} expired on ${certificate.notAfter.toISOString()}.`, subject);
      }
    }

    const unknown: string[] = [];
    for (let index = 0; index < path.length - 1; index += 1) {
      const certificate = path[index] as Certificate;
      const issuer = path[index + 1] as Certificate;
      const status = this.#revocationStatus(certificate, issuer, at);
      if (status.status === 'revoked') {
        const reason = status.entry.reason ? ` (${status.entry.reason})` : '';
        return refuse(
          'EDX_ERR_SIGNATURE_CERT_REVOKED',
          `${certificate === signer ? 'The certificate' : 'The CA certificate'} ${certificate.subject.text} (serial ${certificate.serialNumber}) was revoked on ${status.entry.revocationDate.toISOString()}${reason}, per the CRL of ${issuer.subject.text} issued ${status.crl.thisUpdate.toISOString()}.`,
          subject,
        );
      }
      if (status.status === 'unknown') unknown.push(status.reason);
    }

    const binding = matchAgencyBinding(signer, options.agency, options.binding);
    if (!binding.ok) return refuse('EDX_ERR_SIGNATURE_CERT_WRONG_AGENCY', `${binding.reason}.`, subject);

    if (unknown.length > 0 && options.revocation === 'hard-fail') {
      return refuse('EDX_ERR_SIGNATURE_CERT_REVOCATION_UNKNOWN', unknown.join(' '), subject);
    }
    return {
      ok: true,
      subject,
      issuer: signer.issuer.text,
      serialNumber: signer.serialNumber,
      notAfter: signer.notAfter,
      chain: path.map((certificate) => certificate.subject.text),
      revocation: unknown.length > 0 ? 'unknown' : 'good',
    };
  }

  /** What the CRLs of `issuer` say about `certificate` at `at`. */
  #revocationStatus(certificate: Certificate, issuer: Certificate, at: Date): RevocationStatus {
    const named = this.crls?.crlsIssuedBy(issuer.subject) ?? [];
    const authentic = named.filter((crl) => crl.incompleteReason === undefined && crlSignedBy(crl, issuer));
    for (const crl of authentic) {
      const entry = revokedEntry(crl, certificate);
      if (!entry || entry.reason === 'removeFromCRL') continue;
      // Revocation is final, so even an out-of-date CRL that lists the certificate is believed,
      // and whatever the revocation date: `at` may come from the sender. A hold can be lifted, so
      // only a current CRL's hold counts.
      if (entry.reason === 'certificateHold' && !crlIsCurrent(crl, at)) continue;
      return { status: 'revoked', entry, crl };
    }
    if (authentic.some((crl) => crlIsCurrent(crl, at) && crlCovers(crl, certificate))) return { status: 'good' };
    const ca = issuer.subject.text;
    let reason: string;
    if (!this.crls) reason = 'No revocation lists are configured.';
    else if (named.length === 0) reason = `No CRL of ${ca} is held.`;
    else if (authentic.length === 0) reason = `No CRL held for ${ca} is complete and signed with its key (${describeUnusable(named)}).`;
    else if (!authentic.some((crl) => crlIsCurrent(crl, at))) {
      const newest = authentic.reduce((a, b) => (a.thisUpdate >= b.thisUpdate ? a : b));
      const next = newest.nextUpdate ? `its next update was due ${newest.nextUpdate.toISOString()}` : 'it has no nextUpdate';
      reason = `The CRL of ${ca} is not current at ${at.toISOString()} (issued ${newest.thisUpdate.toISOString()}; ${next}).`;
    } else reason = `No current CRL of ${ca} covers ${certificate.subject.text} (its CRLs are partitioned and none is for this certificate).`;
    return { status: 'unknown', reason };
  }
}

function describeUnusable(crls: readonly Crl[]): string {
  const incomplete = crls.find((crl) => crl.incompleteReason !== undefined);
  return incomplete ? `one is unusable because ${incomplete.incompleteReason}` : 'signature does not verify';
}

function refuse(code: ErrorCode, reason: string, subject?: string): Refusal {
  return { ok: false, code, reason, subject };
}

function readInputs(inputs: readonly TrustInput[], kind: string, issues: Issue[]): Certificate[] {
  const certificates = new Map<string, Certificate>();
  inputs.forEach((input, index) => {
    const labelled = typeof input === 'object' && !Buffer.isBuffer(input);
    const source = labelled ? input.source : `${kind}[${index}]`;
    const parsed = readCertificates(labelled ? input.data : input);
    if (!parsed.ok) {
      issues.push(issue('EDX_ERR_CONFIG_INVALID', source, `Not a readable certificate: ${parsed.reason}.`));
      return;
    }
    for (const certificate of parsed.value) certificates.set(certificate.fingerprint256, certificate);
  });
  return [...certificates.values()];
}

// --- loading from files ------------------------------------------------------------------------

/** File name endings read from a trust folder; anything else (README, .crl, keys) is skipped. */
export const CERTIFICATE_FILE_EXTENSIONS: readonly string[] = ['.pem', '.crt', '.cer', '.der'];

/**
 * Reads certificate files: each path is a file or a folder whose certificate files are read
 * (not recursively, in name order). Each result is labelled with its file path.
 */
export async function readCertificateFiles(paths: readonly string[]): Promise<Result<TrustInput[]>> {
  const inputs: TrustInput[] = [];
  const issues: Issue[] = [];
  for (const path of paths) {
    try {
      const info = await stat(path);
      const files = info.isDirectory()
        ? (await readdir(path))
            .filter((name) => !name.startsWith('.') && CERTIFICATE_FILE_EXTENSIONS.includes(extname(name).toLowerCase()))
            .sort()
            .map((name) => join(path, name))
        : [path];
      for (const file of files) inputs.push({ source: file, data: await readFile(file) });
    } catch (error) {
      issues.push(issue('EDX_ERR_FILE_UNREADABLE', path, `The trust store file or folder cannot be read (${errorText(error)}).`));
    }
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, value: inputs, warnings: [] };
}

export interface TrustStoreSources {
  /** Files or folders of trusted CA certificates (configuration). */
  readonly anchorPaths?: readonly string[] | undefined;
  readonly intermediatePaths?: readonly string[] | undefined;
  /** Certificates from elsewhere (database rows), labelled for error messages. */
  readonly anchors?: readonly TrustInput[] | undefined;
  readonly intermediates?: readonly TrustInput[] | undefined;
  readonly crls?: RevocationSource | undefined;
}

/** Reads files and rows into a new snapshot; the loader a TrustStoreHolder reloads with. */
export async function loadTrustStore(sources: TrustStoreSources): Promise<Result<TrustStore>> {
  const anchorFiles = await readCertificateFiles(sources.anchorPaths ?? []);
  const intermediateFiles = await readCertificateFiles(sources.intermediatePaths ?? []);
  if (!anchorFiles.ok || !intermediateFiles.ok) {
    return {
      ok: false,
      issues: [...(anchorFiles.ok ? [] : anchorFiles.issues), ...(intermediateFiles.ok ? [] : intermediateFiles.issues)],
    };
  }
  return TrustStore.from({
    anchors: [...anchorFiles.value, ...(sources.anchors ?? [])],
    intermediates: [...intermediateFiles.value, ...(sources.intermediates ?? [])],
    crls: sources.crls,
  });
}

/**
 * Holds the current snapshot and replaces it atomically. Callers take `current()` once per
 * decision (evaluate() here does) and keep using that snapshot even if a reload lands meanwhile.
 * A failed reload keeps the previous snapshot: a typo in a new certificate file must not leave the
 * gateway trusting nothing.
 */
export class TrustStoreHolder {
  #current: TrustStore;
  readonly #load: (() => Promise<Result<TrustStore>>) | undefined;
  /** Reloads run one after another, so an older load can never overwrite a newer one. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(initial: TrustStore, load?: () => Promise<Result<TrustStore>>) {
    this.#current = initial;
    this.#load = load;
  }

  current(): TrustStore {
    return this.#current;
  }

  /** Installs `next` and returns the snapshot it replaced. */
  replace(next: TrustStore): TrustStore {
    const previous = this.#current;
    this.#current = next;
    return previous;
  }

  /** Runs the loader and installs its snapshot if it succeeded; the result says what happened. */
  reload(): Promise<Result<TrustStore>> {
    const load = this.#load;
    if (!load) {
      return Promise.resolve({
        ok: false,
        issues: [issue('EDX_ERR_CONFIG_INVALID', 'trust', 'This trust store was not created with a loader, so it cannot reload.')],
      });
    }
    const run = this.#queue.then(async (): Promise<Result<TrustStore>> => {
      let loaded: Result<TrustStore>;
      try {
        loaded = await load();
      } catch (error) {
        loaded = { ok: false, issues: [issue('EDX_ERR_CONFIG_INVALID', 'trust', `Loading the trust store failed: ${errorText(error)}.`)] };
      }
      if (loaded.ok) this.#current = loaded.value;
      return loaded;
    });
    this.#queue = run;
    return run;
  }

  evaluate(certificates: readonly Buffer[], options: EvaluateOptions): CertificateVerdict {
    return this.#current.evaluate(certificates, options);
  }
}
