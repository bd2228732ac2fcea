// The NetBox REST client: authenticated, throttled, bounded GETs with typed results. It knows NetBox's habits:
// auth failures are 403, list pages link to the next one by absolute URL (which can carry the wrong host behind
// a proxy, so only its query string is used), errors may come as an HTML page from a proxy, and the server has
// no rate limiting of its own, so the client throttles itself.

import http from 'node:http';
import https from 'node:https';

/** Why a request failed. `auth` is a 403 (NetBox's answer to bad or missing credentials and permissions). */
export type NetBoxErrorKind =
  | 'auth'
  | 'bad-request'
  | 'not-found'
  | 'http'
  | 'html'
  | 'invalid-json'
  | 'shape'
  | 'truncated'
  | 'oversize'
  | 'timeout'
  | 'network'
  | 'aborted'
  | 'tls';

export interface NetBoxError {
  readonly kind: NetBoxErrorKind;
  /** Safe to log and show: never contains the token. */
  readonly message: string;
  readonly status?: number;
  /** The request path and query (no host, no token). */
  readonly path: string;
}

/** A remote call's outcome: a value, a failure retrying cannot fix, or one it might. */
export type NetBoxResult<T> =
  | { readonly kind: 'success'; readonly value: T; readonly apiVersion: string }
  | { readonly kind: 'failure'; readonly error: NetBoxError }
  | { readonly kind: 'retryable'; readonly error: NetBoxError };

/** One HTTP response as the transport saw it. */
export interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Buffer;
}

export type TransportError = {
  readonly kind: 'timeout' | 'network' | 'oversize' | 'truncated' | 'aborted' | 'tls';
  readonly message: string;
};

/**
 * Sends one GET. Resolves (never rejects) with the response or a transport error. Implementations must stop
 * reading at `maxBytes` and give up after `timeoutMs` for the whole exchange.
 */
export interface HttpTransport {
  get(
    url: URL,
    headers: Readonly<Record<string, string>>,
    opts: { readonly timeoutMs: number; readonly maxBytes: number; readonly signal: AbortSignal },
  ): Promise<RawResponse | TransportError>;
}

export interface TransportTLS {
  readonly ca?: string;
  readonly server_name?: string;
  readonly insecure_skip_verify: boolean;
}

const TLS_ERROR_RE = /^(CERT_|UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO|ERR_TLS_CERT|HOSTNAME_MISMATCH|ERR_SSL)/;

/** The transport over node:http/https, with a keep-alive agent and the given TLS trust. */
export function nodeTransport(tls: TransportTLS): HttpTransport & { close(): void } {
  const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  const httpsAgent = new https.Agent({
    keepAlive: true,
    maxSockets: 2,
    ...(tls.ca ? { ca: tls.ca } : {}),
    ...(tls.server_name ? { servername: tls.server_name } : {}),
    rejectUnauthorized: !tls.insecure_skip_verify,
  });
  return {
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
    get(url, headers, opts) {
      return new Promise((resolve) => {
        let done = false;
        const finish = (v: RawResponse | TransportError) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          opts.signal.removeEventListener('abort', onAbort);
          resolve(v);
        };
        const lib = url.protocol === 'https:' ? https : http;
        const req = lib.request(url, {
          method: 'GET',
          headers,
          agent: url.protocol === 'https:' ? httpsAgent : httpAgent,
        });
        const timer = setTimeout(() => {
          finish({ kind: 'timeout', message: `no complete response within ${opts.timeoutMs} ms` });
          req.destroy();
        }, opts.timeoutMs);
        const onAbort = () => {
          finish({ kind: 'aborted', message: 'aborted' });
          req.destroy();
        };
        if (opts.signal.aborted) return onAbort();
        opts.signal.addEventListener('abort', onAbort, { once: true });
        req.on('error', (e: NodeJS.ErrnoException) => {
          const code = e.code ?? '';
          // A certificate NetBox's TLS cannot be verified with is configuration, not a passing fault.
          if (TLS_ERROR_RE.test(code)) finish({ kind: 'tls', message: `TLS: ${code}` });
          else finish({ kind: 'network', message: code || 'connection failed' });
        });
        req.on('response', (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          const declared = Number(res.headers['content-length'] ?? NaN);
          if (declared > opts.maxBytes) {
            finish({ kind: 'oversize', message: `response of ${declared} bytes exceeds ${opts.maxBytes}` });
            req.destroy();
            return;
          }
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > opts.maxBytes) {
              finish({ kind: 'oversize', message: `response exceeds ${opts.maxBytes} bytes` });
              req.destroy();
              return;
            }
            chunks.push(c);
          });
          res.on('aborted', () => finish({ kind: 'truncated', message: 'connection closed mid-body' }));
          res.on('error', () => finish({ kind: 'truncated', message: 'connection closed mid-body' }));
          res.on('end', () => {
            const body = Buffer.concat(chunks);
            if (!res.complete || (Number.isFinite(declared) && body.length < declared)) {
              finish({ kind: 'truncated', message: `body ended after ${body.length} bytes` });
              return;
            }
            const h: Record<string, string | undefined> = {};
            for (const [k, v] of Object.entries(res.headers)) h[k] = Array.isArray(v) ? v.join(', ') : v;
            finish({ status: res.statusCode ?? 0, headers: h, body });
          });
        });
        req.end();
      });
    },
  };
}

/** A token bucket: `rate` requests per second, bursts up to `burst`. Time and sleep are injected. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly rate: number;
  private readonly burst: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;

  constructor(opts: {
    rate: number;
    burst?: number;
    now: () => number;
    sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  }) {
    this.rate = opts.rate;
    this.burst = opts.burst ?? Math.max(1, Math.ceil(opts.rate));
    this.tokens = this.burst;
    this.now = opts.now;
    this.last = opts.now();
    this.sleep = opts.sleep;
  }

  /** Waits until a request may go. */
  async take(signal: AbortSignal): Promise<void> {
    for (;;) {
      const t = this.now();
      this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.rate);
      this.last = t;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await this.sleep(Math.ceil(((1 - this.tokens) / this.rate) * 1000), signal);
      if (signal.aborted) return;
    }
  }
}

/** Sleeps `ms`, waking early when the signal aborts. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export interface NetBoxClientOptions {
  /** Base URL without /api. */
  readonly url: string;
  readonly token: string;
  readonly transport: HttpTransport;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly retries: number;
  /** First retry delay; doubles per attempt, with full jitter, capped at 30 s. */
  readonly minBackoffMs?: number;
  readonly bucket: TokenBucket;
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly random?: () => number;
  /** Longest list followed, as a guard against a server whose `next` never ends. */
  readonly maxPages?: number;
}

/** What one list request returned, across all its pages. */
export interface ListResult<T = unknown> {
  readonly rows: readonly T[];
  readonly count: number | null;
  readonly pages: number;
}

/**
 * The `Authorization` header for a token. The version is in the value, not the keyword: v2 tokens start
 * "nbt_" and need "Bearer" (NetBox 4.5+); v1 tokens use "Token", which every 3.x and 4.x server accepts.
 */
export function authorizationHeader(token: string): string {
  return token.startsWith('nbt_') ? `Bearer ${token}` : `Token ${token}`;
}

/** NetBox's error bodies are {detail} or {field: [messages]}; a short safe summary of either. */
function errorSummary(body: Buffer): string {
  const text = body.subarray(0, 2048).toString('utf8');
  try {
    const j: unknown = JSON.parse(text);
    if (typeof j === 'object' && j !== null) {
      if ('detail' in j && typeof j.detail === 'string') return j.detail.slice(0, 200);
      return JSON.stringify(j).slice(0, 200);
    }
  } catch {
    // Not JSON: a proxy's page; its text says nothing useful and may be huge.
  }
  return looksHtml(text) ? 'an HTML page' : `${body.length} bytes of non-JSON`;
}

function looksHtml(text: string): boolean {
  return /^\s*(<!doctype|<html|<head|<body|<\?xml)/i.test(text);
}

export class NetBoxClient {
  private readonly base: URL;
  private readonly o: NetBoxClientOptions;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  /** Requests sent (including retries), for benchmarks and the status page. */
  requests = 0;

  constructor(o: NetBoxClientOptions) {
    this.o = o;
    this.base = new URL(o.url.endsWith('/') ? o.url : `${o.url}/`);
    this.sleep = o.sleep ?? abortableSleep;
    this.random = o.random ?? Math.random;
  }

  /** GETs one API path (e.g. "api/dcim/sites/") with the query, retrying what may pass on a second try. */
  async get(path: string, query: URLSearchParams, signal: AbortSignal): Promise<NetBoxResult<unknown>> {
    let attempt = 0;
    for (;;) {
      const r = await this.once(path, query, signal);
      if (r.kind !== 'retryable' || attempt >= this.o.retries || signal.aborted) return r;
      const cap = Math.min(30_000, (this.o.minBackoffMs ?? 500) * 2 ** attempt);
      await this.sleep(Math.floor(this.random() * cap), signal);
      attempt++;
    }
  }

  private async once(
    path: string,
    query: URLSearchParams,
    signal: AbortSignal,
  ): Promise<NetBoxResult<unknown>> {
    const url = new URL(path, this.base);
    url.search = query.toString();
    const shown = `${url.pathname}${url.search}`;
    const fail = (kind: NetBoxErrorKind, message: string, status?: number): NetBoxResult<unknown> => ({
      kind: 'failure',
      error: { kind, message, path: shown, ...(status === undefined ? {} : { status }) },
    });
    const retry = (kind: NetBoxErrorKind, message: string, status?: number): NetBoxResult<unknown> => ({
      kind: 'retryable',
      error: { kind, message, path: shown, ...(status === undefined ? {} : { status }) },
    });
    await this.o.bucket.take(signal);
    if (signal.aborted) return fail('aborted', 'aborted');
    this.requests++;
    const res = await this.o.transport.get(
      url,
      {
        Authorization: authorizationHeader(this.o.token),
        // Never pin a version in Accept: 4.x answers 406 to an older one. The version is read from API-Version.
        Accept: 'application/json',
        'User-Agent': 'storewatch',
      },
      { timeoutMs: this.o.timeoutMs, maxBytes: this.o.maxBytes, signal },
    );
    if (!('status' in res)) {
      if (res.kind === 'aborted') return fail('aborted', 'aborted');
      if (res.kind === 'oversize' || res.kind === 'tls') return fail(res.kind, res.message);
      return retry(res.kind, res.message);
    }
    const s = res.status;
    if (s === 403 || s === 401) return fail('auth', `HTTP ${s}: ${errorSummary(res.body)}`, s);
    if (s === 400) return fail('bad-request', `HTTP 400: ${errorSummary(res.body)}`, s);
    if (s === 404) return fail('not-found', `HTTP 404: ${errorSummary(res.body)}`, s);
    if (s === 429 || s >= 500) return retry('http', `HTTP ${s}: ${errorSummary(res.body)}`, s);
    if (s !== 200) return fail('http', `HTTP ${s}: ${errorSummary(res.body)}`, s);
    const text = res.body.toString('utf8');
    if (looksHtml(text)) return retry('html', 'got an HTML page instead of JSON (a proxy or login page?)', s);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      // A 200 whose JSON ends early is a body cut short somewhere between NetBox and us.
      return retry('invalid-json', `invalid JSON in a ${res.body.length}-byte body`, s);
    }
    return { kind: 'success', value, apiVersion: res.headers['api-version'] ?? '' };
  }

  /**
   * GETs every page of a list. Any page failing fails the whole list: a partial list must never be taken for
   * the whole store. Only the query string of `next` is used, against our own base URL and path. `map`, when
   * given, turns each row into what the caller keeps as soon as its page arrives, so raw pages do not pile up.
   */
  async list<T = unknown>(
    path: string,
    query: URLSearchParams,
    signal: AbortSignal,
    map?: (row: unknown) => T,
  ): Promise<NetBoxResult<ListResult<T>>> {
    const rows: T[] = [];
    let q = query;
    let count: number | null = null;
    let apiVersion = '';
    const seen = new Set<string>();
    const maxPages = this.o.maxPages ?? 10_000;
    for (let page = 1; ; page++) {
      const r = await this.get(path, q, signal);
      if (r.kind !== 'success') return r;
      apiVersion = r.apiVersion;
      const v = r.value;
      const bad = (why: string): NetBoxResult<ListResult<T>> => ({
        kind: 'failure',
        error: { kind: 'shape', message: `page ${page}: ${why}`, path: `/${path}?${q.toString()}` },
      });
      if (typeof v !== 'object' || v === null || !('results' in v) || !Array.isArray(v.results)) {
        return bad('not a paginated list ({count, next, results})');
      }
      for (const row of v.results as unknown[]) rows.push(map ? map(row) : (row as T));
      if ('count' in v && typeof v.count === 'number') count = v.count;
      const next = 'next' in v ? v.next : null;
      if (next === null || next === undefined)
        return { kind: 'success', value: { rows, count, pages: page }, apiVersion };
      if (typeof next !== 'string') return bad('`next` is not a string');
      let nextQuery: URLSearchParams;
      try {
        nextQuery = new URL(next, this.base).searchParams;
      } catch {
        return bad('`next` is not a URL');
      }
      const key = nextQuery.toString();
      if (seen.has(key) || page >= maxPages) return bad('pagination does not end');
      seen.add(key);
      q = nextQuery;
    }
  }
}
