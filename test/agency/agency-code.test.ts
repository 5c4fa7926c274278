import t from 'tap';
import {
  AGENCY_CODE_FORMS,
  acceptsAgencyCode,
  classifyAgencyCode,
  isAgencyCodeForm,
  qcvn102Groups,
  qcvn102HierarchyFault,
} from '../../src/edxml/agency-code.ts';
import type { AgencyCodeForm } from '../../src/edxml/agency-code.ts';

// Expected narrowest form for each code; undefined = refused by every form.
const CASES: ReadonlyArray<readonly [string, AgencyCodeForm | undefined, string]> = [
  // Codes seen in the official VPCP samples (interop/vpcp-samples).
  ['000.00.00.G22', 'qcvn102', 'Văn phòng Chính phủ'],
  ['000.00.00.H41', 'qcvn102', 'UBND tỉnh Nghệ An'],
  ['000.00.00.H14', 'qcvn102', 'UBND tỉnh Cao Bằng'],
  ['000.00.15.H51', 'qcvn102', 'a sở (L2)'],
  ['002.00.20.H13', 'qd20', 'sample: non-zero L4 under empty L3'],
  ['001.00.20.JB2', 'qd20', 'sample: L1 not letter+2 digits'],
  ['28.22.H17', 'qd20', 'sample: three groups'],
  ['01.02.G22', 'qd20', 'sample: three groups'],
  // Well-formed hierarchy at every level.
  ['000.00.15.H47', 'qcvn102', 'level 2'],
  ['000.01.15.H47', 'qcvn102', 'level 3'],
  ['001.01.15.H47', 'qcvn102', 'level 4'],
  // Hierarchy violations keep only the QĐ 20 form.
  ['000.01.00.H47', 'qd20', 'L3 under empty L2'],
  ['001.00.00.H47', 'qd20', 'L4 under empty L2 and L3'],
  ['001.01.00.H47', 'qd20', 'L3 and L4 under empty L2'],
  // QĐ 20 generic, not QCVN 102 shapes.
  ['G22', 'qd20', 'a single group'],
  ['0000.00.00.H47', 'qd20', 'four-digit L4'],
  ['000.00.00.h47', 'lenient', 'lower-case L1 letter'],
  ['A'.repeat(35), 'qd20', '35 characters'],
  ['A'.repeat(36), 'lenient', '36 characters: too long for QĐ 20'],
  // Axis sandbox / X-Road ids (spec §2.6).
  ['vxp.saas.02', 'lenient', 'VNPT test system'],
  ['H37.DN.001', 'qd20', 'Lạng Sơn sandbox: upper-case, fits QĐ 20'],
  ['VN:GOV:000.00.00.G22:vpcpdvcprovider', 'lenient', 'X-Road member id'],
  ['a'.repeat(64), 'lenient', '64 characters'],
  // Refused by every form.
  ['', undefined, 'empty'],
  ['a'.repeat(65), undefined, '65 characters'],
  ['.000.00.00.H47', undefined, 'leading dot'],
  ['000.00.00.H47 ', undefined, 'trailing space'],
  ['000.00.00.H47\n', undefined, 'trailing newline'],
  ['000 00 00 H47', undefined, 'spaces'],
  ['Sở LĐTBXH', undefined, 'diacritics'],
];

t.test('classifyAgencyCode gives the narrowest form', async (t) => {
  for (const [code, form, why] of CASES) {
    t.equal(classifyAgencyCode(code), form, `${JSON.stringify(code)} (${why})`);
  }
});

t.test('acceptsAgencyCode: each form accepts exactly the codes of its own and narrower forms', async (t) => {
  for (const [code, narrowest, why] of CASES) {
    const rank = narrowest === undefined ? Infinity : AGENCY_CODE_FORMS.indexOf(narrowest);
    AGENCY_CODE_FORMS.forEach((form, i) => {
      t.equal(acceptsAgencyCode(code, form), i >= rank, `${form} ${JSON.stringify(code)} (${why})`);
    });
  }
});

t.test('QĐ 20 edge cases', async (t) => {
  t.notOk(acceptsAgencyCode('A..B', 'qd20'), 'empty group');
  t.notOk(acceptsAgencyCode('AB.', 'qd20'), 'trailing dot');
  t.ok(acceptsAgencyCode('AB.', 'lenient'), 'lenient tolerates a trailing dot');
  t.notOk(acceptsAgencyCode('-AB', 'lenient'), 'lenient still needs an alphanumeric first character');
});

t.test('qcvn102Groups splits right-to-left', async (t) => {
  t.same(qcvn102Groups('001.02.15.H47'), { l4: '001', l3: '02', l2: '15', l1: 'H47' });
  t.equal(qcvn102Groups('28.22.H17'), undefined);
  t.same(qcvn102Groups('002.00.20.H13'), { l4: '002', l3: '00', l2: '20', l1: 'H13' }, 'shape only');
});

t.test('qcvn102HierarchyFault names the rule broken', async (t) => {
  t.equal(qcvn102HierarchyFault({ l4: '000', l3: '00', l2: '00', l1: 'H47' }), undefined);
  t.match(qcvn102HierarchyFault({ l4: '002', l3: '00', l2: '20', l1: 'H13' }), /L3 is 00 but L4 is 002/);
  t.match(qcvn102HierarchyFault({ l4: '000', l3: '01', l2: '00', l1: 'H47' }), /L2 is 00 but L3 is 01/);
  t.match(qcvn102HierarchyFault({ l4: '001', l3: '00', l2: '00', l1: 'H47' }), /L2 is 00 but L4 is 001/);
});

t.test('isAgencyCodeForm', async (t) => {
  for (const form of AGENCY_CODE_FORMS) t.ok(isAgencyCodeForm(form), form);
  t.notOk(isAgencyCodeForm('strict'));
  t.notOk(isAgencyCodeForm(undefined));
});
