// The packet fixtures are the gateway's acceptance corpus: every valid one must decode cleanly, and
// every invalid one must be refused with exactly the error code of the folder it lives in. Cases too
// big to commit (deep nesting, 1001 recipients, 20 MB and 51 MB attachments) are generated here.

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';

import { generateBytes, packetFromDescription } from '../src/cli/describe.ts';
import { buildPacket, buildPacketBuffer } from '../src/edxml/build.ts';
import { STATUS_CODES } from '../src/edxml/codes.ts';
import { decodePacket } from '../src/edxml/decode.ts';
import type { DocumentPacket, Packet } from '../src/edxml/model.ts';
import { isErrorCode, type Issue, type Result } from '../src/errors.ts';
import { DESCRIPTIONS_DIR, PACKETS_DIR, VALID_DIR, generateFixtures } from '../fixtures/packets/generate.ts';

const INVALID_DIR = join(PACKETS_DIR, 'invalid');

function errorCodes(result: Result<Packet>): string[] {
  return result.ok ? [] : [...new Set(result.issues.filter((i) => i.severity === 'error').map((i) => i.code))].sort();
}

function describeIssues(issues: readonly Issue[]): string {
  return issues.map((i) => `${i.severity} ${i.code} ${i.path}: ${i.message}`).join('\n');
}

function allIssues(result: Result<Packet>): readonly Issue[] {
  return result.ok ? result.warnings : result.issues;
}

const validFiles = readdirSync(VALID_DIR)
  .filter((f) => f.endsWith('.edxml'))
  .sort();

/** Decoded valid fixtures by file name (decoded once, used by several tests). */
const decoded = new Map<string, Packet>();
for (const file of validFiles) {
  const result = decodePacket(readFileSync(join(VALID_DIR, file)));
  if (result.ok) decoded.set(file, result.value);
}

/** A document description (the minimal one) as plain JSON, to vary in generated cases. */
function minimalDocumentDescription(): Record<string, unknown> {
  const parsed: unknown = JSON.parse(readFileSync(join(DESCRIPTIONS_DIR, 'minimal-document.json'), 'utf8'));
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new TypeError('bad fixture');
  return { ...parsed };
}

function documentFrom(description: Record<string, unknown>): DocumentPacket {
  const converted = packetFromDescription(description, { baseDir: DESCRIPTIONS_DIR });
  if (!converted.ok) throw new Error(describeIssues(converted.issues));
  if (converted.value.kind !== 'document') throw new TypeError('expected a document');
  return converted.value;
}

t.test('valid/ is exactly what generate.ts makes from descriptions/', async (t) => {
  const generated = await generateFixtures();
  const names = generated.map((g) => `${g.name}.edxml`).sort();
  t.same(validFiles, names, 'one valid packet per description, no strays');
  for (const g of generated) {
    if (!g.ok) {
      t.fail(`${g.name}.json is refused:\n${g.errors.join('\n')}`);
      continue;
    }
    const onDisk = readFileSync(join(VALID_DIR, `${g.name}.edxml`), 'utf8');
    t.ok(onDisk === g.xml, `valid/${g.name}.edxml is current (run: node --import tsx fixtures/packets/generate.ts)`);
  }
});

t.test('every valid fixture decodes with no error and no warning', async (t) => {
  t.ok(validFiles.length >= 22, `${validFiles.length} valid fixtures`);
  for (const file of validFiles) {
    const result = decodePacket(readFileSync(join(VALID_DIR, file)));
    t.ok(result.ok, file);
    t.equal(allIssues(result).length, 0, `${file} has no issue`, { issues: describeIssues(allIssues(result)) });
  }
});

t.test('every valid fixture decodes to the packet its description describes', async (t) => {
  for (const file of validFiles) {
    const name = file.replace(/\.edxml$/, '');
    const description: unknown = JSON.parse(readFileSync(join(DESCRIPTIONS_DIR, `${name}.json`), 'utf8'));
    const converted = packetFromDescription(description, { baseDir: DESCRIPTIONS_DIR });
    if (!converted.ok) {
      t.fail(`${name}.json: ${describeIssues(converted.issues)}`);
      continue;
    }
    t.same(decoded.get(file), converted.value, `${file} round-trips its description`);
  }
});

t.test('the valid fixtures cover the wire format', async (t) => {
  const documents = [...decoded.values()].filter((p): p is DocumentPacket => p.kind === 'document');
  const statuses = [...decoded.values()].filter((p) => p.kind === 'status');

  const businessTypes = new Set(documents.map((d) => d.business?.businessDocType));
  for (const type of [0, 1, 2, 3] as const) t.ok(businessTypes.has(type), `BussinessDocType ${type}`);
  t.ok(
    documents.some((d) => d.business?.businessDocType === 1 && d.header.responseFor.length > 0),
    'a revoke with ResponseFor',
  );
  t.ok(
    documents.some((d) => d.business?.businessDocType === 2 && d.business.documentInfo && d.business.documentInfo.receivers.length > 0),
    'an update with BussinessDocumentInfo/ReceiverList',
  );
  t.ok(
    documents.some((d) => d.business?.businessDocType === 3 && d.business.replacements.length > 0),
    'a replace with ReplacementInfoList',
  );

  const codes = new Set(statuses.map((s) => (s.kind === 'status' ? s.statusCode : undefined)));
  for (const code of STATUS_CODES) t.ok(codes.has(code), `status ${code}`);
  for (const s of statuses) {
    // Only the minimal 03 (the base of the invalid status packets) goes without a Description.
    if (s.kind === 'status' && s.statusCode !== '03') t.ok(s.description, `status ${s.statusCode} has a Description`);
  }
  t.ok(
    statuses.some((s) => s.kind === 'status' && s.staffInfo === undefined && s.description !== undefined),
    'a status without StaffInfo',
  );

  const priorities = new Set(documents.map((d) => d.header.otherInfo?.priority));
  for (const p of [0, 1, 2, 3, 4] as const) t.ok(priorities.has(p), `priority ${p}`);
  const steering = new Set(documents.map((d) => d.header.steeringType));
  for (const s of [0, 1, 2] as const) t.ok(steering.has(s), `steering type ${s}`);

  t.ok(documents.some((d) => d.header.to.length >= 20), 'a packet to 20 or more agencies');
  t.ok(documents.some((d) => d.attachments.length === 0), 'a document without attachments');
  const extensions = new Set(
    documents.flatMap((d) => d.attachments.map((a) => (a.attachmentName ?? '').split('.').pop()?.toLowerCase())),
  );
  for (const ext of ['pdf', 'docx', 'xlsx', 'zip', 'png']) t.ok(extensions.has(ext), `a .${ext} attachment`);

  const pdf = documents.flatMap((d) => d.attachments).find((a) => a.contentType === 'application/pdf');
  t.ok(pdf && Buffer.from(pdf.content, 'base64').subarray(0, 5).toString('latin1') === '%PDF-', 'PDF payloads are PDFs');
  for (const d of documents) {
    const date = d.header.promulgationInfo.promulgationDate;
    t.ok(date >= '2025/01/01' && date <= '2026/11/23', `${d.header.documentId}: promulgated 2025–2026`);
  }
});

const invalidFolders = readdirSync(INVALID_DIR)
  .filter((f) => statSync(join(INVALID_DIR, f)).isDirectory())
  .sort();

t.test('every invalid folder is named after a catalogue code', async (t) => {
  t.ok(invalidFolders.length > 0);
  for (const folder of invalidFolders) t.ok(isErrorCode(folder), folder);
});

t.test('every invalid fixture is refused with exactly its folder code', async (t) => {
  let count = 0;
  for (const folder of invalidFolders) {
    const files = readdirSync(join(INVALID_DIR, folder)).filter((f) => f.endsWith('.edxml')).sort();
    t.ok(files.length > 0, `${folder} holds packets`);
    for (const file of files) {
      count++;
      const result = decodePacket(readFileSync(join(INVALID_DIR, folder, file)));
      t.same(errorCodes(result), [folder], `${folder}/${file}`, { issues: describeIssues(allIssues(result)) });
    }
  }
  t.ok(count >= 45, `${count} invalid fixtures`);
});

t.test('generated invalid cases', async (t) => {
  const base = readFileSync(join(VALID_DIR, 'minimal-document.edxml'), 'utf8');
  const subject = /<edXML:Subject>[^<]*<\/edXML:Subject>/.exec(base)?.[0];
  if (subject === undefined) throw new Error('minimal-document.edxml has no Subject');

  t.test('nesting deeper than the parser allows → EDX_ERR_XML_TOO_DEEP', async (t) => {
    const depth = 40;
    const junk = '<edXML:Nhom>'.repeat(depth) + 'sâu' + '</edXML:Nhom>'.repeat(depth);
    const xml = base.replace(subject, `${subject}<edXML:OtherInfo>${junk}</edXML:OtherInfo>`);
    t.same(errorCodes(decodePacket(xml)), ['EDX_ERR_XML_TOO_DEEP']);
  });

  t.test('1001 recipients → EDX_ERR_XML_TOO_MANY_NODES', async (t) => {
    const description = minimalDocumentDescription();
    const to = Array.from({ length: 1001 }, (_, i) => ({
      organId: `${String(Math.floor(i / 100)).padStart(3, '0')}.${String(i % 100).padStart(2, '0')}.32.H47`,
      organName: `Đơn vị nhận số ${i + 1}`,
    }));
    const header = { ...(description.header as Record<string, unknown>), to };
    const packet = documentFrom({ ...description, header });
    t.equal(new Set(to.map((o) => o.organId)).size, 1001, 'all recipients differ');
    t.same(errorCodes(decodePacket(buildPacket(packet))), ['EDX_ERR_XML_TOO_MANY_NODES']);

    // One fewer is accepted: the limit is 1000, not something smaller.
    const header1000 = { ...header, to: to.slice(0, 1000) };
    t.same(errorCodes(decodePacket(buildPacket(documentFrom({ ...description, header: header1000 })))), []);
  });

  t.test('a body over the size limit → EDX_ERR_XML_TOO_LARGE', async (t) => {
    t.same(errorCodes(decodePacket(base, { maxBytes: 1024 })), ['EDX_ERR_XML_TOO_LARGE']);
    t.same(errorCodes(decodePacket(base)), [], 'the same body under the default limit');
  });

  t.test('a 5-group code is refused under the strict QCVN 102 form only', async (t) => {
    const xml = base.replace('<edXML:OrganId>000.00.00.H47</edXML:OrganId>', '<edXML:OrganId>000.00.00.15.H47</edXML:OrganId>');
    t.not(xml, base);
    t.same(errorCodes(decodePacket(xml, { agencyCodeForm: 'qcvn102' })), ['EDX_ERR_AGENCY_CODE_INVALID']);
    t.same(errorCodes(decodePacket(xml)), [], 'QĐ 20/2020 (the default) accepts it');
  });

  t.test('a 51 MiB attachment → EDX_ERR_ATTACHMENT_TOO_LARGE', async (t) => {
    const description = minimalDocumentDescription();
    const packet = documentFrom({
      ...description,
      attachments: [{ generate: { bytes: 51 * 1024 * 1024, seed: 'qua-lon' }, attachmentName: 'ban-quet-qua-lon.pdf' }],
    });
    t.same(errorCodes(decodePacket(buildPacketBuffer(packet))), ['EDX_ERR_ATTACHMENT_TOO_LARGE']);
  });
});

t.test('a 20 MiB packet, generated, decodes intact', async (t) => {
  const bytes = 20 * 1024 * 1024;
  const description = minimalDocumentDescription();
  const packet = documentFrom({
    ...description,
    attachments: [
      { generate: { bytes, seed: 'goi-20-mb' }, attachmentName: 'ho-so-20mb.zip', description: 'Hồ sơ 20 MB' },
      { text: 'Trích yếu: hồ sơ kèm theo có dung lượng lớn.\n', attachmentName: 'ghi-chu.txt' },
    ],
  });
  const xml = buildPacketBuffer(packet);
  t.ok(xml.length > bytes, `${xml.length} bytes of edXML`);
  const result = decodePacket(xml);
  t.ok(result.ok, 'decodes', { issues: describeIssues(allIssues(result)) });
  if (!result.ok || result.value.kind !== 'document') return;
  t.equal(allIssues(result).length, 0, 'no warning');
  const [big, note] = result.value.attachments;
  const digest = (data: Buffer) => createHash('sha256').update(data).digest('hex');
  t.equal(digest(Buffer.from(big?.content ?? '', 'base64')), digest(generateBytes(bytes, 'goi-20-mb')), 'payload intact');
  t.equal(Buffer.from(note?.content ?? '', 'base64').toString('utf8'), 'Trích yếu: hồ sơ kèm theo có dung lượng lớn.\n');
});
