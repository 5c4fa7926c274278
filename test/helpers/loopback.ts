// Test HTTP servers (webhook receivers) on loopback, closed when the test ends.

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The part of a tap test this helper needs. */
interface Teardown {
  teardown(fn: () => Promise<void>): void;
}

/** Listens on 127.0.0.1 at a free port, closes the server (cutting kept-alive connections) at teardown, and resolves to its base URL. */
export async function listenOnLoopback(t: Teardown, server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
