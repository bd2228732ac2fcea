// The HTTP client that fetches one target's metrics page, built on node:http/node:https rather than fetch so
// that TLS options, the deadline and the body limit are under exact control. It behaves like Prometheus's
// scraper (headers, gzip, "server returned HTTP status ...", "body size limit exceeded") and like Go's client
// for redirects. Error messages are written for the status page: they name the URL without user info and
// never carry credentials, and the original node error is deliberately not attached as `cause`.

import http from 'node:http';
import https from 'node:https';
import zlib from 'node:zlib';
import type { HTTPClientConfig } from '../config/schema.ts';
import {
  authorizationHeader,
  classifyNetworkError,
  createAgents,
  errorCode,
  redactUrl,
  STALE_SOCKET_CODES,
} from './http-common.ts';

export type ScrapeFailureKind =
  | 'timeout'
  | 'connection_refused'
  | 'dns'
  | 'connection'
  | 'tls'
  | 'http_status'
  | 'body_too_large'
  | 'decompress'
  | 'redirect'
  | 'aborted';

/** Why a scrape failed; `kind` is meant for metrics, `message` for people (it never contains credentials). */
export class ScrapeHttpError extends Error {
  override readonly name = 'ScrapeHttpError';
  readonly kind: ScrapeFailureKind;
  /** The HTTP status, set only for kind `http_status` (declared, so other errors have no such key at all). */
  declare readonly status?: number;

  constructor(kind: ScrapeFailureKind, message: string, status?: number) {
    super(message);
    this.kind = kind;
    if (status !== undefined) this.status = status;
  }
}

/** A successful (2xx) scrape. */
export interface ScrapeResponse {
  readonly status: number;
  readonly contentType: string | undefined;
  /** The body after gzip decoding. */
  readonly body: Buffer;
  /** bytes on the wire before decompression */
  readonly wireBytes: number;
}

export interface HttpScrapeOptions {
  /** Sent as the Accept header. */
  readonly accept: string;
  /** Bounds the whole scrape: connecting, redirects, headers and body. 0 or less means no deadline. */
  readonly timeoutMs: number;
  /** Largest accepted DECOMPRESSED body in bytes, as in Prometheus; 0 means no limit. */
  readonly bodySizeLimit: number;
  readonly userAgent: string;
  /** Aborting it ends the scrape at once with kind `aborted`. */
  readonly signal?: AbortSignal;
}

/** Go's client stops at this many redirect responses, and so does Prometheus. */
const MAX_REDIRECTS = 10;
/** The statuses Go's client follows (for a GET, all of them keep the method). */
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
/** A redirect body this small is read to keep the connection; a larger one costs a new connection instead. */
const MAX_DRAINED_REDIRECT_BODY = 2048;
/** Server-sent reason phrases end up in messages; a hostile server gets no more room than this. */
const MAX_REASON_LENGTH = 100;

/**
 * Fetches metrics pages for one scrape job. It keeps one keep-alive agent per scheme, because a target is
 * scraped every few seconds and a new TCP (and TLS) handshake each time would cost more than the scrape.
 * Any number of scrapes may run at once, for the job's different targets.
 */
export class HttpScrapeClient {
  private readonly cfg: HTTPClientConfig;
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  /** Set when the TLS material does not load; every https scrape then fails with it, http ones still work. */
  private readonly tlsConfigError: string | undefined;
  /** Ends each running scrape; used by close(). */
  private readonly running = new Set<() => void>();
  private closed = false;

  constructor(cfg: HTTPClientConfig) {
    this.cfg = cfg;
    // Agents, TLS context and its errors are built as for every outgoing client (see http-common.ts).
    const agents = createAgents(cfg);
    this.httpAgent = agents.httpAgent;
    this.httpsAgent = agents.httpsAgent;
    this.tlsConfigError = agents.tlsConfigError;
  }

  /**
   * Fetches `url` with GET. Resolves only for a 2xx response whose body arrived complete and within the
   * limit; every other outcome rejects with a ScrapeHttpError, and the sockets involved are destroyed.
   */
  scrape(url: string, opts: HttpScrapeOptions): Promise<ScrapeResponse> {
    return new Promise<ScrapeResponse>((resolve, reject) => {
      let current = redactUrl(url);
      const exchanges: { req: http.ClientRequest; res: http.IncomingMessage | undefined }[] = [];
      const cleanups: (() => void)[] = [];
      let settled = false;

      const finish = (err: ScrapeHttpError | null, res?: ScrapeResponse): void => {
        if (settled) return;
        settled = true;
        this.running.delete(cancelOnClose);
        for (const c of cleanups) c();
        // A request whose response completed has handed its socket back to the agent, which may already have
        // lent it to another scrape. Every other socket of this scrape (a failed one, or a redirect body still
        // draining) is in an unknown state and is dropped.
        for (const x of exchanges) {
          if (!x.req.destroyed && x.res?.complete !== true) x.req.destroy();
        }
        if (err !== null) {
          reject(err);
        } else if (res !== undefined) {
          resolve(res);
        }
      };
      const fail = (kind: ScrapeFailureKind, detail: string, status?: number): void => {
        finish(new ScrapeHttpError(kind, `Get "${current}": ${detail}`, status), undefined);
      };
      const cancelOnClose = (): void => fail('aborted', 'the HTTP client was closed');

      if (this.closed) {
        fail('aborted', 'the HTTP client was closed');
        return;
      }
      const signal = opts.signal;
      if (signal?.aborted === true) {
        fail('aborted', 'scrape aborted');
        return;
      }
      this.running.add(cancelOnClose);
      if (signal !== undefined) {
        const onAbort = (): void => fail('aborted', 'scrape aborted');
        signal.addEventListener('abort', onAbort, { once: true });
        cleanups.push(() => signal.removeEventListener('abort', onAbort));
      }
      if (opts.timeoutMs > 0) {
        const timer = setTimeout(
          () => fail('timeout', `scrape timed out after ${formatSeconds(opts.timeoutMs)}s`),
          opts.timeoutMs,
        );
        cleanups.push(() => clearTimeout(timer));
      }

      let original: URL;
      try {
        original = new URL(url);
      } catch {
        fail('connection', 'invalid URL');
        return;
      }
      if (original.protocol !== 'http:' && original.protocol !== 'https:') {
        fail('connection', `unsupported protocol scheme ${JSON.stringify(original.protocol.slice(0, -1))}`);
        return;
      }

      const baseHeaders: Record<string, string> = {
        Accept: opts.accept,
        'Accept-Encoding': 'gzip',
        'User-Agent': opts.userAgent,
        'X-Prometheus-Scrape-Timeout-Seconds': formatSeconds(opts.timeoutMs),
      };
      const authorization = authorizationHeader(this.cfg);

      const send = (target: URL, redirects: number, withAuth: boolean, isRetry: boolean): void => {
        current = redactUrl(target.href);
        const isHttps = target.protocol === 'https:';
        if (isHttps && this.tlsConfigError !== undefined) {
          fail('tls', this.tlsConfigError);
          return;
        }
        const headers =
          withAuth && authorization !== undefined
            ? { ...baseHeaders, Authorization: authorization }
            : baseHeaders;
        let req: http.ClientRequest;
        try {
          req = (isHttps ? https : http).request({
            protocol: target.protocol,
            // URL keeps the brackets of an IPv6 host; node wants the bare address (and adds them to Host).
            hostname: target.hostname.replace(/^\[(.*)\]$/, '$1'),
            port: target.port,
            path: `${target.pathname}${target.search}`,
            method: 'GET',
            headers,
            agent: isHttps ? this.httpsAgent : this.httpAgent,
          });
        } catch (e) {
          // node refuses bad header values here; its message names the header, not the value.
          fail('connection', e instanceof Error ? e.message : String(e));
          return;
        }
        const exchange: (typeof exchanges)[number] = { req, res: undefined };
        exchanges.push(exchange);
        let gotResponse = false;
        // Set once this request has been left behind for a redirect: its socket's late troubles are not ours.
        let superseded = false;

        req.on('error', (err: Error) => {
          if (settled || superseded) return;
          const code = errorCode(err);
          // A kept-alive socket the server closed while it sat idle fails the next request before any answer.
          // Go's client retries such a GET once on a new connection, and so do we.
          if (!gotResponse && !isRetry && req.reusedSocket && STALE_SOCKET_CODES.has(code)) {
            send(target, redirects, withAuth, true);
            return;
          }
          const c = classifyNetworkError(err);
          fail(c.kind, c.detail);
        });

        req.on('response', (res: http.IncomingMessage) => {
          gotResponse = true;
          exchange.res = res;
          if (settled) {
            res.destroy();
            return;
          }
          // A broken connection surfaces here while the body is read; without a listener it would throw.
          res.on('error', (err: Error) => {
            if (!superseded)
              fail('connection', `connection closed before the body was complete (${err.message})`);
          });
          const status = res.statusCode ?? 0;
          const location = res.headers.location;
          if (this.cfg.follow_redirects && REDIRECT_STATUSES.has(status) && location !== undefined) {
            superseded = true;
            discardRedirectBody(req, res);
            // As in Go, the 10th redirect response ends the scrape: 10 requests in all, 9 redirects followed.
            if (redirects + 1 >= MAX_REDIRECTS) {
              fail('redirect', `stopped after ${MAX_REDIRECTS} redirects`);
              return;
            }
            let next: URL;
            try {
              next = new URL(location, target);
            } catch {
              fail('redirect', `failed to parse Location header from ${status} response`);
              return;
            }
            if (next.protocol !== 'http:' && next.protocol !== 'https:') {
              fail(
                'redirect',
                `redirect to unsupported protocol scheme ${JSON.stringify(next.protocol.slice(0, -1))}`,
              );
              return;
            }
            // Go's rule: credentials go only to the original host and its subdomains, and once dropped they
            // stay dropped. Stricter than Go, they are also never sent over plain HTTP after HTTPS.
            const keepAuth =
              withAuth &&
              isDomainOrSubdomain(next.hostname, original.hostname) &&
              !(target.protocol === 'https:' && next.protocol === 'http:');
            send(next, redirects + 1, keepAuth, false);
            return;
          }
          if (status < 200 || status > 299) {
            fail(
              'http_status',
              `server returned HTTP status ${statusText(status, res.statusMessage)}`,
              status,
            );
            return;
          }
          readBody(res, status);
        });

        req.end();
      };

      const readBody = (res: http.IncomingMessage, status: number): void => {
        const limit = opts.bodySizeLimit;
        const gzip = (res.headers['content-encoding'] ?? '').trim().toLowerCase() === 'gzip';
        if (!gzip && limit > 0) {
          // No need to read what is already announced as too large.
          const announced = Number(res.headers['content-length']);
          if (Number.isFinite(announced) && announced > limit) {
            fail('body_too_large', 'body size limit exceeded');
            return;
          }
        }
        const chunks: Buffer[] = [];
        let size = 0;
        let wireBytes = 0;
        let wireEnded = false;

        const onDecoded = (chunk: Buffer): void => {
          if (settled) return;
          size += chunk.length;
          if (limit > 0 && size > limit) {
            fail('body_too_large', 'body size limit exceeded');
            return;
          }
          chunks.push(chunk);
        };
        const succeed = (): void => {
          finish(null, {
            status,
            contentType: res.headers['content-type'],
            body: Buffer.concat(chunks, size),
            wireBytes,
          });
        };
        // A body cut short is an error, never a partial success: node usually reports it as an 'error' on
        // the response, and these checks catch the rest.
        const onWireEnd = (): boolean => {
          wireEnded = true;
          if (!res.complete) {
            fail('connection', 'connection closed before the body was complete');
            return false;
          }
          return true;
        };
        res.on('close', () => {
          if (!wireEnded) fail('connection', 'connection closed before the body was complete');
        });

        if (!gzip) {
          res.on('data', (chunk: Buffer) => {
            wireBytes += chunk.length;
            onDecoded(chunk);
          });
          res.on('end', () => {
            if (onWireEnd()) succeed();
          });
          return;
        }

        // Streaming decompression with the limit checked on every output chunk, so a gzip bomb costs at most
        // the limit plus one zlib chunk before the socket is dropped.
        const gunzip = zlib.createGunzip();
        cleanups.push(() => gunzip.destroy());
        gunzip.on('data', onDecoded);
        gunzip.on('error', (err: Error) => fail('decompress', `decompressing gzip body: ${err.message}`));
        gunzip.on('end', () => {
          if (!settled) succeed();
        });
        gunzip.on('drain', () => res.resume());
        res.on('data', (chunk: Buffer) => {
          if (settled) return;
          wireBytes += chunk.length;
          if (!gunzip.write(chunk)) res.pause();
        });
        res.on('end', () => {
          if (onWireEnd()) gunzip.end();
        });
      };

      send(original, 0, true, false);
    });
  }

  /** Ends running scrapes (kind `aborted`) and destroys all sockets; later scrapes fail the same way. */
  close(): void {
    this.closed = true;
    for (const cancel of [...this.running]) cancel();
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

/** Seconds as Go's strconv.FormatFloat(s, 'f', -1, 64) writes them: "10", "0.5". */
function formatSeconds(ms: number): string {
  return String(ms / 1000);
}

/** Go's rule for keeping credentials on redirect: the same host, or a subdomain of it. */
function isDomainOrSubdomain(sub: string, parent: string): boolean {
  const s = sub.toLowerCase();
  const p = parent.toLowerCase();
  if (s === p) return true;
  // An IPv6 address (or a bracketed one) has no subdomains.
  if (s.includes(':') || s.includes('[')) return false;
  return s.endsWith(`.${p}`);
}

function statusText(status: number, reason: string | undefined): string {
  const text = reason !== undefined && reason !== '' ? reason : (http.STATUS_CODES[status] ?? '');
  const clipped = text.length > MAX_REASON_LENGTH ? `${text.slice(0, MAX_REASON_LENGTH)}...` : text;
  return clipped === '' ? String(status) : `${status} ${clipped}`;
}

/** Reads a small redirect body so its socket can be reused, and drops the socket of any other. */
function discardRedirectBody(req: http.ClientRequest, res: http.IncomingMessage): void {
  const announced = Number(res.headers['content-length']);
  if (Number.isFinite(announced) && announced <= MAX_DRAINED_REDIRECT_BODY) {
    // Should the body never come, finish() destroys this request with the others when the scrape ends.
    res.resume();
  } else {
    req.destroy();
  }
}
