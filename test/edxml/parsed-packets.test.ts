// ParsedPackets: intake's parse reused by the forwarding signer. A hit must give exactly what a fresh
// parse of the same bytes gives, so a packet forwarded from the memo is byte for byte the packet
// forwarded without it.

import t from 'tap';
import { buildPacketBuffer } from '../../src/edxml/build.ts';
import { parsePacket } from '../../src/edxml/parse.ts';
import { ParsedPackets } from '../../src/edxml/parsed-packets.ts';
import { ForwardSigner } from '../../src/trust/forward-signer.ts';
import { verifySignature } from '../../src/trust/dsig/verify.ts';
import { testKey } from '../trust/helpers/keys.ts';
import { documentPacket, statusPacket } from './example-packets.ts';

const GATEWAY_AGENCY = '000.00.00.H47';
const AT = new Date('2025-03-05T08:00:00.000Z');

t.test('a remembered model is returned for the same buffer, and only for it', async (t) => {
  const bytes = buildPacketBuffer({ ...documentPacket, signature: undefined });
  const parsed = parsePacket(bytes);
  if (!parsed.ok) throw new Error('the example packet must parse');
  const memo = new ParsedPackets();
  memo.remember(bytes, parsed.value);
  const hit = await memo.parse(bytes);
  t.ok(hit.ok && hit.value === parsed.value, 'the same buffer: the remembered model itself');
  const copy = Buffer.from(bytes);
  const miss = await memo.parse(copy);
  t.ok(miss.ok && miss.value !== parsed.value, 'equal bytes in another buffer: parsed afresh');
  t.same(miss.ok ? miss.value : undefined, parsed.value, 'and the fresh parse is the same model');
  const broken = await memo.parse(Buffer.from('<edXMLEnvelope'));
  t.equal(broken.ok, false, 'bytes never remembered and not a packet: the parse refuses them');
});

t.test('the forwarding signer gives the same bytes with and without the memo', async (t) => {
  const key = testKey();
  for (const model of [documentPacket, statusPacket]) {
    const bytes = buildPacketBuffer({ ...model, signature: undefined });
    const parsed = parsePacket(bytes);
    if (!parsed.ok) throw new Error(`the example ${model.kind} packet must parse`);
    const memo = new ParsedPackets();
    memo.remember(bytes, parsed.value);
    const withMemo = await new ForwardSigner(key, GATEWAY_AGENCY, memo).prepare(bytes, AT);
    const without = await new ForwardSigner(key, GATEWAY_AGENCY).prepare(bytes, AT);
    if (!withMemo.ok || !without.ok) throw new Error('signing the example packet must succeed');
    // RSA PKCS#1 v1.5 signatures are deterministic: equal inputs, equal bytes.
    t.ok(withMemo.value.equals(without.value), `${model.kind}: identical forwarded bytes`);
    t.equal(verifySignature(withMemo.value).status, 'valid', `${model.kind}: the forwarded packet's signature is valid`);
    const again = parsePacket(bytes);
    t.same(again.ok ? again.value : undefined, parsed.value, `${model.kind}: forwarding did not alter the remembered model`);
  }
});
