// The messages between the offload pool and its threads.

import type { KeyObject } from 'node:crypto';
import type { DecodeOptions } from './packet-work.ts';
import type { Result } from '../errors.ts';
import type { PortableDecoded } from './portable.ts';

/** One step for a thread; `bytes` is a copy of the packet bytes (a Buffer arrives as a Uint8Array). */
export type OffloadTask =
  | { readonly op: 'decode'; readonly bytes: Uint8Array; readonly options: DecodeOptions }
  | {
      readonly op: 'sign';
      readonly bytes: Uint8Array;
      /** The pool's number for the key; the key itself only the first time this thread needs it. */
      readonly keyId: number;
      readonly key?: { readonly privateKey: KeyObject; readonly certificates: readonly Uint8Array[] } | undefined;
    };

export interface OffloadRequest {
  readonly id: number;
  readonly task: OffloadTask;
}

/** A step's result, or the error it threw (a bug: the steps return refusals as values). */
export type OffloadReply =
  | { readonly id: number; readonly ok: true; readonly op: 'decode'; readonly value: PortableDecoded }
  | { readonly id: number; readonly ok: true; readonly op: 'sign'; readonly value: Result<Uint8Array> }
  | { readonly id: number; readonly ok: false; readonly error: string };

/** The first message of a thread whose modules loaded. */
export interface OffloadReady {
  readonly ready: true;
}
