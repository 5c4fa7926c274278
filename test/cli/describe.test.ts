// The JSON packet description: shape checks with JSON paths, and the conveniences it derives.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

import {
  GENERATE_MAX_BYTES,
  contentTypeFor,
  generateBytes,
  packetFromDescription,
  packetFromDescriptionText,
} from '../../src/cli/describe.ts';
import type { Packet } from '../../src/edxml/model.ts';
import type { Result } from '../../src/errors.ts';

const OPTIONS = { baseDir: tmpdir() };

function document(extra: Record<string, unknown> = {}, header: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    kind: 'document',
    header: {
      from: { organId: '000.00.00.G07', organName: 'Bộ Lao động - Thương binh và Xã hội' },
      to: [{ organId: '000.00.00.H41' }],
      code: { codeNumber: '356', codeNotation: 'LĐTBXH-NCC' },
      promulgationInfo: { promulgationDate: '2026/01/15' },
      documentType: { type: 1 },
      subject: 'V/v hướng dẫn thực hiện chế độ ưu đãi người có công',
      ...header,
    },
    ...extra,
  };
}

function paths(result: Result<Packet>): string[] {
  return result.ok ? [] : result.issues.map((i) => `${i.code} ${i.path}`);
}

t.test('generateBytes is deterministic, seeded and exact in length', async (t) => {
  t.same(generateBytes(64, 'a'), generateBytes(64, 'a'));
  t.notSame(generateBytes(64, 'a'), generateBytes(64, 'b'));
  t.same(generateBytes(64), generateBytes(64, 'edxgate'), 'default seed');
  for (const n of [0, 1, 3, 4, 5, 1023]) t.equal(generateBytes(n, 's').length, n, `${n} bytes`);
  t.same(generateBytes(5, 's'), generateBytes(8, 's').subarray(0, 5), 'a prefix of a longer run');
  // Incompressible enough to stand for a real file: every byte value shows up in 64 KiB.
  t.equal(new Set(generateBytes(65536, 'phan-bo')).size, 256);
});

t.test('contentTypeFor maps extensions to IANA types', async (t) => {
  t.equal(contentTypeFor('cong-van.PDF'), 'application/pdf');
  t.equal(contentTypeFor('ke-hoach.docx'), 'application/vnd.openxmlformats-officedocument.wordprocessingml.document');
  t.equal(contentTypeFor('bieu.xlsx'), 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
  t.equal(contentTypeFor('ho-so.zip'), 'application/zip');
  t.equal(contentTypeFor('anh.png'), 'image/png');
  t.equal(contentTypeFor('khong-duoi'), 'application/octet-stream');
});

t.test('a minimal description: omitted arrays are empty, DocumentId is derived', async (t) => {
  const result = packetFromDescription(document({ $comment: 'ghi chú' }), OPTIONS);
  if (!result.ok) throw new Error(paths(result).join('\n'));
  const packet = result.value;
  if (packet.kind !== 'document') throw new TypeError('expected a document');
  t.equal(packet.header.documentId, '000.00.00.G07,2026/01/15,356/LĐTBXH-NCC');
  t.same(packet.header.responseFor, []);
  t.same(packet.header.toPlaces, []);
  t.same(packet.traceHeaders, []);
  t.same(packet.manifest, []);
  t.same(packet.attachments, []);
  t.equal(packet.business, undefined);
});

t.test('text is trimmed and an empty optional string is absent, as the parser reads the wire', async (t) => {
  const result = packetFromDescription(document({}, { subject: '  V/v  ', content: '   ' }), OPTIONS);
  if (!result.ok || result.value.kind !== 'document') throw new Error('expected a document');
  t.equal(result.value.header.subject, 'V/v');
  t.equal(result.value.header.content, undefined);
});

t.test('attachments: bytes from content, text, file or generate; names, types and ids derived', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edxgate-describe-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'quyet-dinh.pdf'), '%PDF-1.4\n');
  const result = packetFromDescription(
    document({
      attachments: [
        { content: 'JVBE Ri0x\nLjQK', attachmentName: 'a.pdf' },
        { text: 'Nội dung', attachmentName: 'b.txt' },
        { file: 'quyet-dinh.pdf' },
        { generate: { bytes: 10, seed: 'x' }, attachmentName: 'c.zip', contentId: 'cid:209', contentType: 'application/zip' },
      ],
    }),
    { baseDir: dir },
  );
  if (!result.ok || result.value.kind !== 'document') throw new Error(paths(result).join('\n'));
  const [a, b, c, d] = result.value.attachments;
  t.equal(a?.content, 'JVBERi0xLjQK', 'base64 kept, whitespace removed');
  t.equal(b?.content, Buffer.from('Nội dung', 'utf8').toString('base64'));
  t.equal(b?.contentType, 'text/plain');
  t.equal(c?.attachmentName, 'quyet-dinh.pdf', 'name from the file');
  t.equal(c?.contentType, 'application/pdf');
  t.equal(c?.content, Buffer.from('%PDF-1.4\n').toString('base64'));
  t.equal(d?.content, generateBytes(10, 'x').toString('base64'));
  t.equal(d?.contentId, 'cid:209', 'a given ContentId is kept');
  for (const att of [a, b, c]) t.match(att?.contentId, /^cid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  t.equal(new Set(result.value.attachments.map((x) => x.contentId)).size, 4, 'ContentIds differ');
  t.same(
    result.value.manifest,
    result.value.attachments.map(({ contentId, contentType, description, attachmentName }) => ({
      contentId,
      contentType,
      description,
      attachmentName,
    })),
    'one Reference per attachment',
  );

  const again = packetFromDescription(
    document({ attachments: [{ text: 'Nội dung', attachmentName: 'b.txt' }, { text: 'Nội dung', attachmentName: 'b.txt' }] }),
    OPTIONS,
  );
  if (!again.ok || again.value.kind !== 'document') throw new Error('expected a document');
  t.not(again.value.attachments[0]?.contentId, again.value.attachments[1]?.contentId, 'same file twice, two ids');
});

t.test('an explicit manifest is used as given', async (t) => {
  const result = packetFromDescription(
    document({
      attachments: [{ contentId: 'cid:1', text: 'x', attachmentName: 'x.txt' }],
      manifest: [{ contentId: 'cid:1', attachmentName: 'x.txt', description: 'Tệp x' }],
    }),
    OPTIONS,
  );
  if (!result.ok || result.value.kind !== 'document') throw new Error('expected a document');
  t.same(result.value.manifest, [{ contentId: 'cid:1', contentType: undefined, description: 'Tệp x', attachmentName: 'x.txt' }]);
});

t.test('shape errors name the JSON path', async (t) => {
  t.same(paths(packetFromDescription([], OPTIONS)), ['EDX_ERR_BUILD_INPUT_INVALID $']);
  t.same(paths(packetFromDescription({ kind: 'goi-tin' }, OPTIONS)), ['EDX_ERR_BUILD_INPUT_INVALID $.kind']);
  t.same(paths(packetFromDescription({ ...document(), extra: 1 }, OPTIONS)), ['EDX_ERR_BUILD_INPUT_INVALID $.extra']);
  t.same(
    paths(packetFromDescription(document({}, { to: [{ organId: '000.00.00.H41' }, { organId: 41, ten: 'x' }] }), OPTIONS)),
    ['EDX_ERR_BUILD_INPUT_INVALID $.header.to[1].ten', 'EDX_ERR_BUILD_INPUT_INVALID $.header.to[1].organId'],
  );
  t.same(paths(packetFromDescription(document({}, { to: 'H41' }), OPTIONS)), ['EDX_ERR_BUILD_INPUT_INVALID $.header.to']);
  t.same(
    paths(packetFromDescription(document({}, { documentType: { type: 1.5 }, steeringType: 3 }), OPTIONS)),
    ['EDX_ERR_BUILD_INPUT_INVALID $.header.documentType.type', 'EDX_ERR_BUILD_INPUT_INVALID $.header.steeringType'],
  );
  t.same(
    paths(packetFromDescription(document({ attachments: [{ text: 'a', content: 'YQ==' }] }), OPTIONS)),
    ['EDX_ERR_BUILD_INPUT_INVALID $.attachments[0]'],
  );
  t.same(
    paths(packetFromDescription(document({ attachments: [{ generate: { bytes: GENERATE_MAX_BYTES + 1 } }] }), OPTIONS)),
    ['EDX_ERR_BUILD_INPUT_INVALID $.attachments[0].generate.bytes'],
  );
  t.same(
    paths(packetFromDescription(document({ business: { businessDocType: 4 } }), OPTIONS)),
    ['EDX_ERR_BUILD_INPUT_INVALID $.business.businessDocType'],
  );
  const missing = packetFromDescription(document({}, { subject: undefined }), OPTIONS);
  t.same(paths(missing), ['EDX_ERR_BUILD_INPUT_INVALID $.header.subject']);
  t.match(missing.ok ? '' : missing.issues[0]?.message, /^Missing required string "subject"\./);
});

t.test('status descriptions', async (t) => {
  const status = {
    kind: 'status',
    from: { organId: '000.00.00.H41' },
    responseFor: { organId: '000.00.00.G07', documentId: '000.00.00.G07,2026/01/15,356/LĐTBXH-NCC' },
    statusCode: '01',
    timestamp: '2026/01/15 10:11:12',
  };
  const ok = packetFromDescription(status, OPTIONS);
  t.ok(ok.ok);
  t.match(ok.ok ? ok.value : undefined, { kind: 'status', statusCode: '01', staffInfo: undefined, description: undefined });
  t.same(paths(packetFromDescription({ ...status, statusCode: 3 }, OPTIONS)), ['EDX_ERR_BUILD_INPUT_INVALID $.statusCode']);
  t.same(paths(packetFromDescription({ ...status, statusCode: '07' }, OPTIONS)), ['EDX_ERR_BUILD_INPUT_INVALID $.statusCode']);
  const { statusCode: _omitted, ...noCode } = status;
  t.same(paths(packetFromDescription(noCode, OPTIONS)), ['EDX_ERR_BUILD_INPUT_INVALID $.statusCode']);
});

t.test('JSON syntax errors are reported at $', async (t) => {
  t.same(paths(packetFromDescriptionText('{', OPTIONS)), ['EDX_ERR_BUILD_INPUT_INVALID $']);
  t.ok(packetFromDescriptionText(JSON.stringify(document()), OPTIONS).ok);
});
