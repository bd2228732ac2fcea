import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Engine, PromQLError } from '../../../appliance/promql/engine.ts';
import type { QueryResult, Value } from '../../../appliance/promql/engine.ts';
import { labelsFromRecord, labelsToRecord } from '../../../appliance/model/labels.ts';
import type { Labels } from '../../../appliance/model/labels.ts';
import { STALE_NAN } from '../../../appliance/model/sample.ts';
import type { Tsdb } from '../../../appliance/tsdb/db.ts';
import { fakeClock, openTsdb, tempDir } from '../tsdb/helpers.ts';

const DEFAULTS = { maxSamples: 50_000_000, timeoutMs: 120_000, lookbackDeltaMs: 300_000 };

function ok(r: QueryResult): Value {
  if (!r.ok) assert.fail(`query failed: ${r.error.kind}: ${r.error.message}`);
  return r.value;
}
function err(r: QueryResult): PromQLError {
  if (r.ok) assert.fail(`expected an error, got ${JSON.stringify(r.value)}`);
  assert.ok(r.error instanceof PromQLError);
  return r.error;
}

describe('Engine over the TSDB', () => {
  let dir: string;
  let db: Tsdb;

  before(() => {
    dir = tempDir('sw-promql-');
    db = openTsdb(dir, fakeClock(0));
    const app = db.appender();
    // 100 series x 61 samples, one per 15 s over 15 minutes (counters with different slopes).
    for (let i = 0; i < 100; i++) {
      const labels = labelsFromRecord({
        __name__: 'req_total',
        job: i % 2 === 0 ? 'pos' : 'host',
        instance: `i${i}`,
      });
      let ref = 0;
      for (let k = 0; k <= 60; k++) ref = app.append(ref, labels, k * 15_000, k * (i + 1));
    }
    // A gauge that goes stale at 60 s.
    const g = labelsFromRecord({ __name__: 'up', job: 'pos' });
    let ref = app.append(0, g, 0, 1);
    ref = app.append(ref, g, 30_000, 1);
    app.append(ref, g, 60_000, STALE_NAN);
    app.commit();
  });
  after(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('evaluates an instant aggregation of rates', async () => {
    const engine = new Engine(DEFAULTS);
    const v = ok(await engine.instantQuery(db, 'sum by (job) (rate(req_total[5m]))', 600_000));
    assert.equal(v.type, 'vector');
    if (v.type !== 'vector') return;
    const byJob = Object.fromEntries(v.series.map((s) => [labelsToRecord(s.labels)['job'], s.v]));
    // rate of k*(i+1) per 15 s is (i+1)/15 per second; pos has i = 0, 2, ..., 98.
    let pos = 0;
    let host = 0;
    for (let i = 0; i < 100; i++)
      (i % 2 === 0 ? (x: number) => (pos += x) : (x: number) => (host += x))((i + 1) / 15);
    assert.ok(Math.abs(byJob['pos']! - pos) < 1e-9);
    assert.ok(Math.abs(byJob['host']! - host) < 1e-9);
    assert.ok(v.series.every((s) => s.t === 600_000));
  });

  it('treats a staleness marker as absent and respects the lookback delta', async () => {
    const engine = new Engine(DEFAULTS);
    const at45 = ok(await engine.instantQuery(db, 'up', 45_000));
    assert.ok(at45.type === 'vector' && at45.series.length === 1);
    const at61 = ok(await engine.instantQuery(db, 'up', 61_000));
    assert.ok(at61.type === 'vector' && at61.series.length === 0, 'stale after the marker');
    const short = new Engine({ ...DEFAULTS, lookbackDeltaMs: 10_000 });
    const gap = ok(await short.instantQuery(db, 'up', 45_000));
    assert.ok(gap.type === 'vector' && gap.series.length === 0, 'nothing within a 10 s lookback');
  });

  it('returns a sorted matrix for range queries and a matrix for an instant range selector', async () => {
    const engine = new Engine(DEFAULTS);
    const v = ok(await engine.rangeQuery(db, 'topk(2, req_total)', 60_000, 300_000, 60_000));
    assert.equal(v.type, 'matrix');
    if (v.type !== 'matrix') return;
    assert.deepEqual(
      v.series.map((s) => labelsToRecord(s.labels)['instance']),
      ['i98', 'i99'],
    );
    assert.deepEqual(
      v.series[0]!.points.map((p) => p.t),
      [60_000, 120_000, 180_000, 240_000, 300_000],
    );
    const m = ok(await engine.instantQuery(db, 'req_total{instance="i0"}[1m]', 60_000));
    assert.ok(
      m.type === 'matrix' && m.series[0]!.points.length === 4,
      'left-open: (0, 60 s] holds 15, 30, 45, 60 s',
    );
  });

  it('gives long range queries (evaluated in batches of steps) the same values as instant queries', async () => {
    const engine = new Engine(DEFAULTS);
    const q = 'sum by (job) (rate(req_total[1m])) or on() vector(time())';
    // 301 steps of 3 s: more than one batch.
    const v = ok(await engine.rangeQuery(db, q, 0, 900_000, 3_000));
    assert.equal(v.type, 'matrix');
    if (v.type !== 'matrix') return;
    const matrix: { labels: Labels; points: { t: number; v: number }[] }[] = v.series;
    let compared = 0;
    for (const t of [0, 3_000, 357_000, 360_000, 363_000, 720_000, 900_000]) {
      const inst = ok(await engine.instantQuery(db, q, t));
      assert.ok(inst.type === 'vector');
      if (inst.type !== 'vector') return;
      for (const s of inst.series) {
        const series = matrix.find((x) => JSON.stringify(x.labels) === JSON.stringify(s.labels));
        const p = series?.points.find((x) => x.t === t);
        assert.ok(p !== undefined, `range result has ${JSON.stringify(s.labels)} at ${t}`);
        assert.equal(p.v, s.v);
        compared++;
      }
    }
    assert.equal(compared, 12); // at 0 s and 3 s there is no rate yet: only the vector(time()) fallback
  });

  it('returns scalars and strings', async () => {
    const engine = new Engine(DEFAULTS);
    assert.deepEqual(ok(await engine.instantQuery(db, '1 + 2 * 3', 5_000)), {
      type: 'scalar',
      t: 5_000,
      v: 7,
    });
    assert.deepEqual(ok(await engine.instantQuery(db, '"hi"', 5_000)), { type: 'string', t: 5_000, v: 'hi' });
  });

  it('reports parse errors as bad_data with a position', async () => {
    const engine = new Engine(DEFAULTS);
    const e = err(await engine.instantQuery(db, 'sum(rate(req_total))', 0));
    assert.equal(e.kind, 'bad_data');
    assert.deepEqual(e.position, { start: 9, end: 18 });
  });

  it('refuses bad range-query parameters and range-vector expressions', async () => {
    const engine = new Engine(DEFAULTS);
    assert.equal(err(await engine.rangeQuery(db, 'up', 0, 60_000, 0)).kind, 'bad_data');
    assert.equal(err(await engine.rangeQuery(db, 'up', 60_000, 0, 1_000)).kind, 'bad_data');
    assert.match(
      err(await engine.rangeQuery(db, 'up[5m]', 0, 60_000, 1_000)).message,
      /invalid expression type "range vector" for range query/,
    );
    assert.match(
      err(await engine.rangeQuery(db, 'up', 0, 1e9, 1)).message,
      /exceeded maximum resolution of 11,000 points/,
    );
  });

  it('says clearly that native histograms are not supported', async () => {
    const engine = new Engine(DEFAULTS);
    const v = ok(await engine.instantQuery(db, 'histogram_count(req_total)', 60_000));
    assert.ok(
      v.type === 'vector' && v.series.length === 0,
      'float series are ignored by native-histogram functions',
    );
    const e = err(await engine.instantQuery(db, 'x[5m] anchored', 0));
    assert.equal(e.kind, 'bad_data');
  });

  it('fails with too_many_samples and Prometheus message when over maxSamples', async () => {
    const engine = new Engine({ ...DEFAULTS, maxSamples: 500 });
    const e = err(await engine.rangeQuery(db, 'sum(rate(req_total[5m]))', 0, 900_000, 15_000));
    assert.equal(e.kind, 'too_many_samples');
    assert.equal(e.message, 'query processing would load too many samples into memory in query execution');
    const fine = new Engine({ ...DEFAULTS, maxSamples: 500 });
    ok(await fine.instantQuery(db, 'up', 30_000));
  });

  it('times out with Prometheus message, checked while evaluating', async () => {
    let t = 0;
    // Every clock read moves time by 1 s, so the 5 s budget runs out part-way through the query.
    const engine = new Engine({ ...DEFAULTS, timeoutMs: 5_000, now: () => (t += 1_000) });
    const e = err(await engine.rangeQuery(db, 'sum by (instance) (rate(req_total[5m]))', 0, 900_000, 15_000));
    assert.equal(e.kind, 'timeout');
    assert.equal(e.message, 'query timed out in query execution');
  });

  it('refuses a subquery with an absurd number of steps before allocating them', async () => {
    const engine = new Engine(DEFAULTS);
    const e = err(await engine.instantQuery(db, 'max_over_time(up[30d:1ms])', 60_000));
    assert.equal(e.kind, 'execution');
    assert.match(e.message, /subquery would evaluate 2592000000 steps/);
    ok(await engine.instantQuery(db, 'max_over_time(up[1h:1s])', 60_000));
  });

  it('is canceled by an abort signal, before and during evaluation', async () => {
    const engine = new Engine(DEFAULTS);
    const pre = new AbortController();
    pre.abort();
    assert.equal(err(await engine.instantQuery(db, 'up', 0, pre.signal)).kind, 'canceled');

    const during = new AbortController();
    let reads = 0;
    let t = 0;
    const slowClock = new Engine({
      ...DEFAULTS,
      now: () => {
        if (++reads === 20) during.abort();
        return (t += 50);
      },
    });
    const e = err(await slowClock.rangeQuery(db, 'rate(req_total[5m])', 0, 900_000, 15_000, during.signal));
    assert.equal(e.kind, 'canceled');
    assert.ok(reads >= 20, 'the abort happened during the query');
  });

  it('yields to the event loop during long evaluations', async () => {
    let t = 0;
    // A clock that advances 30 ms per read makes the engine yield at nearly every check.
    const engine = new Engine({ ...DEFAULTS, now: () => (t += 30) });
    let ranDuringQuery = false;
    let done = false;
    setImmediate(() => {
      ranDuringQuery = !done;
    });
    const q = engine.rangeQuery(db, 'sum(rate(req_total[5m]))', 0, 900_000, 15_000);
    ok(await q);
    done = true;
    assert.ok(ranDuringQuery, 'a setImmediate callback ran before the query finished');
  });

  it('drops metric names at once by default, and only at the end with delayed name removal', async () => {
    const q = 'label_replace(rate(req_total{instance="i0"}[5m]), "was", "$1", "__name__", "(.+)")';
    const immediate = ok(await new Engine(DEFAULTS).instantQuery(db, q, 300_000));
    assert.ok(immediate.type === 'vector');
    if (immediate.type !== 'vector') return;
    assert.deepEqual(labelsToRecord(immediate.series[0]!.labels), { instance: 'i0', job: 'pos' });
    const delayed = ok(
      await new Engine({ ...DEFAULTS, delayedNameRemoval: true }).instantQuery(db, q, 300_000),
    );
    assert.ok(delayed.type === 'vector');
    if (delayed.type !== 'vector') return;
    assert.deepEqual(labelsToRecord(delayed.series[0]!.labels), {
      instance: 'i0',
      job: 'pos',
      was: 'req_total',
    });
    const kept = ok(
      await new Engine({ ...DEFAULTS, delayedNameRemoval: true }).instantQuery(
        db,
        'label_replace(rate(req_total{instance="i0"}[5m]), "__name__", "rate_$1", "__name__", "(.+)")',
        300_000,
      ),
    );
    assert.ok(
      kept.type === 'vector' && labelsToRecord(kept.series[0]!.labels)['__name__'] === 'rate_req_total',
    );
  });

  it('detects result series with the same label set', async () => {
    const engine = new Engine(DEFAULTS);
    const e = err(
      await engine.instantQuery(db, 'label_replace(req_total, "instance", "same", "", "")', 60_000),
    );
    assert.equal(e.kind, 'execution');
    assert.match(e.message, /vector cannot contain metrics with the same labelset/);
  });
});
