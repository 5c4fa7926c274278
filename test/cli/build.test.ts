// `edxgate build`, run as a real child process: description → edXML → validate.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

import { runCli } from './run-cli.ts';

const DESCRIPTIONS = 'fixtures/packets/descriptions';
const VALID = 'fixtures/packets/valid';

function tempDir(t: { teardown: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'edxgate-build-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A small description that is valid, to vary in the tests below. */
function letter(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    kind: 'document',
    header: {
      from: { organId: '000.00.15.H47', organName: 'Sở Lao động - Thương binh và Xã hội tỉnh Quảng Nam' },
      to: [
        { organId: '000.00.00.H47', organName: 'UBND tỉnh Quảng Nam' },
        { organId: '000.01.15.H47', organName: 'Cơ sở cai nghiện ma túy Quảng Nam' },
      ],
      code: { codeNumber: '77', codeNotation: 'SLĐTBXH-VP' },
      promulgationInfo: { place: 'Quảng Nam', promulgationDate: '2026/11/02' },
      documentType: { type: 1, typeName: 'Công văn' },
      subject: 'V/v rà soát danh sách đối tượng bảo trợ xã hội năm 2026',
      otherInfo: { priority: 1 },
    },
    traceHeaders: [{ organId: '000.00.15.H47', timestamp: '2026/11/02 08:00:00' }],
    business: { businessDocType: 0, businessDocReason: 'Văn bản điện tử mới' },
    attachments: [{ text: 'Danh sách đối tượng kèm theo.\n', attachmentName: 'danh-sach.txt' }],
    ...overrides,
  };
}

t.test('build a fixture description to stdout: the committed valid packet, byte for byte', async (t) => {
  const run = await runCli(['build', `${DESCRIPTIONS}/new-official-letter-pdf.json`]);
  t.equal(run.code, 0, run.stderr);
  t.equal(run.stderr, '');
  t.equal(run.stdout, readFileSync(`${VALID}/new-official-letter-pdf.edxml`, 'utf8'));
});

t.test('build -o OUT, then validate OUT', async (t) => {
  const dir = tempDir(t);
  const description = join(dir, 'cong-van.json');
  const out = join(dir, 'cong-van.edxml');
  writeFileSync(description, JSON.stringify(letter(), null, 2));

  const built = await runCli(['build', description, '-o', out]);
  t.equal(built.code, 0, built.stderr);
  t.equal(built.stdout, '', 'nothing on stdout when -o is given');
  const xml = readFileSync(out, 'utf8');
  t.match(xml, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<edXML xmlns="http:\/\/www\.mic\.gov\.vn\/TBT\/QCVN_102_2016">/);
  t.match(xml, '<edXML:DocumentId>000.00.15.H47,2026/11/02,77/SLĐTBXH-VP</edXML:DocumentId>', 'derived DocumentId');
  t.match(xml, '<edXML:ContentType>text/plain</edXML:ContentType>', 'derived ContentType');
  t.match(xml, /<edXML:Reference>\s*<edXML:ContentId>cid:[0-9a-f-]{36}<\/edXML:ContentId>/, 'derived manifest');

  const validated = await runCli(['validate', '--json', out]);
  t.equal(validated.code, 0, validated.stdout);
  t.match(JSON.parse(validated.stdout), [{ file: out, ok: true, errors: [], warnings: [] }]);

  // --output, and a path relative to the working directory, work the same.
  const again = await runCli(['build', 'cong-van.json', '--output', 'lan-2.edxml'], dir);
  t.equal(again.code, 0, again.stderr);
  t.equal(readFileSync(join(dir, 'lan-2.edxml'), 'utf8'), xml, 'deterministic');
});

t.test('file attachments are read relative to the description', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'to-trinh.pdf'), '%PDF-1.4\n% To trinh\n%%EOF\n');
  writeFileSync(join(dir, 'mo-ta.json'), JSON.stringify(letter({ attachments: [{ file: 'to-trinh.pdf' }] })));
  const run = await runCli(['build', join(dir, 'mo-ta.json')]);
  t.equal(run.code, 0, run.stderr);
  t.match(run.stdout, '<edXML:AttachmentName>to-trinh.pdf</edXML:AttachmentName>');
  t.match(run.stdout, '<edXML:ContentType>application/pdf</edXML:ContentType>');
  t.match(run.stdout, Buffer.from('%PDF-1.4\n% To trinh\n%%EOF\n').toString('base64'));
});

t.test('a description of the wrong shape: EDX_ERR_BUILD_INPUT_INVALID with JSON paths, exit 1', async (t) => {
  const dir = tempDir(t);
  const bad = letter();
  const header = bad.header as Record<string, unknown>;
  header.to = [{ organId: '000.00.00.H47' }, { organId: 47 }];
  header.subjet = 'lỗi chính tả';
  bad.attachments = [{ attachmentName: 'rong.txt' }];
  const description = join(dir, 'sai.json');
  const out = join(dir, 'sai.edxml');
  writeFileSync(description, JSON.stringify(bad));

  const run = await runCli(['build', description, '-o', out]);
  t.equal(run.code, 1);
  t.equal(run.stdout, '');
  t.match(run.stderr, /^EDX_ERR_BUILD_INPUT_INVALID \$\.header\.to\[1\]\.organId: Expected a string, got a number\./m);
  t.match(run.stderr, /^EDX_ERR_BUILD_INPUT_INVALID \$\.header\.subjet: Unknown key "subjet"/m);
  t.match(run.stderr, /^EDX_ERR_BUILD_INPUT_INVALID \$\.attachments\[0\]: An attachment needs its bytes/m);
  t.notOk(existsSync(out), 'nothing written');
});

t.test('a well-shaped description of an invalid packet: its validation errors, exit 1', async (t) => {
  const dir = tempDir(t);
  const future = letter();
  (future.header as Record<string, unknown>).promulgationInfo = { promulgationDate: '2099/01/01' };
  (future.header as Record<string, unknown>).to = [
    { organId: '000.00.00.H47' },
    { organId: '000.00.00.H47' },
  ];
  const description = join(dir, 'tuong-lai.json');
  const out = join(dir, 'tuong-lai.edxml');
  writeFileSync(description, JSON.stringify(future));

  const run = await runCli(['build', description, '-o', out]);
  t.equal(run.code, 1);
  t.match(run.stderr, /^EDX_ERR_DATE_IN_FUTURE MessageHeader\/PromulgationInfo\/PromulgationDate: /m);
  t.match(run.stderr, /^EDX_ERR_RECIPIENT_DUPLICATE MessageHeader\/To\[2\]\/OrganId: /m);
  t.notOk(existsSync(out), 'nothing written');
});

t.test('closed sets are checked with the JSON path', async (t) => {
  const dir = tempDir(t);
  const description = join(dir, 'uu-tien.json');
  const bad = letter();
  (bad.header as Record<string, unknown>).otherInfo = { priority: 5 };
  writeFileSync(description, JSON.stringify(bad));
  const run = await runCli(['build', description]);
  t.equal(run.code, 1);
  t.match(run.stderr, /^EDX_ERR_BUILD_INPUT_INVALID \$\.header\.otherInfo\.priority: Expected one of 0, 1, 2, 3, 4, got 5\./m);
});

t.test('a status description builds and validates', async (t) => {
  const dir = tempDir(t);
  const description = join(dir, 'trang-thai.json');
  writeFileSync(
    description,
    JSON.stringify({
      kind: 'status',
      from: { organId: '000.00.00.H47', organName: 'UBND tỉnh Quảng Nam' },
      responseFor: {
        organId: '000.00.15.H47',
        code: '77/SLĐTBXH-VP',
        promulgationDate: '2026/11/02',
        documentId: '000.00.15.H47,2026/11/02,77/SLĐTBXH-VP',
      },
      statusCode: '02',
      description: 'Từ chối tiếp nhận: văn bản gửi nhầm đơn vị',
      timestamp: '2026/11/02 09:00:00',
    }),
  );
  const run = await runCli(['build', description, '-o', join(dir, 'trang-thai.edxml')]);
  t.equal(run.code, 0, run.stderr);
  const validated = await runCli(['validate', join(dir, 'trang-thai.edxml')]);
  t.equal(validated.code, 0, validated.stdout);
});

t.test('unreadable or unparsable descriptions: exit 1', async (t) => {
  const missing = await runCli(['build', 'khong-co.json']);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /^EDX_ERR_FILE_UNREADABLE /m);

  const dir = tempDir(t);
  writeFileSync(join(dir, 'hong.json'), '{ "kind": "document", ');
  const broken = await runCli(['build', join(dir, 'hong.json')]);
  t.equal(broken.code, 1);
  t.match(broken.stderr, /^EDX_ERR_BUILD_INPUT_INVALID \$: The description is not valid JSON/m);

  writeFileSync(join(dir, 'tep.json'), JSON.stringify(letter({ attachments: [{ file: 'khong-co.pdf' }] })));
  const noFile = await runCli(['build', join(dir, 'tep.json')]);
  t.equal(noFile.code, 1);
  t.match(noFile.stderr, /^EDX_ERR_FILE_UNREADABLE \$\.attachments\[0\]\.file: /m);
});

t.test('usage errors: exit 2', async (t) => {
  for (const args of [['build'], ['build', 'a.json', 'b.json'], ['build', 'a.json', '-o'], ['build', '--json', 'a.json']]) {
    const run = await runCli(args);
    t.equal(run.code, 2, `edxgate ${args.join(' ')}`);
    t.match(run.stderr, /^edxgate: EDX_ERR_CLI_USAGE /);
  }
});
