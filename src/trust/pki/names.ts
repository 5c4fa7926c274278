// Distinguished names: reading them from DER, showing them to people, and deciding whether two
// names are the same (the link between a certificate and its issuer, and a CRL and its CA).

import { DerError, at, childrenOf, encoded, readDirectoryString, readOid, TAG } from './der.ts';
import type { DerElement } from './der.ts';

/** One attribute of a name, e.g. O=000.00.15.H47. */
export interface NameAttribute {
  /** Dotted OID of the attribute type. */
  readonly oid: string;
  /** Short name (CN, O, OU, serialNumber…) or the dotted OID when the type has none here. */
  readonly type: string;
  /** The value as text; `#hex` (RFC 4514) when the value is not a string type. */
  readonly value: string;
}

export interface DistinguishedName {
  /** Relative distinguished names in encoding order (most general first, usually C). */
  readonly rdns: readonly (readonly NameAttribute[])[];
  /** The Name exactly as encoded, for byte-exact comparison. */
  readonly der: Buffer;
  /** RFC 4514 order (most specific first): `CN=…, O=…, OU=…, C=VN`. */
  readonly text: string;
}

const SHORT_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'street',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.42': 'givenName',
  '2.5.4.43': 'initials',
  '2.5.4.97': 'organizationIdentifier',
  '0.9.2342.19200300.100.1.1': 'UID',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

const OIDS_BY_SHORT_NAME: ReadonlyMap<string, string> = new Map(
  Object.entries(SHORT_NAMES).map(([oid, name]) => [name.toLowerCase(), oid]),
);

/** The OID for a short name (case-insensitive) or a dotted OID given as is; undefined if unknown. */
export function attributeOid(typeOrOid: string): string | undefined {
  if (/^\d+(\.\d+)+$/.test(typeOrOid)) return typeOrOid;
  return OIDS_BY_SHORT_NAME.get(typeOrOid.toLowerCase());
}

/** Reads a Name (RDNSequence). Throws DerError; callers are the parse entry points. */
export function readName(element: DerElement): DistinguishedName {
  const rdns = childrenOf(element, TAG.SEQUENCE, 'Name').map((set) => {
    const attributes = childrenOf(set, TAG.SET, 'RelativeDistinguishedName').map((pair) => {
      const parts = childrenOf(pair, TAG.SEQUENCE, 'AttributeTypeAndValue');
      const oid = readOid(at(parts, 0, 'attribute type'));
      const valueElement = at(parts, 1, 'attribute value');
      const text = readDirectoryString(valueElement);
      return {
        oid,
        type: SHORT_NAMES[oid] ?? oid,
        value: text ?? `#${encoded(valueElement).toString('hex')}`,
      };
    });
    if (attributes.length === 0) throw new DerError('empty RelativeDistinguishedName');
    return attributes;
  });
  return { rdns, der: Buffer.from(encoded(element)), text: formatName(rdns) };
}

/** RFC 4514 string, most specific RDN first, with `, ` between RDNs for legibility. */
export function formatName(rdns: readonly (readonly NameAttribute[])[]): string {
  return [...rdns]
    .reverse()
    .map((rdn) => rdn.map((attribute) => `${attribute.type}=${escapeValue(attribute.value)}`).join('+'))
    .join(', ');
}

function escapeValue(value: string): string {
  if (value.startsWith('#') && /^#([0-9a-f]{2})+$/.test(value)) return value; // already a hex value
  return value
    .replace(/[\\,+"<>;=]/g, (character) => `\\${character}`)
    .replace(/^[ #]/, (character) => `\\${character}`)
    .replace(/ $/, '\\ ');
}

/**
 * Whether two names denote the same entity. Byte equality first (the normal case: a CA copies its
 * subject into every issuer field); otherwise RFC 5280 §7.1 matching in simplified form: same RDNs
 * in the same order, attribute values compared case-insensitively with whitespace collapsed, so a
 * CA that re-encodes a PrintableString as UTF8String is still recognised.
 */
export function sameName(a: DistinguishedName, b: DistinguishedName): boolean {
  if (a.der.equals(b.der)) return true;
  return canonicalName(a) === canonicalName(b);
}

/** A string key for indexing by name: names that sameName() equates have the same key. */
export function nameKey(name: DistinguishedName): string {
  return canonicalName(name);
}

function canonicalName(name: DistinguishedName): string {
  return name.rdns
    .map((rdn) =>
      rdn
        .map((attribute) => `${attribute.oid}=${canonicalValue(attribute.value)}`)
        .sort()
        .join('+'),
    )
    .join('/');
}

function canonicalValue(value: string): string {
  return value.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
}

/** Values of one attribute type (by short name or OID) anywhere in the name. */
export function attributeValues(name: DistinguishedName, typeOrOid: string): string[] {
  const oid = attributeOid(typeOrOid);
  if (oid === undefined) return [];
  return name.rdns.flat().filter((attribute) => attribute.oid === oid).map((attribute) => attribute.value);
}
