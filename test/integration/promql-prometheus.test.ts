// The query API against the real Prometheus 2.42: the same OpenMetrics data (starting in 1970) imported into
// storewatch with the real CLI (`storewatch tsdb import`) and into Prometheus with `promtool tsdb
// create-blocks-from openmetrics`; the same HTTP requests to both must give the same answers: instant and
// range queries (values within 1e-9 relative), series, label names and values, and the error types, status
// codes and (where the API itself writes them) messages of bad requests.
//
// Known, deliberate version differences are kept out of the data rather than papered over in the comparison:
// samples sit 7 s off the evaluation grid (2.42's range selectors are left-closed, 3.x's left-open) and no
// evaluation is near the start of a series (3.x caps rate()'s extrapolation to the series start differently).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import express from 'express';
import { silentLogger } from '../../appliance/model/logger.ts';
import { Engine } from '../../appliance/promql/engine.ts';
import { Tsdb } from '../../appliance/tsdb/db.ts';
import { apiRouter } from '../../appliance/web/api.ts';
import type { ProcessHandle, TempDir } from './peers.ts';
import { freePort, requireBinary, spawnProcess, tempDir, waitFor } from './peers.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..', '..');
/** Data from 1970-01-01T00:00:07Z for 3 hours at 15 s (timestamps 7 s off the minute grid). */
const T0 = 7;
const STEP = 15;
const POINTS = (3 * 3600) / STEP;

function openMetrics(): string {
  const lines: string[] = ['# HELP http_requests Requests.', '# TYPE http_requests counter'];
  const codes = ['200', '500'];
  for (let inst = 0; inst < 3; inst++) {
    for (const code of codes) {
      let v = 0;
      for (let k = 0; k < POINTS; k++) {
        v += ((k * 3 + inst) % 7) + (code === '500' ? 0.25 : 1.5);
        // One counter reset in the middle of host-1's 200s.
        if (inst === 1 && code === '200' && k === POINTS / 2) v = 1;
        lines.push(
          `http_requests_total{code="${code}",instance="host-${inst}",job="${inst < 2 ? 'pos' : 'node'}"} ${v} ${T0 + k * STEP}`,
        );
      }
    }
  }
  lines.push('# TYPE up gauge');
  for (let inst = 0; inst < 3; inst++) {
    // host-2 stops reporting after 90 minutes: lookback decides how long it is still seen.
    const n = inst === 2 ? (90 * 60) / STEP : POINTS;
    for (let k = 0; k < n; k++)
      lines.push(
        `up{instance="host-${inst}",job="${inst < 2 ? 'pos' : 'node'}"} ${k % 50 === 3 ? 0 : 1} ${T0 + k * STEP}`,
      );
  }
  lines.push('# TYPE temp_celsius gauge', '# UNIT temp_celsius celsius');
  for (let k = 0; k < POINTS; k++)
    lines.push(`temp_celsius{room="store"} ${(20 + Math.sin(k / 10) * 3).toFixed(3)} ${T0 + k * STEP}`);
  lines.push('# TYPE req_seconds histogram');
  const les = ['0.1', '0.5', '1.0', '+Inf'];
  for (let j = 0; j < les.length; j++) {
    let total = 0;
    for (let k = 0; k < POINTS; k++) {
      total += 3 + (k % 5);
      lines.push(
        `req_seconds_bucket{le="${les[j]}"} ${Math.floor((total * (j + 1)) / les.length)} ${T0 + k * STEP}`,
      );
    }
  }
  lines.push('# EOF');
  return lines.join('\n') + '\n';
}

type Json = { status: string; data?: unknown; errorType?: string; error?: string; warnings?: string[] };

async function getJson(base: string, p: string): Promise<{ status: number; body: Json }> {
  const r = await fetch(base + p);
  return { status: r.status, body: (await r.json()) as Json };
}

function close(a: string, b: string): boolean {
  if (a === b) return true;
  const x = Number(a);
  const y = Number(b);
  return (
    Number.isFinite(x) && Number.isFinite(y) && Math.abs(x - y) <= 1e-9 * Math.max(Math.abs(x), Math.abs(y))
  );
}

/** Compares query `data` objects; vectors and matrices as sets of series (instant vector order is unspecified). */
function sameData(a: unknown, b: unknown, what: string): void {
  const x = a as { resultType: string; result: unknown };
  const y = b as { resultType: string; result: unknown };
  assert.equal(x.resultType, y.resultType, what);
  if (x.resultType === 'scalar' || x.resultType === 'string') {
    const [t1, v1] = x.result as [number, string];
    const [t2, v2] = y.result as [number, string];
    assert.equal(t1, t2, what);
    assert.ok(close(v1, v2), `${what}: ${v1} vs ${v2}`);
    return;
  }
  type S = { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] };
  const key = (s: S): string => JSON.stringify(Object.entries(s.metric).sort());
  const xs = new Map((x.result as S[]).map((s) => [key(s), s]));
  const ys = new Map((y.result as S[]).map((s) => [key(s), s]));
  assert.deepEqual([...xs.keys()].sort(), [...ys.keys()].sort(), `${what}: same series`);
  for (const [k, s] of xs) {
    const o = ys.get(k)!;
    const p1 = s.values ?? [s.value!];
    const p2 = o.values ?? [o.value!];
    assert.equal(p1.length, p2.length, `${what} ${k}: point count`);
    for (let i = 0; i < p1.length; i++) {
      assert.equal(p1[i]![0], p2[i]![0], `${what} ${k}: timestamp ${i}`);
      assert.ok(close(p1[i]![1], p2[i]![1]), `${what} ${k} at ${p1[i]![0]}: ${p1[i]![1]} vs ${p2[i]![1]}`);
    }
  }
}

describe('query API vs Prometheus 2.42 on the same imported data', () => {
  let dir: TempDir;
  let prom: ProcessHandle;
  let promBase = '';
  let swBase = '';
  let server: http.Server;
  let db: Tsdb;

  before(async () => {
    const promtool = requireBinary('promtool', 'prometheus');
    const prometheus = requireBinary('prometheus', 'prometheus');
    dir = await tempDir('sw-promql-');
    const file = path.join(dir.path, 'data.om');
    fs.writeFileSync(file, openMetrics());
    const swDir = path.join(dir.path, 'sw');
    const imp = await run(process.execPath, [
      path.join(ROOT, 'appliance', 'cli.ts'),
      'tsdb',
      'import',
      '--storage.path',
      swDir,
      file,
    ]);
    assert.match(imp.stdout, /^imported \d+ samples of 14 series/);
    await run(promtool, [
      'tsdb',
      'create-blocks-from',
      'openmetrics',
      '-q',
      file,
      path.join(dir.path, 'prom'),
    ]);
    fs.writeFileSync(path.join(dir.path, 'prometheus.yml'), 'global: {}\n');
    const port = await freePort();
    prom = spawnProcess(prometheus, [
      `--config.file=${path.join(dir.path, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir.path, 'prom')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=100y',
    ]);
    promBase = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${promBase}/-/ready`)).ok, 60_000);

    db = Tsdb.open({
      dir: swDir,
      openDatabase: (f) => new Database(f),
      now: Date.now,
      logger: silentLogger,
      retentionTimeMs: 0,
      retentionSizeBytes: 0,
    });
    const app = express();
    app.use(
      apiRouter({
        queryable: db,
        engine: new Engine({ maxSamples: 50_000_000, timeoutMs: 60_000, lookbackDeltaMs: 300_000 }),
        metadata: () => new Map(),
        now: Date.now,
        logger: silentLogger,
      }),
    );
    server = http.createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    swBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await prom?.stop();
    if (server) await new Promise((r) => server.close(r));
    db?.close();
    await dir?.remove();
  });

  const instantQueries = [
    'up',
    'http_requests_total',
    'rate(http_requests_total[5m])',
    'sum by (job) (rate(http_requests_total[5m]))',
    'increase(http_requests_total{instance="host-1"}[10m])',
    'topk(2, http_requests_total)',
    'http_requests_total{code=~"5.."}',
    'histogram_quantile(0.9, sum by (le) (rate(req_seconds_bucket[5m])))',
    'temp_celsius offset 10m',
    'avg_over_time(temp_celsius[10m])',
    'count(up == 1)',
    'sum without (code) (http_requests_total) / on (instance) group_left sum by (instance) (up)',
    'label_replace(up, "host", "$1", "instance", "host-(.*)")',
    'absent(nonexistent_metric)',
    'scalar(sum(up))',
    '1 + 1',
    'time()',
    '"hello"',
  ];
  // 30 min in (away from series starts; no time is 7 s past a 15 s mark, where samples sit), 100 min (host-2 gone for 10 min: past the 5 min lookback), 93 min
  // (host-2 still within lookback), and a millisecond time.
  const times = ['1800', '6000', '5580', '7200.123'];

  it('answers instant queries like Prometheus', async () => {
    for (const q of instantQueries) {
      for (const t of times) {
        const p = `/api/v1/query?query=${encodeURIComponent(q)}&time=${t}`;
        const [a, b] = await Promise.all([getJson(swBase, p), getJson(promBase, p)]);
        assert.equal(
          a.status,
          b.status,
          `${q} @ ${t}: ${JSON.stringify(a.body)} vs ${JSON.stringify(b.body)}`,
        );
        assert.equal(a.body.status, 'success', `${q} @ ${t}: ${a.body.error}`);
        sameData(a.body.data, b.body.data, `${q} @ ${t}`);
      }
    }
  });

  it('answers range queries like Prometheus, GET and POST form', async () => {
    const ranges = [
      ['1200', '10800', '60'],
      ['1213.5', '9000', '37'],
      ['1970-01-01T00:30:00Z', '1970-01-01T02:30:00Z', '5m'],
    ];
    for (const q of instantQueries.filter((x) => x !== '"hello"')) {
      for (const [start, end, step] of ranges) {
        const form = new URLSearchParams({ query: q, start: start!, end: end!, step: step! }).toString();
        const post = (base: string): Promise<Response> =>
          fetch(`${base}/api/v1/query_range`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
            body: form,
          });
        const [ra, rb] = await Promise.all([post(swBase), post(promBase)]);
        const a = (await ra.json()) as Json;
        const b = (await rb.json()) as Json;
        assert.equal(ra.status, rb.status, `${q} ${form}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
        assert.equal(a.status, 'success', `${q}: ${a.error}`);
        sameData(a.data, b.data, `${q} [${start}, ${end}] step ${step}`);
      }
    }
  });

  it('lists series, label names and label values like Prometheus', async () => {
    const paths = [
      `/api/v1/series?match[]=${encodeURIComponent('up')}&match[]=${encodeURIComponent('{__name__=~"http.*",code="500"}')}`,
      `/api/v1/series?match[]=${encodeURIComponent('{job="node"}')}&start=0&end=20000`,
      '/api/v1/labels',
      `/api/v1/labels?match[]=${encodeURIComponent('temp_celsius')}`,
      '/api/v1/label/__name__/values',
      `/api/v1/label/instance/values?match[]=${encodeURIComponent('up{job="pos"}')}`,
      '/api/v1/label/nonexistent/values',
    ];
    for (const p of paths) {
      const [a, b] = await Promise.all([getJson(swBase, p), getJson(promBase, p)]);
      assert.equal(a.status, 200, `${p}: ${JSON.stringify(a.body)}`);
      const sortSeries = (d: unknown): unknown =>
        Array.isArray(d) ? [...d].sort((x, y) => (JSON.stringify(x) < JSON.stringify(y) ? -1 : 1)) : d;
      assert.deepEqual(sortSeries(a.body.data), sortSeries(b.body.data), p);
    }
  });

  it('fails bad requests with Prometheus’s status codes, error types and API messages', async () => {
    // [path, compare the message too]
    const cases: [string, boolean][] = [
      [`/api/v1/query?query=${encodeURIComponent('sum(')}`, false],
      [`/api/v1/query?query=${encodeURIComponent('rate(up)')}`, false],
      [`/api/v1/query?query=${encodeURIComponent('up{')}`, false],
      ['/api/v1/query?query=up&time=abc', false],
      ['/api/v1/query?query=up&timeout=xyz', true],
      ['/api/v1/query_range?query=up&start=10&end=5&step=1', true],
      ['/api/v1/query_range?query=up&start=0&end=100&step=0', true],
      ['/api/v1/query_range?query=up&start=0&end=11001&step=1', true],
      ['/api/v1/query_range?query=up&start=abc&end=100&step=1', true],
      ['/api/v1/query_range?query=up&start=0&end=100&step=x', true],
      ['/api/v1/series', true],
      [`/api/v1/series?match[]=${encodeURIComponent('{foo=~".*"}')}`, false],
      ['/api/v1/labels?start=nope', false],
    ];
    for (const [p, sameMessage] of cases) {
      const [a, b] = await Promise.all([getJson(swBase, p), getJson(promBase, p)]);
      assert.equal(a.status, b.status, `${p}: ${JSON.stringify(a.body)} vs ${JSON.stringify(b.body)}`);
      assert.equal(a.body.status, 'error', p);
      assert.equal(a.body.errorType, b.body.errorType, p);
      if (sameMessage) assert.equal(a.body.error, b.body.error, p);
    }
  });

  it('`storewatch query` prints the same data object as the API', async () => {
    db.close();
    try {
      const swDir = path.join(dir.path, 'sw');
      const q = 'sum by (job) (rate(http_requests_total[5m]))';
      const inst = await run(process.execPath, [
        path.join(ROOT, 'appliance', 'cli.ts'),
        'query',
        '--storage.path',
        swDir,
        '--time',
        '1800',
        q,
      ]);
      const b = await getJson(promBase, `/api/v1/query?query=${encodeURIComponent(q)}&time=1800`);
      sameData(JSON.parse(inst.stdout), b.body.data, 'cli instant');
      const range = await run(process.execPath, [
        path.join(ROOT, 'appliance', 'cli.ts'),
        'query',
        '--storage.path',
        swDir,
        '--start',
        '1970-01-01T00:30:00Z',
        '--end',
        '7200',
        '--step',
        '1m',
        q,
      ]);
      const rb = await getJson(
        promBase,
        `/api/v1/query_range?query=${encodeURIComponent(q)}&start=1800&end=7200&step=60`,
      );
      sameData(JSON.parse(range.stdout), rb.body.data, 'cli range');
      await assert.rejects(
        run(process.execPath, [
          path.join(ROOT, 'appliance', 'cli.ts'),
          'query',
          '--storage.path',
          swDir,
          'sum(',
        ]),
        (err: { code?: number; stderr?: string }) =>
          err.code === 1 && /^error \(bad_data\): /.test(err.stderr ?? ''),
      );
    } finally {
      db = Tsdb.open({
        dir: path.join(dir.path, 'sw'),
        openDatabase: (f) => new Database(f),
        now: Date.now,
        logger: silentLogger,
        retentionTimeMs: 0,
        retentionSizeBytes: 0,
      });
    }
  });
});
