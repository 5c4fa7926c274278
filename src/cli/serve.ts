// `edxgate serve`: its help text here, its code in src/main.ts, loaded only when the command runs —
// the server pulls in Fastify, kysely and PGlite, which would add over a second to every other
// command's start (measured: `edxgate validate` of one file 0.2 s without, 1.5 s with).

import type { Command } from './command.ts';

/** One line for `edxgate help`. */
export const SERVE_SUMMARY = 'run the gateway server (HTTP API and delivery workers)';

/** The usage text of `edxgate help serve`. */
export const SERVE_USAGE = `Usage: edxgate serve [--host HOST] [--port PORT]

Starts the gateway: applies pending database migrations, then serves the HTTP API and runs the
delivery workers until SIGTERM or SIGINT, which shut it down gracefully (in-flight requests and
deliveries get up to SHUTDOWN_TIMEOUT_MS).

Without DATABASE_URL the gateway runs on the embedded database in DATA_DIR (default ./data). On an
empty database it seeds the demo directory (Sở LĐTBXH Quảng Nam and its ten units, UBND tỉnh Quảng
Nam, Văn phòng Chính phủ) with one client per agency, and prints each client's token once.

Options:
  --host HOST   address to listen on (overrides HOST; default 127.0.0.1)
  --port PORT   TCP port (overrides PORT; default 8080, 0 picks a free one)

Every other setting comes from the environment or config/*.json; see the README.
`;

/** The serve command, with the server loaded on first use. */
export const serveCommand: Command = {
  summary: SERVE_SUMMARY,
  usage: SERVE_USAGE,
  run: async (args, io) => (await import('../main.ts')).serve(args, io),
};
