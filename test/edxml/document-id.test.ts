import t from 'tap';
import { documentIdFor, formatDocumentId, parseDocumentId } from '../../src/edxml/document-id.ts';
import type { DocumentHeader } from '../../src/edxml/model.ts';

t.test('parseDocumentId reads the date form', async (t) => {
  t.same(parseDocumentId('000.00.00.G22,2015/09/30,7816/VPCP-TTĐT'), {
    organId: '000.00.00.G22',
    date: '2015/09/30',
    year: 2015,
    number: '7816',
    notation: 'VPCP-TTĐT',
  });
});

t.test('parseDocumentId reads the year-only form', async (t) => {
  t.same(parseDocumentId('000.00.01.H01,2018,10/UBND-VP'), {
    organId: '000.00.01.H01',
    date: undefined,
    year: 2018,
    number: '10',
    notation: 'UBND-VP',
  });
});

t.test('parseDocumentId keeps a notation with slashes and Vietnamese letters whole', async (t) => {
  const parts = parseDocumentId('000.00.13.H53,2025/03/05,123/QĐ-UBND/TCCB');
  t.equal(parts?.number, '123');
  t.equal(parts?.notation, 'QĐ-UBND/TCCB');
});

t.test('parseDocumentId does not check the embedded date against the calendar', async (t) => {
  // The official samples carry this impossible date inside Bussiness/DocumentId.
  t.equal(parseDocumentId('000.00.00.G22,2014/02/30,7806/VPCP-TTĐT')?.date, '2014/02/30');
});

t.test('parseDocumentId refuses other shapes', async (t) => {
  for (const text of [
    '9fbfbad2-f1f8-4256-a2eb-50fb1061cddb', // opaque UUID (edoc.edxml)
    '000.00.00.G22,2015/09/30', // no number/notation
    '000.00.00.G22,2015/09/30,7816', // no notation
    '000.00.00.G22,2015/09/30,7816/', // empty notation
    '000.00.00.G22,2015/09/30,/VPCP', // empty number
    ',2015/09/30,7816/VPCP', // empty organ
    '000.00.00.G22,15/09/30,7816/VPCP', // two-digit year
    '000.00.00.G22,2015-09-30,7816/VPCP',
    '000.00.00.G22,2015/9/30,7816/VPCP',
    '000.00.00.G22,30/09/2015,7816/VPCP',
    '000.00.00.G22,2015/09/30,7816/VPCP\nX', // a newline is no part of a notation
    '',
  ]) {
    t.equal(parseDocumentId(text), undefined, JSON.stringify(text));
  }
});

t.test('formatDocumentId and parseDocumentId round-trip', async (t) => {
  for (const text of [
    '000.00.00.G22,2015/09/30,7816/VPCP-TTĐT',
    '000.00.04.G14,2012/08/06,267/VPCP-TTĐT',
    '000.00.00.G22,2014/02/30,7806/VPCP-TTĐT',
    '000.00.01.H01,2018,10/UBND',
    '000.00.13.H53,2025/03/05,123/QĐ-UBND/TCCB',
    '28.22.H17,2019/01/16,74fass22/VPCP-TTĐT',
  ]) {
    const parts = parseDocumentId(text);
    t.ok(parts, text);
    if (parts) t.equal(formatDocumentId(parts), text);
  }
});

t.test('formatDocumentId writes the year form only when no date is known', async (t) => {
  t.equal(formatDocumentId({ organId: '000.00.00.G22', year: 2018, number: '10', notation: 'VPCP' }), '000.00.00.G22,2018,10/VPCP');
  t.equal(
    formatDocumentId({ organId: '000.00.00.G22', date: '2018/09/28', year: 2018, number: '10', notation: 'VPCP' }),
    '000.00.00.G22,2018/09/28,10/VPCP',
  );
});

function header(promulgationDate: string): Pick<DocumentHeader, 'from' | 'code' | 'promulgationInfo'> {
  return {
    from: { organId: '000.00.13.H53' },
    code: { codeNumber: '123', codeNotation: 'STTTT-VP' },
    promulgationInfo: { place: 'Tây Ninh', promulgationDate },
  };
}

t.test('documentIdFor derives the id from From, PromulgationDate and Code', async (t) => {
  const id = documentIdFor(header('2025/03/05'));
  t.equal(id, '000.00.13.H53,2025/03/05,123/STTTT-VP');
  t.same(parseDocumentId(id ?? ''), {
    organId: '000.00.13.H53',
    date: '2025/03/05',
    year: 2025,
    number: '123',
    notation: 'STTTT-VP',
  });
});

t.test('documentIdFor gives undefined for a date kept as written', async (t) => {
  t.equal(documentIdFor(header('30-10-2020')), undefined);
  t.equal(documentIdFor(header('')), undefined);
});
