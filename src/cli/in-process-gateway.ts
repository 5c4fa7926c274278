// The gateway `edxgate replay --in-process` runs for the length of one replay: the real app
// (buildApp) on a fresh embedded database in a temporary DATA_DIR, listening on loopback, seeded
// with the demo directory plus the agencies the packets name, and one client allowed to send as
// every sender found. The configured database (DATABASE_URL or DATA_DIR) is never touched.

import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';

import { buildApp } from '../app.ts';
import type { EdxApp } from '../app.ts';
import { AgencyDirectory } from '../agency/directory.ts';
import { loadConfig } from '../config/load.ts';
import { parsePacket } from '../edxml/parse.ts';
import { senderOf } from '../edxml/model.ts';
import { EdxError } from '../errors.ts';
import { newClientToken, seedDemoIfEmpty } from '../gateway/demo-seed.ts';
import { createLogger } from '../observability/logger.ts';
import { addresseesOf } from '../pipeline/recipients.ts';
import type { CliIo } from './command.ts';

/** A running in-process gateway. */
export interface InProcessGateway {
  /** Its base URL on 127.0.0.1. */
  readonly url: string;
  /** The token of the client that may send as every sender found in the packets. */
  readonly token: string;
  /** Agencies added to the demo directory because the packets name them. */
  readonly agenciesAdded: number;
  /** Senders the client acts for. */
  readonly senders: readonly string[];
  /** Stops the gateway and deletes its temporary data. */
  close(): Promise<void>;
}

/** The codes the packets name: senders, and everyone they address. Unparseable files are skipped (the gateway will refuse them). */
export async function agenciesOfPackets(files: readonly string[], cwd: string): Promise<{ readonly senders: readonly string[]; readonly addressees: readonly string[] }> {
  const senders = new Set<string>();
  const addressees = new Set<string>();
  for (const file of files) {
    const bytes = await readFile(resolve(cwd, file)).catch(() => undefined);
    if (bytes === undefined) continue;
    const parsed = parsePacket(bytes);
    if (!parsed.ok) continue;
    senders.add(senderOf(parsed.value));
    for (const a of addresseesOf(parsed.value)) addressees.add(a.code);
  }
  return { senders: [...senders], addressees: [...addressees] };
}

/**
 * Starts the gateway for `files`; throws EdxError when it cannot (config invalid, store failure).
 * The log goes to stderr at LOG_LEVEL when that is set, and is silent otherwise.
 */
export async function startInProcessGateway(files: readonly string[], io: CliIo): Promise<InProcessGateway> {
  const env = io.env ?? process.env;
  const dataDir = await mkdtemp(join(tmpdir(), 'edxgate-replay-'));
  const removeData = (): Promise<void> => rm(dataDir, { recursive: true, force: true });
  const loaded = loadConfig({
    env,
    cwd: io.cwd,
    overrides: {
      store: { dataDir, databaseUrl: null },
      server: { host: '127.0.0.1', port: 0 },
      admin: { token: null },
      ...(env.LOG_LEVEL === undefined || env.LOG_LEVEL === '' ? { log: { level: 'silent' } } : {}),
    },
  });
  if (!loaded.ok) {
    await removeData();
    throw EdxError.fromIssues(loaded.issues);
  }
  const config = loaded.value;
  const logger = createLogger(config, { write: (line: string) => io.stderr(line) });

  let app: EdxApp;
  try {
    app = await buildApp(config, { logger, processMetrics: false });
  } catch (error) {
    await removeData();
    throw error;
  }
  try {
    const found = await agenciesOfPackets(files, io.cwd);
    const db = app.gateway.store.db;
    await seedDemoIfEmpty(db);
    const added = await addAgencies(app, [...found.senders, ...found.addressees]);
    const { token, hash } = newClientToken();
    await db
      .insertInto('clients')
      .values({ id: randomUUID(), name: 'edxgate replay', token_hash: hash, agency_codes: [...found.senders] })
      .execute();
    await app.gateway.directory.reload();
    await app.listen({ host: config.server.host, port: config.server.port });
    const { port } = app.server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      token,
      agenciesAdded: added,
      senders: found.senders,
      async close() {
        try {
          await app.close();
        } finally {
          await removeData();
        }
      },
    };
  } catch (error) {
    await app.close().catch(() => undefined);
    await removeData();
    throw error;
  }
}

/**
 * Adds the codes the demo directory lacks as active agencies that pull from their inbox, so the
 * replay exercises admission rather than stopping at "unknown recipient". A code the directory
 * rules refuse is left out: packets addressed to it are refused as they would be anywhere.
 */
async function addAgencies(app: EdxApp, codes: readonly string[]): Promise<number> {
  const db = app.gateway.store.db;
  const stored = await db.selectFrom('agencies').select(['code', 'name', 'state', 'parent_code']).execute();
  let directory = AgencyDirectory.create(
    stored.map((r) => ({ code: r.code, name: r.name, state: r.state, ...(r.parent_code === null ? {} : { parent: r.parent_code }) })),
  );
  const rows: { code: string; name: string; parent_code: string | null; state: 'active' }[] = [];
  for (const code of new Set(codes)) {
    if (directory.has(code)) continue;
    const next = directory.withRecord({ code, name: `Replay: ${code}`, state: 'active' });
    if (!next.ok) continue;
    directory = next.value;
    rows.push({ code, name: `Replay: ${code}`, parent_code: directory.get(code)?.parent ?? null, state: 'active' });
  }
  if (rows.length > 0) await db.insertInto('agencies').values(rows).execute();
  return rows.length;
}
