// The payload store: packet bytes by content hash, behind one small interface. On Postgres they go
// to the `payloads` table (bytea, storage EXTERNAL); on the embedded default to a content-addressed
// folder, because PGlite runs inside the event loop and wrote 1 MB values at only 4/s (DESIGN,
// Storage). Either way the bytes are durable before the COMMIT that admits a packet referencing
// them: the folder store's `put` fsyncs them first; the table store's bytes are written by the
// admitting statement itself (admit-packet.ts), so they commit with the packet — one commit per
// packet instead of two.
//
// Both stores keep the bytes of recently admitted packets in memory (`remember`, bounded by bytes),
// because the delivery that follows an admission usually runs on the same node a few milliseconds
// later: reading 100 KB back from Postgres costs a round trip, a hex-encoded bytea (200 KB of text to
// decode) and a re-hash — 0.3–0.5 ms of gateway CPU per packet in bench/gateway.ts, and at 200/s the
// difference between keeping up and falling behind (docs/benchmarks.md). Content
// addressing makes the copy safe: a reference names its bytes forever.

import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import { EdxError } from '../errors.ts';
import type { Database } from './database.ts';

/** Where packet bytes live; a reference is the lowercase hex sha256 of the bytes. */
export interface PayloadStore {
  /**
   * `fs` (a folder) or `postgres` (the `payloads` table of the gateway database: admission then
   * writes the bytes in its own statement instead of calling `put`).
   */
  readonly kind: 'fs' | 'postgres';
  /** Stores the bytes durably and returns their reference; storing the same bytes twice is a no-op. */
  put(bytes: Uint8Array): Promise<string>;
  /**
   * Keeps bytes that are already durable under `ref` (checked by the caller) in memory for the reads
   * that follow soon, within a byte budget; optional, and never a substitute for storing them.
   */
  remember?(ref: string, bytes: Uint8Array): void;
  /** The bytes of a reference, checked against it; EDX_ERR_PAYLOAD_NOT_FOUND / _CORRUPT otherwise. */
  get(ref: string): Promise<Buffer>;
  /** The bytes as a stream (not re-hashed), for sending a large packet without a second copy. */
  stream(ref: string): Promise<Readable>;
  /** True when the reference is stored. */
  has(ref: string): Promise<boolean>;
}

const REF = /^[0-9a-f]{64}$/;

/** The reference (sha256, lowercase hex) of some bytes. */
export function payloadRef(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function checkRef(ref: string): void {
  // Also what keeps a reference from naming a path outside the payload folder.
  if (!REF.test(ref)) throw new EdxError('EDX_ERR_PAYLOAD_NOT_FOUND', `"${ref.slice(0, 80)}" is not a payload reference (64 lowercase hex digits).`);
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function verified(ref: string, bytes: Buffer): Buffer {
  if (payloadRef(bytes) !== ref) throw new EdxError('EDX_ERR_PAYLOAD_CORRUPT', `payload ${ref} hashes to another value.`);
  return bytes;
}

/** Default memory budget of `remember`: about 1.5 s of 100 KB packets at 200/s. */
export const DEFAULT_PAYLOAD_CACHE_BYTES = 32 * 1024 * 1024;

/** Options of the payload stores. */
export interface PayloadStoreOptions {
  /** Bytes kept by `remember` (0 disables it); a packet larger than a quarter of it is not kept. */
  readonly cacheBytes?: number | undefined;
}

/**
 * Recently remembered payloads, least recently used dropped first, within a byte budget. The
 * buffers are the admitted ones themselves (no copy), so a cached large packet costs no second copy
 * while its request is still being answered.
 */
class PayloadCache {
  readonly #budget: number;
  readonly #entries = new Map<string, Buffer>();
  #size = 0;

  constructor(budget: number) {
    this.#budget = budget;
  }

  set(ref: string, bytes: Uint8Array): void {
    if (bytes.byteLength > this.#budget / 4 || this.#entries.has(ref)) return;
    // A small body is often a slice of Node's shared 8 KB pool: keeping the view would keep the whole
    // slab, beyond the budget's count. Such views are copied (cheap at that size); others are kept as is.
    const kept = bytes.buffer.byteLength > 2 * bytes.byteLength ? Buffer.from(bytes) : asBuffer(bytes);
    this.#entries.set(ref, kept);
    this.#size += bytes.byteLength;
    for (const [oldest, buffer] of this.#entries) {
      if (this.#size <= this.#budget) break;
      this.#entries.delete(oldest);
      this.#size -= buffer.byteLength;
    }
  }

  get(ref: string): Buffer | undefined {
    const bytes = this.#entries.get(ref);
    if (bytes !== undefined) {
      // Most recently used goes last.
      this.#entries.delete(ref);
      this.#entries.set(ref, bytes);
    }
    return bytes;
  }
}

function isNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === 'ENOENT';
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The folder store: `${root}/ab/cd/<sha256>`, written to a temp file, fsynced, renamed, dir fsynced. */
export function createFsPayloadStore(root: string, options: PayloadStoreOptions = {}): PayloadStore {
  const pathOf = (ref: string): string => join(root, ref.slice(0, 2), ref.slice(2, 4), ref);
  const cache = new PayloadCache(options.cacheBytes ?? DEFAULT_PAYLOAD_CACHE_BYTES);

  return {
    kind: 'fs',
    async put(bytes) {
      const ref = payloadRef(bytes);
      const target = pathOf(ref);
      const dir = dirname(target);
      // Content-addressed: a file that is there holds these bytes (it was renamed in complete). Its
      // directory is fsynced again: a concurrent put of the same bytes may not have done it yet.
      if (await exists(target)) {
        await fsyncPath(dir);
        return ref;
      }
      const created = await mkdir(dir, { recursive: true });
      const temp = join(dir, `.tmp-${randomUUID()}`);
      try {
        const handle = await open(temp, 'wx');
        try {
          await handle.writeFile(bytes);
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(temp, target);
      } catch (error) {
        await rm(temp, { force: true });
        throw error;
      }
      // The rename is durable only once its directory is, and a new directory only once its parent is.
      await fsyncPath(dir);
      if (created !== undefined) {
        for (let d = dir; d !== dirname(created) && d !== dirname(d); ) {
          d = dirname(d);
          await fsyncPath(d);
        }
      }
      return ref;
    },
    remember(ref, bytes) {
      cache.set(ref, bytes);
    },
    async get(ref) {
      checkRef(ref);
      const cached = cache.get(ref);
      if (cached !== undefined) return cached;
      try {
        return verified(ref, await readFile(pathOf(ref)));
      } catch (error) {
        if (isNotFound(error)) throw new EdxError('EDX_ERR_PAYLOAD_NOT_FOUND', `payload ${ref} is not in ${root}.`);
        throw error;
      }
    },
    async stream(ref) {
      checkRef(ref);
      const cached = cache.get(ref);
      if (cached !== undefined) return Readable.from([cached]);
      const path = pathOf(ref);
      if (!(await exists(path))) throw new EdxError('EDX_ERR_PAYLOAD_NOT_FOUND', `payload ${ref} is not in ${root}.`);
      return createReadStream(path);
    },
    async has(ref) {
      return REF.test(ref) && (cache.get(ref) !== undefined || exists(pathOf(ref)));
    },
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/** The table store: one row per hash in `payloads`; a committed INSERT is durable. */
export function createDbPayloadStore(db: Kysely<Database>, options: PayloadStoreOptions = {}): PayloadStore {
  const cache = new PayloadCache(options.cacheBytes ?? DEFAULT_PAYLOAD_CACHE_BYTES);
  return {
    kind: 'postgres',
    async put(bytes) {
      const ref = payloadRef(bytes);
      await db
        .insertInto('payloads')
        .values({ sha256: ref, bytes: asBuffer(bytes), size_bytes: bytes.byteLength })
        .onConflict((oc) => oc.column('sha256').doNothing())
        .execute();
      return ref;
    },
    remember(ref, bytes) {
      cache.set(ref, bytes);
    },
    async get(ref) {
      checkRef(ref);
      const cached = cache.get(ref);
      if (cached !== undefined) return cached;
      const row = await db.selectFrom('payloads').select('bytes').where('sha256', '=', ref).executeTakeFirst();
      if (row === undefined) throw new EdxError('EDX_ERR_PAYLOAD_NOT_FOUND', `payload ${ref} is not in the payloads table.`);
      return verified(ref, asBuffer(row.bytes));
    },
    async stream(ref) {
      // pg returns a bytea whole; the stream only spares callers a second code path.
      return Readable.from([await this.get(ref)]);
    },
    async has(ref) {
      if (!REF.test(ref)) return false;
      if (cache.get(ref) !== undefined) return true;
      const row = await db.selectFrom('payloads').select('sha256').where('sha256', '=', ref).executeTakeFirst();
      return row !== undefined;
    },
  };
}
