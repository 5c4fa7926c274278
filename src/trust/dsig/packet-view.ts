// One entry point for both paths: the bytes as proven-canonical (fast: byte ranges) or, when the scan
// cannot prove it, as a parsed tree (general: canonicalize.ts). The verifier and the signer ask the
// same questions of either — where are the DSig Signatures, what is in edXMLHeader, what is the
// digest of the document without a given Signature — and get the same answers; the tests check that.

import { createHash } from 'node:crypto';
import type { DigestAlgorithm } from '../types.ts';
import { HASH_NAME } from './algorithms.ts';
import { scanCanonical } from './canonical-scan.ts';
import type { ByteSpan, CanonicalScan } from './canonical-scan.ts';
import { canonicalizeDocument, HashSink } from './canonicalize.ts';
import type { CanonicalizationSpec } from './canonicalize.ts';
import { treeLayout } from './tree-layout.ts';
import type { TreeLayout } from './tree-layout.ts';
import { parseDocumentTree } from './xml-tree.ts';
import type { DocumentNode, ElementNode } from './xml-tree.ts';

export interface CanonicalView {
  readonly kind: 'canonical';
  readonly bytes: Buffer;
  readonly scan: CanonicalScan;
}

export interface TreeView {
  readonly kind: 'tree';
  readonly document: DocumentNode;
  readonly layout: TreeLayout;
  /** Why the fast path did not apply (for diagnostics and tests). */
  readonly notCanonicalBecause: string;
}

export type PacketView = CanonicalView | TreeView;

export type ViewOutcome = { readonly ok: true; readonly view: PacketView } | { readonly ok: false; readonly reason: string };

/** Scans `bytes`, parsing them only when the scan cannot prove they are canonical. */
export function viewPacket(bytes: Buffer): ViewOutcome {
  const scanned = scanCanonical(bytes);
  if (scanned.canonical) return { ok: true, view: { kind: 'canonical', bytes, scan: scanned.scan } };
  const parsed = parseDocumentTree(bytes);
  if (!parsed.ok) return parsed;
  return { ok: true, view: { kind: 'tree', document: parsed.document, layout: treeLayout(parsed.document), notCanonicalBecause: scanned.reason } };
}

/** The digest of the root element's bytes with `holes` (sorted, inside the root) cut out. */
export function digestOfRanges(bytes: Buffer, root: ByteSpan, holes: readonly ByteSpan[], algorithm: DigestAlgorithm): Buffer {
  const hash = createHash(HASH_NAME[algorithm]);
  let from = root.start;
  for (const hole of holes) {
    hash.update(bytes.subarray(from, hole.start));
    from = hole.end;
  }
  hash.update(bytes.subarray(from, root.end));
  return hash.digest();
}

/** The digest of the canonical form of `document` without `excluded` (general path). */
export function digestOfTree(
  document: DocumentNode,
  excluded: ReadonlySet<ElementNode>,
  spec: CanonicalizationSpec,
  algorithm: DigestAlgorithm,
): { ok: true; digest: Buffer } | { ok: false; reason: string } {
  const hash = createHash(HASH_NAME[algorithm]);
  const sink = new HashSink(hash);
  const outcome = canonicalizeDocument(document, spec, sink, { exclude: excluded });
  if (!outcome.ok) return outcome;
  sink.flush();
  return { ok: true, digest: hash.digest() };
}
