import assert from 'node:assert/strict';
import { execFileSync, execSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { after, before, describe, it } from 'node:test';
import type { HTTPClientConfig, TLSConfig } from '../../../appliance/config/schema.ts';
import type { HttpWriteClientOptions, WriteResult } from '../../../appliance/remote/client.ts';
import { HttpWriteClient } from '../../../appliance/remote/client.ts';

// ---- helpers ----------------------------------------------------------------------------------------------

const UA = 'storewatch/0.1.0';

function httpConfig(
  over: Partial<HTTPClientConfig> = {},
  tlsOver: Partial<TLSConfig> = {},
): HTTPClientConfig {
  return {
    follow_redirects: true,
    enable_http2: false,
    ...over,
    tls_config: { insecure_skip_verify: false, min_version: 'TLS12', ...tlsOver },
  };
}

function newClient(t: TestContext, url: string, over: Partial<HttpWriteClientOptions> = {}): HttpWriteClient {
  const c = new HttpWriteClient({
    url,
    http: httpConfig(),
    timeoutMs: 10_000,
    headers: {},
    userAgent: UA,
    retryOn429: false,
    ...over,
  });
  t.after(() => c.close());
  return c;
}

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
}

interface Served {
  readonly url: string;
  readonly port: number;
  /** Every request that arrived complete, in order. */
  readonly received: Received[];
  /** How many TCP connections the server accepted. */
  connections(): number;
}

/**
 * An HTTP(S) server on 127.0.0.1 that reads each request body completely before calling `answer`, closed (with
 * all its connections) when the test ends.
 */
async function serve(
  t: TestContext,
  answer: (req: http.IncomingMessage, res: http.ServerResponse, received: Received) => void,
  server: http.Server | https.Server = http.createServer(),
): Promise<Served> {
  const received: Received[] = [];
  let connections = 0;
  server.on(server instanceof https.Server ? 'secureConnection' : 'connection', () => connections++);
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks),
      };
      received.push(r);
      answer(req, res, r);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const port = (server.address() as net.AddressInfo).port;
  const scheme = server instanceof https.Server ? 'https' : 'http';
  return {
    url: `${scheme}://127.0.0.1:${port}/api/v1/write`,
    port,
    received,
    connections: () => connections,
  };
}

/** A server that answers every request with `status`, `headers` and `body`. */
function answering(
  t: TestContext,
  status: number,
  body: string | Buffer = '',
  headers: http.OutgoingHttpHeaders = {},
): Promise<Served> {
  return serve(t, (_req, res) => {
    res.writeHead(status, headers);
    res.end(body);
  });
}

function send(c: HttpWriteClient, body: Uint8Array = Buffer.from('payload'), signal?: AbortSignal) {
  return c.store(body, {}, signal);
}

function expectKind<K extends WriteResult['kind']>(
  r: WriteResult,
  kind: K,
): Extract<WriteResult, { kind: K }> {
  assert.equal(r.kind, kind, `expected ${kind}, got ${JSON.stringify(r)}`);
  return r as Extract<WriteResult, { kind: K }>;
}

/** A port on 127.0.0.1 that nothing listens on (it was just released). */
async function closedPort(): Promise<number> {
  const s = http.createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as net.AddressInfo).port;
  s.close();
  await once(s, 'close');
  return port;
}

// ---- success and what is sent -------------------------------------------------------------------------------

describe('HttpWriteClient: the request', () => {
  it('POSTs the body byte-exact with Content-Length and the remote-write 1.0 headers', async (t) => {
    const s = await answering(t, 204);
    const body = randomBytes(200_000);
    const r = expectKind(await send(newClient(t, s.url), body), 'success');
    assert.deepEqual(r, { kind: 'success', status: 204, samplesWritten: null });
    assert.equal(s.received.length, 1);
    const got = s.received[0]!;
    assert.equal(got.method, 'POST');
    assert.equal(got.url, '/api/v1/write');
    assert.ok(got.body.equals(body), 'body differs');
    assert.equal(got.headers['content-length'], String(body.length));
    assert.equal(got.headers['transfer-encoding'], undefined);
    assert.equal(got.headers['content-type'], 'application/x-protobuf');
    assert.equal(got.headers['content-encoding'], 'snappy');
    assert.equal(got.headers['x-prometheus-remote-write-version'], '0.1.0');
    assert.equal(got.headers['user-agent'], UA);
    assert.equal(got.headers['accept-encoding'], undefined, 'no gzip');
    assert.equal(got.headers.authorization, undefined);
  });

  it('sends an empty body with Content-Length 0 and keeps the query string', async (t) => {
    const s = await answering(t, 200);
    const c = newClient(t, s.url.replace('/api/v1/write', '/push?tenant=a%20b'));
    expectKind(await send(c, new Uint8Array(0)), 'success');
    assert.equal(s.received[0]!.headers['content-length'], '0');
    assert.equal(s.received[0]!.body.length, 0);
    assert.equal(s.received[0]!.url, '/push?tenant=a%20b');
  });

  it('lets the sender choose the protocol headers, case-insensitively, but not User-Agent', async (t) => {
    const s = await answering(t, 204);
    const c = newClient(t, s.url);
    const r = await c.store(Buffer.from('v2'), {
      'content-type': 'application/x-protobuf;proto=io.prometheus.write.v2.Request',
      'X-PROMETHEUS-REMOTE-WRITE-VERSION': '2.0.0',
      'Retry-Attempt': '3',
      'User-Agent': 'sender-override',
      'Content-Length': '999',
    });
    expectKind(r, 'success');
    const h = s.received[0]!.headers;
    assert.equal(h['content-type'], 'application/x-protobuf;proto=io.prometheus.write.v2.Request');
    assert.equal(h['x-prometheus-remote-write-version'], '2.0.0');
    assert.equal(h['content-encoding'], 'snappy');
    assert.equal(h['retry-attempt'], '3');
    assert.equal(h['user-agent'], UA);
    assert.equal(h['content-length'], '2');
    // One of each, not the default and the override side by side.
    const names = s.received[0]!.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    assert.equal(names.filter((n) => n === 'content-type').length, 1);
    assert.equal(names.filter((n) => n === 'x-prometheus-remote-write-version').length, 1);
  });

  it('never lets user headers override the reserved ones, whatever their case', async (t) => {
    const s = await answering(t, 204);
    const c = newClient(t, s.url, {
      http: httpConfig({ basic_auth: { username: 'store42', password: 's3cret' } }),
      headers: {
        'content-type': 'text/plain',
        'CONTENT-ENCODING': 'gzip',
        'User-Agent': 'evil/1.0',
        'x-prometheus-remote-write-version': '9.9.9',
        Authorization: 'Bearer stolen',
        'content-length': '1',
        'Transfer-Encoding': 'chunked',
        Connection: 'close',
        'Accept-Encoding': 'gzip',
        Host: 'elsewhere.example',
        'X-Scope-OrgID': 'tenant-1',
      },
    });
    const body = Buffer.from('exact body');
    expectKind(await send(c, body), 'success');
    const got = s.received[0]!;
    const h = got.headers;
    assert.equal(h['content-type'], 'application/x-protobuf');
    assert.equal(h['content-encoding'], 'snappy');
    assert.equal(h['user-agent'], UA);
    assert.equal(h['x-prometheus-remote-write-version'], '0.1.0');
    assert.equal(h.authorization, `Basic ${Buffer.from('store42:s3cret').toString('base64')}`);
    assert.equal(h['content-length'], String(body.length));
    assert.equal(h['transfer-encoding'], undefined);
    assert.equal(h['accept-encoding'], undefined);
    assert.equal(h.host, `127.0.0.1:${s.port}`);
    assert.equal(h['x-scope-orgid'], 'tenant-1');
    assert.ok(got.body.equals(body));
  });

  it('passes a user Authorization header through when no auth is configured', async (t) => {
    const s = await answering(t, 204);
    const c = newClient(t, s.url, { headers: { authorization: 'Bearer from-headers' } });
    expectKind(await send(c), 'success');
    assert.equal(s.received[0]!.headers.authorization, 'Bearer from-headers');
  });

  it('sends basic auth and bearer credentials', async (t) => {
    const s = await answering(t, 204);
    const basic = newClient(t, s.url, {
      http: httpConfig({ basic_auth: { username: 'us:er', password: 'pä:ss' } }),
    });
    expectKind(await send(basic), 'success');
    assert.equal(
      s.received[0]!.headers.authorization,
      `Basic ${Buffer.from('us:er:pä:ss', 'utf8').toString('base64')}`,
    );
    const bearer = newClient(t, s.url, {
      http: httpConfig({ authorization: { type: 'Bearer', credentials: 'tok.en' } }),
    });
    expectKind(await send(bearer), 'success');
    assert.equal(s.received[1]!.headers.authorization, 'Bearer tok.en');
  });

  it('reuses one kept-alive connection for consecutive requests', async (t) => {
    const s = await answering(t, 200, 'ok');
    const c = newClient(t, s.url);
    for (let i = 0; i < 3; i++) expectKind(await send(c), 'success');
    assert.equal(s.received.length, 3);
    assert.equal(s.connections(), 1);
  });

  it('retries once on a new connection when the server dropped an idle kept-alive one', async (t) => {
    // The server hangs up on the second request of every connection, as one whose idle timeout ran out would.
    const perSocket = new Map<net.Socket, number>();
    const s = await serve(t, (req, res) => {
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      if (n >= 2) {
        req.socket.destroy();
        return;
      }
      res.writeHead(204);
      res.end();
    });
    const c = newClient(t, s.url);
    expectKind(await send(c, Buffer.from('one')), 'success');
    expectKind(await send(c, Buffer.from('two')), 'success');
    assert.equal(s.connections(), 2);
    assert.deepEqual(
      s.received.map((r) => r.body.toString()),
      ['one', 'two', 'two'],
    );
  });

  it('reads the samples-written header, and ignores a garbage one', async (t) => {
    for (const [value, expected] of [
      ['123', 123],
      [' 0 ', 0],
      ['abc', null],
      ['-1', null],
      ['1.5', null],
      ['99999999999999999999', null],
    ] as const) {
      const s = await answering(t, 200, '', { 'X-Prometheus-Remote-Write-Samples-Written': value });
      const r = expectKind(await send(newClient(t, s.url)), 'success');
      assert.equal(r.samplesWritten, expected, `header ${JSON.stringify(value)}`);
    }
  });

  it('treats every 2xx as success, whatever the body', async (t) => {
    const s = await answering(t, 202, 'x'.repeat(5000));
    const r = expectKind(await send(newClient(t, s.url)), 'success');
    assert.equal(r.status, 202);
  });
});

// ---- HTTP errors -----------------------------------------------------------------------------------------------

describe('HttpWriteClient: HTTP answers that are not 2xx', () => {
  it('returns 5xx as retryable with the receiver text', async (t) => {
    for (const status of [500, 502, 503, 599]) {
      const s = await answering(t, status, `too old sample (${status})`);
      const r = expectKind(await send(newClient(t, s.url)), 'retryable');
      assert.deepEqual(r, {
        kind: 'retryable',
        status,
        message: `too old sample (${status})`,
        retryAfterMs: null,
        connected: true,
      });
    }
  });

  it('parses Retry-After in seconds', async (t) => {
    for (const [value, expected] of [
      ['7', 7000],
      ['0', 0],
      [' 120 ', 120_000],
      ['-5', null],
      ['1.5', null],
      ['soon', null],
      ['', null],
      ['99999999999999999999999', null],
    ] as const) {
      const s = await answering(t, 503, '', { 'Retry-After': value });
      const r = expectKind(await send(newClient(t, s.url)), 'retryable');
      assert.equal(r.retryAfterMs, expected, `Retry-After ${JSON.stringify(value)}`);
    }
  });

  it('parses Retry-After as an HTTP-date', async (t) => {
    const future = new Date(Date.now() + 120_000).toUTCString();
    const s = await answering(t, 503, '', { 'Retry-After': future });
    const r = expectKind(await send(newClient(t, s.url)), 'retryable');
    assert.ok(r.retryAfterMs !== null, 'date not parsed');
    // The date has one-second resolution, so the delay is a little under two minutes.
    assert.ok(r.retryAfterMs > 100_000 && r.retryAfterMs <= 120_000, `got ${r.retryAfterMs}`);

    const past = await answering(t, 503, '', { 'Retry-After': 'Sun, 06 Nov 1994 08:49:37 GMT' });
    assert.equal(expectKind(await send(newClient(t, past.url)), 'retryable').retryAfterMs, 0);
    const bad = await answering(t, 503, '', { 'Retry-After': 'Sun, 32 Nov 1994 08:49:37 GMT' });
    assert.equal(expectKind(await send(newClient(t, bad.url)), 'retryable').retryAfterMs, null);
  });

  it('retries 429 only when retryOn429 is set', async (t) => {
    const s = await answering(t, 429, 'slow down', { 'Retry-After': '3' });
    const on = expectKind(await send(newClient(t, s.url, { retryOn429: true })), 'retryable');
    assert.deepEqual(on, {
      kind: 'retryable',
      status: 429,
      message: 'slow down',
      retryAfterMs: 3000,
      connected: true,
    });
    const off = expectKind(await send(newClient(t, s.url, { retryOn429: false })), 'failure');
    assert.deepEqual(off, {
      kind: 'failure',
      status: 429,
      message: 'slow down',
      unsupportedMediaType: false,
    });
  });

  it('flags 415 as unsupported media type, and no other status', async (t) => {
    const s = await answering(t, 415, 'unsupported content type');
    const r = expectKind(await send(newClient(t, s.url)), 'failure');
    assert.deepEqual(r, {
      kind: 'failure',
      status: 415,
      message: 'unsupported content type',
      unsupportedMediaType: true,
    });
    for (const status of [400, 404, 409, 413, 422]) {
      const o = await answering(t, status, `status ${status}`);
      const f = expectKind(await send(newClient(t, o.url)), 'failure');
      assert.equal(f.status, status);
      assert.equal(f.message, `status ${status}`);
      assert.equal(f.unsupportedMediaType, false);
    }
  });

  it('returns a 400 text verbatim, without parsing it', async (t) => {
    const text = '  {"error": "out of order sample"}\r\n\tline two: ünïcödé \u0000 <b>html</b>\n\n';
    const s = await answering(t, 400, text, { 'Content-Type': 'application/json' });
    const r = expectKind(await send(newClient(t, s.url)), 'failure');
    assert.equal(r.message, text);
  });

  it('keeps only the first KiB of a longer text', async (t) => {
    const text = Array.from({ length: 3000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
    const s = await answering(t, 400, text);
    const r = expectKind(await send(newClient(t, s.url)), 'failure');
    assert.equal(r.message, text.slice(0, 1024));
    const five = await answering(t, 500, text);
    assert.equal(expectKind(await send(newClient(t, five.url)), 'retryable').message, text.slice(0, 1024));
  });

  it(
    'stops reading a 10 MB error body after the first KiB and drops the connection',
    { timeout: 30_000 },
    async (t) => {
      // Only the first 64 KiB of the announced 10 MB ever come: a client that read on would wait forever (no
      // deadline is set), so the test's own timeout turns that into a failure.
      let responseClosed: Promise<unknown> | undefined;
      const s = await serve(t, (_req, res) => {
        responseClosed = once(res, 'close');
        res.writeHead(400, { 'Content-Length': String(10 * 1024 * 1024) });
        res.write(Buffer.alloc(64 * 1024, 'e'));
      });
      const c = newClient(t, s.url, { timeoutMs: 0 });
      const r = expectKind(await send(c), 'failure');
      assert.equal(r.status, 400);
      assert.equal(r.message, 'e'.repeat(1024));
      // The client hung up on the unfinished response rather than leaving the connection to read on.
      assert.ok(responseClosed !== undefined);
      await responseClosed;
      expectKind(await send(c), 'failure');
      assert.equal(s.connections(), 2);
    },
  );

  it('decides by the status when the body breaks off or never ends', async (t) => {
    const cut = await serve(t, (req, res) => {
      res.writeHead(503, { 'Content-Length': '100' });
      res.write('partial');
      setImmediate(() => req.socket.destroy());
    });
    const r = expectKind(await send(newClient(t, cut.url)), 'retryable');
    assert.equal(r.status, 503);
    assert.equal(r.message, 'partial');

    const stalled = await serve(t, (_req, res) => {
      res.writeHead(404, { 'Content-Length': '100' });
      res.write('not all');
    });
    const f = expectKind(await send(newClient(t, stalled.url, { timeoutMs: 200 })), 'failure');
    assert.equal(f.status, 404);
    assert.equal(f.message, 'not all');

    const ok = await serve(t, (_req, res) => {
      res.writeHead(200, { 'Content-Length': '100' });
      res.write('half');
    });
    expectKind(await send(newClient(t, ok.url, { timeoutMs: 200 })), 'success');
  });

  it('does not follow redirects', async (t) => {
    const s = await answering(t, 307, 'moved', { Location: '/elsewhere' });
    for (const follow of [true, false]) {
      const c = newClient(t, s.url, { http: httpConfig({ follow_redirects: follow }) });
      const r = expectKind(await send(c), 'failure');
      assert.equal(r.status, 307);
      assert.match(r.message, /does not follow redirects/);
      assert.equal(r.unsupportedMediaType, false);
    }
    assert.deepEqual(
      s.received.map((x) => x.url),
      ['/api/v1/write', '/api/v1/write'],
    );
  });

  it('treats a status outside the defined classes as a failure', async (t) => {
    const s = await answering(t, 600, 'odd');
    const r = expectKind(await send(newClient(t, s.url)), 'failure');
    assert.equal(r.status, 600);
  });
});

// ---- network trouble -----------------------------------------------------------------------------------------

describe('HttpWriteClient: network trouble', () => {
  it('returns a timeout as retryable when the server hangs', async (t) => {
    const s = await serve(t, () => {
      // Never answers.
    });
    const r = expectKind(await send(newClient(t, s.url, { timeoutMs: 100 })), 'retryable');
    assert.equal(r.status, null);
    assert.equal(r.retryAfterMs, null);
    assert.match(r.message, /timed out after 0\.1s/);
    assert.equal(r.connected, true, 'the body went on the wire');
    assert.match(r.message, /^Post "http:\/\/127\.0\.0\.1:\d+\/api\/v1\/write": /);
  });

  it('returns connection refused as retryable, without the URL credentials', async (t) => {
    const port = await closedPort();
    const c = newClient(t, `http://robot:hunter2@127.0.0.1:${port}/write`, {
      http: httpConfig({ authorization: { type: 'Bearer', credentials: 'tok3n' } }),
      headers: { 'X-Api-Key': 'k3y' },
    });
    const r = expectKind(await send(c), 'retryable');
    assert.equal(r.status, null);
    assert.match(r.message, /ECONNREFUSED/);
    assert.equal(r.connected, false, 'nothing went on the wire');
    assert.match(r.message, new RegExp(`^Post "http://127\\.0\\.0\\.1:${port}/write": `));
    for (const secret of ['robot', 'hunter2', 'tok3n', 'k3y']) assert.ok(!r.message.includes(secret), secret);
  });

  it('returns a connection closed without an answer as retryable', async (t) => {
    const s = await serve(t, (req) => req.socket.destroy());
    const r = expectKind(await send(newClient(t, s.url)), 'retryable');
    assert.equal(r.status, null);
    assert.match(r.message, /socket hang up|ECONNRESET/);
    assert.equal(r.connected, true);
  });

  it('returns a garbage answer as retryable', async (t) => {
    const s = await serve(t, (req) => {
      req.socket.end('HTTP/1.1 abc nonsense\r\n\r\n');
    });
    const r = expectKind(await send(newClient(t, s.url)), 'retryable');
    assert.equal(r.status, null);
    assert.match(r.message, /HPE_|Parse Error/);
  });

  it('returns "aborted" when the signal fires, before or during the request', async (t) => {
    const s = await serve(t, () => {
      // Never answers.
    });
    const c = newClient(t, s.url);
    const pre = new AbortController();
    pre.abort();
    assert.deepEqual(await send(c, undefined, pre.signal), {
      kind: 'retryable',
      status: null,
      message: 'aborted',
      retryAfterMs: null,
      connected: false,
    });
    assert.equal(s.received.length, 0);

    const during = new AbortController();
    const p = send(c, undefined, during.signal);
    while (s.received.length === 0) await new Promise((res) => setImmediate(res));
    during.abort();
    assert.deepEqual(await p, {
      kind: 'retryable',
      status: null,
      message: 'aborted',
      retryAfterMs: null,
      connected: true,
    });
  });

  it('ends running stores on close, and refuses later ones', async (t) => {
    const s = await serve(t, () => {
      // Never answers.
    });
    const c = newClient(t, s.url, { timeoutMs: 0 });
    const p = send(c);
    while (s.received.length === 0) await new Promise((res) => setImmediate(res));
    c.close();
    const r = expectKind(await p, 'retryable');
    assert.equal(r.status, null);
    expectKind(await send(c), 'retryable');
    assert.equal(s.received.length, 1);
  });

  it('fails without sending when the configuration cannot work', async (t) => {
    const s = await answering(t, 204);
    const badHeader = newClient(t, s.url, { headers: { 'X-Token': 'abc\r\nInjected: yes' } });
    const h = expectKind(await send(badHeader), 'failure');
    assert.equal(h.status, 0);
    assert.ok(!h.message.includes('abc'), h.message);
    const ftp = expectKind(await send(newClient(t, 'ftp://127.0.0.1/x')), 'failure');
    assert.equal(ftp.status, 0);
    assert.match(ftp.message, /unsupported protocol scheme "ftp"/);
    const junk = expectKind(await send(newClient(t, 'http://user:pw@[::1')), 'failure');
    assert.equal(junk.status, 0);
    assert.ok(!junk.message.includes('pw'), junk.message);
    assert.equal(s.received.length, 0);
  });
});

// ---- TLS ----------------------------------------------------------------------------------------------------------

interface Pki {
  readonly ca: string;
  readonly otherCa: string;
  readonly serverCert: string;
  readonly serverKey: string;
}

/** A throwaway CA and server certificate, plus an unrelated CA, made with the openssl CLI (as in http.test.ts). */
function makePki(dir: string): Pki {
  try {
    execSync('command -v openssl', { stdio: 'pipe', shell: '/bin/sh' });
  } catch {
    throw new Error('the TLS tests need the openssl CLI: apt-get install openssl');
  }
  const ssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const makeCa = (name: string): void =>
    ssl(
      'req',
      '-x509',
      ...ec,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-subj',
      `/CN=storewatch test ${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
  makeCa('ca');
  makeCa('other');
  writeFileSync(
    join(dir, 'server.ext'),
    'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n',
  );
  ssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=server');
  ssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'server.ext',
  );
  const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
  return {
    ca: read('ca.crt'),
    otherCa: read('other.crt'),
    serverCert: read('server.crt'),
    serverKey: read('server.key'),
  };
}

describe('HttpWriteClient over TLS', () => {
  let dir = '';
  let pki: Pki;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'storewatch-remote-tls-'));
    pki = makePki(dir);
  });
  after(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  function tlsServer(t: TestContext): Promise<Served> {
    return serve(
      t,
      (_req, res) => {
        res.writeHead(204, { 'X-Prometheus-Remote-Write-Samples-Written': '2' });
        res.end();
      },
      https.createServer({ key: pki.serverKey, cert: pki.serverCert }),
    );
  }

  it('writes to a server signed by the configured CA', async (t) => {
    const s = await tlsServer(t);
    const body = randomBytes(50_000);
    const c = newClient(t, s.url, { http: httpConfig({}, { ca: pki.ca }) });
    assert.deepEqual(await send(c, body), { kind: 'success', status: 204, samplesWritten: 2 });
    assert.ok(s.received[0]!.body.equals(body));
  });

  it('returns an untrusted server as a retryable TLS error', async (t) => {
    const s = await tlsServer(t);
    for (const cfg of [httpConfig({}, { ca: pki.otherCa }), httpConfig()]) {
      const r = expectKind(await send(newClient(t, s.url, { http: cfg })), 'retryable');
      assert.equal(r.status, null);
      assert.match(r.message, /tls: certificate signed by unknown authority/);
    }
    assert.equal(s.received.length, 0);
  });

  it('returns unloadable TLS material as a failure of https only, without the material', async (t) => {
    const cfg = httpConfig({}, { cert: 'not a certificate', key: 'not a key' });
    const s = await tlsServer(t);
    const r = expectKind(await send(newClient(t, s.url, { http: cfg })), 'failure');
    assert.equal(r.status, 0);
    assert.match(r.message, /invalid TLS configuration/);
    assert.ok(!r.message.includes('not a key'));
    assert.equal(s.received.length, 0);
    const plain = await answering(t, 204);
    expectKind(await send(newClient(t, plain.url, { http: cfg })), 'success');
  });
});
