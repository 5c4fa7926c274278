// A test client that speaks to an axis endpoint byte for byte as the national axis SDK does
// (spec/axis-wire.md): raw HTTP/1.1 over one kept-alive TCP connection, the SDK's header order,
// the signed JSON in Java HashMap iteration order (computed, not alphabetical), one timestamp for
// the client's whole life (SDK 2.0.0), empty bodies declared as JSON, `{}` with
// `Expect: 100-continue` for getEdoc and updateStatus, and sendEdoc's raw file followed by a CRLF
// with the unpadded hex of its SHA-256 as hash-file. Written over a socket rather than an HTTP
// library so that nothing normalises the bytes on the way.

import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { axisHmac, buildAxisHeaders, hashFileOf, sdkSignedKeyOrder, sdkTimestamp, sendBodyOf } from '../../src/axis/wire.ts';
import type { AxisOperation } from '../../src/axis/wire.ts';

/** The fields every axis reply has, and the payloads of the operations. */
export interface AxisJson {
  readonly status: string;
  readonly ErrorCode: string;
  readonly ErrorDesc: string;
  readonly DocId?: string;
  readonly data?: unknown;
}

/** One response as received. */
export interface SdkResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  readonly json: AxisJson;
  /** Whether the server answered `100 Continue` before the body was sent. */
  readonly continued: boolean;
  /** The request bytes exactly as written (headers and body). */
  readonly requestBytes: Buffer;
}

/** One request to build: what the SDK would put in it. */
export interface SdkRequest {
  readonly operation: AxisOperation;
  /** The call's JSON header keys, in the order the SDK copies them. */
  readonly params: readonly (readonly [string, string])[];
  readonly contentType: string;
  readonly body: Buffer;
  readonly expectContinue?: boolean;
  /** Changes the header list after signing (tampering tests). */
  readonly mutate?: (headers: [string, string][]) => [string, string][];
  /** Sign with this string instead of the SDK's JSON (tests of what the server must not assume). */
  readonly signHeaderOverride?: (signHeader: string) => string;
}

// The HashMap order lives in src/axis/wire.ts (the axis client adapter sends it too); re-exported for the tests.
export { javaHashMapOrder, javaStringHash } from '../../src/axis/wire.ts';

/** Options of an SdkClient. */
export interface SdkClientOptions {
  /** Base URL of the axis endpoint, e.g. http://127.0.0.1:8080/axis (the SDK's service.endpoint). */
  readonly endpoint: string;
  readonly systemid: string;
  readonly secret: string;
  /** The timestamp of every request (SDK 2.0.0 fixes it when the service object is made). */
  readonly timestamp?: string;
}

/** An SDK-like client on one kept-alive connection. */
export class SdkClient {
  readonly #url: URL;
  readonly #systemid: string;
  readonly #secret: string;
  readonly timestamp: string;
  #socket: Socket | undefined;
  #buffer = Buffer.alloc(0);
  #waiter: (() => void) | undefined;
  #ended = false;

  constructor(options: SdkClientOptions) {
    this.#url = new URL(options.endpoint);
    this.#systemid = options.systemid;
    this.#secret = options.secret;
    this.timestamp = options.timestamp ?? sdkTimestamp(new Date());
  }

  /** getAgenciesList("{}"): no key of its own; empty body declared as JSON. */
  getAgenciesList(): Promise<SdkResponse> {
    return this.request({ operation: 'getAgenciesList', params: [], contentType: 'application/json', body: Buffer.alloc(0) });
  }

  /** sendEdoc({from, servicetype, messagetype}, file): the raw file and a CRLF, hash-file unpadded. */
  sendEdoc(file: Buffer, header: { readonly from: string; readonly messagetype: 'edoc' | 'status' }, overrides: Partial<Pick<SdkRequest, 'mutate' | 'body'>> & { readonly hashFile?: string } = {}): Promise<SdkResponse> {
    return this.request({
      operation: 'sendEdoc',
      params: [
        ['from', header.from],
        ['servicetype', 'eDoc'],
        ['messagetype', header.messagetype],
        ['hash-file', overrides.hashFile ?? hashFileOf(file, 'unpadded')],
      ],
      contentType: 'application/octet-stream',
      body: overrides.body ?? sendBodyOf(file),
      ...(overrides.mutate === undefined ? {} : { mutate: overrides.mutate }),
    });
  }

  /** getReceivedEdocList({servicetype, messagetype}). */
  getReceivedEdocList(messagetype: 'edoc' | 'status'): Promise<SdkResponse> {
    return this.request({
      operation: 'getReceivedEdocList',
      params: [
        ['servicetype', 'eDoc'],
        ['messagetype', messagetype],
      ],
      contentType: 'application/json',
      body: Buffer.alloc(0),
    });
  }

  /** getSentEdocList({servicetype, messagetype[, docId]}). */
  getSentEdocList(messagetype: 'edoc' | 'status', docId?: string): Promise<SdkResponse> {
    return this.request({
      operation: 'getSentEdocList',
      params: [['servicetype', 'eDoc'], ['messagetype', messagetype], ...(docId === undefined ? [] : [['docId', docId] as const])],
      contentType: 'application/json',
      body: Buffer.alloc(0),
    });
  }

  /** getEdoc({filePath, docId}): `{}` with Expect: 100-continue. */
  getEdoc(docId: string, filePath = 'xml'): Promise<SdkResponse> {
    return this.request({
      operation: 'getEdoc',
      params: [
        ['filePath', filePath],
        ['docId', docId],
      ],
      contentType: 'application/json',
      body: Buffer.from('{}'),
      expectContinue: true,
    });
  }

  /** updateStatus({status, docId}) — `docid` as Bkav spells it when asked. */
  updateStatus(docId: string, status: string, docIdKey: 'docId' | 'docid' = 'docId'): Promise<SdkResponse> {
    return this.request({
      operation: 'updateStatus',
      params: [
        ['status', status],
        [docIdKey, docId],
      ],
      contentType: 'application/json',
      body: Buffer.from('{}'),
      expectContinue: true,
    });
  }

  /** Builds, sends and reads one request. */
  async request(req: SdkRequest): Promise<SdkResponse> {
    // The same order the axis client adapter signs in (one implementation, in src/axis/wire.ts).
    const order = sdkSignedKeyOrder(req.params);
    const built = buildAxisHeaders({ systemid: this.#systemid, secret: this.#secret, timestamp: this.timestamp, contentType: req.contentType, params: req.params, order });
    let headers: [string, string][] = built.headers.map(([n, v]) => [n, v]);
    if (req.signHeaderOverride !== undefined) {
      const signHeader = req.signHeaderOverride(built.signHeader);
      headers = headers.map(([n, v]): [string, string] => (n === 'XroadVnpt-sign-header' ? [n, signHeader] : n === 'XroadVnpt-hash-header' ? [n, axisHmac(this.#secret, signHeader)] : [n, v]));
    }
    if (req.mutate !== undefined) headers = req.mutate(headers);
    // What Apache HttpClient adds after the SDK's own headers.
    headers.push(['Content-Length', String(req.body.byteLength)], ['Host', this.#url.host], ['Connection', 'Keep-Alive']);
    if (req.expectContinue) headers.push(['Expect', '100-continue']);
    const path = `${this.#url.pathname.replace(/\/$/, '')}/${req.operation}`;
    const head = Buffer.from(`POST ${path} HTTP/1.1\r\n${headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`, 'latin1');

    const socket = await this.#connection();
    let continued = false;
    socket.write(head);
    let response: RawResponse | undefined;
    if (req.expectContinue) {
      // As Apache HttpClient: wait for 100 Continue (or a final answer) before the body, at most 3 s.
      const interim = await this.#readResponse(3000);
      if (interim !== undefined && interim.statusCode === 100) continued = true;
      else response = interim;
    }
    if (response === undefined) {
      socket.write(req.body);
      response = await this.#readResponse(30_000);
      while (response !== undefined && response.statusCode === 100) response = await this.#readResponse(30_000);
    }
    if (response === undefined) throw new Error(`no response to ${req.operation}`);
    const json = JSON.parse(response.body.toString('utf8')) as AxisJson;
    return { ...response, json, continued, requestBytes: Buffer.concat([head, req.body]) };
  }

  /** Closes the connection. */
  close(): void {
    this.#socket?.destroy();
    this.#socket = undefined;
  }

  async #connection(): Promise<Socket> {
    if (this.#socket !== undefined && !this.#ended) return this.#socket;
    this.#buffer = Buffer.alloc(0);
    this.#ended = false;
    const socket = connect({ host: this.#url.hostname, port: Number(this.#url.port) });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#wake();
    });
    socket.on('close', () => {
      this.#ended = true;
      this.#wake();
    });
    socket.on('error', () => undefined);
    this.#socket = socket;
    return socket;
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  }

  /** Waits for more bytes; false on timeout or end of the connection. */
  async #more(deadline: number): Promise<boolean> {
    if (this.#ended) return false;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        resolve(false);
      }, left);
      this.#waiter = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }

  /** Reads one response (an interim 1xx one included) off the buffer; undefined on timeout. */
  async #readResponse(timeoutMs: number): Promise<RawResponse | undefined> {
    const deadline = Date.now() + timeoutMs;
    let end = this.#buffer.indexOf('\r\n\r\n');
    while (end < 0) {
      if (!(await this.#more(deadline))) return undefined;
      end = this.#buffer.indexOf('\r\n\r\n');
    }
    const [statusLine = '', ...lines] = this.#buffer.subarray(0, end).toString('latin1').split('\r\n');
    const statusCode = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 'NaN');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    this.#buffer = this.#buffer.subarray(end + 4);
    if (statusCode >= 100 && statusCode < 200) return { statusCode, headers, body: Buffer.alloc(0) };
    if (headers['transfer-encoding']?.toLowerCase() === 'chunked') return { statusCode, headers, body: await this.#chunked(deadline) };
    const length = Number(headers['content-length'] ?? '0');
    while (this.#buffer.byteLength < length) if (!(await this.#more(deadline))) return undefined;
    const body = this.#buffer.subarray(0, length);
    this.#buffer = this.#buffer.subarray(length);
    if (headers['connection']?.toLowerCase() === 'close') this.close();
    return { statusCode, headers, body };
  }

  async #chunked(deadline: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (;;) {
      let lineEnd = this.#buffer.indexOf('\r\n');
      while (lineEnd < 0) {
        if (!(await this.#more(deadline))) throw new Error('chunked body cut short');
        lineEnd = this.#buffer.indexOf('\r\n');
      }
      const size = parseInt(this.#buffer.subarray(0, lineEnd).toString('latin1'), 16);
      while (this.#buffer.byteLength < lineEnd + 2 + size + 2) if (!(await this.#more(deadline))) throw new Error('chunked body cut short');
      parts.push(this.#buffer.subarray(lineEnd + 2, lineEnd + 2 + size));
      this.#buffer = this.#buffer.subarray(lineEnd + 2 + size + 2);
      if (size === 0) return Buffer.concat(parts);
    }
  }
}

interface RawResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}
