// The HTTP client that POSTs one remote-write request and sorts the answer the way the remote-write spec asks:
// 2xx done, 5xx (and 429 when enabled) retried, any other answer dropped. It is built on node:http/node:https,
// like the scrape client, so that the deadline, TLS options and how much of a response is read are under exact
// control, and it shares that client's agents, TLS handling and error wording (appliance/scrape/http-common.ts).
// Messages name the URL without user info and never carry credentials or header values.

import http from 'node:http';
import https from 'node:https';
import type { HTTPClientConfig } from '../config/schema.ts';
import {
  authorizationHeader,
  classifyNetworkError,
  createAgents,
  errorCode,
  redactUrl,
  STALE_SOCKET_CODES,
} from '../scrape/http-common.ts';

/**
 * Outcome of one send: remote calls return success | failure | retryable, never throw for HTTP or network trouble.
 *
 * - `success`: a 2xx answer.
 * - `failure`: retrying cannot help; drop the data (or stop, for `status` 0). `status` is the HTTP status, or 0
 *   when no request could be made at all because of the client's own configuration (unloadable TLS material,
 *   an invalid URL, a header value node refuses). `message` is the receiver's text for 4xx answers.
 * - `retryable`: send the same request again after a backoff. `status` is null when no answer came (network
 *   errors, TLS handshake errors, timeouts, aborts). `retryAfterMs` is the receiver's Retry-After, not capped:
 *   the retry policy decides how much of it to honour. `connected` says whether any of the request could have
 *   reached the wire.
 */
export type WriteResult =
  | {
      readonly kind: 'success';
      readonly status: number;
      /** X-Prometheus-Remote-Write-Samples-Written, null when absent or not a non-negative integer. */
      readonly samplesWritten: number | null;
    }
  | {
      readonly kind: 'failure';
      readonly status: number;
      /** The receiver's text, first 1 KiB, as is (never parsed); our own explanation for 3xx and status 0. */
      readonly message: string;
      /** The receiver answered 415, so a remote-write 2.0 sender may fall back to 1.0. */
      readonly unsupportedMediaType: boolean;
    }
  | {
      readonly kind: 'retryable';
      /** null for network errors, TLS handshake errors, timeouts and aborts. */
      readonly status: number | null;
      /** The receiver's text (first 1 KiB, as is) for an HTTP answer; otherwise what went wrong. */
      readonly message: string;
      readonly retryAfterMs: number | null;
      /**
       * False when no connection to the receiver was made (refused, unreachable, DNS, connect timeout, TLS
       * handshake): none of the body went on the wire, so a bandwidth budget need not be charged for it.
       */
      readonly connected: boolean;
    };

/**
 * Sends encoded, compressed remote-write bodies to one URL.
 *
 * `store` POSTs `body` exactly as given (already protobuf-encoded and snappy-compressed) with a Content-Length.
 * `headers` are the protocol headers of this request, chosen by the sender: Content-Type, Content-Encoding and
 * X-Prometheus-Remote-Write-Version (remote write 1.0 values are used for those it leaves out) and, for
 * instance, Retry-Attempt. They win over the user's configured headers; User-Agent, Content-Length and the
 * configured Authorization are the client's own and win over both. The promise always resolves, never
 * rejects: HTTP, TLS and network trouble, the deadline and `signal` all end in a WriteResult. Aborting
 * `signal` before an answer gives `retryable` with message 'aborted'; once the status line has arrived, the
 * result follows from the status even if the body read is cut short. Any number of stores may run at once.
 *
 * `close` ends running stores (retryable) and drops all kept-alive connections; later stores are retryable
 * without touching the network.
 */
export interface WriteClient {
  store(
    body: Uint8Array,
    headers: Readonly<Record<string, string>>,
    signal?: AbortSignal,
  ): Promise<WriteResult>;
  close(): void;
}

export interface HttpWriteClientOptions {
  readonly url: string;
  readonly http: HTTPClientConfig;
  /** Bounds one store: connecting, sending, the answer and the (at most 1 KiB) read of its body. 0 or less: none. */
  readonly timeoutMs: number;
  /** User headers from the config; they can never override the reserved remote-write headers (Content-Type, Content-Encoding,
   *  User-Agent, X-Prometheus-Remote-Write-Version, Authorization when auth is configured) — reserved names win, case-insensitively. */
  readonly headers: Readonly<Record<string, string>>;
  readonly userAgent: string;
  /** Whether a 429 answer is retryable (Prometheus's retry_on_http_429, off by default) or a failure. */
  readonly retryOn429: boolean;
}

/** Of any response body, only this much is read: the spec says to ignore it, and to log a 400's text as is. */
const MAX_BODY_READ = 1024;

/** Remote write 1.0's protocol headers, used for those the sender does not set itself. */
const DEFAULT_PROTOCOL_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'application/x-protobuf',
  'Content-Encoding': 'snappy',
  'X-Prometheus-Remote-Write-Version': '0.1.0',
};

/**
 * Names a user header may never set, lower-cased: the remote-write protocol headers, those the client derives
 * from the request itself, and the hop-by-hop ones that would break the connection's framing (Prometheus
 * refuses the same list in its config).
 */
const RESERVED_USER_HEADERS: ReadonlySet<string> = new Set([
  'content-type',
  'content-encoding',
  'content-length',
  'user-agent',
  'x-prometheus-remote-write-version',
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'upgrade',
  'trailer',
  'proxy-authorization',
  'accept-encoding',
]);

const SAMPLES_WRITTEN_HEADER = 'x-prometheus-remote-write-samples-written';

/** A header map that keeps one entry per case-insensitive name, with the spelling of whoever set it last. */
class HeaderSet {
  private readonly entries = new Map<string, [string, string]>();
  set(name: string, value: string): void {
    this.entries.set(name.toLowerCase(), [name, value]);
  }
  toRecord(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, value] of this.entries.values()) out[name] = value;
    return out;
  }
}

/**
 * Sends remote-write requests to one URL over keep-alive connections: a destination gets a request every few
 * seconds, and a new TCP and TLS handshake each time would cost more than the request.
 */
export class HttpWriteClient implements WriteClient {
  private readonly url: URL | undefined;
  /** The URL without user info, for messages. */
  private readonly shownUrl: string;
  /** Set when the URL is unusable; every store then fails with it. */
  private readonly urlError: string | undefined;
  private readonly timeoutMs: number;
  private readonly retryOn429: boolean;
  private readonly userAgent: string;
  private readonly authorization: string | undefined;
  /** The user's headers minus the reserved names, checked once. */
  private readonly userHeaders: Readonly<Record<string, string>>;
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly tlsConfigError: string | undefined;
  /** Ends each running store; used by close(). */
  private readonly running = new Set<() => void>();
  private closed = false;

  constructor(o: HttpWriteClientOptions) {
    this.shownUrl = redactUrl(o.url);
    let url: URL | undefined;
    let urlError: string | undefined;
    try {
      url = new URL(o.url);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        urlError = `unsupported protocol scheme ${JSON.stringify(url.protocol.slice(0, -1))}`;
        url = undefined;
      }
    } catch {
      urlError = 'invalid URL';
    }
    this.url = url;
    this.urlError = urlError;
    this.timeoutMs = o.timeoutMs;
    this.retryOn429 = o.retryOn429;
    this.userAgent = o.userAgent;
    this.authorization = authorizationHeader(o.http);
    const user: Record<string, string> = {};
    for (const [name, value] of Object.entries(o.headers)) {
      const lower = name.toLowerCase();
      if (RESERVED_USER_HEADERS.has(lower)) continue;
      if (lower === 'authorization' && this.authorization !== undefined) continue;
      user[name] = value;
    }
    this.userHeaders = user;
    // Redirects are never followed here, so follow_redirects in the config has no effect.
    const agents = createAgents(o.http);
    this.httpAgent = agents.httpAgent;
    this.httpsAgent = agents.httpsAgent;
    this.tlsConfigError = agents.tlsConfigError;
  }

  store(
    body: Uint8Array,
    headers: Readonly<Record<string, string>>,
    signal?: AbortSignal,
  ): Promise<WriteResult> {
    return new Promise<WriteResult>((resolve) => {
      const prefix = `Post "${this.shownUrl}": `;
      let settled = false;
      const cleanups: (() => void)[] = [];
      // Every request made (a stale keep-alive socket costs one more), with its response once it has one.
      const exchanges: { req: http.ClientRequest; res: http.IncomingMessage | undefined }[] = [];
      // Set once a status line arrived: from then on, any interruption still ends in the status's outcome.
      let fromResponse: (() => WriteResult) | undefined;

      const finish = (result: WriteResult): void => {
        if (settled) return;
        settled = true;
        this.running.delete(onClose);
        for (const c of cleanups) c();
        // A request whose response was read to the end has handed its socket back to the agent; any other
        // socket (failed, timed out, or with a body left unread) is in an unknown state and is dropped.
        for (const x of exchanges) {
          if (!x.req.destroyed && x.res?.complete !== true) x.req.destroy();
        }
        resolve(result);
      };
      // Set once a connection (for https: a finished handshake) carried this request's bytes.
      let connected = false;
      const retryable = (message: string): WriteResult => ({
        kind: 'retryable',
        status: null,
        message,
        retryAfterMs: null,
        connected,
      });
      const configFailure = (detail: string): WriteResult => ({
        kind: 'failure',
        status: 0,
        message: `${prefix}${detail}`,
        unsupportedMediaType: false,
      });
      const interrupt = (message: string): void => {
        finish(fromResponse !== undefined ? fromResponse() : retryable(message));
      };
      const onClose = (): void => interrupt('client closed');

      if (this.closed) {
        finish(retryable('client closed'));
        return;
      }
      if (signal?.aborted === true) {
        finish(retryable('aborted'));
        return;
      }
      const target = this.url;
      if (target === undefined) {
        finish(configFailure(this.urlError ?? 'invalid URL'));
        return;
      }
      const isHttps = target.protocol === 'https:';
      if (isHttps && this.tlsConfigError !== undefined) {
        finish(configFailure(this.tlsConfigError));
        return;
      }

      this.running.add(onClose);
      if (signal !== undefined) {
        const onAbort = (): void => interrupt('aborted');
        signal.addEventListener('abort', onAbort, { once: true });
        cleanups.push(() => signal.removeEventListener('abort', onAbort));
      }
      if (this.timeoutMs > 0) {
        const timer = setTimeout(
          () => interrupt(`${prefix}request timed out after ${this.timeoutMs / 1000}s`),
          this.timeoutMs,
        );
        cleanups.push(() => clearTimeout(timer));
      }

      const merged = new HeaderSet();
      for (const [name, value] of Object.entries(this.userHeaders)) merged.set(name, value);
      for (const [name, value] of Object.entries(DEFAULT_PROTOCOL_HEADERS)) merged.set(name, value);
      for (const [name, value] of Object.entries(headers)) merged.set(name, value);
      merged.set('User-Agent', this.userAgent);
      if (this.authorization !== undefined) merged.set('Authorization', this.authorization);
      merged.set('Content-Length', String(body.byteLength));
      const requestHeaders = merged.toRecord();

      const send = (isRetry: boolean): void => {
        let req: http.ClientRequest;
        try {
          req = (isHttps ? https : http).request({
            protocol: target.protocol,
            // URL keeps the brackets of an IPv6 host; node wants the bare address (and adds them to Host).
            hostname: target.hostname.replace(/^\[(.*)\]$/, '$1'),
            port: target.port,
            path: `${target.pathname}${target.search}`,
            method: 'POST',
            headers: requestHeaders,
            agent: isHttps ? this.httpsAgent : this.httpAgent,
          });
        } catch (e) {
          // node refuses bad header names and values here; its message names the header, never the value.
          finish(configFailure(e instanceof Error ? e.message : String(e)));
          return;
        }
        req.on('socket', (socket) => {
          if (!socket.connecting) connected = true;
          else socket.once(isHttps ? 'secureConnect' : 'connect', () => (connected = true));
        });
        const exchange: (typeof exchanges)[number] = { req, res: undefined };
        exchanges.push(exchange);
        let gotResponse = false;
        let superseded = false;

        req.on('error', (err: Error) => {
          if (settled || superseded) return;
          // A kept-alive socket the server closed while it sat idle fails the next request before any answer.
          // Remote write requests are idempotent by the spec, so one new connection is tried at once instead
          // of costing the sender a backoff.
          if (!gotResponse && !isRetry && req.reusedSocket && STALE_SOCKET_CODES.has(errorCode(err))) {
            superseded = true;
            send(true);
            return;
          }
          // After the status line, a broken connection (say, a receiver that answered 413 before reading the
          // whole body, then hung up) only cuts the body read short.
          interrupt(`${prefix}${classifyNetworkError(err).detail}`);
        });

        req.on('response', (res: http.IncomingMessage) => {
          gotResponse = true;
          exchange.res = res;
          if (settled) {
            res.destroy();
            return;
          }
          const status = res.statusCode ?? 0;
          const chunks: Buffer[] = [];
          let size = 0;
          const outcome = (): WriteResult =>
            classify(status, res.headers, Buffer.concat(chunks).toString('utf8'), this.retryOn429);
          fromResponse = outcome;
          const conclude = (): void => finish(outcome());
          // Only the first KiB is kept; once more arrives the socket is dropped instead of reading on. A body
          // that ends early or breaks off still leaves the status to decide.
          res.on('data', (chunk: Buffer) => {
            if (settled) return;
            if (size < MAX_BODY_READ) chunks.push(chunk.subarray(0, MAX_BODY_READ - size));
            size += chunk.length;
            if (size > MAX_BODY_READ) conclude();
          });
          res.on('end', conclude);
          res.on('error', conclude);
          res.on('close', conclude);
        });

        req.end(body);
      };

      send(false);
    });
  }

  close(): void {
    this.closed = true;
    for (const cancel of [...this.running]) cancel();
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

/** The remote-write spec's reading of a status; `text` is the start of the body. */
function classify(
  status: number,
  headers: http.IncomingHttpHeaders,
  text: string,
  retryOn429: boolean,
): WriteResult {
  if (status >= 200 && status <= 299) {
    return { kind: 'success', status, samplesWritten: parseCount(headers[SAMPLES_WRITTEN_HEADER]) };
  }
  if (status >= 500 && status <= 599) {
    return {
      kind: 'retryable',
      status,
      message: text,
      retryAfterMs: parseRetryAfter(headers['retry-after']),
      connected: true,
    };
  }
  if (status === 429 && retryOn429) {
    return {
      kind: 'retryable',
      status,
      message: text,
      retryAfterMs: parseRetryAfter(headers['retry-after']),
      connected: true,
    };
  }
  if (status >= 300 && status <= 399) {
    // A redirect's body is meant for browsers; what the operator needs is where the receiver pointed.
    return {
      kind: 'failure',
      status,
      message: `server returned HTTP status ${status}; remote write does not follow redirects`,
      unsupportedMediaType: false,
    };
  }
  // Every other 4xx, and any status outside the defined classes, will not improve by sending again.
  return { kind: 'failure', status, message: text, unsupportedMediaType: status === 415 };
}

/** A non-negative decimal integer header, or null. */
function parseCount(value: string | string[] | undefined): number | null {
  // node joins repeated unknown headers into one string; an array would only come from a future node.
  if (typeof value !== 'string') return null;
  const v = value.trim();
  if (!/^\d{1,15}$/.test(v)) return null;
  return Number(v);
}

/** Retry-After as delay-seconds or an HTTP-date (RFC 9110 10.2.3), in milliseconds from now; null if unusable. */
function parseRetryAfter(value: string | undefined): number | null {
  if (value === undefined) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) {
    const ms = Number(v) * 1000;
    return Number.isSafeInteger(ms) ? ms : null;
  }
  // An HTTP-date (IMF-fixdate, or the obsolete RFC 850 form) starts with a weekday and ends in GMT; requiring
  // that keeps Date.parse's leniency, which takes "1.5" or "-1" for dates, out of it.
  if (!/^[A-Za-z]{3,9}, .+ GMT$/.test(v)) return null;
  const at = Date.parse(v);
  if (!Number.isFinite(at)) return null;
  return Math.max(0, at - Date.now());
}
