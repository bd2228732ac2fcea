import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { labelsFromRecord } from '../../../appliance/model/labels.ts';
import { silentLogger } from '../../../appliance/model/logger.ts';
import type { Tsdb } from '../../../appliance/tsdb/db.ts';
import type { QueryEngine, QueryOutcome } from '../../../appliance/web/api.ts';
import {
  apiRouter,
  formatTimestamp,
  formatValue,
  parseDurationParam,
  parseTime,
  queryDataJson,
} from '../../../appliance/web/api.ts';
import { fakeClock, openTsdb, tempDir } from '../tsdb/helpers.ts';

const NOW = 1_700_000_000_000;

describe('value and parameter encoding (Prometheus semantics)', () => {
  it('formats values like Go strconv.FormatFloat with Prometheus switching to e-notation', () => {
    const cases: [number, string][] = [
      [1, '1'],
      [-1.5, '-1.5'],
      [0.1, '0.1'],
      [1 / 3, '0.3333333333333333'],
      [1e-6, '0.000001'],
      [1e-7, '1e-07'],
      [1.5e-7, '1.5e-07'],
      [123456789012345680000, '123456789012345680000'],
      [1e21, '1e+21'],
      [-2.5e300, '-2.5e+300'],
      [Infinity, '+Inf'],
      [-Infinity, '-Inf'],
      [NaN, 'NaN'],
      [0, '0'],
      [-0, '-0'],
      [5e-324, '5e-324'],
    ];
    for (const [v, s] of cases) assert.equal(formatValue(v), s, String(v));
  });

  it('formats timestamps as seconds with three-digit millisecond fractions', () => {
    assert.equal(formatTimestamp(1435781451781), '1435781451.781');
    assert.equal(formatTimestamp(1435781451000), '1435781451');
    assert.equal(formatTimestamp(1005), '1.005');
    assert.equal(formatTimestamp(1050), '1.050');
    assert.equal(formatTimestamp(0), '0');
    assert.equal(formatTimestamp(-1500), '-1.500');
  });

  it('parses times as float seconds, RFC 3339 and the min/max strings', () => {
    assert.equal(parseTime('1700000000'), 1_700_000_000_000);
    assert.equal(parseTime('1700000000.123'), 1_700_000_000_123);
    assert.equal(parseTime('1700000000.1235'), 1_700_000_000_124);
    assert.equal(parseTime('1.5e9'), 1_500_000_000_000);
    assert.equal(parseTime('-1.5'), -1500);
    assert.equal(parseTime('2023-11-14T22:13:20Z'), 1_700_000_000_000);
    assert.equal(parseTime('2023-11-14T22:13:20.9999Z'), 1_700_000_000_999);
    assert.equal(parseTime('2023-11-15T00:13:20+02:00'), 1_700_000_000_000);
    assert.ok(parseTime('-292273086-05-16T16:47:06Z') < -9e18);
    assert.ok(parseTime('292277025-08-18T07:12:54.999999999Z') > 9e18);
    for (const bad of [
      '',
      'now',
      'NaN',
      'Inf',
      '0x10',
      '1_000',
      '2023-02-30T00:00:00Z',
      '2023-11-14 22:13:20Z',
      ' 1',
    ]) {
      assert.throws(() => parseTime(bad), /cannot parse .* to a valid timestamp/, bad);
    }
  });

  it('parses durations as float seconds or Prometheus durations', () => {
    assert.equal(parseDurationParam('15'), 15_000);
    assert.equal(parseDurationParam('0.5'), 500);
    assert.equal(parseDurationParam('1m30s'), 90_000);
    assert.equal(parseDurationParam('1d'), 86_400_000);
    assert.throws(() => parseDurationParam('1e300'), /overflows int64/);
    assert.throws(() => parseDurationParam('15x'), /cannot parse "15x" to a valid duration/);
    assert.throws(() => parseDurationParam(''), /valid duration/);
  });

  it('encodes each result type in Prometheus JSON', () => {
    const labels = labelsFromRecord({ __name__: 'up', job: 'a"b' });
    assert.deepEqual(JSON.parse(queryDataJson({ type: 'scalar', t: 1500, v: 2 })), {
      resultType: 'scalar',
      result: [1.5, '2'],
    });
    assert.deepEqual(JSON.parse(queryDataJson({ type: 'string', t: 0, v: 'x"y' })), {
      resultType: 'string',
      result: [0, 'x"y'],
    });
    assert.deepEqual(JSON.parse(queryDataJson({ type: 'vector', series: [{ labels, t: 1000, v: NaN }] })), {
      resultType: 'vector',
      result: [{ metric: { __name__: 'up', job: 'a"b' }, value: [1, 'NaN'] }],
    });
    assert.equal(
      queryDataJson({ type: 'matrix', series: [{ labels, points: [{ t: 1, v: Infinity }] }] }),
      '{"resultType":"matrix","result":[{"metric":{"__name__":"up","job":"a\\"b"},"values":[[0.001,"+Inf"]]}]}',
    );
    assert.equal(queryDataJson({ type: 'vector', series: [] }), '{"resultType":"vector","result":[]}');
  });
});

/** An engine double: answers from `next` and records every call. */
function fakeEngine(): QueryEngine & {
  calls: unknown[][];
  next: (signal?: AbortSignal) => Promise<QueryOutcome>;
} {
  const e = {
    calls: [] as unknown[][],
    next: (_signal?: AbortSignal): Promise<QueryOutcome> =>
      Promise.resolve({ ok: true, value: { type: 'scalar', t: 0, v: 2 }, warnings: [], infos: [] }),
    instantQuery(_q: unknown, expr: string, t: number, signal?: AbortSignal) {
      e.calls.push(['instant', expr, t]);
      return e.next(signal);
    },
    rangeQuery(_q: unknown, expr: string, s: number, en: number, step: number, signal?: AbortSignal) {
      e.calls.push(['range', expr, s, en, step]);
      return e.next(signal);
    },
  };
  return e;
}

describe('apiRouter over a real TSDB', () => {
  let dir: string;
  let db: Tsdb;
  let server: http.Server;
  let base: string;
  const engine = fakeEngine();

  before(async () => {
    dir = tempDir('sw-api-');
    db = openTsdb(dir, fakeClock(NOW));
    const app = db.appender();
    for (let i = 0; i < 3; i++) {
      const t = NOW - 3_600_000 + i * 1_800_000;
      app.append(0, labelsFromRecord({ __name__: 'up', job: 'pos', instance: `p${i}` }), t, 1);
      app.append(0, labelsFromRecord({ __name__: 'node_load1', job: 'node', instance: 'h' }), t, 0.5);
    }
    app.append(0, labelsFromRecord({ __name__: 'old_metric', job: 'pos' }), NOW - 86_400_000, 1);
    app.commit();
    const web = express();
    web.use(
      apiRouter({
        queryable: db,
        engine,
        metadata: () =>
          new Map([
            ['up', { type: 'gauge', help: 'Target up.', unit: '' }],
            ['node_load1', { type: 'untyped', help: 'Load.', unit: '' }],
          ]),
        buildInfo: {
          version: '2.42.0',
          revision: '',
          branch: '',
          buildUser: '',
          buildDate: '',
          goVersion: 'node',
        },
        now: () => NOW,
        logger: silentLogger,
      }),
    );
    web.use((_req, res) => {
      res.status(404).json({ status: 'error', errorType: 'not_found', error: 'no such endpoint' });
    });
    web.use(
      (
        err: { status?: number; message: string },
        _req: express.Request,
        res: express.Response,
        _next: express.NextFunction,
      ) => {
        res.status(err.status ?? 500).json({ status: 'error', errorType: 'bad_data', error: err.message });
      },
    );
    server = http.createServer(web);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise((r) => server.close(r));
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  // Response bodies are loosely typed on purpose: every test compares them with deepEqual or checks a field.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Body = any;
  async function get(path: string): Promise<{ status: number; body: Body; type: string }> {
    const r = await fetch(base + path);
    return { status: r.status, body: await r.json(), type: r.headers.get('content-type') ?? '' };
  }
  async function post(path: string, form: string): Promise<{ status: number; body: Body }> {
    const r = await fetch(base + path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: form,
    });
    return { status: r.status, body: await r.json() };
  }

  it('answers an instant query, GET and POST, defaulting time to now', async () => {
    engine.calls.length = 0;
    const g = await get('/api/v1/query?query=1%2B1');
    assert.equal(g.status, 200);
    assert.match(g.type, /application\/json/);
    assert.deepEqual(g.body, { status: 'success', data: { resultType: 'scalar', result: [0, '2'] } });
    const p = await post('/api/v1/query', 'query=up&time=1700000000.5');
    assert.equal(p.status, 200);
    assert.deepEqual(engine.calls, [
      ['instant', '1+1', NOW],
      ['instant', 'up', NOW + 500],
    ]);
  });

  it('prefers form body values over URL values, like Go r.FormValue', async () => {
    engine.calls.length = 0;
    await post('/api/v1/query?query=fromurl&time=1', 'query=frombody');
    assert.deepEqual(engine.calls, [['instant', 'frombody', 1000]]);
  });

  it('passes warnings and infos through', async () => {
    const prev = engine.next;
    engine.next = () =>
      Promise.resolve({ ok: true, value: { type: 'vector', series: [] }, warnings: ['w1'], infos: ['i1'] });
    try {
      const r = await get('/api/v1/query?query=x');
      assert.deepEqual(r.body, {
        status: 'success',
        data: { resultType: 'vector', result: [] },
        warnings: ['w1'],
        infos: ['i1'],
      });
    } finally {
      engine.next = prev;
    }
  });

  it('maps engine failures to Prometheus error types and status codes', async () => {
    const prev = engine.next;
    const cases: [string, number, string, RegExp][] = [
      ['bad_data', 400, 'bad_data', /^invalid parameter "query": 1:3: parse error/],
      ['execution', 422, 'execution', /boom/],
      ['too_many_samples', 422, 'execution', /boom/],
      ['timeout', 503, 'timeout', /boom/],
      ['canceled', 503, 'canceled', /boom/],
    ];
    try {
      for (const [kind, status, type, re] of cases) {
        engine.next = () =>
          Promise.resolve({
            ok: false,
            error: {
              kind: kind as 'execution',
              message: kind === 'bad_data' ? '1:3: parse error: x' : 'boom',
            },
          });
        const r = await get('/api/v1/query?query=x');
        assert.equal(r.status, status, kind);
        assert.equal(r.body.status, 'error');
        assert.equal(r.body.errorType, type);
        assert.match(r.body.error, re);
      }
    } finally {
      engine.next = prev;
    }
  });

  it('turns the timeout parameter into a timeout error', async () => {
    const prev = engine.next;
    engine.next = (signal) =>
      new Promise((resolve) => {
        signal?.addEventListener('abort', () =>
          resolve({ ok: false, error: { kind: 'canceled', message: 'query was canceled' } }),
        );
      });
    try {
      const r = await get('/api/v1/query?query=x&timeout=0.01');
      assert.equal(r.status, 503);
      assert.equal(r.body.errorType, 'timeout');
      const bad = await get('/api/v1/query?query=x&timeout=soon');
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error, 'invalid parameter "timeout": cannot parse "soon" to a valid duration');
    } finally {
      engine.next = prev;
    }
  });

  it('validates query_range parameters with Prometheus messages', async () => {
    const cases: [string, string][] = [
      ['query=up&end=10&step=1', 'invalid parameter "start": cannot parse "" to a valid timestamp'],
      ['query=up&start=x&end=10&step=1', 'invalid parameter "start": cannot parse "x" to a valid timestamp'],
      [
        'query=up&start=10&end=5&step=1',
        'invalid parameter "end": end timestamp must not be before start time',
      ],
      [
        'query=up&start=0&end=10&step=abc',
        'invalid parameter "step": cannot parse "abc" to a valid duration',
      ],
      [
        'query=up&start=0&end=10&step=0',
        'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer',
      ],
      [
        'query=up&start=0&end=11001&step=1',
        'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
      ],
    ];
    for (const [q, msg] of cases) {
      const r = await get(`/api/v1/query_range?${q}`);
      assert.equal(r.status, 400, q);
      assert.deepEqual(r.body, { status: 'error', errorType: 'bad_data', error: msg });
    }
    engine.calls.length = 0;
    const ok = await post('/api/v1/query_range', 'query=up&start=0&end=11000&step=1');
    assert.equal(ok.status, 200);
    const iso = await get(
      '/api/v1/query_range?query=up&start=2023-11-14T22:13:20Z&end=2023-11-14T23:13:20Z&step=1m',
    );
    assert.equal(iso.status, 200);
    assert.deepEqual(engine.calls, [
      ['range', 'up', 0, 11_000_000, 1000],
      ['range', 'up', NOW, NOW + 3_600_000, 60_000],
    ]);
  });

  it('lists series for repeated match[] within start/end, deduplicated and sorted, with a limit', async () => {
    const r = await get(
      `/api/v1/series?match[]=up&match[]=${encodeURIComponent('{job="pos",instance="p1"}')}&start=${(NOW - 7_200_000) / 1000}&end=${NOW / 1000}`,
    );
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.data, [
      { __name__: 'up', instance: 'p0', job: 'pos' },
      { __name__: 'up', instance: 'p1', job: 'pos' },
      { __name__: 'up', instance: 'p2', job: 'pos' },
    ]);
    const old = await get(`/api/v1/series?match[]=${encodeURIComponent('{job="pos"}')}`);
    assert.equal(old.body.data.length, 4, 'no start/end: all time');
    const lim = await get(`/api/v1/series?match[]=up&limit=2`);
    assert.equal(lim.body.data.length, 2);
    assert.deepEqual(lim.body.warnings, ['results truncated due to limit']);
    const none = await get('/api/v1/series');
    assert.deepEqual(none.body, {
      status: 'error',
      errorType: 'bad_data',
      error: 'no match[] parameter provided',
    });
    const empty = await get(`/api/v1/series?match[]=${encodeURIComponent('{job=~".*"}')}`);
    assert.equal(empty.status, 400);
    assert.match(empty.body.error, /at least one non-empty matcher/);
    const garbage = await get(`/api/v1/series?match[]=${encodeURIComponent('up{')}`);
    assert.equal(garbage.status, 400);
    assert.match(garbage.body.error, /^invalid parameter "match\[\]": /);
    const notSel = await get(`/api/v1/series?match[]=${encodeURIComponent('sum(up)')}`);
    assert.equal(notSel.status, 400);
  });

  it('lists label names and values, filtered by match[] and time', async () => {
    const names = await get('/api/v1/labels');
    assert.deepEqual(names.body, { status: 'success', data: ['__name__', 'instance', 'job'] });
    const filtered = await post(
      '/api/v1/labels',
      `match[]=old_metric&start=${(NOW - 2 * 86_400_000) / 1000}&end=${NOW / 1000}`,
    );
    assert.deepEqual(filtered.body.data, ['__name__', 'job']);
    const vals = await get('/api/v1/label/__name__/values');
    assert.deepEqual(vals.body.data, ['node_load1', 'old_metric', 'up']);
    const recent = await get(
      `/api/v1/label/job/values?match[]=${encodeURIComponent('{__name__=~".+"}')}&start=${(NOW - 7_200_000) / 1000}&end=${NOW / 1000}`,
    );
    assert.deepEqual(recent.body.data, ['node', 'pos']);
    const none = await get('/api/v1/label/nope/values');
    assert.deepEqual(none.body, { status: 'success', data: [] });
    const lim = await get('/api/v1/label/__name__/values?limit=1');
    assert.deepEqual(lim.body.data, ['node_load1']);
    assert.deepEqual(lim.body.warnings, ['results truncated due to limit']);
    const bad = await get('/api/v1/label/1bad/values');
    assert.deepEqual(bad.body, {
      status: 'error',
      errorType: 'bad_data',
      error: 'invalid label name: "1bad"',
    });
    const badLimit = await get('/api/v1/labels?limit=-1');
    assert.equal(badLimit.status, 400);
    const badTime = await get('/api/v1/labels?start=yesterday');
    assert.deepEqual(
      badTime.body.error,
      `invalid parameter "start": Invalid time value for 'start': cannot parse "yesterday" to a valid timestamp`,
    );
  });

  it('serves metadata with limit and metric filters', async () => {
    const all = await get('/api/v1/metadata');
    assert.deepEqual(all.body.data, {
      node_load1: [{ type: 'unknown', help: 'Load.', unit: '' }],
      up: [{ type: 'gauge', help: 'Target up.', unit: '' }],
    });
    assert.deepEqual(Object.keys((await get('/api/v1/metadata?limit=1')).body.data), ['node_load1']);
    assert.deepEqual(Object.keys((await get('/api/v1/metadata?metric=up')).body.data), ['up']);
    assert.equal((await get('/api/v1/metadata?limit=x')).status, 400);
  });

  it('answers the request sequence of Grafana’s Prometheus data source', async () => {
    // Connect / "Save & test": buildinfo, then an instant 1+1 query sent as a POST form.
    const bi = await get('/api/v1/status/buildinfo');
    assert.equal(bi.body.status, 'success');
    assert.equal(typeof bi.body.data.version, 'string');
    const health = await post('/api/v1/query', `query=1%2B1&time=${NOW / 1000}`);
    assert.equal(health.status, 200);
    // Query editor (Grafana's language provider): label names and values for a time range with its default
    // limit=40000, with match[] once a metric is picked; the series fallback matches {__name__!=""}.
    const start = Math.floor((NOW - 6 * 3_600_000) / 1000);
    const end = Math.floor(NOW / 1000);
    const ln = await get(`/api/v1/labels?limit=40000&start=${start}&end=${end}`);
    assert.ok(ln.body.data.includes('job'));
    const lv = await get(`/api/v1/label/__name__/values?limit=40000&start=${start}&end=${end}`);
    assert.equal(lv.body.warnings, undefined);
    const fallback = await get(
      `/api/v1/series?start=${start}&end=${end}&match%5B%5D=${encodeURIComponent('{__name__!=""}')}&limit=40000`,
    );
    assert.equal(fallback.body.data.length, 4, 'three up series and node_load1; old_metric is out of range');
    assert.deepEqual(lv.body.data, ['node_load1', 'up']);
    const lm = await get(`/api/v1/labels?match[]=${encodeURIComponent('up')}&start=${start}&end=${end}`);
    assert.deepEqual(lm.body.data, ['__name__', 'instance', 'job']);
    const lvm = await get(
      `/api/v1/label/instance/values?match[]=${encodeURIComponent('up{job="pos"}')}&start=${start}&end=${end}`,
    );
    assert.deepEqual(lvm.body.data, ['p0', 'p1', 'p2']);
    const series = await post(
      '/api/v1/series',
      `match%5B%5D=${encodeURIComponent('node_load1')}&start=${start}&end=${end}`,
    );
    assert.deepEqual(series.body.data, [{ __name__: 'node_load1', instance: 'h', job: 'node' }]);
    const md = await get('/api/v1/metadata');
    assert.ok('up' in md.body.data);
    // A panel: POST form query_range with integer seconds and an integer step.
    engine.calls.length = 0;
    const qr = await post(
      '/api/v1/query_range',
      `query=${encodeURIComponent('sum(rate(up[5m]))')}&start=${start}&end=${end}&step=60`,
    );
    assert.equal(qr.status, 200);
    assert.deepEqual(engine.calls, [['range', 'sum(rate(up[5m]))', start * 1000, end * 1000, 60_000]]);
    const ex = await get(`/api/v1/query_exemplars?query=up&start=${start}&end=${end}`);
    assert.deepEqual(ex.body, { status: 'success', data: [] });
  });

  it('refuses oversize and hostile requests with JSON errors, never crashing', async () => {
    const huge = await fetch(base + '/api/v1/query', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'query=' + 'a'.repeat(2 * 1024 * 1024),
    });
    assert.equal(huge.status, 413);
    await huge.arrayBuffer();
    const weird = await get('/api/v1/query?query=up&time=' + encodeURIComponent('\u0000\uffff'));
    assert.equal(weird.status, 400);
    const lots = await get('/api/v1/labels?' + Array.from({ length: 500 }, () => 'match[]=up').join('&'));
    assert.equal(lots.status, 200);
    const unknown = await get('/api/v1/nope');
    assert.equal(unknown.status, 404);
  });
});
