// The payload store: packet bytes by content hash, behind one small interface. On Postgres they go
// to the `payloads` table (bytea, storage EXTERNAL); on the embedded default to a content-addressed
// folder, because PGlite runs inside the event loop and wrote 1 MB values at only 4/s (DESIGN,
// Storage). Either way the bytes are durable before the COMMIT that admits a packet referencing
// them: the folder store's `put` fsyncs them first; the table store's bytes are written by the
// admitting statement itself (admit-packet.ts), so they commit with the packet — one commit per
// packet instead of two.
//
// A large packet (a 50 MB attachment is 67 MB of base64) never crosses the Postgres connection as one
// value: pg copies a parameter into its Bind message and reads a bytea back as hex text into a
// doubling buffer, so one 67 MB payload cost 134 MB to write and about 700 MB to read back
// (test/e2e/memory.test.ts). Above IN_STATEMENT_MAX_BYTES it is written by `put`, in PIECE_BYTES
// pieces through a large object assembled by the server, and it is always read back in pieces.
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
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { EdxError } from '../errors.ts';
import type { Database } from './database.ts';

/** Where packet bytes live; a reference is the lowercase hex sha256 of the bytes. */
export interface PayloadStore {
  /**
   * `fs` (a folder) or `postgres` (the `payloads` table of the gateway database: admission then
   * writes the bytes in its own statement instead of calling `put`, up to IN_STATEMENT_MAX_BYTES).
   */
  readonly kind: 'fs' | 'postgres';
  /** Stores the bytes durably and returns their reference; storing the same bytes twice is a no-op. */
  put(bytes: Uint8Array): Promise<string>;
  /**
   * Keeps the bytes of `ref` (their sha256, checked by the caller) in memory for the reads that
   * follow soon, within a byte budget; optional, and never a substitute for storing them. It may be
   * called before they are durable (admission does, so a delivery claimed at the COMMIT finds them):
   * `get` and `stream` are only asked for references a committed row names, and `has` answers from
   * storage alone.
   */
  remember?(ref: string, bytes: Uint8Array): void;
  /** The bytes of a reference, checked against it; EDX_ERR_PAYLOAD_NOT_FOUND / _CORRUPT otherwise. */
  get(ref: string): Promise<Buffer>;
  /** The bytes as a stream (not re-hashed), for sending a large packet without a second copy. */
  stream(ref: string): Promise<Readable>;
  /** True when the reference is stored (durably: the memory cache does not count). */
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

/**
 * Largest payload the admitting statement writes itself on Postgres (see writesInStatement); a
 * larger one is written by `put` first, like the folder store's, and the admitting statement only
 * references it. A crash between the two leaves an unreferenced payload, harmless (content addressed).
 */
export const IN_STATEMENT_MAX_BYTES = 8 * 1024 * 1024;

/** Whether admission writes `byteLength` bytes in its own statement (true) or calls `put` before it. */
export function writesInStatement(store: PayloadStore, byteLength: number): boolean {
  return store.kind === 'postgres' && byteLength <= IN_STATEMENT_MAX_BYTES;
}

/** Piece size of the Postgres store's large reads and writes: what crosses the connection at a time. */
const PIECE_BYTES = 1024 * 1024;

/** Default memory budget of `remember`: about 1.5 s of 100 KB packets at 200/s. */
export const DEFAULT_PAYLOAD_CACHE_BYTES = 32 * 1024 * 1024;

/** Options of the payload stores. */
export interface PayloadStoreOptions {
  /** Bytes kept by `remember` (0 disables it); a packet larger than a quarter of it is not kept. */
  readonly cacheBytes?: number | undefined;
}

/** Most payloads held weakly at once (dead references are dropped on every `set`). */
const WEAK_ENTRIES_MAX = 64;

/**
 * Recently remembered payloads, least recently used dropped first, within a byte budget. The
 * buffers are the admitted ones themselves (no copy), so a cached large packet costs no second copy
 * while its request is still being answered.
 *
 * A payload larger than a quarter of the budget is not kept, only referenced weakly: its admitted
 * buffer stays in memory anyway while its request is answered, and the delivery that starts a few
 * milliseconds after the COMMIT usually finds it there instead of reading a second 67 MB copy. A
 * WeakRef keeps it not a moment longer than the request does, so it costs the budget nothing.
 */
class PayloadCache {
  readonly #budget: number;
  readonly #entries = new Map<string, Buffer>();
  readonly #weak = new Map<string, WeakRef<Buffer>>();
  #size = 0;

  constructor(budget: number) {
    this.#budget = budget;
  }

  set(ref: string, bytes: Uint8Array): void {
    if (this.#entries.has(ref)) return;
    if (bytes.byteLength > this.#budget / 4) {
      if (this.#budget > 0) this.#holdWeakly(ref, asBuffer(bytes));
      return;
    }
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
      return bytes;
    }
    return this.#weak.get(ref)?.deref();
  }

  #holdWeakly(ref: string, bytes: Buffer): void {
    for (const [other, weak] of this.#weak) if (weak.deref() === undefined) this.#weak.delete(other);
    this.#weak.delete(ref);
    this.#weak.set(ref, new WeakRef(bytes));
    for (const oldest of this.#weak.keys()) {
      if (this.#weak.size <= WEAK_ENTRIES_MAX) break;
      this.#weak.delete(oldest);
    }
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
      return REF.test(ref) && exists(pathOf(ref));
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
      if (bytes.byteLength > IN_STATEMENT_MAX_BYTES) {
        await putInPieces(db, ref, asBuffer(bytes));
        return ref;
      }
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
      const stored = await readStored(db, ref);
      if (stored.bytes !== undefined) return verified(ref, stored.bytes);
      // Pieces copied into one buffer of the final size: the only full copy the read makes.
      const whole = Buffer.allocUnsafe(stored.size);
      let offset = 0;
      for await (const piece of readPieces(db, ref, stored.size)) offset += piece.copy(whole, offset);
      return verified(ref, whole);
    },
    async stream(ref) {
      checkRef(ref);
      const cached = cache.get(ref);
      if (cached !== undefined) return Readable.from([cached]);
      const stored = await readStored(db, ref);
      return Readable.from(stored.bytes === undefined ? readPieces(db, ref, stored.size) : [stored.bytes]);
    },
    async has(ref) {
      if (!REF.test(ref)) return false;
      return storedInTable(db, ref);
    },
  };
}

async function storedInTable(db: Kysely<Database>, ref: string): Promise<boolean> {
  const row = await db.selectFrom('payloads').select('sha256').where('sha256', '=', ref).executeTakeFirst();
  return row !== undefined;
}

/** The size of a stored payload, and its bytes when it is small enough to come in one piece (one round trip, the common case). */
async function readStored(db: Kysely<Database>, ref: string): Promise<{ readonly size: number; readonly bytes: Buffer | undefined }> {
  const row = await db
    .selectFrom('payloads')
    .select(['size_bytes', sql<Uint8Array | null>`CASE WHEN size_bytes <= ${PIECE_BYTES}::bigint THEN bytes END`.as('bytes')])
    .where('sha256', '=', ref)
    .executeTakeFirst();
  if (row === undefined) throw new EdxError('EDX_ERR_PAYLOAD_NOT_FOUND', `payload ${ref} is not in the payloads table.`);
  return { size: Number(row.size_bytes), bytes: row.bytes === null ? undefined : asBuffer(row.bytes) };
}

/**
 * A stored payload in PIECE_BYTES pieces, one query each. The column's storage is EXTERNAL
 * (uncompressed), so Postgres reads only the TOAST chunks of each piece.
 */
async function* readPieces(db: Kysely<Database>, ref: string, size: number): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < size; offset += PIECE_BYTES) {
    const row = await db
      .selectFrom('payloads')
      .select(sql<Uint8Array>`substring(bytes FROM ${offset + 1}::integer FOR ${PIECE_BYTES}::integer)`.as('piece'))
      .where('sha256', '=', ref)
      .executeTakeFirst();
    if (row === undefined) throw new EdxError('EDX_ERR_PAYLOAD_NOT_FOUND', `payload ${ref} left the payloads table while it was read.`);
    yield asBuffer(row.piece);
  }
}

/**
 * Writes a large payload in PIECE_BYTES pieces: into a large object, which the server then copies
 * into the row and drops, all in one transaction, so only a piece at a time is in a Bind message.
 */
async function putInPieces(db: Kysely<Database>, ref: string, bytes: Buffer): Promise<void> {
  // Storing the same bytes twice is a no-op; a re-posted large packet is not uploaded again.
  if (await storedInTable(db, ref)) return;
  await db.transaction().execute(async (trx) => {
    const created = await sql<{ oid: number }>`SELECT lo_from_bytea(0, ${bytes.subarray(0, PIECE_BYTES)}::bytea) AS oid`.execute(trx);
    const oid = created.rows[0]?.oid;
    if (oid === undefined) throw new Error('lo_from_bytea returned no oid');
    for (let offset = PIECE_BYTES; offset < bytes.byteLength; offset += PIECE_BYTES) {
      await sql`SELECT lo_put(${oid}::oid, ${offset}::bigint, ${bytes.subarray(offset, offset + PIECE_BYTES)}::bytea)`.execute(trx);
    }
    await sql`
      INSERT INTO payloads (sha256, bytes, size_bytes)
      SELECT ${ref}::text, lo_get(${oid}::oid), ${bytes.byteLength}::bigint
      ON CONFLICT (sha256) DO NOTHING`.execute(trx);
    await sql`SELECT lo_unlink(${oid}::oid)`.execute(trx);
  });
}
