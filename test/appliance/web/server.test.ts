import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import net from 'node:net';
import {
  createWebApp,
  ListenAddressError,
  METRICS_CONTENT_TYPE,
  parseListenAddress,
  startWebServer,
} from '../../../appliance/web/server.ts';
import type { WebServer } from '../../../appliance/web/server.ts';
import { destination, fakeStatus, HOSTILE, recordingLogger, target } from './fake-status.ts';
import type { FakeStatus } from './fake-status.ts';

const METRICS_TEXT = '# HELP storewatch_up Up.\n# TYPE storewatch_up gauge\nstorewatch_up 1\n';

let fake: FakeStatus;
let logger: ReturnType<typeof recordingLogger>;
let metricsError: Error | null = null;
let server: WebServer;
let base: string;

before(async () => {
  fake = fakeStatus(Date.now());
  logger = recordingLogger();
  const app = createWebApp({
    // A wrapper, so that each test can swap the fake's data through the shared `fake` variable.
    status: {
      targets: () => fake.targets(),
      storage: () => fake.storage(),
      host: () => fake.host(),
      remote: () => fake.remote(),
      get build() {
        return fake.build;
      },
    },
    metrics: () => (metricsError ? Promise.reject(metricsError) : Promise.resolve(METRICS_TEXT)),
    logger,
  });
  server = await startWebServer(app, '127.0.0.1:0');
  base = `http://127.0.0.1:${server.port}`;
});

after(async () => {
  await server.close();
});

beforeEach(() => {
  fake = fakeStatus(Date.now());
  logger.lines.length = 0;
  metricsError = null;
});

async function get(path: string, init?: RequestInit): Promise<{ res: Response; body: string }> {
  const res = await fetch(base + path, init);
  return { res, body: await res.text() };
}

/** Parsed JSON is loosely typed on purpose: the tests check its shape field by field. */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function getJson(path: string): Promise<{ res: Response; json: Json }> {
  const { res, body } = await get(path);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  return { res, json: JSON.parse(body) };
}

test('server binds the requested loopback address and a real port', () => {
  assert.equal(server.address, '127.0.0.1');
  assert.ok(server.port > 0);
});

test('GET / renders the status page server-side with targets, host and storage', async () => {
  const { res, body } = await get('/');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/html; charset=utf-8/);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.match(body, /^<!doctype html>/);
  assert.match(body, /<h1>2 of 3 targets up<\/h1>/);
  assert.match(body, /class="banner bad"/);
  assert.match(body, /class="badge down">DOWN</);
  assert.match(body, /context deadline exceeded/);
  assert.match(body, /store-0042-edge/);
  assert.match(body, /Ingestion OK/);
  assert.match(body, /<title>✖ 2 of 3 targets up — store-0042-edge — storewatch<\/title>/);
});

test('GET / escapes hostile label values: they render as text, never as markup', async () => {
  fake.targetList.push(
    target({
      job: HOSTILE,
      instance: '"><script>alert(2)</script>',
      health: 'down',
      lastError: `</script><script>alert(3)</script>${HOSTILE}`,
    }),
  );
  fake.hostVitals = { ...fake.hostVitals!, hostname: HOSTILE };
  const { body } = await get('/');
  assert.doesNotMatch(body, /<img/i);
  assert.doesNotMatch(body, /<script>alert/);
  assert.match(body, /&lt;img src=x onerror=alert\(1\)&gt;/);
  assert.match(body, /&quot;&gt;&lt;script&gt;alert\(2\)&lt;\/script&gt;/);
  // Exactly one script element: the page's own.
  assert.equal(body.match(/<script/g)?.length, 1);
});

test('GET / references nothing external: no src/href, no url(), no @import, no http(s) URL', async () => {
  // Data without URLs, so that any http(s) text would have to come from the page itself.
  fake.targetList = fake.targetList.map((t) => ({
    ...t,
    labels: { job: t.labels['job'] ?? '', instance: t.labels['instance'] ?? '' },
    scrapeUrl: 'local',
    globalUrl: 'local',
    lastError: '',
  }));
  const { res, body } = await get('/');
  assert.doesNotMatch(body, /https?:/i);
  const markup = body.replace(/<script>[\s\S]*<\/script>/, '<script></script>');
  assert.doesNotMatch(markup, /<[a-z][^>]*\s(src|href|srcset|action|poster|data|xlink:href)\s*=/i);
  assert.doesNotMatch(body, /url\(/i);
  assert.doesNotMatch(body, /@import/i);
  assert.doesNotMatch(body, /<(link|img|iframe|object|embed)\b/i);
  assert.doesNotMatch(body, /innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  // The CSP allows exactly the inline script, by hash, and no other source.
  const csp = res.headers.get('content-security-policy') ?? '';
  const script = /<script>([\s\S]*)<\/script>/.exec(body)?.[1] ?? '';
  const hash = createHash('sha256').update(script, 'utf8').digest('base64');
  assert.match(csp, /default-src 'none'/);
  assert.ok(csp.includes(`script-src 'sha256-${hash}'`), csp);
  assert.match(csp, /connect-src 'self'/);
});

test('credentials in target URLs and errors are redacted everywhere', async () => {
  fake.targetList.push(
    target({
      job: 'pos',
      instance: 'pos-09:9182',
      health: 'down',
      scrapeUrl: 'http://admin:hunter2@pos-09:9182/metrics',
      globalUrl: 'http://admin:hunter2@pos-09:9182/metrics',
      lastError: 'Get "http://admin:hunter2@pos-09:9182/metrics": connection refused',
    }),
  );
  for (const path of ['/', '/api/v1/targets', '/api/v1/status/overview']) {
    const { body } = await get(path);
    assert.doesNotMatch(body, /hunter2/, path);
    assert.match(body, /xxxxx@pos-09:9182/, path);
  }
});

test('GET /api/v1/targets has Prometheus shape, all fields, and pools in name order', async () => {
  const { res, json } = await getJson('/api/v1/targets');
  assert.equal(res.status, 200);
  assert.equal(json.status, 'success');
  assert.deepEqual(Object.keys(json.data).sort(), ['activeTargets', 'droppedTargets']);
  assert.deepEqual(json.data.droppedTargets, []);
  const active = json.data.activeTargets;
  assert.deepEqual(
    active.map((t: Json) => String(t.scrapePool)),
    ['node', 'pos', 'snmp'],
  );
  const down = active.find((t: Json) => t.health === 'down');
  assert.deepEqual(down, JSON.parse(JSON.stringify(fake.targetList[1])));
  const snmp = active.find((t: Json) => t.scrapePool === 'snmp');
  assert.equal(snmp.labels.evil, HOSTILE, 'JSON carries the raw value; escaping is the HTML view’s job');
});

test('GET /api/v1/targets honours state like Prometheus', async () => {
  const cases: [string, number][] = [
    ['', 3],
    ['?state=any', 3],
    ['?state=active', 3],
    ['?state=ACTIVE', 3],
    ['?state=dropped', 0],
    ['?state=bogus', 0],
    ['?state=dropped&state=active', 0],
  ];
  for (const [query, n] of cases) {
    const { json } = await getJson(`/api/v1/targets${query}`);
    assert.equal(json.status, 'success', query);
    assert.equal(json.data.activeTargets.length, n, query);
    assert.deepEqual(json.data.droppedTargets, [], query);
  }
});

test('GET /api/v1/targets filters by scrapePool exactly', async () => {
  fake.targetList.push(target({ job: 'pos', instance: 'pos-08:9182', health: 'up' }));
  let r = await getJson('/api/v1/targets?scrapePool=pos');
  assert.deepEqual(
    r.json.data.activeTargets.map((t: Json) => String(t.labels.instance)),
    ['pos-07.store:9182', 'pos-08:9182'],
  );
  r = await getJson('/api/v1/targets?scrapePool=po');
  assert.deepEqual(r.json.data.activeTargets, []);
  r = await getJson('/api/v1/targets?state=dropped&scrapePool=pos');
  assert.deepEqual(r.json.data.activeTargets, []);
});

test('GET /api/v1/status/overview returns exactly targets, storage, host, remote, inventory, notScraped, graphs and build', async () => {
  const { res, json } = await getJson('/api/v1/status/overview');
  assert.equal(res.status, 200);
  assert.equal(json.status, 'success');
  assert.deepEqual(Object.keys(json.data).sort(), [
    'build',
    'graphs',
    'host',
    'inventory',
    'notScraped',
    'remote',
    'storage',
    'targets',
  ]);
  // The fake has no inventory source.
  assert.equal(json.data.inventory, null);
  assert.deepEqual(json.data.notScraped, []);
  assert.deepEqual(json.data.graphs, []);
  assert.deepEqual(json.data.remote, fake.remoteList);
  assert.equal(json.data.targets.length, 3);
  assert.deepEqual(json.data.storage, fake.storageStatus);
  assert.deepEqual(json.data.host, fake.hostVitals);
  assert.deepEqual(json.data.build, fake.build);

  fake.hostVitals = null;
  const again = await getJson('/api/v1/status/overview');
  assert.equal(again.json.data.host, null);
});

test('GET /api/v1/status/buildinfo has every Prometheus key', async () => {
  const { json } = await getJson('/api/v1/status/buildinfo');
  assert.equal(json.status, 'success');
  for (const k of ['version', 'revision', 'branch', 'buildUser', 'buildDate', 'goVersion']) {
    assert.equal(typeof json.data[k], 'string', k);
  }
  assert.equal(json.data.version, '0.1.0');
  assert.equal(json.data.revision, '0123456789abcdef');
  assert.equal(json.data.goVersion, 'v24.21.0');
});

test('GET /metrics passes the metrics text through with the exact exposition content type', async () => {
  const { res, body } = await get('/metrics');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), METRICS_CONTENT_TYPE);
  assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  assert.equal(body, METRICS_TEXT);
});

test('GET /metrics answers 500 and logs when the metrics function fails', async () => {
  metricsError = new Error('registry broken');
  const { res, body } = await get('/metrics');
  assert.equal(res.status, 500);
  assert.match(body, /registry broken/);
  assert.equal(logger.lines.filter((l) => l.level === 'error').length, 1);
});

test('health endpoints answer 200 text, also for HEAD', async () => {
  for (const path of ['/-/healthy', '/-/ready']) {
    const { res, body } = await get(path);
    assert.equal(res.status, 200, path);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(body, /^storewatch is (Healthy|Ready)\.\n$/);
    const head = await fetch(base + path, { method: 'HEAD' });
    assert.equal(head.status, 200);
  }
});

test('unknown API paths and methods answer 404 JSON in Prometheus error shape', async () => {
  for (const [path, method] of [
    ['/api/v1/query', 'GET'],
    ['/api/v2/targets', 'GET'],
    ['/api/v1/targets', 'POST'],
    ['/api/v1/status/overview/extra', 'GET'],
  ] as const) {
    const { res, body } = await get(path, { method });
    assert.equal(res.status, 404, `${method} ${path}`);
    const json = JSON.parse(body);
    assert.equal(json.status, 'error');
    assert.equal(json.errorType, 'not_found');
    assert.equal(typeof json.error, 'string');
    assert.ok(json.error.length > 0);
  }
});

test('unknown non-API paths answer 404 text; /favicon.ico answers 204', async () => {
  const { res, body } = await get('/targets');
  assert.equal(res.status, 404);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  assert.equal(body, '404 page not found\n');
  assert.equal((await get('/favicon.ico')).res.status, 204);
});

test('a throwing StatusSource yields 500 (JSON under /api), is logged, and the server keeps serving', async () => {
  fake.fail = new Error('tsdb is closed');
  for (const path of ['/api/v1/targets', '/api/v1/status/overview']) {
    const { json, res } = await getJson(path);
    assert.equal(res.status, 500, path);
    assert.deepEqual(json, { status: 'error', errorType: 'internal', error: 'tsdb is closed' });
  }
  const page = await get('/');
  assert.equal(page.res.status, 500);
  assert.match(page.res.headers.get('content-type') ?? '', /^text\/plain/);
  assert.match(page.body, /tsdb is closed/);
  assert.equal(logger.lines.filter((l) => l.level === 'error').length, 3);

  fake.fail = null;
  assert.equal((await get('/')).res.status, 200);
});

test('a non-Error throw from the source is handled too', async () => {
  fake.targets = () => {
    throw 'a string, not an Error'; // eslint-disable-line @typescript-eslint/only-throw-error
  };
  const { json, res } = await getJson('/api/v1/targets');
  assert.equal(res.status, 500);
  assert.equal(json.error, 'a string, not an Error');
});

test('error messages are redacted too', async () => {
  fake.fail = new Error('cannot reach http://u:hunter2@db/');
  const { body } = await get('/api/v1/status/overview');
  assert.doesNotMatch(body, /hunter2/);
});

test('garbage requests do not crash the server', async () => {
  const raw = await new Promise<string>((resolve, reject) => {
    const sock = net.connect(server.port, '127.0.0.1', () => sock.end('GARBAGE / NOT-HTTP\r\n\r\n'));
    let data = '';
    sock.on('data', (d: Buffer) => (data += d.toString()));
    sock.on('end', () => resolve(data));
    sock.on('error', reject);
  });
  assert.match(raw, /^HTTP\/1\.1 400/);
  const bad = await get('/api/v1/%E0%A4%A');
  assert.ok(bad.res.status === 404 || bad.res.status === 400, String(bad.res.status));
  const long = await get(`/api/v1/targets?scrapePool=${'x'.repeat(20_000)}`);
  assert.ok(long.res.status === 200 || long.res.status === 431, String(long.res.status));
  assert.equal((await get('/-/healthy')).res.status, 200);
});

test('parseListenAddress accepts host:port, [ipv6]:port and :port', () => {
  assert.deepEqual(parseListenAddress('127.0.0.1:9090'), { host: '127.0.0.1', port: 9090 });
  assert.deepEqual(parseListenAddress('localhost:0'), { host: 'localhost', port: 0 });
  assert.deepEqual(parseListenAddress('[::1]:8080'), { host: '::1', port: 8080 });
  assert.deepEqual(parseListenAddress('[::]:65535'), { host: '::', port: 65535 });
  assert.deepEqual(parseListenAddress(':9090'), { host: undefined, port: 9090 });
  for (const bad of [
    '',
    '9090',
    '127.0.0.1',
    '127.0.0.1:',
    '::1:9090',
    '[::1]',
    'h:65536',
    'h:-1',
    'h:9a',
    'a b:1',
  ]) {
    assert.throws(() => parseListenAddress(bad), ListenAddressError, bad);
  }
});

test('startWebServer rejects a bad address and a port in use', async () => {
  const app = createWebApp({ status: fake, metrics: () => Promise.resolve(''), logger });
  await assert.rejects(startWebServer(app, 'nonsense'), ListenAddressError);
  await assert.rejects(startWebServer(app, `127.0.0.1:${server.port}`), /EADDRINUSE/);
});

test('aborting the signal closes the server; close() is idempotent', async () => {
  const app = createWebApp({ status: fake, metrics: () => Promise.resolve(''), logger });
  const ac = new AbortController();
  const s = await startWebServer(app, '127.0.0.1:0', ac.signal);
  const url = `http://127.0.0.1:${s.port}/-/ready`;
  assert.equal((await fetch(url)).status, 200);
  ac.abort();
  await s.close();
  await s.close();
  await assert.rejects(fetch(url));

  const pre = new AbortController();
  pre.abort(new Error('shutting down'));
  await assert.rejects(startWebServer(app, '127.0.0.1:0', pre.signal), /shutting down/);
});

/** Every target up and disks healthy, so that only the destinations decide the banner. */
function healthyStore(): void {
  fake.targetList = fake.targetList.map((t) => ({ ...t, health: 'up' as const, lastError: '' }));
  fake.hostVitals = {
    ...fake.hostVitals!,
    filesystems: fake.hostVitals!.filesystems.filter((f) => f.mountpoint === '/'),
  };
}

test('GET / shows the Upstream section only when a destination is configured', async () => {
  healthyStore();
  let { body } = await get('/');
  assert.match(body, /class="banner ok"/);
  assert.match(body, /<h2>Upstream<span class="sub">1 of 1 delivering<\/span><\/h2>/);
  assert.match(body, /<li class="remote ok"><div class="t-head"><span class="badge ok">DELIVERING<\/span>/);
  assert.match(body, /<span class="t-job">central<\/span>/);

  fake.remoteList = [];
  ({ body } = await get('/'));
  // The markup only: the inline script carries the renderer's source, which names the section.
  const markup = body.replace(/<script>[\s\S]*<\/script>/, '').replace(/<style>[\s\S]*<\/style>/, '');
  assert.match(markup, /<h2>Targets/);
  assert.doesNotMatch(markup, /Upstream/);
  assert.doesNotMatch(markup, /class="remote/);
  const { json } = await getJson('/api/v1/status/overview');
  assert.deepEqual(json.data.remote, []);
});

test('GET / turns the banner amber for a destination hours behind and escapes its error text', async () => {
  healthyStore();
  const now = Date.now();
  fake.remoteList = [
    destination(now, {
      name: 'central',
      state: 'backing_off',
      sentThrough: now - 3 * 3_600_000 - 30 * 60_000,
      lastSuccess: now - 3 * 3_600_000,
      lastError: `HTTP 500: </script><script>alert(3)</script>${HOSTILE}`,
      lastErrorTime: now - 5_000,
    }),
  ];
  const { body } = await get('/');
  assert.match(body, /class="banner warn"/);
  assert.match(body, /<title>! 3 of 3 targets up/);
  assert.match(body, /<li class="p-warn">Upstream central: 3 h 30 min behind — HTTP 500: &lt;\/script&gt;/);
  assert.match(body, /class="badge warn">RETRYING</);
  assert.doesNotMatch(body, /<img/i);
  assert.doesNotMatch(body, /<script>alert/);
  assert.equal(body.match(/<script/g)?.length, 1);
  assert.ok(body.split('&lt;img src=x onerror=alert(1)&gt;').length >= 3, 'in the banner and in the card');

  // The JSON carries the raw text; escaping is the view's job.
  const { json } = await getJson('/api/v1/status/overview');
  assert.equal(json.data.remote[0].lastError, fake.remoteList[0]!.lastError);
  assert.equal(json.data.remote[0].state, 'backing_off');
});

test('destination JSON keeps only the documented fields and redacts credentials', async () => {
  const now = Date.now();
  fake.remoteList = [
    {
      ...destination(now, {
        name: 'https://ops:hunter2@central.example.invalid/api/v1/write',
        lastError: 'Post "https://ops:hunter2@central.example.invalid/api/v1/write": EOF',
        lastErrorTime: now,
        samplesDropped: { http_4xx: 7 },
      }),
      requests: 99,
      url: 'https://ops:hunter2@central.example.invalid/api/v1/write',
    } as ReturnType<typeof destination>,
  ];
  const { json } = await getJson('/api/v1/status/overview');
  const r = json.data.remote[0];
  assert.deepEqual(Object.keys(r).sort(), [
    'backlogBytes',
    'backlogSamples',
    'bytesSent',
    'drainRate',
    'etaSeconds',
    'lastError',
    'lastErrorTime',
    'lastSuccess',
    'name',
    'retries',
    'samplesDropped',
    'samplesSent',
    'sentThrough',
    'state',
  ]);
  assert.equal(r.lastError, 'Post "https://xxxxx@central.example.invalid/api/v1/write": EOF');
  assert.deepEqual(r.samplesDropped, { http_4xx: 7 });
  for (const path of ['/', '/api/v1/status/overview']) {
    const { body } = await get(path);
    assert.doesNotMatch(body, /hunter2/, path);
    assert.match(body, /xxxxx@central\.example\.invalid/, path);
  }
});
