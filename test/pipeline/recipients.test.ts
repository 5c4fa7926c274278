// Recipient resolution: every To of a document, the counterpart of a status, aliases to their
// successor, refusals for unknown, suspended and closed codes, and one re-read before "unknown".

import t from 'tap';
import { AgencyDirectory } from '../../src/agency/directory.ts';
import type { AgencyRecord } from '../../src/agency/directory.ts';
import { demoDirectoryRecords } from '../../src/agency/demo.ts';
import { decodePacket } from '../../src/edxml/decode.ts';
import type { Packet } from '../../src/edxml/model.ts';
import { resolveRecipients } from '../../src/pipeline/recipients.ts';
import type { DirectorySource } from '../../src/pipeline/recipients.ts';
import { makeDocument, makeStatus } from '../api/gateway-fixture.ts';

/** A directory source over fixed snapshots: the first read, then what a re-read finds. */
function source(first: readonly AgencyRecord[], reread: readonly AgencyRecord[] = first): DirectorySource & { rereads: number } {
  const s = {
    rereads: 0,
    directory: async () => AgencyDirectory.create(first),
    refreshDirectory: async () => {
      s.rereads++;
      return AgencyDirectory.create(reread);
    },
  };
  return s;
}

function packet(bytes: Buffer): Packet {
  const decoded = decodePacket(bytes);
  if (!decoded.ok) throw new Error(decoded.issues[0]?.message);
  return decoded.value;
}

const demo = demoDirectoryRecords();
const extra: AgencyRecord[] = [
  { code: '000.11.15.H47', name: 'Phòng cũ', state: 'closed', successor: '000.01.15.H47' },
  { code: '000.12.15.H47', name: 'Phòng tạm ngừng', state: 'suspended' },
  { code: '000.13.15.H47', name: 'Phòng giải thể', state: 'closed' },
  { code: '000.14.15.H47', name: 'Phòng sáp nhập vào phòng tạm ngừng', state: 'closed', successor: '000.12.15.H47' },
];

t.test('a document goes to every To, with its route (inbox when none)', async (t) => {
  const r = await resolveRecipients(packet(makeDocument({ to: ['000.01.15.H47', '000.00.00.G22'] })), source(demo));
  t.ok(r.ok);
  if (r.ok) t.same(r.value, [
    { to: '000.01.15.H47', routeId: 'inbox', aliasOf: null },
    { to: '000.00.00.G22', routeId: 'upstream', aliasOf: null },
  ]);
});

t.test('a status goes back to the agency named in ResponseFor', async (t) => {
  const r = await resolveRecipients(packet(makeStatus('000.01.15.H47', '000.00.15.H47', '000.00.15.H47,2025/03/05,1/X')), source(demo));
  t.same(r.ok ? r.value.map((x) => x.to) : r.issues, ['000.00.15.H47']);
});

t.test('aliases resolve to the successor; an alias and its successor together make one delivery', async (t) => {
  const dir = source([...demo, ...extra]);
  const one = await resolveRecipients(packet(makeDocument({ to: ['000.11.15.H47'] })), dir);
  t.same(one.ok ? one.value : one.issues, [{ to: '000.01.15.H47', routeId: 'inbox', aliasOf: '000.11.15.H47' }]);
  const both = await resolveRecipients(packet(makeDocument({ to: ['000.11.15.H47', '000.01.15.H47'] })), dir);
  t.same(both.ok ? both.value : both.issues, [{ to: '000.01.15.H47', routeId: 'inbox', aliasOf: null }], 'the direct address wins');
});

t.test('unknown, suspended and closed recipients are refused, each with its code and path', async (t) => {
  const r = await resolveRecipients(
    packet(makeDocument({ to: ['000.01.15.H47', '000.99.15.H47', '000.12.15.H47', '000.13.15.H47', '000.14.15.H47'] })),
    source([...demo, ...extra]),
  );
  t.notOk(r.ok);
  if (!r.ok) {
    t.same(
      r.issues.map((i) => [i.code, i.path, i.value]),
      [
        ['EDX_ERR_RECIPIENT_UNKNOWN', 'MessageHeader/To[2]/OrganId', '000.99.15.H47'],
        ['EDX_ERR_RECIPIENT_SUSPENDED', 'MessageHeader/To[3]/OrganId', '000.12.15.H47'],
        ['EDX_ERR_RECIPIENT_CLOSED', 'MessageHeader/To[4]/OrganId', '000.13.15.H47'],
        ['EDX_ERR_RECIPIENT_SUSPENDED', 'MessageHeader/To[5]/OrganId', '000.14.15.H47'],
      ],
    );
    t.match(r.issues[3]?.message, /forwards to it/, 'an alias ending at a suspended agency says so');
  }
});

t.test('a code the cached directory lacks is looked up again before it is refused', async (t) => {
  const added: AgencyRecord = { code: '000.11.15.H47', name: 'Phòng mới', state: 'active' };
  const dir = source(demo, [...demo, added]);
  const r = await resolveRecipients(packet(makeDocument({ to: ['000.11.15.H47'] })), dir);
  t.ok(r.ok, 'found on the re-read');
  t.equal(dir.rereads, 1);
  const known = source(demo);
  await resolveRecipients(packet(makeDocument({ to: ['000.01.15.H47'] })), known);
  t.equal(known.rereads, 0, 'no re-read when every code is known');
});
