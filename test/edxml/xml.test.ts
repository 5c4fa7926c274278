// Tests of the secure XML reader: the element tree and its namespace resolution, the tolerated
// junk prefix, and refusal of hostile or broken input with the right catalogued code — never a
// throw, and the hostile cases within a second.

import t from 'tap';
import type { Test } from 'tap';
import { DEFAULT_XML_LIMITS, readXml } from '../../src/edxml/xml.ts';
import type { XmlDocument, XmlElement } from '../../src/edxml/xml.ts';
import type { Issue, Result } from '../../src/errors.ts';

const MIB = 1024 * 1024;

function rootOf(result: Result<XmlDocument>): XmlElement {
  if (!result.ok) throw new Error(`expected a document, got ${JSON.stringify(result.issues)}`);
  return result.value.root;
}

/** The refusal's first error; fails loudly if the input was accepted. */
function firstError(result: Result<XmlDocument>): Issue {
  if (result.ok) throw new Error('expected a refusal, got a document');
  const error = result.issues.find((i) => i.severity === 'error');
  if (!error) throw new Error(`refusal without an error: ${JSON.stringify(result.issues)}`);
  return error;
}

function child(element: XmlElement, index: number): XmlElement {
  const c = element.children[index];
  if (!c) throw new Error(`<${element.name}> has no child ${index}`);
  return c;
}

/** Runs `read` and checks it refuses with `code` in under a second. */
function refusedQuickly(t: Test, read: () => Result<XmlDocument>, code: Issue['code']): Issue {
  const start = performance.now();
  const result = read();
  const elapsed = performance.now() - start;
  const error = firstError(result);
  t.equal(error.code, code);
  t.ok(elapsed < 1000, `refused within 1 s (took ${elapsed.toFixed(0)} ms)`);
  return error;
}

t.test('builds the element tree with names, namespaces, attributes, text and positions', async (t) => {
  const root = rootOf(
    readXml(
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<r xmlns="urn:a" id="1">',
        '  <p:x xmlns:p="urn:b" p:k="v" xlink:href="">  one &amp; <![CDATA[<two>]]> </p:x>',
        '  <y><z xmlns="">bare</z></y>',
        '</r>',
      ].join('\n'),
    ),
  );
  t.equal(root.name, 'r');
  t.equal(root.namespace, 'urn:a');
  t.equal(root.prefix, undefined);
  t.same(root.attributes, { xmlns: 'urn:a', id: '1' });
  t.equal(root.children.length, 2);
  t.equal(root.text, '', 'whitespace-only text trims to empty');

  const x = child(root, 0);
  t.equal(x.name, 'p:x');
  t.equal(x.local, 'x');
  t.equal(x.prefix, 'p');
  t.equal(x.namespace, 'urn:b');
  t.equal(x.attributes['xlink:href'], '', 'an attribute with an unbound prefix is kept, not refused');
  t.equal(x.text, 'one & <two>', 'text, entities and CDATA concatenated, then trimmed');
  t.equal(x.line, 3);
  t.equal(x.column, 3);

  const y = child(root, 1);
  t.equal(y.namespace, 'urn:a', 'the default namespace is inherited');
  t.equal(child(y, 0).namespace, undefined, 'xmlns="" puts an element back in no namespace');
  t.equal(child(y, 0).text, 'bare');
});

t.test('an element prefix must be declared', async (t) => {
  const error = firstError(readXml('<r>\n  <q:x/>\n</r>'));
  t.equal(error.code, 'EDX_ERR_XML_MALFORMED');
  t.equal(error.path, '2:3');
  t.equal(error.value, 'q:x');
  t.match(error.message, /undeclared namespace prefix "q"/);

  t.equal(firstError(readXml('<a:b:c xmlns:a="urn:a"/>')).code, 'EDX_ERR_XML_MALFORMED', 'two colons');
  t.equal(firstError(readXml('<a xmlns:p=""/>')).code, 'EDX_ERR_XML_MALFORMED', 'prefix bound to nothing');
});

t.test('implicit prefixes are read as configured, with one warning per prefix', async (t) => {
  const result = readXml('<r xmlns="urn:q"><e:a><e:b/></e:a></r>', { implicitPrefixes: { e: 'urn:q' } });
  const root = rootOf(result);
  t.equal(child(root, 0).namespace, 'urn:q');
  t.equal(child(child(root, 0), 0).namespace, 'urn:q');
  if (!result.ok) return;
  t.equal(result.warnings.length, 1);
  t.equal(result.warnings[0]?.severity, 'warning');
  t.equal(result.warnings[0]?.path, '1:18');
  t.equal(firstError(readXml('<r><f:a/></r>', { implicitPrefixes: { e: 'urn:q' } })).code, 'EDX_ERR_XML_MALFORMED');
});

t.test('a BOM is stripped and a short hex/whitespace junk prefix is skipped with a warning', async (t) => {
  const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<r>x</r>')]);
  t.equal(rootOf(readXml(bom)).text, 'x');

  const junk = readXml(Buffer.from('1212\r\n<?xml version="1.0" encoding="UTF-8"?>\n<r>x</r>'));
  t.equal(rootOf(junk).text, 'x');
  t.ok(junk.ok && junk.warnings.length === 1 && junk.warnings[0]?.code === 'EDX_ERR_XML_MALFORMED');
  t.equal(junk.ok ? junk.warnings[0]?.severity : undefined, 'warning');

  const afterJunk = firstError(readXml('1a2B\n<r>\n</q>'));
  t.equal(afterJunk.path, '3:5', 'positions count from the original first line');

  t.equal(firstError(readXml('HTTP/1.1 200\n<r/>')).code, 'EDX_ERR_XML_MALFORMED', 'not hex');
  t.equal(firstError(readXml(`${'0'.repeat(17)}<r/>`)).code, 'EDX_ERR_XML_MALFORMED', 'longer than 16');
  t.equal(firstError(readXml('1212')).code, 'EDX_ERR_XML_MALFORMED', 'no markup at all');
  t.equal(firstError(readXml('')).code, 'EDX_ERR_XML_MALFORMED', 'empty body');
});

t.test('bytes that are not UTF-8, or a declared encoding other than UTF-8, are refused', async (t) => {
  t.equal(firstError(readXml(Buffer.from([0x3c, 0x72, 0x3e, 0xc3, 0x28, 0x3c, 0x2f, 0x72, 0x3e]))).code, 'EDX_ERR_XML_ENCODING');
  const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<r/>', 'utf16le')]);
  t.equal(firstError(readXml(utf16)).code, 'EDX_ERR_XML_ENCODING', 'UTF-16 with BOM');
  const latin1 = firstError(readXml('<?xml version="1.0" encoding="ISO-8859-1"?><r/>'));
  t.equal(latin1.code, 'EDX_ERR_XML_ENCODING');
  t.equal(latin1.value, 'ISO-8859-1');
  t.ok(readXml('<?xml version="1.0" encoding="utf-8"?><r/>').ok, 'the encoding name is case-insensitive');
  t.ok(readXml(Buffer.from('<r>Tiếng Việt</r>')).ok);
});

t.test('well-formedness errors are EDX_ERR_XML_MALFORMED with line:column', async (t) => {
  const mismatched = firstError(readXml('<r>\n  <a></b>\n</r>'));
  t.equal(mismatched.code, 'EDX_ERR_XML_MALFORMED');
  t.match(mismatched.path, /^2:\d+$/);
  t.match(mismatched.message, /^XML syntax error: /);
  t.equal(firstError(readXml('<r>')).code, 'EDX_ERR_XML_MALFORMED', 'unclosed');
  t.equal(firstError(readXml('<r/>text')).code, 'EDX_ERR_XML_MALFORMED', 'text after the root');
  t.equal(firstError(readXml('<r/><s/>')).code, 'EDX_ERR_XML_MALFORMED', 'two roots');
  t.equal(firstError(readXml('<r a="1" a="2"/>')).code, 'EDX_ERR_XML_MALFORMED', 'duplicate attribute');
  t.equal(firstError(readXml('<r>&nbsp;</r>')).code, 'EDX_ERR_XML_MALFORMED', 'undefined entity');
  t.equal(firstError(readXml('<r><!ENTITY x "y"></r>')).code, 'EDX_ERR_XML_MALFORMED', 'ENTITY outside a DTD');
});

t.test('never throws, whatever the input', async (t) => {
  const inputs: (string | Buffer)[] = [
    '<',
    '<<<<',
    '</r>',
    '<r',
    '<?xml',
    '<!--',
    '<![CDATA[x]]>',
    '<r>]]></r>',
    '<r>\u0000</r>',
    '<r>\uD800</r>',
    '<xmlns:r/>',
    '<r xmlns:xmlns="urn:x"/>',
    Buffer.from([0xff, 0xfe, 0xfd]),
    Buffer.alloc(0),
  ];
  for (const input of inputs) {
    t.doesNotThrow(() => {
      const result = readXml(input);
      t.notOk(result.ok, `refused: ${JSON.stringify(input.toString())}`);
    });
  }
});

t.test('hostile input is refused with the right code within 1 s', async (t) => {
  t.test('a 100 MiB body of "<" is refused by size before anything else', async (t) => {
    const body = Buffer.alloc(100 * MIB, '<');
    const error = refusedQuickly(t, () => readXml(body), 'EDX_ERR_XML_TOO_LARGE');
    t.equal(error.value, String(100 * MIB));
  });

  t.test('a 100 MiB body of spaces, and the same as a string', async (t) => {
    const body = Buffer.alloc(100 * MIB, ' ');
    refusedQuickly(t, () => readXml(body), 'EDX_ERR_XML_TOO_LARGE');
    const text = ' '.repeat(100 * MIB);
    refusedQuickly(t, () => readXml(text), 'EDX_ERR_XML_TOO_LARGE');
  });

  t.test('billion laughs: the DTD is refused, no entity is ever expanded', async (t) => {
    const entities = Array.from({ length: 9 }, (_, i) => {
      const ref = `&lol${i === 0 ? '' : i};`;
      return `<!ENTITY lol${i + 1} "${ref.repeat(10)}">`;
    }).join('\n');
    const xml = `<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n${entities}\n]>\n<lolz>&lol9;</lolz>`;
    refusedQuickly(t, () => readXml(xml), 'EDX_ERR_XML_DTD_FORBIDDEN');
  });

  t.test('an external entity is refused and its target never read', async (t) => {
    const xml = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><r>&xxe;</r>';
    const start = performance.now();
    const result = readXml(xml);
    t.ok(performance.now() - start < 1000, 'refused within 1 s');
    t.equal(firstError(result).code, 'EDX_ERR_XML_DTD_FORBIDDEN');
    t.notMatch(JSON.stringify(result), /root:/, 'no file content leaks into the issues');
  });

  t.test('any DOCTYPE is refused: external subset only, or after the root', async (t) => {
    t.equal(firstError(readXml('<!DOCTYPE r SYSTEM "http://example.invalid/r.dtd"><r/>')).code, 'EDX_ERR_XML_DTD_FORBIDDEN');
    t.equal(firstError(readXml('<!DOCTYPE r><r/>')).code, 'EDX_ERR_XML_DTD_FORBIDDEN');
    t.equal(firstError(readXml('<r/><!DOCTYPE r>')).code, 'EDX_ERR_XML_DTD_FORBIDDEN');
  });

  t.test('10,000-level nesting is refused as soon as the limit is crossed', async (t) => {
    const xml = '<a>'.repeat(10_000) + '</a>'.repeat(10_000);
    const error = refusedQuickly(t, () => readXml(xml), 'EDX_ERR_XML_TOO_DEEP');
    t.equal(error.path, `1:${3 * DEFAULT_XML_LIMITS.maxDepth + 1}`, 'at the first element too deep');
  });
});

t.test('the limits apply exactly at their configured values', async (t) => {
  const nested = (depth: number): string => '<a>'.repeat(depth) + '</a>'.repeat(depth);
  t.ok(readXml(nested(4), { maxDepth: 4 }).ok, 'depth 4 of 4');
  t.equal(firstError(readXml(nested(5), { maxDepth: 4 })).code, 'EDX_ERR_XML_TOO_DEEP');

  const flat = (n: number): string => `<r>${'<e/>'.repeat(n - 1)}</r>`;
  t.ok(readXml(flat(10), { maxElements: 10 }).ok, '10 elements of 10');
  t.equal(firstError(readXml(flat(11), { maxElements: 10 })).code, 'EDX_ERR_XML_TOO_MANY_NODES');

  const attributes = (n: number): string => `<r ${Array.from({ length: n }, (_, i) => `a${i}="${i}"`).join(' ')}/>`;
  t.ok(readXml(attributes(64)).ok, '64 attributes by default');
  const tooMany = firstError(readXml(attributes(65)));
  t.equal(tooMany.code, 'EDX_ERR_XML_TOO_MANY_NODES');
  t.equal(tooMany.value, 'a64');

  t.ok(readXml('<r>12345</r>', { maxTextLength: 5 }).ok);
  t.equal(firstError(readXml('<r>123456</r>', { maxTextLength: 5 })).code, 'EDX_ERR_XML_TOO_LARGE');
  t.equal(firstError(readXml('<r/>', { maxBytes: 3 })).code, 'EDX_ERR_XML_TOO_LARGE');
  t.ok(readXml('<r/>', { maxBytes: 4 }).ok);
  t.equal(firstError(readXml('<r>é</r>', { maxBytes: 8 })).code, 'EDX_ERR_XML_TOO_LARGE', 'bytes, not characters');
});

t.test('a 20 MB text node is read whole', async (t) => {
  const payload = Buffer.alloc(15 * MIB, 0x5a).toString('base64');
  const root = rootOf(readXml(Buffer.from(`<r>\n<b>\n${payload}\n</b></r>`)));
  t.equal(child(root, 0).text.length, payload.length);
  t.equal(child(root, 0).text.slice(0, 8), payload.slice(0, 8));
});

// Long base64 texts are lifted out of the document before saxes reads it (xml.ts, liftLongTexts):
// whatever the place of the run, the tree must be the one a plain read gives.
t.test('long base64 texts read the same wherever they stand', async (t) => {
  const run = 'QUJD'.repeat(3000); // 12,000 characters of the base64 alphabet
  const read = (xml: string): XmlElement => rootOf(readXml(Buffer.from(xml, 'utf8')));

  const plain = read(`<a><b>${run}</b><c>Sở Lao động</c><d>\n  ${run}==\n</d></a>`);
  t.equal(child(plain, 0).text, run, 'element content comes back whole');
  t.equal(child(plain, 1).text, 'Sở Lao động', 'the text around it is decoded as UTF-8');
  t.equal(child(plain, 2).text, `${run}==`, 'several runs, each in its place, trimmed like any text');

  const wrapped = `${run.slice(0, 76)}\r\n${run.slice(76, 152)}\r${run.slice(152)}`;
  t.equal(read(`<a>${wrapped}</a>`).text, `${run.slice(0, 76)}\n${run.slice(76, 152)}\n${run.slice(152)}`, 'line ends normalised as XML does');

  t.equal(read(`<a>x<!-- y>${run}<z --></a>`).text, 'x', 'a run inside a comment is dropped with it');
  t.equal(read(`<a>x<?pi y>${run}<z ?></a>`).text, 'x', 'a run inside a processing instruction is dropped with it');
  t.equal(read(`<a b="${run}">x</a>`).attributes['b'], run, 'an attribute value is read as written');
  t.equal(read(`<a><![CDATA[${run}]]></a>`).text, run, 'CDATA content is read as written');

  const marked = `<a>\uE0000\uE001<b>${run}</b></a>`;
  const withMarker = read(marked);
  t.equal(withMarker.text, '\uE0000\uE001', 'input holding the marker characters is read unchanged');
  t.equal(child(withMarker, 0).text, run);
});

t.test('line numbers after a lifted run are those of the input', async (t) => {
  const lines = Array.from({ length: 200 }, () => 'QUJD'.repeat(19)).join('\n'); // 200 lines of 76
  const error = firstError(readXml(Buffer.from(`<a>\n<b>${lines}</b>\n<c></d>\n</a>`, 'utf8')));
  t.equal(error.code, 'EDX_ERR_XML_MALFORMED');
  t.match(error.path, /^202:/, 'the mismatched tag is on line 202');
});
