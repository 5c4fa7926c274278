// The idempotency key: equal for a re-post, different for a revoke, a status, or another sender of
// the same DocumentId (the fixtures reuse one DocumentId across all of these, as real traffic does).

import { readFileSync } from 'node:fs';
import t from 'tap';
import { decodePacket } from '../../src/edxml/decode.ts';
import type { Packet } from '../../src/edxml/model.ts';
import { idempotencyKey } from '../../src/pipeline/idempotency.ts';

function fixture(name: string): Packet {
  const decoded = decodePacket(readFileSync(new URL(`../../fixtures/packets/valid/${name}.edxml`, import.meta.url)));
  if (!decoded.ok) throw new Error(`${name} does not decode: ${decoded.issues[0]?.message}`);
  return decoded.value;
}

t.test('documents, revokes, updates and statuses of one DocumentId get different keys', async (t) => {
  const names = ['new-official-letter-pdf', 'revoke-official-letter', 'update-official-letter', 'status-03-accepted', 'status-05-processing', 'status-13-recall-request'];
  const packets = names.map(fixture);
  const documentIds = new Set(packets.map((p) => (p.kind === 'document' ? p.header.documentId : p.responseFor.documentId)));
  t.equal(documentIds.size, 1, 'the fixtures share one DocumentId');
  const keys = packets.map(idempotencyKey);
  t.equal(new Set(keys).size, names.length, 'every key differs');
  t.equal(keys[0], 'document|b0|000.00.15.H47|000.00.15.H47,2025/03/05,123/SLĐTBXH-VP');
  t.equal(keys[1], 'document|b1|000.00.15.H47|000.00.15.H47,2025/03/05,123/SLĐTBXH-VP');
  t.equal(keys[3], 'status|s03|000.00.00.H47|000.00.15.H47,2025/03/05,123/SLĐTBXH-VP');
});

t.test('two packets of one document with other content share the key (a conflict, not a new packet)', async (t) => {
  const original = fixture('new-official-letter-pdf');
  if (original.kind !== 'document') throw new Error('new-official-letter-pdf is a document packet');
  const edited: Packet = { ...original, header: { ...original.header, subject: `${original.header.subject} (bản sửa)` } };
  t.equal(idempotencyKey(edited), idempotencyKey(original));
});

t.test('the same document from another sender gets another key', async (t) => {
  const original = fixture('new-official-letter-pdf');
  if (original.kind !== 'document') throw new Error('new-official-letter-pdf is a document packet');
  const forwarded: Packet = { ...original, header: { ...original.header, from: { organId: '000.00.00.H47' } } };
  t.not(idempotencyKey(forwarded), idempotencyKey(original));
});
