// POSTs packets the way an office system does (POST /v1/packets, raw edXML, bearer token), over an
// undici pool wide enough that the open-loop generator never waits for a free connection: with
// 256 connections a stalled server shows as latency, not as a client queue hiding it.

import { Pool } from 'undici';

/** Connections per pool: far more than any rate here keeps in flight on a healthy server. */
const CONNECTIONS = 256;

/** A client of one server. */
export interface PacketClient {
  /** Posts `body`; resolves with the status once the answer is read, or 'error'. */
  post(body: Buffer): Promise<number | 'error'>;
  close(): Promise<void>;
}

/** A client of the server at `origin`; `token` goes in the Authorization header when given. */
export function packetClient(origin: string, token?: string): PacketClient {
  const pool = new Pool(origin, { connections: CONNECTIONS });
  const headers: Record<string, string> = { 'content-type': 'application/xml' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  return {
    async post(body) {
      try {
        const response = await pool.request({ path: '/v1/packets', method: 'POST', headers, body });
        await response.body.dump();
        return response.statusCode;
      } catch {
        return 'error';
      }
    },
    close: () => pool.close(),
  };
}
