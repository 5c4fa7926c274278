import t from 'tap';
import { ancestorsOf, isDescendantOf, levelOf, parentOf, parseAgencyCode } from '../../src/agency/code.ts';
import type { AgencyCode } from '../../src/agency/code.ts';
import type { Issue } from '../../src/errors.ts';

function parsed(code: string, form?: 'qcvn102' | 'qd20' | 'lenient'): AgencyCode {
  const r = parseAgencyCode(code, form === undefined ? {} : { form });
  if (!r.ok) throw new Error(`expected ${code} to parse: ${r.issues[0]?.message ?? ''}`);
  return r.value;
}

function refused(code: string, form: 'qcvn102' | 'qd20' | 'lenient'): Issue {
  const r = parseAgencyCode(code, { form });
  if (r.ok) throw new Error(`expected ${code} to be refused in ${form}`);
  if (r.issues.length !== 1 || !r.issues[0]) throw new Error('expected exactly one issue');
  return r.issues[0];
}

t.test('levels, groups and parents of QCVN 102 codes', async (t) => {
  t.same(parsed('000.00.00.H47'), {
    code: '000.00.00.H47',
    form: 'qcvn102',
    groups: { l4: '000', l3: '00', l2: '00', l1: 'H47' },
    level: 1,
    level1: 'H47',
  });
  t.notOk('parent' in parsed('000.00.00.H47'), 'level 1 has no parent key at all');
  t.same(parsed('000.00.15.H47'), {
    code: '000.00.15.H47',
    form: 'qcvn102',
    groups: { l4: '000', l3: '00', l2: '15', l1: 'H47' },
    level: 2,
    level1: 'H47',
    parent: '000.00.00.H47',
  });
  t.match(parsed('000.01.15.H47'), { level: 3, parent: '000.00.15.H47' });
  t.match(parsed('001.01.15.H47'), { level: 4, parent: '000.01.15.H47', groups: { l4: '001' } });
});

t.test('non-hierarchical codes carry no levels', async (t) => {
  t.same(parsed('002.00.20.H13'), { code: '002.00.20.H13', form: 'qd20', level1: 'H13' }, 'L1 kept for routing');
  t.same(parsed('28.22.H17'), { code: '28.22.H17', form: 'qd20' });
  t.same(parsed('01.02.G22'), { code: '01.02.G22', form: 'qd20' });
  t.same(parsed('vxp.saas.02', 'lenient'), { code: 'vxp.saas.02', form: 'lenient' });
  t.same(parsed('001.00.20.JB2'), { code: '001.00.20.JB2', form: 'qd20' }, 'JB2 is no level-1 group');
});

t.test('the form reported is the narrowest, whatever form was asked for', async (t) => {
  t.equal(parsed('000.00.00.G22', 'lenient').form, 'qcvn102');
  t.equal(parsed('H37.DN.001', 'lenient').form, 'qd20');
});

t.test('default form is QĐ 20', async (t) => {
  t.ok(parseAgencyCode('002.00.20.H13').ok);
  t.notOk(parseAgencyCode('vxp.saas.02').ok);
});

t.test('each hierarchy rule is named', async (t) => {
  const l3 = refused('002.00.20.H13', 'qcvn102');
  t.equal(l3.code, 'EDX_ERR_AGENCY_CODE_INVALID');
  t.equal(l3.path, 'code');
  t.equal(l3.value, '002.00.20.H13');
  t.equal(l3.severity, 'error');
  t.match(l3.message, /^group L3 is 00 but L4 is 002: a unit cannot sit under an empty level\./);
  t.match(refused('000.01.00.H47', 'qcvn102').message, /^group L2 is 00 but L3 is 01/);
  t.match(refused('001.00.00.H47', 'qcvn102').message, /^group L2 is 00 but L4 is 001/);
});

t.test('each QCVN 102 shape rule is named', async (t) => {
  t.match(refused('28.22.H17', 'qcvn102').message, /has 3 group\(s\); a QCVN 102 code has four/);
  t.match(refused('0000.00.00.H47', 'qcvn102').message, /Group L4 is '0000'; it must be three digits/);
  t.match(refused('000.0.00.H47', 'qcvn102').message, /Group L3 is '0'; it must be two digits/);
  t.match(refused('000.00.1A.H47', 'qcvn102').message, /Group L2 is '1A'; it must be two digits/);
  t.match(refused('001.00.20.JB2', 'qcvn102').message, /Group L1 is 'JB2'; it must be one upper-case letter/);
  t.match(refused('000.00.00.h47', 'qcvn102').message, /Group L1 is 'h47'/);
});

t.test('QĐ 20 and lenient rules are named', async (t) => {
  t.match(refused('A'.repeat(36), 'qd20').message, /36 characters; QĐ 20\/2020 allows at most 35/);
  t.match(refused('vxp.saas.02', 'qd20').message, /contains 'v'; QĐ 20\/2020 allows only/);
  t.match(refused('A..B', 'qd20').message, /empty group/);
  t.match(refused('a'.repeat(65), 'lenient').message, /65 characters; at most 64/);
  t.match(refused('-abc', 'lenient').message, /must start with a letter or a digit/);
  t.match(refused('Sở', 'lenient').message, /contains 'ở'/);
  t.match(refused('', 'lenient').message, /empty/);
  t.match(refused(' 000.00.00.H47', 'qcvn102').message, /whitespace/);
});

t.test('path option and long values', async (t) => {
  const r = parseAgencyCode('x'.repeat(200), { form: 'lenient', path: 'MessageHeader/To[2]/OrganId' });
  t.notOk(r.ok);
  if (r.ok) return;
  t.equal(r.issues[0]?.path, 'MessageHeader/To[2]/OrganId');
  t.equal(r.issues[0]?.value?.length, 80, 'value truncated as the catalogue requires');
});

t.test('levelOf / parentOf / ancestorsOf / isDescendantOf', async (t) => {
  t.equal(levelOf('000.00.00.H47'), 1);
  t.equal(levelOf('000.00.15.H47'), 2);
  t.equal(levelOf('000.01.15.H47'), 3);
  t.equal(levelOf('001.01.15.H47'), 4);
  t.equal(levelOf('002.00.20.H13'), undefined);
  t.equal(levelOf('vxp.saas.02'), undefined);

  t.equal(parentOf('000.01.15.H47'), '000.00.15.H47');
  t.equal(parentOf('000.00.15.H47'), '000.00.00.H47');
  t.equal(parentOf('000.00.00.H47'), undefined);
  t.equal(parentOf('002.00.20.H13'), undefined, 'no parent outside the tree');

  t.same(ancestorsOf('001.01.15.H47'), ['000.01.15.H47', '000.00.15.H47', '000.00.00.H47']);
  t.same(ancestorsOf('000.00.00.H47'), []);
  t.same(ancestorsOf('28.22.H17'), []);

  t.ok(isDescendantOf('001.01.15.H47', '000.00.00.H47'));
  t.ok(isDescendantOf('000.01.15.H47', '000.00.15.H47'));
  t.notOk(isDescendantOf('000.00.15.H47', '000.00.15.H47'), 'not its own descendant');
  t.notOk(isDescendantOf('000.00.15.H47', '000.01.15.H47'), 'not upwards');
  t.notOk(isDescendantOf('000.01.15.H47', '000.00.00.H41'), 'other province');
  t.notOk(isDescendantOf('000.01.16.H47', '000.00.15.H47'), 'sibling department');
});
