// The client side of the national axis SDK's wire (spec/axis-wire.md): the requests an office system
// built on the SDK makes — sendEdoc, getReceivedEdocList, getEdoc, updateStatus, getAgenciesList —
// sent exactly as the SDK sends them, so that edxgate can sit behind the real national axis, or
// behind another edxgate, as any connected system does. Header conventions come from src/axis/wire.ts
// (shared with the axis-compatible API, which verifies them).
//
// What "exactly" covers: the SDK's headers in its order (the XroadVnpt-* set, Content-Type plain and
// prefixed, sign-header-key, sign-header, hash-header, version, User-Agent, then Content-Length,
// Host, Connection: Keep-Alive as Apache HttpClient adds them), the signed JSON in Java HashMap key
// order, one call key order per operation, the empty body declared as JSON for the lists, `{}` with
// `Expect: 100-continue` for getEdoc and updateStatus, sendEdoc's raw file followed by a CRLF with
// the unpadded hex of its SHA-256 as hash-file.
//
// node:http rather than undici: undici refuses an `Expect` header on HTTP/1.1 (it supports
// 100-continue for HTTP/2 only), and two of the operations send it.
//
// Every failure is a result, never a throw (only a bug throws); the adapter and the poller decide
// what a failure means.

import http from 'node:http';
import https from 'node:https';
import { SDK_CALL_PARAMS, buildAxisHeaders, hashFileOf, sdkSignedKeyOrder, sdkTimestamp, sendBodyOf } from '../../axis/wire.ts';
import type { MessageType, TransportStatus } from '../../axis/wire.ts';

/** Where and as whom the client calls. */
export interface AxisClientOptions {
  /** The axis endpoint (the SDK's service.endpoint), e.g. https://axis.example.gov.vn/axis; operations are appended. */
  readonly endpoint: string;
  readonly systemid: string;
  /** The HMAC key; never logged. */
  readonly secret: string;
  readonly clock: () => Date;
  /**
   * Largest reply body read, in bytes. A getEdoc reply is the packet in base64 (4/3 of its size)
   * inside JSON; the default takes an 80 MiB packet (the default BODY_LIMIT_BYTES).
   */
  readonly maxReplyBytes?: number | undefined;
}

/** Default largest reply: 4/3 of 80 MiB plus room for the JSON around it. */
const DEFAULT_MAX_REPLY_BYTES = Math.ceil((83_886_080 * 4) / 3) + 1024 * 1024;
/** How long a request with `Expect: 100-continue` waits for `100 Continue` before sending the body anyway (Apache HttpClient's default). */
const CONTINUE_WAIT_MS = 3000;
/** What the SDK passes as getEdoc's filePath: a local folder name the server ignores. */
const SDK_FILE_PATH = 'xml';

/** An axis reply as parsed: the status fields and the rest of the object. */
export interface AxisReply {
  /** `OK` or `FAIL` (any other value is kept as sent). */
  readonly status: string;
  /** `"0"` on success; an EDX_ERR_* code from an edxgate, the axis's own code otherwise. */
  readonly errorCode: string;
  readonly errorDesc: string;
  /** The reply object itself (payload fields: DocId, data…). */
  readonly fields: Readonly<Record<string, unknown>>;
}

/** How a call went wrong before a reply could be read. */
export type AxisCallFailure =
  | { readonly ok: false; readonly failure: 'network'; readonly reason: string }
  | { readonly ok: false; readonly failure: 'timeout'; readonly reason: string }
  /** An answer that is not an axis JSON reply (an HTML error page, a proxy's 502…). */
  | { readonly ok: false; readonly failure: 'malformed'; readonly reason: string; readonly httpStatus: number };

/** One call: the HTTP status and the parsed reply, or why there is none. */
export type AxisCallResult = { readonly ok: true; readonly httpStatus: number; readonly reply: AxisReply } | AxisCallFailure;

/** getEdoc's result: the packet bytes, decoded from the reply's base64. */
export type AxisEdocResult = { readonly ok: true; readonly httpStatus: number; readonly reply: AxisReply; readonly edxml: Buffer | undefined } | AxisCallFailure;

/** One item of getReceivedEdocList, as the SDK's model reads it. */
export interface ReceivedEdoc {
  readonly docId: string;
  readonly messageType: string;
  readonly from: string;
  readonly to: string;
  readonly createdTime: string;
}

/** The request of one call, before it is sent. */
interface CallSpec {
  readonly url: URL;
  readonly params: readonly (readonly [string, string])[];
  readonly contentType: string;
  readonly body: Buffer;
  readonly expectContinue: boolean;
  readonly timeoutMs: number;
}

/** A client of one axis endpoint under one systemid, on kept-alive connections. */
export class AxisClient {
  readonly #endpoint: string;
  readonly #systemid: string;
  readonly #secret: string;
  readonly #clock: () => Date;
  readonly #maxReplyBytes: number;
  readonly #agent: http.Agent;
  readonly #origin: URL;

  /** Throws TypeError when the endpoint is not an absolute http(s) URL (the registry validates first). */
  constructor(options: AxisClientOptions) {
    this.#origin = new URL(options.endpoint);
    if (this.#origin.protocol !== 'http:' && this.#origin.protocol !== 'https:') throw new TypeError('the axis endpoint must be http:// or https://');
    this.#endpoint = options.endpoint.replace(/\/+$/, '');
    this.#systemid = options.systemid;
    this.#secret = options.secret;
    this.#clock = options.clock;
    this.#maxReplyBytes = options.maxReplyBytes ?? DEFAULT_MAX_REPLY_BYTES;
    // The SDK keeps at most 10 connections (client.max-connection ≤ 10, spec §6.1).
    const agentOptions = { keepAlive: true, maxSockets: 10 };
    this.#agent = this.#origin.protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  }

  /**
   * sendEdoc: the raw file and a CRLF, `from`, servicetype eDoc, `messagetype`, unpadded hash-file.
   * `url` sends the same request elsewhere (a peer gateway's callback endpoint) instead of the
   * endpoint's /sendEdoc.
   */
  send(file: Buffer, header: { readonly from: string; readonly messageType: MessageType }, options: { readonly timeoutMs: number; readonly url?: string | undefined }): Promise<AxisCallResult> {
    return this.#call({
      url: new URL(options.url ?? `${this.#endpoint}/sendEdoc`),
      params: SDK_CALL_PARAMS.sendEdoc(header.from, header.messageType, hashFileOf(file, 'unpadded')),
      contentType: 'application/octet-stream',
      body: sendBodyOf(file),
      expectContinue: false,
      timeoutMs: options.timeoutMs,
    });
  }

  /** getReceivedEdocList of one message type; the items the reply lists (malformed ones left out). */
  async receivedList(messageType: MessageType, timeoutMs: number): Promise<(AxisCallResult & { readonly ok: true; readonly items: readonly ReceivedEdoc[] }) | AxisCallFailure> {
    const result = await this.#call({
      url: new URL(`${this.#endpoint}/getReceivedEdocList`),
      params: SDK_CALL_PARAMS.getReceivedEdocList(messageType),
      contentType: 'application/json',
      body: Buffer.alloc(0),
      expectContinue: false,
      timeoutMs,
    });
    if (!result.ok) return result;
    const data = result.reply.fields['data'];
    const items: ReceivedEdoc[] = [];
    if (Array.isArray(data)) {
      for (const raw of data) {
        if (typeof raw !== 'object' || raw === null) continue;
        const r = raw as Record<string, unknown>;
        const docId = stringOf(r['docId']);
        if (docId === '') continue;
        items.push({ docId, messageType: stringOf(r['messageType']), from: stringOf(r['from']), to: stringOf(r['to']), createdTime: stringOf(r['created_time']) });
      }
    }
    return { ...result, items };
  }

  /** getEdoc: `{}` with Expect: 100-continue; the packet decoded from `data` (base64). */
  async getEdoc(docId: string, timeoutMs: number): Promise<AxisEdocResult> {
    const result = await this.#call(
      {
        url: new URL(`${this.#endpoint}/getEdoc`),
        params: SDK_CALL_PARAMS.getEdoc(docId, SDK_FILE_PATH),
        contentType: 'application/json',
        body: Buffer.from('{}'),
        expectContinue: true,
        timeoutMs,
      },
      true,
    );
    if (!result.ok) return result;
    const data = result.reply.fields['data'];
    return { ...result, edxml: data instanceof Buffer ? data : typeof data === 'string' && data !== '' ? Buffer.from(data, 'base64') : undefined };
  }

  /** updateStatus done | fail: `{}` with Expect: 100-continue. */
  updateStatus(docId: string, status: TransportStatus, timeoutMs: number): Promise<AxisCallResult> {
    return this.#call({
      url: new URL(`${this.#endpoint}/updateStatus`),
      params: SDK_CALL_PARAMS.updateStatus(docId, status),
      contentType: 'application/json',
      body: Buffer.from('{}'),
      expectContinue: true,
      timeoutMs,
    });
  }

  /** getAgenciesList: an empty body declared as JSON. */
  agencies(timeoutMs: number): Promise<AxisCallResult> {
    return this.#call({
      url: new URL(`${this.#endpoint}/getAgenciesList`),
      params: SDK_CALL_PARAMS.getAgenciesList(),
      contentType: 'application/json',
      body: Buffer.alloc(0),
      expectContinue: false,
      timeoutMs,
    });
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.#agent.destroy();
  }

  #call(spec: CallSpec, base64Data = false): Promise<AxisCallResult> {
    const built = buildAxisHeaders({
      systemid: this.#systemid,
      secret: this.#secret,
      timestamp: sdkTimestamp(this.#clock()),
      contentType: spec.contentType,
      params: spec.params,
      order: sdkSignedKeyOrder(spec.params),
    });
    const headers: string[] = [];
    for (const [name, value] of built.headers) headers.push(name, value);
    headers.push('Content-Length', String(spec.body.byteLength), 'Host', spec.url.host, 'Connection', 'Keep-Alive');
    if (spec.expectContinue) headers.push('Expect', '100-continue');
    const transport = spec.url.protocol === 'https:' ? https : http;

    return new Promise<AxisCallResult>((resolve) => {
      let settled = false;
      const done = (result: AxisCallResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(continueTimer);
        resolve(result);
      };
      let bodySent = false;
      const sendBody = (): void => {
        if (bodySent) return;
        bodySent = true;
        req.end(spec.body);
      };
      const req = transport.request({
        protocol: spec.url.protocol,
        hostname: spec.url.hostname,
        port: spec.url.port === '' ? undefined : Number(spec.url.port),
        path: `${spec.url.pathname}${spec.url.search}`,
        method: 'POST',
        // A flat list keeps the SDK's order and spelling exactly; Node adds nothing to it.
        headers,
        agent: this.#agent,
      });
      const timer = setTimeout(() => {
        req.destroy();
        done({ ok: false, failure: 'timeout', reason: `no answer within ${spec.timeoutMs} ms` });
      }, spec.timeoutMs);
      let continueTimer: NodeJS.Timeout | undefined;
      req.on('error', (error: NodeJS.ErrnoException) => {
        done({ ok: false, failure: 'network', reason: error.code === undefined ? error.message : `${error.code}: ${error.message}` });
      });
      req.on('response', (res) => {
        if (!bodySent) {
          // A final answer before 100 Continue: the body is never sent, so this connection cannot be reused.
          bodySent = true;
          res.on('end', () => res.socket.destroy());
          req.end();
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.byteLength;
          if (size > this.#maxReplyBytes) {
            req.destroy();
            done({ ok: false, failure: 'malformed', reason: `the reply exceeds ${this.#maxReplyBytes} bytes`, httpStatus: res.statusCode ?? 0 });
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', (error) => done({ ok: false, failure: 'network', reason: error.message }));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const parsed = parseReply(Buffer.concat(chunks, size), base64Data);
          done(parsed === undefined ? { ok: false, failure: 'malformed', reason: `HTTP ${status}: the reply is not an axis JSON object`, httpStatus: status } : { ok: true, httpStatus: status, reply: parsed });
        });
      });
      if (spec.expectContinue) {
        req.on('continue', sendBody);
        req.flushHeaders();
        continueTimer = setTimeout(sendBody, Math.min(CONTINUE_WAIT_MS, spec.timeoutMs));
      } else {
        sendBody();
      }
    });
  }
}

function stringOf(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

const DATA_KEY = Buffer.from('"data"');

/**
 * The reply object. For getEdoc the base64 `data` (up to 90 MB for the largest packets) is cut out
 * of the raw bytes and decoded straight to a Buffer, so the packet is not held again as a JSON
 * string and a parsed copy; a `data` written with escapes (org.json writes `\/`) is parsed normally.
 */
function parseReply(body: Buffer, base64Data: boolean): AxisReply | undefined {
  let data: Buffer | undefined;
  let text: string;
  const at = base64Data ? body.indexOf(DATA_KEY) : -1;
  let open = -1;
  if (at >= 0) {
    // `"data"`, optional spaces, `:`, optional spaces, then the string's opening quote — or no fast path.
    let i = at + DATA_KEY.byteLength;
    while (body[i] === 0x20) i++;
    if (body[i] === 0x3a) {
      i++;
      while (body[i] === 0x20) i++;
      if (body[i] === 0x22) open = i;
    }
  }
  const close = open < 0 ? -1 : body.indexOf(0x22, open + 1);
  if (close > open && open > 0 && !body.subarray(open + 1, close).includes(0x5c)) {
    data = Buffer.from(body.toString('latin1', open + 1, close), 'base64');
    text = `${body.toString('utf8', 0, open)}""${body.toString('utf8', close + 1)}`;
  } else {
    text = body.toString('utf8');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const fields = parsed as Record<string, unknown>;
  if (typeof fields['status'] !== 'string') return undefined;
  return {
    status: fields['status'],
    errorCode: stringOf(fields['ErrorCode']),
    errorDesc: stringOf(fields['ErrorDesc']),
    fields: data === undefined ? fields : { ...fields, data },
  };
}
