// Signatures and trust (issue 5): the CA certificates the gateway trusts besides those in its
// config, the certificates bound to each agency, each agency's signature policy, whether a route
// gets packets signed by the gateway, and the details of each packet's signature verdict.

import { sql } from 'kysely';
import type { Kysely } from 'kysely';

const UP: readonly string[] = [
  // Trust anchors (role 'anchor') and intermediates the operator added at run time; a reload of the
  // trust store reads them with the config's PEM files, without a restart.
  `CREATE TABLE trust_certificates (
    fingerprint_sha256 text PRIMARY KEY CHECK (fingerprint_sha256 ~ '^[0-9a-f]{64}$'),
    role text NOT NULL CHECK (role IN ('anchor', 'intermediate')),
    subject text NOT NULL,
    not_after timestamptz NOT NULL,
    der bytea NOT NULL,
    added_at timestamptz NOT NULL DEFAULT now()
  )`,
  // The binding of signer certificates to agencies: a packet from an agency must be signed by one
  // of its certificates (by fingerprint) or by one whose subject names the agency code.
  `CREATE TABLE agency_certificates (
    agency_code text NOT NULL REFERENCES agencies (code),
    fingerprint_sha256 text NOT NULL CHECK (fingerprint_sha256 ~ '^[0-9a-f]{64}$'),
    subject text NOT NULL,
    not_after timestamptz NOT NULL,
    der bytea,
    added_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agency_code, fingerprint_sha256)
  )`,
  `ALTER TABLE agencies ADD COLUMN signature_policy text CHECK (signature_policy IN ('require', 'verify-if-present', 'off'))`,
  `ALTER TABLE routes ADD COLUMN sign_outgoing boolean NOT NULL DEFAULT true`,
  // The policy of every agency reached through a route (an upstream axis, say), unless the agency has its own.
  `ALTER TABLE routes ADD COLUMN signature_policy text CHECK (signature_policy IN ('require', 'verify-if-present', 'off'))`,
  `ALTER TABLE packets ADD COLUMN signature_detail jsonb`,
];

const DOWN: readonly string[] = [
  'ALTER TABLE packets DROP COLUMN signature_detail',
  'ALTER TABLE routes DROP COLUMN signature_policy',
  'ALTER TABLE routes DROP COLUMN sign_outgoing',
  'ALTER TABLE agencies DROP COLUMN signature_policy',
  'DROP TABLE agency_certificates',
  'DROP TABLE trust_certificates',
];

/** Creates the trust tables and columns. */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of UP) await sql.raw(statement).execute(db);
}

/** Drops them again (development only). */
export async function down(db: Kysely<unknown>): Promise<void> {
  for (const statement of DOWN) await sql.raw(statement).execute(db);
}
