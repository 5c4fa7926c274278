// Round trip of every official sample and every valid fixture: parse → build → parse yields the same
// model, building is a fixed point (build(parse(build(x))) === build(x) byte for byte), the rebuilt
// text keeps the samples' prefix conventions, and the children of MessageHeader keep the sample's
// order wherever the sample itself follows the standard order. And the other way round: a model
// built and parsed again comes back equal.

import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, relative } from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { SaxesParser } from 'saxes';
import { buildPacket } from '../../src/edxml/build.ts';
import { EDXML_NAMESPACE, XMLDSIG_NAMESPACE } from '../../src/edxml/model.ts';
import { parsePacket } from '../../src/edxml/parse.ts';
import type { Packet } from '../../src/edxml/model.ts';
import { documentPacket, minimalDocument, statusPacket } from './example-packets.ts';

const SAMPLES = fileURLToPath(new URL('../../../shared/interop/vpcp-samples/', import.meta.url));
const VALID_FIXTURES = fileURLToPath(new URL('../../fixtures/packets/valid/', import.meta.url));

/** Packet files under a folder, recursively; other files (notes, expectations) are skipped. */
function packetFiles(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true, recursive: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.isFile() && /\.(?:edxml|xml)$/i.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

// The order the builder writes MessageHeader children in (spec §3.2, edoc_new / edoc_revocation).
const DOCUMENT_HEADER_ORDER = [
  'From', 'To', 'DocumentId', 'Code', 'PromulgationInfo', 'DocumentType', 'Subject', 'Content', 'SignerInfo',
  'DueDate', 'OtherInfo', 'ResponseFor', 'SteeringType', 'ToPlaces',
];

interface ElementInfo {
  readonly name: string;
  /** Whether the element holds any non-whitespace text, itself or in a descendant. */
  readonly hasText: boolean;
}

/**
 * The children of the first MessageHeader (any prefix), by qualified name as written. Read with
 * saxes without namespace processing, like the parser's reader: edoc.edxml has an unbound `xlink:`
 * prefix, and edoc_new.edxml has stray text before its XML declaration.
 */
function messageHeaderChildren(xml: string): ElementInfo[] {
  const parser = new SaxesParser({ xmlns: false });
  const children: { name: string; hasText: boolean }[] = [];
  const stack: string[] = [];
  let headerDepth = -1;
  let done = false;
  parser.on('error', () => undefined);
  parser.on('opentag', (tag) => {
    stack.push(tag.name);
    if (done) return;
    const local = tag.name.slice(tag.name.indexOf(':') + 1);
    if (headerDepth === -1 && local === 'MessageHeader') headerDepth = stack.length;
    else if (headerDepth !== -1 && stack.length === headerDepth + 1) children.push({ name: tag.name, hasText: false });
  });
  parser.on('text', (text) => {
    if (headerDepth !== -1 && !done && stack.length > headerDepth && text.trim() !== '') {
      const last = children[children.length - 1];
      if (last) last.hasText = true;
    }
  });
  parser.on('closetag', () => {
    if (headerDepth !== -1 && stack.length === headerDepth) done = true;
    stack.pop();
  });
  parser.write(xml).close();
  return children;
}

function localName(qname: string): string {
  return qname.slice(qname.indexOf(':') + 1);
}

/** Every start tag (qualified name) in a stretch of text. */
function startTags(text: string): string[] {
  return [...text.matchAll(/<([A-Za-z][\w.:-]*)[\s>]/g)].map((m) => m[1] ?? '');
}

/** The prefix and namespace-declaration conventions of the official samples (spec §3.1). */
function checkConventions(t: Test, xml: string, packet: Packet): void {
  t.ok(
    xml.startsWith(
      `<?xml version="1.0" encoding="UTF-8"?>\n<edXML xmlns="${EDXML_NAMESPACE}">\n  <edXML:edXMLEnvelope xmlns:edXML="${EDXML_NAMESPACE}">\n`,
    ),
    'declaration, root and envelope as in the samples',
  );
  const envelopeEnd = xml.indexOf('</edXML:edXMLEnvelope>');
  const envelope = xml.slice(xml.indexOf('<edXML:edXMLEnvelope'), envelopeEnd);
  const signatureStart = envelope.indexOf('<Signature');
  const outsideSignature =
    signatureStart === -1 ? envelope : envelope.slice(0, signatureStart) + envelope.slice(envelope.indexOf('</Signature>'));
  t.same(startTags(outsideSignature).filter((n) => !n.startsWith('edXML:')), [], 'envelope elements are edXML:-prefixed');
  if (signatureStart !== -1) {
    const inside = envelope.slice(signatureStart, envelope.indexOf('</Signature>'));
    t.same(startTags(inside).filter((n) => n.includes(':')), [], 'the Signature subtree is unprefixed');
  }
  const attachments = xml.slice(envelopeEnd);
  const expected = packet.kind === 'document' && packet.attachments.length > 0
    ? ['AttachmentEncoded', ...packet.attachments.flatMap((a) => [
        'Attachment',
        'ContentId',
        ...(a.attachmentName ? ['AttachmentName'] : []),
        ...(a.description ? ['Description'] : []),
        ...(a.contentType ? ['ContentType'] : []),
        'edXML:ContentTransferEncoded',
      ])]
    : [];
  t.same(startTags(attachments), expected, 'AttachmentEncoded unprefixed except ContentTransferEncoded');
  const declared = attachments.split(`<edXML:ContentTransferEncoded xmlns:edXML="${EDXML_NAMESPACE}">`).length - 1;
  t.equal(declared, expected.filter((n) => n === 'edXML:ContentTransferEncoded').length, 'each ContentTransferEncoded declares edXML:');
}

/** MessageHeader children: the rebuilt order is the standard one, and matches the sample's where the sample follows it. */
function checkHeaderOrder(t: Test, original: string, rebuilt: string): void {
  const rebuiltNames = messageHeaderChildren(rebuilt).map((c) => c.name);
  t.ok(rebuiltNames.every((n) => n.startsWith('edXML:')), 'MessageHeader children are prefixed');
  const positions = rebuiltNames.map((n) => DOCUMENT_HEADER_ORDER.indexOf(localName(n)));
  t.notOk(positions.includes(-1), 'only standard MessageHeader children are written');
  t.same(positions, [...positions].sort((a, b) => a - b), 'MessageHeader children in the standard order');

  // What the model keeps of the sample: known children with some text (an all-empty ResponseFor
  // and unknown extensions are dropped by design).
  const kept = messageHeaderChildren(original)
    .filter((c) => c.hasText && DOCUMENT_HEADER_ORDER.includes(localName(c.name)))
    .map((c) => c.name);
  const keptPositions = kept.map((n) => DOCUMENT_HEADER_ORDER.indexOf(localName(n)));
  if (keptPositions.every((p, i) => i === 0 || p >= (keptPositions[i - 1] ?? 0))) {
    t.same(rebuiltNames, kept, 'same qualified MessageHeader children, in the same order, as the sample');
  } else {
    t.same([...rebuiltNames].sort(), [...kept].sort(), 'same MessageHeader children as the sample (whose order is irregular)');
  }
}

function roundTrip(t: Test, file: string): void {
  const bytes = readFileSync(file);
  const first = parsePacket(bytes);
  if (!first.ok) {
    t.fail('the packet parses', { issues: first.issues });
    return;
  }
  const packet = first.value;
  const built = buildPacket(packet);
  const second = parsePacket(built);
  if (!second.ok) {
    t.fail('the rebuilt packet parses', { issues: second.issues });
    return;
  }
  t.strictSame(second.value, packet, 'parse → build → parse gives the same model');
  t.equal(buildPacket(second.value), built, 'building again gives the same bytes');
  checkConventions(t, built, packet);
  if (packet.kind === 'document') checkHeaderOrder(t, bytes.toString('utf8'), built);
}

const samples = packetFiles(SAMPLES);
t.test('official samples', async (t) => {
  t.equal(samples.length, 15, 'all 15 official samples are there');
  for (const file of samples) t.test(relative(SAMPLES, file), async (t) => roundTrip(t, file));
});

t.test('valid fixtures', async (t) => {
  const fixtures = packetFiles(VALID_FIXTURES);
  if (fixtures.length === 0) t.comment('no packet under fixtures/packets/valid yet');
  for (const file of fixtures) t.test(relative(VALID_FIXTURES, file), async (t) => roundTrip(t, file));
});

/** The model with its `undefined` properties removed: hand-written models omit them, the parser sets them. */
function withoutUndefined(packet: Packet): unknown {
  return JSON.parse(JSON.stringify(packet));
}

t.test('model → build → parse gives the same model', async (t) => {
  const cases: [string, Packet][] = [
    ['document with every field', documentPacket],
    ['minimal document', minimalDocument],
    ['status', statusPacket],
    ['document with a sample-style signature', { ...documentPacket, signature: { ...documentPacket.signature!, namespace: EDXML_NAMESPACE } }],
    ['status with a bare signature', { ...statusPacket, signature: { namespace: XMLDSIG_NAMESPACE, referenceUris: [], transforms: [], signatureValue: 'c2ln' } }],
    ['document with two signature references', { ...minimalDocument, signature: { namespace: XMLDSIG_NAMESPACE, referenceUris: ['', '#cid:1'], transforms: [], digestValue: 'ZGln' } }],
  ];
  for (const [name, packet] of cases) {
    const parsed = parsePacket(buildPacket(packet));
    if (!parsed.ok) {
      t.fail(`${name}: the built packet parses`, { issues: parsed.issues });
      continue;
    }
    t.strictSame(withoutUndefined(parsed.value), withoutUndefined(packet), name);
    t.same(parsed.warnings, [], `${name}: without warnings`);
  }
});
