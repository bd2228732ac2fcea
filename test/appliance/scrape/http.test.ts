import assert from 'node:assert/strict';
import { execFileSync, execSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { inspect } from 'node:util';
import zlib from 'node:zlib';
import type { HTTPClientConfig, TLSConfig } from '../../../appliance/config/schema.ts';
import type { HttpScrapeOptions, ScrapeFailureKind } from '../../../appliance/scrape/http.ts';
import { HttpScrapeClient, ScrapeHttpError } from '../../../appliance/scrape/http.ts';

// ---- helpers ----------------------------------------------------------------------------------------------

const ACCEPT = 'text/plain;version=0.0.4;q=0.9,*/*;q=0.1';
const UA = 'storewatch-test/1.0';

function config(over: Partial<HTTPClientConfig> = {}, tlsOver: Partial<TLSConfig> = {}): HTTPClientConfig {
  return {
    follow_redirects: true,
    enable_http2: false,
    ...over,
    tls_config: { insecure_skip_verify: false, min_version: 'TLS12', ...tlsOver },
  };
}

function options(over: Partial<HttpScrapeOptions> = {}): HttpScrapeOptions {
  return { accept: ACCEPT, timeoutMs: 10_000, bodySizeLimit: 0, userAgent: UA, ...over };
}

function newClient(t: TestContext, cfg: HTTPClientConfig = config()): HttpScrapeClient {
  const c = new HttpScrapeClient(cfg);
  t.after(() => c.close());
  return c;
}

interface Served {
  readonly base: string;
  readonly port: number;
}

/** An HTTP(S) server on 127.0.0.1, closed (with all its connections) when the test ends. */
async function serve(
  t: TestContext,
  handler: http.RequestListener,
  server: http.Server | https.Server = http.createServer(),
): Promise<Served> {
  server.on('request', handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const port = (server.address() as net.AddressInfo).port;
  const scheme = server instanceof https.Server ? 'https' : 'http';
  return { base: `${scheme}://127.0.0.1:${port}`, port };
}

/** A raw TCP server on 127.0.0.1 for peers that misbehave below HTTP; returns its base URL. */
async function serveRaw(t: TestContext, onSocket: (s: net.Socket) => void): Promise<Served> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    // Reading keeps the socket flowing, so that the client's hang-up is seen as 'end' and 'close'.
    s.resume();
    onSocket(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const port = (server.address() as net.AddressInfo).port;
  return { base: `http://127.0.0.1:${port}`, port };
}

async function failure(p: Promise<unknown>, kind: ScrapeFailureKind): Promise<ScrapeHttpError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ScrapeHttpError, `expected a ScrapeHttpError, got ${String(e)}`);
    assert.equal(e.name, 'ScrapeHttpError');
    assert.equal(e.kind, kind, `wrong kind; message: ${e.message}`);
    return e;
  }
  return assert.fail(`expected the scrape to fail with ${kind}`);
}

/** gzip of `total` zero bytes, compressed in pieces so the test itself never holds the plain bytes. */
async function gzipZeros(total: number): Promise<Buffer> {
  const gz = zlib.createGzip({ level: 9 });
  const out: Buffer[] = [];
  gz.on('data', (c: Buffer) => out.push(c));
  const zeros = Buffer.alloc(1 << 20);
  for (let done = 0; done < total; done += zeros.length) {
    if (!gz.write(zeros)) await once(gz, 'drain');
  }
  gz.end();
  await once(gz, 'end');
  return Buffer.concat(out);
}

const METRICS = '# TYPE up gauge\nup 1\nprocess_start_time_seconds 1.7e9\n';

// ---- plain HTTP ---------------------------------------------------------------------------------------------

describe('HttpScrapeClient over HTTP', () => {
  it('returns a 200 body with its content type and wire size', async (t) => {
    const s = await serve(t, (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
      res.end(METRICS);
    });
    const r = await newClient(t).scrape(`${s.base}/metrics`, options());
    assert.equal(r.status, 200);
    assert.equal(r.contentType, 'text/plain; version=0.0.4');
    assert.equal(r.body.toString('utf8'), METRICS);
    assert.equal(r.wireBytes, Buffer.byteLength(METRICS));
  });

  it('accepts any 2xx and an absent content type', async (t) => {
    const s = await serve(t, (_req, res) => {
      res.writeHead(203);
      res.end('x 1\n');
    });
    const r = await newClient(t).scrape(`${s.base}/`, options());
    assert.equal(r.status, 203);
    assert.equal(r.contentType, undefined);
    assert.equal(r.body.toString(), 'x 1\n');
  });

  it('sends the Prometheus scrape headers and the path with its query', async (t) => {
    let seen: http.IncomingHttpHeaders = {};
    let url = '';
    const s = await serve(t, (req, res) => {
      seen = req.headers;
      url = req.url ?? '';
      res.end('ok');
    });
    await newClient(t).scrape(`${s.base}/probe?module=if_mib&target=a%20b`, options({ timeoutMs: 2500 }));
    assert.equal(url, '/probe?module=if_mib&target=a%20b');
    assert.equal(seen.accept, ACCEPT);
    assert.equal(seen['accept-encoding'], 'gzip');
    assert.equal(seen['user-agent'], UA);
    assert.equal(seen['x-prometheus-scrape-timeout-seconds'], '2.5');
    assert.equal(seen.authorization, undefined);
    assert.equal(seen.host, `127.0.0.1:${s.port}`);
  });

  it('writes whole seconds in the timeout header without a fraction', async (t) => {
    let seen: string | undefined;
    const s = await serve(t, (req, res) => {
      seen = req.headers['x-prometheus-scrape-timeout-seconds'] as string;
      res.end('ok');
    });
    await newClient(t).scrape(s.base, options({ timeoutMs: 10_000 }));
    assert.equal(seen, '10');
  });

  it('sends basic auth from the config', async (t) => {
    let auth: string | undefined;
    const s = await serve(t, (req, res) => {
      auth = req.headers.authorization;
      res.end('ok');
    });
    const c = newClient(t, config({ basic_auth: { username: 'scraper', password: 'pä:ss' } }));
    await c.scrape(s.base, options());
    assert.equal(auth, `Basic ${Buffer.from('scraper:pä:ss').toString('base64')}`);
  });

  it('sends the Authorization header with its type', async (t) => {
    const seen: (string | undefined)[] = [];
    const s = await serve(t, (req, res) => {
      seen.push(req.headers.authorization);
      res.end('ok');
    });
    await newClient(t, config({ authorization: { type: 'Bearer', credentials: 'tok-123' } })).scrape(
      s.base,
      options(),
    );
    await newClient(t, config({ authorization: { type: 'Token', credentials: 'abc' } })).scrape(
      s.base,
      options(),
    );
    assert.deepEqual(seen, ['Bearer tok-123', 'Token abc']);
  });

  it('keeps the connection alive between scrapes of a target', async (t) => {
    let connections = 0;
    const server = http.createServer();
    server.on('connection', () => connections++);
    const s = await serve(t, (_req, res) => res.end('ok'), server);
    const c = newClient(t);
    for (let i = 0; i < 3; i++) assert.equal((await c.scrape(s.base, options())).body.toString(), 'ok');
    assert.equal(connections, 1);
  });

  it('retries once on a new connection when the server dropped the kept-alive one', async (t) => {
    let connection = 0;
    const s = await serveRaw(t, (sock) => {
      const n = ++connection;
      let requests = 0;
      let buf = '';
      sock.on('data', (d: Buffer) => {
        buf += d.toString('latin1');
        while (buf.includes('\r\n\r\n')) {
          buf = buf.slice(buf.indexOf('\r\n\r\n') + 4);
          requests++;
          // The first connection answers one request, then dies on the next as an idle-closed socket would.
          if (n === 1 && requests > 1) {
            sock.destroy();
            return;
          }
          const body = `conn${n}`;
          sock.write(
            `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: keep-alive\r\n\r\n${body}`,
          );
        }
      });
    });
    const c = newClient(t);
    assert.equal((await c.scrape(s.base, options())).body.toString(), 'conn1');
    assert.equal((await c.scrape(s.base, options())).body.toString(), 'conn2');
    assert.equal(connection, 2);
  });

  it('reports 500 and 404 as http_status with the status', async (t) => {
    const s = await serve(t, (req, res) => {
      res.writeHead(req.url === '/missing' ? 404 : 500, { 'Content-Type': 'text/plain' });
      res.end('oops');
    });
    const c = newClient(t);
    const e500 = await failure(c.scrape(`${s.base}/metrics`, options()), 'http_status');
    assert.equal(e500.status, 500);
    assert.match(e500.message, /server returned HTTP status 500 Internal Server Error/);
    assert.ok(e500.message.includes(`${s.base}/metrics`), e500.message);
    const e404 = await failure(c.scrape(`${s.base}/missing`, options()), 'http_status');
    assert.equal(e404.status, 404);
    assert.match(e404.message, /server returned HTTP status 404 Not Found/);
  });

  it('clips a hostile reason phrase', async (t) => {
    const s = await serveRaw(t, (sock) => {
      sock.once('data', () => sock.end(`HTTP/1.1 502 ${'x'.repeat(5000)}\r\nContent-Length: 0\r\n\r\n`));
    });
    const e = await failure(newClient(t).scrape(s.base, options()), 'http_status');
    assert.equal(e.status, 502);
    assert.ok(e.message.length < 300, `message of ${e.message.length} characters`);
  });
});

// ---- gzip and body size ---------------------------------------------------------------------------------------

describe('HttpScrapeClient bodies', () => {
  it('decompresses a gzip body and reports the compressed size', async (t) => {
    const plain = METRICS.repeat(200);
    const gz = zlib.gzipSync(plain);
    const s = await serve(t, (_req, res) => {
      res.writeHead(200, { 'Content-Encoding': 'gzip', 'Content-Type': 'text/plain' });
      res.end(gz);
    });
    const r = await newClient(t).scrape(s.base, options({ bodySizeLimit: plain.length }));
    assert.equal(r.body.toString(), plain);
    assert.equal(r.wireBytes, gz.length);
    assert.ok(r.wireBytes < r.body.length);
  });

  it('leaves a body with another content encoding as it came', async (t) => {
    const s = await serve(t, (_req, res) => {
      res.writeHead(200, { 'Content-Encoding': 'identity' });
      res.end('a 1\n');
    });
    assert.equal((await newClient(t).scrape(s.base, options())).body.toString(), 'a 1\n');
  });

  it('stops a gzip bomb at the limit: 100 MB of zeros against 1 MB', async (t) => {
    const bomb = await gzipZeros(100 << 20);
    assert.ok(bomb.length < 1 << 20, 'the bomb is small on the wire');
    const s = await serve(t, (_req, res) => {
      res.writeHead(200, { 'Content-Encoding': 'gzip' });
      res.end(bomb);
    });
    const e = await failure(
      newClient(t).scrape(s.base, options({ bodySizeLimit: 1 << 20 })),
      'body_too_large',
    );
    assert.match(e.message, /body size limit exceeded/);
  });

  it('stops reading a gzip bomb at once instead of waiting for its end', async (t) => {
    const bomb = await gzipZeros(100 << 20);
    let serverSocket: net.Socket | undefined;
    const s = await serve(t, (req, res) => {
      serverSocket = req.socket;
      res.writeHead(200, { 'Content-Encoding': 'gzip' });
      // Half the bomb (about 50 MB decoded), then silence: a client that reads to the end would time out.
      res.write(bomb.subarray(0, bomb.length >> 1));
    });
    const closed = new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (serverSocket !== undefined) {
          clearInterval(check);
          if (serverSocket.destroyed) resolve();
          else serverSocket.once('close', () => resolve());
        }
      }, 5);
    });
    await failure(
      newClient(t).scrape(s.base, options({ bodySizeLimit: 1 << 20, timeoutMs: 60_000 })),
      'body_too_large',
    );
    await closed;
  });

  it('refuses a plain body over the limit, and takes one exactly at it', async (t) => {
    const s = await serve(t, (req, res) => {
      // Chunked, so the size is only known by reading.
      res.write('a'.repeat(600));
      res.end('b'.repeat(req.url === '/big' ? 401 : 400));
    });
    const c = newClient(t);
    const ok = await c.scrape(`${s.base}/exact`, options({ bodySizeLimit: 1000 }));
    assert.equal(ok.body.length, 1000);
    const e = await failure(c.scrape(`${s.base}/big`, options({ bodySizeLimit: 1000 })), 'body_too_large');
    assert.match(e.message, /body size limit exceeded/);
  });

  it('applies the limit to the decompressed size, not the wire size', async (t) => {
    const plain = Buffer.alloc(5000, 'z');
    const gz = zlib.gzipSync(plain);
    const s = await serve(t, (_req, res) => {
      res.writeHead(200, { 'Content-Encoding': 'gzip' });
      res.end(gz);
    });
    const c = newClient(t);
    assert.equal((await c.scrape(s.base, options({ bodySizeLimit: 5000 }))).body.length, 5000);
    await failure(c.scrape(s.base, options({ bodySizeLimit: 4999 })), 'body_too_large');
  });

  it('refuses an announced Content-Length over the limit without waiting for the body', async (t) => {
    const s = await serveRaw(t, (sock) => {
      sock.once('data', () => sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2000000\r\n\r\nabc'));
    });
    await failure(
      newClient(t).scrape(s.base, options({ bodySizeLimit: 1 << 20, timeoutMs: 60_000 })),
      'body_too_large',
    );
  });

  it('has no limit when bodySizeLimit is 0', async (t) => {
    const big = Buffer.alloc(3 << 20, 'm');
    const s = await serve(t, (_req, res) => res.end(big));
    const r = await newClient(t).scrape(s.base, options({ bodySizeLimit: 0 }));
    assert.equal(r.body.length, big.length);
    assert.ok(r.body.equals(big));
  });

  it('reports a corrupt gzip body as decompress', async (t) => {
    const gz = zlib.gzipSync(METRICS.repeat(50));
    const corrupt = Buffer.from(gz);
    for (let i = 10; i < corrupt.length - 8; i++) corrupt[i] = (corrupt[i]! ^ 0x5a) & 0xff;
    const s = await serve(t, (req, res) => {
      res.writeHead(200, { 'Content-Encoding': 'gzip' });
      res.end(req.url === '/garbage' ? Buffer.from('this is not gzip at all') : corrupt);
    });
    const c = newClient(t);
    const e = await failure(c.scrape(`${s.base}/corrupt`, options()), 'decompress');
    assert.match(e.message, /gzip/);
    await failure(c.scrape(`${s.base}/garbage`, options()), 'decompress');
  });

  it('reports a gzip stream cut short inside a complete HTTP body as decompress', async (t) => {
    const gz = zlib.gzipSync(METRICS.repeat(50));
    const s = await serve(t, (_req, res) => {
      res.writeHead(200, { 'Content-Encoding': 'gzip' });
      res.end(gz.subarray(0, gz.length >> 1));
    });
    await failure(newClient(t).scrape(s.base, options()), 'decompress');
  });

  it('takes an empty 2xx body', async (t) => {
    const s = await serve(t, (_req, res) => {
      res.writeHead(204);
      res.end();
    });
    const r = await newClient(t).scrape(s.base, options({ bodySizeLimit: 10 }));
    assert.equal(r.status, 204);
    assert.equal(r.body.length, 0);
  });
});

// ---- redirects --------------------------------------------------------------------------------------------------

describe('HttpScrapeClient redirects', () => {
  it('follows a redirect and keeps credentials on the same host', async (t) => {
    const seen: { url: string | undefined; auth: string | undefined }[] = [];
    const s = await serve(t, (req, res) => {
      seen.push({ url: req.url, auth: req.headers.authorization });
      if (req.url === '/old') {
        res.writeHead(302, { Location: '/new' });
        res.end('moved');
      } else {
        res.end('new body');
      }
    });
    const c = newClient(t, config({ authorization: { type: 'Bearer', credentials: 'tok' } }));
    const r = await c.scrape(`${s.base}/old`, options());
    assert.equal(r.body.toString(), 'new body');
    assert.deepEqual(seen, [
      { url: '/old', auth: 'Bearer tok' },
      { url: '/new', auth: 'Bearer tok' },
    ]);
  });

  it('drops credentials once redirected to another host, for the rest of the chain', async (t) => {
    const seen: { url: string | undefined; auth: string | undefined }[] = [];
    const s = await serve(t, (req, res) => {
      seen.push({ url: req.url, auth: req.headers.authorization });
      // "localhost" is another host name for the same loopback server.
      if (req.url === '/a')
        res.writeHead(307, { Location: `http://localhost:${s.port}/b`, 'Content-Length': 0 });
      else if (req.url === '/b') res.writeHead(308, { Location: `http://127.0.0.1:${s.port}/c` });
      res.end(req.url === '/c' ? 'c' : undefined);
    });
    const c = newClient(t, config({ basic_auth: { username: 'u', password: 'p' } }));
    const r = await c.scrape(`${s.base}/a`, options());
    assert.equal(r.body.toString(), 'c');
    assert.equal(seen.length, 3);
    assert.ok(seen[0]!.auth?.startsWith('Basic '));
    assert.equal(seen[1]!.auth, undefined);
    assert.equal(seen[2]!.auth, undefined);
  });

  it('reports a 3xx as http_status when redirects are not followed', async (t) => {
    let hits = 0;
    const s = await serve(t, (_req, res) => {
      hits++;
      res.writeHead(302, { Location: '/elsewhere' });
      res.end();
    });
    const e = await failure(
      newClient(t, config({ follow_redirects: false })).scrape(s.base, options()),
      'http_status',
    );
    assert.equal(e.status, 302);
    assert.match(e.message, /server returned HTTP status 302 Found/);
    assert.equal(hits, 1);
  });

  it('stops after 10 redirects', async (t) => {
    let hits = 0;
    const s = await serve(t, (req, res) => {
      hits++;
      res.writeHead(301, { Location: `/loop${hits}` });
      res.end();
    });
    const e = await failure(newClient(t).scrape(`${s.base}/loop0`, options()), 'redirect');
    assert.match(e.message, /stopped after 10 redirects/);
    // Go's count: the 10th redirect response ends it, so 9 redirects are followed.
    assert.equal(hits, 10);
  });

  it('follows 9 redirects in a row', async (t) => {
    const s = await serve(t, (req, res) => {
      const n = Number(req.url?.slice(1));
      if (n < 9) res.writeHead(302, { Location: `/${n + 1}` });
      res.end(`hop ${n}`);
    });
    assert.equal((await newClient(t).scrape(`${s.base}/0`, options())).body.toString(), 'hop 9');
  });

  it('refuses a redirect to another scheme and a 3xx without Location', async (t) => {
    const s = await serve(t, (req, res) => {
      if (req.url === '/ftp') res.writeHead(302, { Location: 'ftp://127.0.0.1/metrics' });
      else res.writeHead(301);
      res.end();
    });
    const c = newClient(t);
    await failure(c.scrape(`${s.base}/ftp`, options()), 'redirect');
    const e = await failure(c.scrape(`${s.base}/none`, options()), 'http_status');
    assert.equal(e.status, 301);
  });
});

// ---- failures below HTTP --------------------------------------------------------------------------------------

/** Resolves when the server side of the first accepted connection has closed. */
function firstSocketClosed(): { onSocket: (s: net.Socket) => void; closed: Promise<void> } {
  let resolve: () => void = () => {};
  const closed = new Promise<void>((r) => (resolve = r));
  let first = true;
  return {
    onSocket: (s) => {
      if (!first) return;
      first = false;
      s.on('close', () => resolve());
    },
    closed,
  };
}

describe('HttpScrapeClient connection failures', () => {
  it('times out against a server that accepts and never answers, and drops the socket', async (t) => {
    const watch = firstSocketClosed();
    const s = await serveRaw(t, watch.onSocket);
    const e = await failure(newClient(t).scrape(`${s.base}/metrics`, options({ timeoutMs: 200 })), 'timeout');
    assert.match(e.message, /timed out after 0\.2s/);
    await watch.closed;
  });

  it('times out against a body that trickles forever', async (t) => {
    const s = await serve(t, (_req, res) => {
      res.writeHead(200, { 'Content-Length': 1_000_000 });
      const tick = setInterval(() => res.write('#'), 10);
      res.on('close', () => clearInterval(tick));
    });
    await failure(newClient(t).scrape(s.base, options({ timeoutMs: 300 })), 'timeout');
  });

  it('times out against a gzip body that trickles forever', async (t) => {
    const gz = zlib.gzipSync(Buffer.alloc(1 << 16, 'q'));
    const s = await serve(t, (_req, res) => {
      res.writeHead(200, { 'Content-Encoding': 'gzip' });
      let i = 0;
      const tick = setInterval(() => res.write(gz.subarray(i, ++i)), 10);
      res.on('close', () => clearInterval(tick));
    });
    await failure(newClient(t).scrape(s.base, options({ timeoutMs: 300 })), 'timeout');
  });

  it('reports a body cut off mid-way as a connection error, never a partial success', async (t) => {
    const s = await serveRaw(t, (sock) => {
      sock.once('data', (d: Buffer) => {
        const path = d.toString('latin1').split(' ')[1];
        if (path === '/length') sock.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nup 1\n');
        else if (path === '/chunked') {
          sock.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nup 1\n\r\n');
        } else {
          const gz = zlib.gzipSync(METRICS.repeat(100));
          sock.write(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${gz.length}\r\n\r\n`);
          sock.write(gz.subarray(0, gz.length >> 1));
        }
        setTimeout(() => sock.destroy(), 20);
      });
    });
    const c = newClient(t);
    for (const path of ['/length', '/chunked', '/gzip']) {
      await failure(c.scrape(`${s.base}${path}`, options()), 'connection');
    }
  });

  it('reports a server that hangs up before answering as a connection error', async (t) => {
    const s = await serveRaw(t, (sock) => sock.once('data', () => sock.destroy()));
    await failure(newClient(t).scrape(s.base, options()), 'connection');
  });

  it('reports garbage instead of HTTP as a connection error', async (t) => {
    const s = await serveRaw(t, (sock) => sock.once('data', () => sock.end('SSH-2.0-OpenSSH_9.2\r\n')));
    await failure(newClient(t).scrape(s.base, options()), 'connection');
  });

  it('reports a closed port as connection_refused', async (t) => {
    const probe = net.createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as net.AddressInfo).port;
    probe.close();
    await once(probe, 'close');
    const e = await failure(
      newClient(t).scrape(`http://127.0.0.1:${port}/metrics`, options()),
      'connection_refused',
    );
    assert.match(e.message, /ECONNREFUSED/);
  });

  it('ends with aborted when the signal fires mid-scrape, and drops the socket', async (t) => {
    const ac = new AbortController();
    const watch = firstSocketClosed();
    const s = await serveRaw(t, (sock) => {
      watch.onSocket(sock);
      sock.once('data', () => ac.abort());
    });
    const e = await failure(newClient(t).scrape(s.base, options({ signal: ac.signal })), 'aborted');
    assert.match(e.message, /aborted/);
    await watch.closed;
  });

  it('ends with aborted when the signal fires while the body is read', async (t) => {
    const ac = new AbortController();
    const s = await serve(t, (_req, res) => {
      res.writeHead(200, { 'Content-Length': 100 });
      res.write('up ', () => setTimeout(() => ac.abort(), 20));
    });
    await failure(newClient(t).scrape(s.base, options({ signal: ac.signal })), 'aborted');
  });

  it('does not start a scrape whose signal is already aborted', async (t) => {
    let connections = 0;
    const s = await serveRaw(t, () => connections++);
    await failure(newClient(t).scrape(s.base, options({ signal: AbortSignal.abort() })), 'aborted');
    assert.equal(connections, 0);
  });

  it('ends running scrapes on close() and refuses new ones', async (t) => {
    let accepted: () => void = () => {};
    const connected = new Promise<void>((r) => (accepted = r));
    const s = await serveRaw(t, () => accepted());
    const c = newClient(t);
    const running = c.scrape(s.base, options());
    await connected;
    c.close();
    await failure(running, 'aborted');
    await failure(c.scrape(s.base, options()), 'aborted');
  });

  it('refuses a URL that is not http or https', async (t) => {
    await failure(newClient(t).scrape('ftp://127.0.0.1/metrics', options()), 'connection');
    await failure(newClient(t).scrape('not a url', options()), 'connection');
  });
});

// ---- credentials stay out of errors ---------------------------------------------------------------------------

describe('HttpScrapeClient error messages', () => {
  const SECRETS = ['S3cretPass', 'TopSecretToken', 'urlpass', 'locpass', 'urluser', 'locuser'];

  function assertClean(e: ScrapeHttpError): void {
    const texts = [e.message, String(e), e.stack ?? '', inspect(e), JSON.stringify(e)];
    for (const text of texts) {
      for (const secret of SECRETS) assert.ok(!text.includes(secret), `${secret} leaked into: ${text}`);
      assert.ok(!text.includes(Buffer.from('scraper:S3cretPass').toString('base64')), text);
    }
  }

  it('never shows credentials, for any kind of failure', async (t) => {
    const bomb = await gzipZeros(8 << 20);
    const s = await serve(t, (req, res) => {
      switch (req.url) {
        case '/status':
          res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="x"' });
          res.end(`you sent ${req.headers.authorization}`);
          return;
        case '/hang':
          return;
        case '/loop':
          res.writeHead(302, { Location: `http://locuser:locpass@127.0.0.1:${s.port}/loop` });
          res.end();
          return;
        case '/bomb':
          res.writeHead(200, { 'Content-Encoding': 'gzip' });
          res.end(bomb);
          return;
        default:
          res.writeHead(200, { 'Content-Encoding': 'gzip' });
          res.end('not gzip');
      }
    });
    const closedPort = await (async () => {
      const p = net.createServer().listen(0, '127.0.0.1');
      await once(p, 'listening');
      const port = (p.address() as net.AddressInfo).port;
      p.close();
      await once(p, 'close');
      return port;
    })();
    const auths: Partial<HTTPClientConfig>[] = [
      { basic_auth: { username: 'scraper', password: 'S3cretPass' } },
      { authorization: { type: 'Bearer', credentials: 'TopSecretToken' } },
    ];
    const withUser = (path: string, port = s.port): string =>
      `http://urluser:urlpass@127.0.0.1:${port}${path}`;
    for (const auth of auths) {
      const c = newClient(t, config(auth));
      const cases: [string, ScrapeFailureKind, Partial<HttpScrapeOptions>][] = [
        [withUser('/status'), 'http_status', {}],
        [withUser('/hang'), 'timeout', { timeoutMs: 100 }],
        [withUser('/loop'), 'redirect', {}],
        [withUser('/bomb'), 'body_too_large', { bodySizeLimit: 1000 }],
        [withUser('/corrupt'), 'decompress', {}],
        [withUser('/m', closedPort), 'connection_refused', {}],
      ];
      for (const [url, kind, over] of cases) {
        const e = await failure(c.scrape(url, options(over)), kind);
        assertClean(e);
        assert.ok(e.message.includes('http://127.0.0.1:'), `the URL is named: ${e.message}`);
      }
    }
  });
});

// ---- TLS ----------------------------------------------------------------------------------------------------------

interface Pki {
  readonly ca: string;
  readonly otherCa: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
}

/** A throwaway CA with server and client certificates, made with the openssl CLI. */
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
  const makeLeaf = (name: string, ext: string): void => {
    writeFileSync(join(dir, `${name}.ext`), ext);
    ssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    );
  };
  makeCa('ca');
  makeCa('other');
  makeLeaf(
    'server',
    'subjectAltName=DNS:scrape.test,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n',
  );
  makeLeaf('client', 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n');
  const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
  return {
    ca: read('ca.crt'),
    otherCa: read('other.crt'),
    serverCert: read('server.crt'),
    serverKey: read('server.key'),
    clientCert: read('client.crt'),
    clientKey: read('client.key'),
  };
}

describe('HttpScrapeClient over TLS', () => {
  let dir = '';
  let pki: Pki;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'storewatch-http-tls-'));
    pki = makePki(dir);
  });
  after(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  async function tlsServer(
    t: TestContext,
    extra: https.ServerOptions = {},
  ): Promise<Served & { sni: string[] }> {
    const sni: string[] = [];
    const server = https.createServer({ key: pki.serverKey, cert: pki.serverCert, ...extra });
    const s = await serve(
      t,
      (req, res) => {
        const sock = req.socket as TLSSocket;
        sni.push(String((sock as TLSSocket & { servername?: string | false }).servername));
        const cn = sock.getPeerCertificate().subject?.CN;
        res.end(`hello ${typeof cn === 'string' ? cn : 'anonymous'}`);
      },
      server,
    );
    return { ...s, sni };
  }

  it('scrapes a server signed by the configured CA', async (t) => {
    const s = await tlsServer(t);
    const r = await newClient(t, config({}, { ca: pki.ca })).scrape(`${s.base}/metrics`, options());
    assert.equal(r.body.toString(), 'hello anonymous');
  });

  it('refuses a server signed by another CA, or by none the system knows', async (t) => {
    const s = await tlsServer(t);
    const e = await failure(newClient(t, config({}, { ca: pki.otherCa })).scrape(s.base, options()), 'tls');
    assert.match(e.message, /certificate signed by unknown authority/);
    assert.match(e.message, /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/);
    await failure(newClient(t, config()).scrape(s.base, options()), 'tls');
  });

  it('sends server_name as SNI and verifies the certificate against it', async (t) => {
    const s = await tlsServer(t);
    const ok = newClient(t, config({}, { ca: pki.ca, server_name: 'scrape.test' }));
    assert.equal((await ok.scrape(s.base, options())).body.toString(), 'hello anonymous');
    assert.deepEqual(s.sni, ['scrape.test']);
    const wrong = newClient(t, config({}, { ca: pki.ca, server_name: 'wrong.test' }));
    const e = await failure(wrong.scrape(s.base, options()), 'tls');
    assert.match(e.message, /ERR_TLS_CERT_ALTNAME_INVALID/);
  });

  it('skips verification with insecure_skip_verify', async (t) => {
    const s = await tlsServer(t);
    const c = newClient(t, config({}, { insecure_skip_verify: true, server_name: 'wrong.test' }));
    assert.equal((await c.scrape(s.base, options())).body.toString(), 'hello anonymous');
  });

  it('presents the client certificate a server requires, and fails without one', async (t) => {
    const s = await tlsServer(t, { ca: pki.ca, requestCert: true, rejectUnauthorized: true });
    const withCert = newClient(t, config({}, { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey }));
    assert.equal((await withCert.scrape(s.base, options())).body.toString(), 'hello client');
    const without = newClient(t, config({}, { ca: pki.ca }));
    const e = await failure(without.scrape(s.base, options()), 'tls');
    assert.match(e.message, /tls/);
  });

  it('refuses a server below min_version or above max_version', async (t) => {
    const old = await tlsServer(t, { maxVersion: 'TLSv1.2' });
    const c13 = newClient(t, config({}, { ca: pki.ca, min_version: 'TLS13' }));
    await failure(c13.scrape(old.base, options()), 'tls');
    const c12 = newClient(t, config({}, { ca: pki.ca, max_version: 'TLS12' }));
    assert.equal((await c12.scrape(old.base, options())).body.toString(), 'hello anonymous');
    const modern = await tlsServer(t, { minVersion: 'TLSv1.3' });
    await failure(c12.scrape(modern.base, options()), 'tls');
  });

  it('reports bad TLS material as a tls failure of https scrapes only', async (t) => {
    const c = newClient(t, config({}, { cert: 'not a certificate', key: 'not a key' }));
    const tlsS = await tlsServer(t);
    const e = await failure(c.scrape(tlsS.base, options()), 'tls');
    assert.match(e.message, /invalid TLS configuration/);
    assert.ok(!e.message.includes('not a key'));
    const plain = await serve(t, (_req, res) => res.end('plain'));
    assert.equal((await c.scrape(plain.base, options())).body.toString(), 'plain');
  });
});
