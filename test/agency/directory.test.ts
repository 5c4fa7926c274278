import t from 'tap';
import { AgencyDirectory, isAgencyState, mergeProvinces } from '../../src/agency/directory.ts';
import type { AgencyRecord } from '../../src/agency/directory.ts';
import { demoDirectory, demoDirectoryRecords } from '../../src/agency/demo.ts';
import { ancestorsOf } from '../../src/agency/code.ts';
import { EdxError, isErrorCode } from '../../src/errors.ts';
import type { Issue } from '../../src/errors.ts';

const active = (code: string, extra: Partial<AgencyRecord> = {}): AgencyRecord => ({
  code,
  name: `Cơ quan ${code}`,
  state: 'active',
  ...extra,
});
const closed = (code: string, successor?: string): AgencyRecord =>
  successor === undefined ? { code, name: `Cơ quan ${code}`, state: 'closed' } : { code, name: `Cơ quan ${code}`, state: 'closed', successor };

function build(records: AgencyRecord[]): AgencyDirectory {
  const r = AgencyDirectory.fromRecords(records);
  if (!r.ok) throw new Error(r.issues.map((i) => `${i.path}: ${i.message}`).join('\n'));
  return r.value;
}
function refusal(records: readonly unknown[]): readonly Issue[] {
  const r = AgencyDirectory.fromRecords(records as AgencyRecord[]);
  if (r.ok) throw new Error('expected the records to be refused');
  return r.issues;
}

t.test('get, has, list, size, children', async (t) => {
  const d = build([
    active('000.00.00.H47'),
    active('000.00.15.H47'),
    active('000.01.15.H47'),
    active('000.02.15.H47'),
    active('vxp.saas.02', { parent: '000.00.15.H47' }),
  ]);
  t.equal(d.size, 5);
  t.equal(d.get('000.00.15.H47')?.parent, '000.00.00.H47', 'implied parent filled in');
  t.equal(d.get('000.00.00.H47')?.parent, undefined);
  t.ok(d.has('vxp.saas.02'));
  t.notOk(d.has('VXP.SAAS.02'), 'codes are exact, not case-folded');
  t.equal(d.get('000.00.15.h47'), undefined);
  t.same(d.list().map((r) => r.code), ['000.00.00.H47', '000.00.15.H47', '000.01.15.H47', '000.02.15.H47', 'vxp.saas.02']);
  t.same(d.children('000.00.15.H47').map((r) => r.code), ['000.01.15.H47', '000.02.15.H47', 'vxp.saas.02']);
  t.same(d.children('000.00.00.H47').map((r) => r.code), ['000.00.15.H47']);
  t.same(d.children('000.01.15.H47'), []);
  t.same(d.children('nope'), []);
  t.ok(Object.isFrozen(d.get('000.00.15.H47')), 'records are frozen');
});

t.test('records are copied: extra fields dropped, input not retained', async (t) => {
  const input = { ...active('000.00.00.H47'), password: 'x' } as AgencyRecord;
  const d = build([input]);
  t.same(d.get('000.00.00.H47'), { code: '000.00.00.H47', name: 'Cơ quan 000.00.00.H47', state: 'active' });
  (input as { name: string }).name = 'changed';
  t.equal(d.get('000.00.00.H47')?.name, 'Cơ quan 000.00.00.H47');
});

t.test('an unknown parent is allowed (partial view of the national tree)', async (t) => {
  const d = build([active('000.00.15.H51')]);
  t.equal(d.get('000.00.15.H51')?.parent, '000.00.00.H51');
  t.same(d.children('000.00.00.H51').map((r) => r.code), ['000.00.15.H51']);
  t.same(d.resolve('000.00.00.H51'), { kind: 'unknown', code: '000.00.00.H51' });
});

t.test('resolve: active, suspended, closed, unknown', async (t) => {
  const d = build([
    active('000.00.00.H47'),
    { ...active('000.00.15.H47'), state: 'suspended' },
    closed('000.00.16.H47'),
  ]);
  t.match(d.resolve('000.00.00.H47'), { kind: 'active', agency: { code: '000.00.00.H47' }, path: ['000.00.00.H47'] });
  t.match(d.resolve('000.00.15.H47'), { kind: 'suspended', agency: { code: '000.00.15.H47' }, path: ['000.00.15.H47'] });
  t.match(d.resolve('000.00.16.H47'), { kind: 'closed', agency: { code: '000.00.16.H47' }, path: ['000.00.16.H47'] });
  t.same(d.resolve('000.00.17.H47'), { kind: 'unknown', code: '000.00.17.H47' });
  t.same(d.resolve(''), { kind: 'unknown', code: '' });
});

t.test('resolve follows alias chains and records the path', async (t) => {
  const d = build([
    closed('000.00.00.H22', '000.00.00.X01'),
    closed('000.00.00.X01', '000.00.00.H60'),
    active('000.00.00.H60'),
    closed('000.00.13.H22', '000.00.13.H60'),
    active('000.00.13.H60'),
  ]);
  t.same(d.resolve('000.00.00.H22'), {
    kind: 'alias',
    alias: '000.00.00.H22',
    agency: d.get('000.00.00.H60'),
    path: ['000.00.00.H22', '000.00.00.X01', '000.00.00.H60'],
  });
  t.match(d.resolve('000.00.13.H22'), { kind: 'alias', alias: '000.00.13.H22', agency: { code: '000.00.13.H60' } });
  t.match(d.resolve('000.00.00.H60'), { kind: 'active', path: ['000.00.00.H60'] }, 'the target itself is no alias');
});

t.test('a chain ending at a suspended or closed agency reports that state', async (t) => {
  const d = build([
    closed('000.00.00.H22', '000.00.00.H60'),
    { ...active('000.00.00.H60'), state: 'suspended' },
    closed('000.00.01.H22', '000.00.01.H60'),
    closed('000.00.01.H60'),
  ]);
  t.match(d.resolve('000.00.00.H22'), {
    kind: 'suspended',
    agency: { code: '000.00.00.H60' },
    path: ['000.00.00.H22', '000.00.00.H60'],
  });
  t.match(d.resolve('000.00.01.H22'), {
    kind: 'closed',
    agency: { code: '000.00.01.H60' },
    path: ['000.00.01.H22', '000.00.01.H60'],
  });
});

t.test('alias cycles are refused', async (t) => {
  const loop = refusal([
    closed('000.00.00.H22', '000.00.00.H60'),
    closed('000.00.00.H60', '000.00.00.H14'),
    closed('000.00.00.H14', '000.00.00.H22'),
    closed('000.00.01.H22', '000.00.00.H22'), // leads into the loop but is not part of it
  ]);
  t.equal(loop.length, 1, 'one loop, reported once');
  t.equal(loop[0]?.code, 'EDX_ERR_AGENCY_ALIAS_CYCLE');
  t.equal(loop[0]?.path, 'records[0].successor');
  t.match(loop[0]?.message, /000\.00\.00\.H22 → 000\.00\.00\.H60 → 000\.00\.00\.H14 → 000\.00\.00\.H22/);

  const self = refusal([closed('000.00.00.H22', '000.00.00.H22')]);
  t.match(self, [{ code: 'EDX_ERR_AGENCY_ALIAS_CYCLE', path: 'records[0].successor', message: /forwards to itself/ }]);

  const two = refusal([
    closed('A1', 'A2'),
    closed('A2', 'A1'),
    closed('B1', 'B2'),
    closed('B2', 'B1'),
  ]);
  t.same(two.map((i) => [i.code, i.path]), [
    ['EDX_ERR_AGENCY_ALIAS_CYCLE', 'records[0].successor'],
    ['EDX_ERR_AGENCY_ALIAS_CYCLE', 'records[2].successor'],
  ]);
});

t.test('successor rules', async (t) => {
  t.match(refusal([closed('000.00.00.H22', '000.00.00.H60')]), [
    { code: 'EDX_ERR_AGENCY_UNKNOWN', path: 'records[0].successor', value: '000.00.00.H60' },
  ]);
  t.match(refusal([{ ...active('000.00.00.H22'), successor: '000.00.00.H60' }, active('000.00.00.H60')]), [
    { code: 'EDX_ERR_AGENCY_RECORD_INVALID', path: 'records[0].successor', message: /Only a closed code forwards.*active/ },
  ]);
  t.match(refusal([closed('000.00.00.H22', 'not valid!')]), [
    { code: 'EDX_ERR_AGENCY_CODE_INVALID', path: 'records[0].successor' },
  ]);
});

t.test('record rules', async (t) => {
  t.match(refusal([active('000.00.00.H47'), active('000.00.00.H47')]), [
    { code: 'EDX_ERR_AGENCY_RECORD_INVALID', path: 'records[1].code', message: /listed twice/ },
  ]);
  t.match(refusal([active('Sở LĐTBXH')]), [{ code: 'EDX_ERR_AGENCY_CODE_INVALID', path: 'records[0].code' }]);
  t.match(refusal([{ ...active('000.00.00.H47'), name: '  ' }]), [
    { code: 'EDX_ERR_AGENCY_RECORD_INVALID', path: 'records[0].name' },
  ]);
  t.match(refusal([{ ...active('000.00.00.H47'), state: 'open' }]), [
    { code: 'EDX_ERR_AGENCY_RECORD_INVALID', path: 'records[0].state', value: 'open' },
  ]);
  t.match(refusal([{ ...active('000.00.00.H47'), route: '' }]), [
    { code: 'EDX_ERR_AGENCY_RECORD_INVALID', path: 'records[0].route' },
  ]);
  t.match(refusal([{ name: 'x', state: 'active', code: 42 }]), [
    { code: 'EDX_ERR_AGENCY_RECORD_INVALID', path: 'records[0].code' },
  ]);
  t.match(refusal([{ ...active('000.00.00.H47'), parent: 7 }]), [
    { code: 'EDX_ERR_AGENCY_RECORD_INVALID', path: 'records[0].parent' },
  ]);
  const several = refusal([{ ...active('bad code'), name: '' }, active('000.00.00.H47'), { ...active('x'), state: 'gone' }]);
  t.same(several.map((i) => i.path), ['records[0].code', 'records[0].name', 'records[2].state'], 'every fault reported');
  for (const i of several) t.ok(isErrorCode(i.code), `${i.code} is catalogued`);
});

t.test('parent rules', async (t) => {
  t.match(refusal([active('000.01.15.H47', { parent: '000.00.00.H47' })]), [
    { code: 'EDX_ERR_AGENCY_RECORD_INVALID', path: 'records[0].parent', message: /parent of 000\.01\.15\.H47 is 000\.00\.15\.H47/ },
  ]);
  t.match(refusal([active('000.00.00.H47', { parent: '000.00.00.G22' })]), [
    { code: 'EDX_ERR_AGENCY_RECORD_INVALID', message: /level-1 code and has no parent/ },
  ]);
  t.match(refusal([active('vxp.saas.02', { parent: 'vxp.saas.02' })]), [
    { code: 'EDX_ERR_AGENCY_RECORD_INVALID', message: /its own parent/ },
  ]);
  t.match(refusal([active('a', { parent: 'b' }), active('b', { parent: 'c' }), active('c', { parent: 'a' })]), [
    { code: 'EDX_ERR_AGENCY_RECORD_INVALID', path: 'records[0].parent', message: /a → b → c → a/ },
  ]);
  const repeated = build([active('000.01.15.H47', { parent: '000.00.15.H47' })]);
  t.equal(repeated.get('000.01.15.H47')?.parent, '000.00.15.H47', 'repeating the implied parent is fine');
  const hierarchyBroken = build([active('002.00.20.H13', { parent: '000.00.20.H13' })]);
  t.equal(hierarchyBroken.get('002.00.20.H13')?.parent, '000.00.20.H13', 'non-QCVN 102 codes take any parent');
});

t.test('withRecord returns a new snapshot and leaves the old one alone', async (t) => {
  const d1 = build([active('000.00.00.H47'), active('000.00.15.H47'), active('000.00.00.H60')]);
  const added = d1.withRecord(active('000.01.15.H47'));
  t.ok(added.ok);
  if (!added.ok) return;
  t.equal(added.value.size, 4);
  t.equal(d1.size, 3, 'old snapshot unchanged');
  t.same(added.value.children('000.00.15.H47').map((r) => r.code), ['000.01.15.H47']);
  t.same(d1.children('000.00.15.H47'), []);

  const replaced = added.value.withRecord(closed('000.00.15.H47', '000.00.00.H60'));
  t.ok(replaced.ok);
  if (!replaced.ok) return;
  t.same(replaced.value.list().map((r) => r.code), added.value.list().map((r) => r.code), 'replaced in place');
  t.match(replaced.value.resolve('000.00.15.H47'), { kind: 'alias', agency: { code: '000.00.00.H60' } });
  t.match(added.value.resolve('000.00.15.H47'), { kind: 'active' });

  const cyc = replaced.value.withRecord(closed('000.00.00.H60', '000.00.15.H47'));
  t.match(cyc, { ok: false, issues: [{ code: 'EDX_ERR_AGENCY_ALIAS_CYCLE' }] });
  const dangling = d1.withRecord(closed('000.00.15.H47', '000.00.99.H60'));
  t.match(dangling, { ok: false, issues: [{ code: 'EDX_ERR_AGENCY_UNKNOWN' }] });
});

t.test('create throws EdxError on invalid records', async (t) => {
  t.throws(() => AgencyDirectory.create([closed('A', 'B')]), EdxError);
  try {
    AgencyDirectory.create([closed('A', 'B')]);
  } catch (err) {
    t.equal((err as EdxError).code, 'EDX_ERR_AGENCY_UNKNOWN');
  }
  t.equal(AgencyDirectory.create([]).size, 0);
});

t.test('isAgencyState', async (t) => {
  t.ok(isAgencyState('active'));
  t.ok(isAgencyState('closed'));
  t.notOk(isAgencyState('open'));
});

// Hà Giang (H22) merges into Tuyên Quang (H60), July 2025.
function beforeMerger(): AgencyDirectory {
  return build([
    active('000.00.00.H22'),
    active('000.00.13.H22'),
    active('000.01.13.H22'),
    { ...active('000.00.14.H22'), state: 'suspended' },
    closed('000.00.15.H22', '000.00.13.H22'), // closed before the merger: keeps its own successor
    closed('000.00.16.H22'), // dissolved before the merger: stays closed without successor
    active('002.00.20.H22'), // breaks the hierarchy rule but is still Hà Giang's
    active('000.00.00.H60'),
    active('000.00.13.H60'),
    active('000.00.00.H14'),
    active('000.00.13.H14'),
    active('H22.DN.001'), // not a QCVN 102 code: left alone
  ]);
}

t.test('mergeProvinces closes the province and forwards its codes', async (t) => {
  const r = mergeProvinces(beforeMerger(), { closed: 'H22', into: 'H60' });
  t.ok(r.ok);
  if (!r.ok) return;
  const d = r.value;
  t.match(d.get('000.00.00.H22'), { state: 'closed', successor: '000.00.00.H60' });
  t.match(d.get('000.00.13.H22'), { state: 'closed', successor: '000.00.13.H60' }, 'same lower groups exist under H60');
  t.match(d.get('000.01.13.H22'), { state: 'closed', successor: '000.00.00.H60' }, 'no 000.01.13.H60: province root');
  t.match(d.get('000.00.14.H22'), { state: 'closed', successor: '000.00.00.H60' }, 'suspended codes close too');
  t.match(d.get('000.00.15.H22'), { state: 'closed', successor: '000.00.13.H22' });
  t.same(d.get('000.00.16.H22'), { code: '000.00.16.H22', name: 'Cơ quan 000.00.16.H22', parent: '000.00.00.H22', state: 'closed' });
  t.match(d.get('002.00.20.H22'), { state: 'closed', successor: '000.00.00.H60' });
  t.match(d.get('H22.DN.001'), { state: 'active' });
  t.match(d.get('000.00.13.H14'), { state: 'active' }, 'other provinces untouched');
  t.notOk('successor' in (d.get('000.00.13.H14') ?? {}));
  t.equal(d.get('000.01.13.H22')?.name, 'Cơ quan 000.01.13.H22', 'name and parent kept');
  t.equal(d.get('000.01.13.H22')?.parent, '000.00.13.H22');

  t.match(d.resolve('000.00.15.H22'), {
    kind: 'alias',
    agency: { code: '000.00.13.H60' },
    path: ['000.00.15.H22', '000.00.13.H22', '000.00.13.H60'],
  }, 'a pre-merger alias now ends in the successor province');
  t.match(d.resolve('000.00.16.H22'), { kind: 'closed' });
  t.equal(d.size, beforeMerger().size, 'no record added or removed');
});

t.test('mergeProvinces is idempotent and refuses bad arguments', async (t) => {
  const once = mergeProvinces(beforeMerger(), { closed: 'H22', into: 'H60' });
  if (!once.ok) throw new Error('merger failed');
  const twice = mergeProvinces(once.value, { closed: 'H22', into: 'H60' });
  t.ok(twice.ok);
  if (twice.ok) t.same(twice.value.list(), once.value.list());

  t.match(mergeProvinces(beforeMerger(), { closed: 'h22', into: 'H60' }), {
    ok: false,
    issues: [{ code: 'EDX_ERR_AGENCY_CODE_INVALID', path: 'closed' }],
  });
  t.match(mergeProvinces(beforeMerger(), { closed: 'H22', into: '000.00.00.H60' }), {
    ok: false,
    issues: [{ code: 'EDX_ERR_AGENCY_CODE_INVALID', path: 'into' }],
  });
  t.match(mergeProvinces(beforeMerger(), { closed: 'H22', into: 'H22' }), {
    ok: false,
    issues: [{ code: 'EDX_ERR_AGENCY_CODE_INVALID', path: 'into', message: /itself/ }],
  });
  t.match(mergeProvinces(beforeMerger(), { closed: 'H22', into: 'H38' }), {
    ok: false,
    issues: [{ code: 'EDX_ERR_AGENCY_UNKNOWN', path: 'into', value: '000.00.00.H38' }],
  });
});

t.test('mergeProvinces cannot build a loop even when the target forwards back', async (t) => {
  const d = build([active('000.00.00.H22'), closed('000.00.00.H60', '000.00.00.H22')]);
  t.match(mergeProvinces(d, { closed: 'H22', into: 'H60' }), {
    ok: false,
    issues: [{ code: 'EDX_ERR_AGENCY_ALIAS_CYCLE' }],
  });
});

t.test('demo directory is valid and shaped as DESIGN says', async (t) => {
  const records = demoDirectoryRecords();
  const r = AgencyDirectory.fromRecords(records);
  t.ok(r.ok, 'demo records validate');
  const d = demoDirectory();
  t.equal(d.size, 13);
  for (const rec of d.list()) t.equal(rec.state, 'active', `${rec.code} active`);
  t.match(d.get('000.00.00.G22'), { name: 'Văn phòng Chính phủ', route: 'upstream' });
  t.match(d.get('000.00.00.H47'), { name: 'Ủy ban nhân dân tỉnh Quảng Nam' });
  t.match(d.get('000.00.15.H47'), {
    name: 'Sở Lao động - Thương binh và Xã hội tỉnh Quảng Nam',
    parent: '000.00.00.H47',
  });
  const units = d.children('000.00.15.H47');
  t.same(
    units.map((u) => u.code),
    Array.from({ length: 10 }, (_, i) => `000.${String(i + 1).padStart(2, '0')}.15.H47`),
  );
  t.equal(new Set(units.map((u) => u.name)).size, 10, 'unit names distinct');
  t.match(units[0], { name: 'Văn phòng Sở' });
  t.match(units[9], { name: 'Cơ sở Bảo trợ xã hội' });
  for (const u of units) {
    t.same(ancestorsOf(u.code), ['000.00.15.H47', '000.00.00.H47'], `${u.code} under the sở and the province`);
  }
  t.not(demoDirectoryRecords(), records, 'a fresh array each call, so callers cannot corrupt the demo');
});
