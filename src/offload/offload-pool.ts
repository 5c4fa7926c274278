// The offload pool: threads beside the event loop that parse, verify and sign packets
// (packet-work.ts). Each step is posted to the thread with the fewest steps waiting, with a copy of
// the packet bytes, and its result comes back in portable form (portable.ts); the event loop is
// free for requests and deliveries meanwhile.
//
// What stays on the event loop: packets under `minBytes` (for a few kilobytes, waking a thread and
// copying to it and back cost more CPU than the parse: bench small, 5 KB, 3.2 against 2.6 ms of
// gateway CPU per packet), packets over `maxBytes` (a copy of a 67 MB packet in a thread would
// break the memory bound of test/e2e/memory.test.ts — peak RSS at most 2× the packet), and every
// step when the pool has no thread (OFFLOAD_THREADS=0, or threads that could not start). A thread
// that exits while it holds steps (terminated, out of memory) has them run on the event loop, so the
// requests behind them are answered; it is replaced, unless it died before it was ever ready.

import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Result } from '../errors.ts';
import type { SigningKey } from '../trust/types.ts';
import { IN_THREAD } from './packet-work.ts';
import type { DecodeOptions, Decoded, PacketWork } from './packet-work.ts';
import { asBuffer, decodedFromPortable } from './portable.ts';
import type { OffloadReady, OffloadReply, OffloadRequest, OffloadTask } from './protocol.ts';

export interface OffloadOptions {
  /** Threads to start; 0 runs every step on the event loop. */
  readonly threads: number;
  /** Packets smaller than this (bytes) are handled on the event loop: for them the crossing costs more than it saves. */
  readonly minBytes: number;
  /** Packets larger than this (bytes) are handled on the event loop. */
  readonly maxBytes: number;
  readonly logger: Logger;
}

/** How long a thread may take to load its modules (about 250 ms here) before the pool goes on without it. */
const THREAD_START_TIMEOUT_MS = 30_000;

type Answered = Extract<OffloadReply, { ok: true }>;

interface PendingStep {
  readonly settle: (reply: OffloadReply) => void;
  /** Runs the step on the event loop instead (its thread exited before answering). */
  readonly fallback: () => void;
}

interface OffloadThread {
  readonly worker: Worker;
  readonly pending: Map<number, PendingStep>;
  /** The keys this thread has been sent (the pool's numbers). */
  readonly keys: Set<number>;
  ready: boolean;
}

const THREAD_SOURCE = threadSource();

/** Threads that run packet steps; a PacketWork whose steps fall back to the event loop when they must. */
export class OffloadPool implements PacketWork {
  readonly #options: OffloadOptions;
  readonly #threads = new Set<OffloadThread>();
  readonly #keyIds = new WeakMap<SigningKey, number>();
  #nextId = 0;
  #nextKeyId = 0;
  #closed = false;
  readonly #stats = { offloaded: 0, onEventLoop: 0, keysSent: 0 };

  private constructor(options: OffloadOptions) {
    this.#options = options;
  }

  /** Starts the threads and waits until each has loaded (or failed, which is logged: it is then not used). */
  static async start(options: OffloadOptions): Promise<OffloadPool> {
    const pool = new OffloadPool(options);
    await Promise.all(Array.from({ length: options.threads }, () => pool.#spawn()));
    return pool;
  }

  /** Threads that are ready to take steps. */
  get readyThreads(): number {
    let n = 0;
    for (const thread of this.#threads) if (thread.ready) n += 1;
    return n;
  }

  /** Steps sent to a thread and run on the event loop, and signing keys sent to threads, since start. */
  stats(): { readonly offloaded: number; readonly onEventLoop: number; readonly keysSent: number } {
    return { ...this.#stats };
  }

  decode(bytes: Buffer, options: DecodeOptions = {}): Promise<Decoded> {
    return this.#run(
      bytes,
      () => ({ op: 'decode', bytes, options }),
      (reply) => (reply.op === 'decode' ? decodedFromPortable(reply.value, bytes) : mismatched(reply, 'decode')),
      () => IN_THREAD.decode(bytes, options),
    );
  }

  sign(unsignedBytes: Buffer, key: SigningKey): Promise<Result<Buffer>> {
    let keyId = this.#keyIds.get(key);
    if (keyId === undefined) {
      keyId = ++this.#nextKeyId;
      this.#keyIds.set(key, keyId);
    }
    const id = keyId;
    return this.#run(
      unsignedBytes,
      (thread) => {
        const known = thread.keys.has(id);
        thread.keys.add(id);
        if (!known) this.#stats.keysSent += 1;
        return { op: 'sign', bytes: unsignedBytes, keyId: id, key: known ? undefined : { privateKey: key.privateKey, certificates: key.certificates } };
      },
      (reply) => {
        if (reply.op !== 'sign') return mismatched(reply, 'sign');
        const signed = reply.value;
        return signed.ok ? { ok: true, value: asBuffer(signed.value), warnings: signed.warnings } : signed;
      },
      () => IN_THREAD.sign(unsignedBytes, key),
    );
  }

  /** Stops the threads; steps still held by them run on the event loop. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#threads].map((thread) => thread.worker.terminate()));
  }

  #run<T>(bytes: Buffer, task: (thread: OffloadThread) => OffloadTask, fromReply: (reply: Answered) => T, inThread: () => Promise<T>): Promise<T> {
    const { minBytes, maxBytes } = this.#options;
    const thread = bytes.byteLength >= minBytes && bytes.byteLength <= maxBytes ? this.#leastBusy() : undefined;
    if (thread === undefined) {
      this.#stats.onEventLoop += 1;
      return inThread();
    }
    this.#stats.offloaded += 1;
    return new Promise<T>((resolve, reject) => {
      const id = ++this.#nextId;
      thread.pending.set(id, {
        settle: (reply) => {
          if (!reply.ok) {
            reject(new Error(`offload thread: ${reply.error}`));
            return;
          }
          try {
            resolve(fromReply(reply));
          } catch (error) {
            reject(error);
          }
        },
        fallback: () => inThread().then(resolve, reject),
      });
      thread.worker.postMessage({ id, task: task(thread) } satisfies OffloadRequest);
    });
  }

  #leastBusy(): OffloadThread | undefined {
    let best: OffloadThread | undefined;
    for (const thread of this.#threads) {
      if (thread.ready && (best === undefined || thread.pending.size < best.pending.size)) best = thread;
    }
    return best;
  }

  /** Starts one thread; resolves once it is ready, or has failed to start (logged). */
  #spawn(): Promise<void> {
    const { logger } = this.#options;
    const worker = new Worker(THREAD_SOURCE.script, { eval: THREAD_SOURCE.eval, name: 'edxgate-offload' });
    // The threads never keep the process alive; the requests waiting on them do.
    worker.unref();
    const thread: OffloadThread = { worker, pending: new Map(), keys: new Set(), ready: false };
    this.#threads.add(thread);
    return new Promise<void>((started) => {
      const timeout = setTimeout(() => {
        logger.error({ timeoutMs: THREAD_START_TIMEOUT_MS }, 'offload thread did not start in time; packet steps of its share run on the event loop');
        void worker.terminate();
      }, THREAD_START_TIMEOUT_MS);
      timeout.unref();
      worker.on('message', (message: OffloadReply | OffloadReady) => {
        if ('ready' in message) {
          thread.ready = true;
          clearTimeout(timeout);
          started();
          return;
        }
        const step = thread.pending.get(message.id);
        if (step === undefined) return;
        thread.pending.delete(message.id);
        step.settle(message);
      });
      worker.on('error', (error) => {
        if (!this.#closed) logger.error({ err: error }, 'offload thread failed');
        // Before 'exit' is emitted the process may have nothing else keeping it alive (the thread is unref'd).
        if (!thread.ready) started();
      });
      worker.on('exit', (code) => {
        clearTimeout(timeout);
        this.#threads.delete(thread);
        const held = [...thread.pending.values()];
        thread.pending.clear();
        for (const step of held) step.fallback();
        started();
        if (this.#closed) return;
        if (!thread.ready) {
          logger.error({ code }, 'offload thread exited before it was ready; it is not replaced');
          return;
        }
        logger.warn({ code, steps: held.length }, 'offload thread exited; its steps ran on the event loop and a new thread is starting');
        void this.#spawn();
      });
    });
  }
}

function mismatched(reply: Answered, expected: OffloadTask['op']): never {
  throw new Error(`offload thread answered a ${expected} step with a ${reply.op} result`);
}

/**
 * How to start a thread. From the compiled tree it is offload-thread.js itself. From the sources (a
 * checkout) the thread needs the TypeScript loader first: `bin/edxgate.js` registers tsx in-process,
 * which a worker does not inherit, so a two-line bootstrap registers it in the thread, as
 * bin/edxgate.js does, and then imports offload-thread.ts.
 */
function threadSource(): { readonly script: string | URL; readonly eval: boolean } {
  if (!import.meta.url.endsWith('.ts')) return { script: new URL('./offload-thread.js', import.meta.url), eval: false };
  const thread = new URL('./offload-thread.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  return { script: `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(thread)}); });`, eval: true };
}
