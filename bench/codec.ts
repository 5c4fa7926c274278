// Codec throughput: parse, decode (parse + validate) and build of 5 KB, 1 MB and 20 MB document
// packets, beside a bare fast-xml-parser parse of the same bytes in the same run, so the figures
// read as ratios to a known baseline rather than as absolute times of one machine.
//
//   npm run bench:codec [-- --json] [-- --seconds 2]
//
// The baseline is fast-xml-parser configured as DESIGN.md measured it (stopNodes on the base64
// element, no value parsing): it builds a plain object and checks nothing, so it is a floor for
// "turning these bytes into a tree", not a competitor that does our job.

import { parseArgs } from 'node:util';
import { XMLParser } from 'fast-xml-parser';
import { buildPacket } from '../src/edxml/build.ts';
import { decodePacket } from '../src/edxml/decode.ts';
import type { DocumentPacket } from '../src/edxml/model.ts';
import { parsePacket } from '../src/edxml/parse.ts';

const { values: args } = parseArgs({
  options: { json: { type: 'boolean', default: false }, seconds: { type: 'string', default: '1.5' } },
});
const secondsPerCase = Number(args.seconds);

/** Deterministic bytes: a real PDF/zip is incompressible, and so is this. */
function pseudoRandomBytes(size: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

function packetOfSize(targetBytes: number): string {
  const overhead = 3_000;
  const attachmentBytes = Math.max(256, Math.floor(((targetBytes - overhead) * 3) / 4));
  const recipients = ['000.01.15.H47', '000.02.15.H47', '000.03.15.H47', '000.00.00.H47'];
  const packet: DocumentPacket = {
    kind: 'document',
    header: {
      from: { organId: '000.00.15.H47', organName: 'Sở Lao động - Thương binh và Xã hội tỉnh Quảng Nam' },
      to: recipients.map((organId) => ({ organId, organName: `Đơn vị ${organId}` })),
      documentId: '000.00.15.H47,2026/11/20,1234/SLĐTBXH-VP',
      code: { codeNumber: '1234', codeNotation: 'SLĐTBXH-VP' },
      promulgationInfo: { place: 'Quảng Nam', promulgationDate: '2026/11/20' },
      documentType: { type: 1, typeDetail: 0, typeName: 'Công văn' },
      subject: 'V/v triển khai chính sách hỗ trợ người lao động năm 2026',
      content: 'Đề nghị các đơn vị triển khai thực hiện.',
      signerInfo: { competence: 'KT. GIÁM ĐỐC', position: 'Phó Giám đốc', fullName: 'Nguyễn Văn An' },
      otherInfo: { priority: 1, sphereOfPromulgation: 'Liên thông văn bản', appendixes: [] },
      responseFor: [],
      steeringType: 0,
      toPlaces: ['Như trên', 'Lưu: VT'],
    },
    traceHeaders: [{ organId: '000.00.15.H47', timestamp: '2026/11/20 09:15:00' }],
    business: { businessDocType: 0, businessDocReason: 'Văn bản điện tử mới', paper: 0, replacements: [] },
    manifest: [{ contentId: 'cid:1', contentType: 'application/pdf', attachmentName: 'cong-van-1234.pdf' }],
    attachments: [
      {
        contentId: 'cid:1',
        contentType: 'application/pdf',
        attachmentName: 'cong-van-1234.pdf',
        content: pseudoRandomBytes(attachmentBytes, targetBytes).toString('base64'),
      },
    ],
  };
  return buildPacket(packet);
}

interface Measurement {
  readonly operation: string;
  readonly msPerOp: number;
  readonly mbPerSecond: number;
}

function measure(operation: string, bytes: number, run: () => unknown): Measurement {
  run(); // warm-up: JIT and lazily created parser state
  let iterations = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < secondsPerCase * 1000 || iterations < 3) {
    run();
    iterations++;
    elapsed = performance.now() - started;
  }
  const msPerOp = elapsed / iterations;
  return { operation, msPerOp, mbPerSecond: bytes / 1e6 / (msPerOp / 1000) };
}

const fxp = new XMLParser({
  ignoreAttributes: false,
  parseTagValue: false,
  trimValues: true,
  stopNodes: ['*.edXML:ContentTransferEncoded'],
});

const sizes = [
  { label: '5 KB', bytes: 5_000 },
  { label: '1 MB', bytes: 1_000_000 },
  { label: '20 MB', bytes: 20_000_000 },
];

const report: Array<{ size: string; bytes: number; results: Measurement[] }> = [];
for (const size of sizes) {
  const text = packetOfSize(size.bytes);
  const buffer = Buffer.from(text, 'utf8');
  const parsed = parsePacket(buffer);
  if (!parsed.ok) throw new Error(`benchmark packet does not parse: ${JSON.stringify(parsed.issues)}`);
  const model = parsed.value;
  const results = [
    measure('fast-xml-parser (baseline)', buffer.length, () => fxp.parse(buffer.toString('utf8'))),
    measure('parse', buffer.length, () => parsePacket(buffer)),
    measure('decode (parse + validate)', buffer.length, () => decodePacket(buffer)),
    measure('build', buffer.length, () => buildPacket(model)),
  ];
  report.push({ size: size.label, bytes: buffer.length, results });
}

if (args.json) {
  console.log(JSON.stringify({ node: process.version, report }, null, 2));
} else {
  console.log(`edXML codec throughput (node ${process.version}, ${secondsPerCase}s per case)\n`);
  console.log('| size | operation | ms/op | MB/s | × baseline time |');
  console.log('|---|---|---:|---:|---:|');
  for (const row of report) {
    const baseline = row.results[0]!.msPerOp;
    for (const r of row.results) {
      console.log(
        `| ${row.size} (${row.bytes.toLocaleString('en-US')} B) | ${r.operation} | ${r.msPerOp.toFixed(3)} | ${r.mbPerSecond.toFixed(1)} | ${(r.msPerOp / baseline).toFixed(2)} |`,
      );
    }
  }
}
