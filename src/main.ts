// The process entry of the gateway server (`edxgate serve`, `npm start`): loads the config, builds
// the app (opening the store and applying migrations), seeds the demo data on an empty database,
// listens on HOST/PORT, and shuts down gracefully on SIGTERM/SIGINT. app.ts builds; this only starts.

import { mkdir, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildApp } from './app.ts';
import type { EdxApp } from './app.ts';
import { EXIT_INVALID, EXIT_OK, formatIssue } from './cli/command.ts';
import type { CliIo } from './cli/command.ts';
import { loadConfig } from './config/load.ts';
import { EdxError } from './errors.ts';
import { seedDemoIfEmpty } from './gateway/demo-seed.ts';
export { SERVE_SUMMARY, SERVE_USAGE } from './cli/serve.ts';
import type { SeededClient } from './gateway/demo-seed.ts';


/** How `serve` runs; the defaults are those of a real process. */
export interface ServeOptions {
  /** Environment variables; default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Resolves when the server should shut down; default: the first SIGTERM or SIGINT. */
  readonly shutdownSignal?: Promise<unknown>;
  /** Called once the server listens, with its base URL (tests use it). */
  readonly onListening?: (url: string, app: EdxApp) => void;
}

const DEFAULT_IO: CliIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  cwd: process.cwd(),
};

/** `edxgate serve`: runs the gateway until a shutdown signal; resolves to the exit code. */
export async function serve(args: readonly string[], io: CliIo = DEFAULT_IO, options: ServeOptions = {}): Promise<number> {
  const { values } = parseArgs({ args: [...args], options: { host: { type: 'string' }, port: { type: 'string' } }, allowPositionals: false, strict: true });
  const overrides: { server?: { host?: string; port?: number } } = {};
  if (values.host !== undefined || values.port !== undefined) {
    const port = values.port === undefined ? undefined : Number(values.port);
    overrides.server = {
      ...(values.host === undefined ? {} : { host: values.host }),
      // A non-integer goes through as NaN, and the config check names it.
      ...(port === undefined ? {} : { port }),
    };
  }
  const loaded = loadConfig({ env: options.env ?? process.env, cwd: io.cwd, overrides });
  if (!loaded.ok) {
    for (const i of loaded.issues) io.stderr(`edxgate: ${formatIssue(i)}\n`);
    return EXIT_INVALID;
  }
  const config = loaded.value;

  let app: EdxApp;
  try {
    app = await buildApp(config);
  } catch (error) {
    if (error instanceof EdxError) {
      io.stderr(`edxgate: ${error.code} ${error.message}\n`);
      return EXIT_INVALID;
    }
    throw error;
  }
  const log = app.gateway.logger;

  try {
    // A production deployment turns it off: the demo clients' tokens would be printed to its logs.
    const seeded = config.demo.seed ? await seedDemoIfEmpty(app.gateway.store.db) : undefined;
    if (seeded !== undefined) await app.gateway.directory.reload();
    await app.listen({ host: config.server.host, port: config.server.port });
    const url = baseUrl(app, config.server.host);
    if (seeded !== undefined) {
      const envFile = await writeDemoClientsFile(seeded, config.store.dataDir, io.cwd);
      io.stdout(demoBanner(seeded, url, envFile));
    }
    io.stdout(`edxgate: listening on ${url} (${app.gateway.store.dialect === 'pglite' ? `embedded database in ${config.store.dataDir}` : 'Postgres'})\n`);
    options.onListening?.(url, app);
  } catch (error) {
    await app.close().catch(() => undefined);
    if (error instanceof EdxError) {
      io.stderr(`edxgate: ${error.code} ${error.message}\n`);
      return EXIT_INVALID;
    }
    const refusal = listenRefusal(error, config.server.host, config.server.port);
    if (refusal !== undefined) {
      io.stderr(`edxgate: EDX_ERR_CONFIG_INVALID ${refusal}\n`);
      return EXIT_INVALID;
    }
    throw error;
  }

  const reason = await (options.shutdownSignal ?? firstSignal());
  log.info({ reason: String(reason) }, 'shutting down');
  // In-flight requests get the shutdown timeout; then their connections are cut so close() can end
  // (deliveries in flight have their own bound in Gateway.close).
  const timer = setTimeout(() => {
    log.warn('shutdown timeout: closing the connections of requests still in flight');
    app.server.closeAllConnections();
  }, config.server.shutdownTimeoutMs);
  timer.unref();
  try {
    await app.close();
  } finally {
    clearTimeout(timer);
  }
  return EXIT_OK;
}

/**
 * What to tell the operator when the server cannot listen on HOST/PORT: a setting to change, not a
 * stack trace (it is the first thing a second `npm start` beside a running gateway meets).
 */
function listenRefusal(error: unknown, host: string, port: number): string | undefined {
  const code = error instanceof Error && 'code' in error ? error.code : undefined;
  const where = `${host}:${port}`;
  switch (code) {
    case 'EADDRINUSE':
      return `PORT: ${where} is already in use by another process (another gateway?); stop it, or choose another PORT (or --port).`;
    case 'EACCES':
      return `PORT: this user may not listen on ${where} (ports below 1024 need privileges); choose a PORT of 1024 or above.`;
    case 'EADDRNOTAVAIL':
      return `HOST: ${host} is not an address of this machine; use one of its addresses, 127.0.0.1, or 0.0.0.0 for all of them.`;
    default:
      return undefined;
  }
}

/** The first SIGTERM or SIGINT; a second one exits at once (an operator who insists). */
function firstSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      process.once('SIGTERM', () => process.exit(143));
      process.once('SIGINT', () => process.exit(130));
      resolve(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

function baseUrl(app: EdxApp, host: string): string {
  const address = app.server.address() as AddressInfo | string | null;
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  // A wildcard address is not one to connect to; loopback is, from the same machine.
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${port}`;
}

/** The shell variable holding a demo agency's token, e.g. EDX_TOKEN_000_00_15_H47. */
export function demoTokenVariable(agency: string): string {
  return `EDX_TOKEN_${agency.replace(/[^0-9A-Za-z]/g, '_')}`;
}

/**
 * Writes the demo tokens as a shell file in the data folder (owner-only), so the README's quick
 * start can `source` it and work exactly as written; returns its path relative to the working
 * directory. Only demo clients of a fresh database land there, never tokens made later.
 */
async function writeDemoClientsFile(seeded: readonly SeededClient[], dataDir: string, cwd: string): Promise<string> {
  const folder = resolve(cwd, dataDir);
  await mkdir(folder, { recursive: true });
  const path = join(folder, 'demo-clients.env');
  const lines = seeded.map((c) => `export ${demoTokenVariable(c.agency)}=${c.token}    # ${c.agencyName}`);
  await writeFile(path, `# edxgate demo client tokens (created with the demo directory; delete after trying)\n${lines.join('\n')}\n`, { mode: 0o600 });
  return relative(cwd, path) || path;
}

/** The demo clients' tokens and a quick start that works as printed (README, Quick start). */
export function demoBanner(seeded: readonly SeededClient[], url: string, envFile?: string): string {
  const width = Math.max(...seeded.map((c) => c.agency.length));
  const rows = seeded.map((c) => `  ${c.agency.padEnd(width)}  ${c.token}  ${c.agencyName}`);
  const token = (agency: string): string => seeded.find((c) => c.agency === agency)?.token ?? 'TOKEN';
  return `
edxgate: the database was empty, so the demo directory and one client per agency were created.
Client tokens (printed this once; only their hashes are stored${envFile === undefined ? '' : `; also in ${envFile} for the quick start`}):
${rows.join('\n')}

Quick start, from the repository root in another terminal:
  export SO=${token('000.00.15.H47')}    # 000.00.15.H47 Sở LĐTBXH Quảng Nam (sender)
  export VP=${token('000.01.15.H47')}    # 000.01.15.H47 Văn phòng Sở (a recipient)
  # 1. the Sở posts a notice to its ten units
  curl -sS -X POST ${url}/v1/packets -H "Authorization: Bearer $SO" -H 'Content-Type: application/xml' --data-binary @fixtures/packets/valid/new-notice-to-10-units.edxml
  # 2. Văn phòng Sở lists its inbox (note packetId and deliveryId)
  curl -sS "${url}/v1/inbox" -H "Authorization: Bearer $VP"
  # 3. it fetches the packet
  curl -sS ${url}/v1/packets/PACKET_ID/edxml -H "Authorization: Bearer $VP"
  # 4. and acknowledges it
  curl -sS -X POST ${url}/v1/inbox/DELIVERY_ID/ack -H "Authorization: Bearer $VP"

`;
}
