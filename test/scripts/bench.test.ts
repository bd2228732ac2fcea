// Smoke test of the storage benchmark: `scripts/bench.ts --quick` runs every scenario on tiny sizes (a real
// node_exporter and promtool included) and must produce a well-formed JSON result and markdown report.
// No timing assertions: the figures are only checked for shape and internal consistency.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BENCH = path.resolve('scripts/bench.ts');

/** The result JSON, read loosely: the test checks its shape field by field. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON whose shape is what is under test
type Json = any;

function isPositive(x: unknown): boolean {
  return typeof x === 'number' && Number.isFinite(x) && x > 0;
}

describe('scripts/bench.ts --quick', () => {
  let dir = '';
  let out = '';
  let stdout = '';
  let result: Json;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-bench-test-'));
    out = path.join(dir, 'nested', 'bench-results.json');
    ({ stdout } = await run(process.execPath, [BENCH, '--quick', '--out', out], { timeout: 120_000 }));
    result = JSON.parse(fs.readFileSync(out, 'utf8'));
  });

  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('prints a markdown report with the target table and writes it beside the JSON', () => {
    assert.match(stdout, /^# storewatch storage benchmark \(--quick/m);
    assert.match(stdout, /^\| target \| goal \| measured \| met \|$/m);
    assert.match(stdout, /^\| scenario \| series \| samples \|/m);
    assert.match(stdout, /Versus Prometheus TSDB/);
    assert.equal(fs.readFileSync(out.replace(/\.json$/, '.md'), 'utf8'), stdout);
    // Only the two result files are left behind.
    assert.deepEqual(fs.readdirSync(path.dirname(out)).sort(), ['bench-results.json', 'bench-results.md']);
  });

  it('reports every issue target with a measured value and an honest verdict', () => {
    assert.equal(result.quick, true);
    assert.equal(result.goals.length, 5);
    for (const g of result.goals) {
      assert.equal(typeof g.name, 'string');
      assert.equal(typeof g.met, 'boolean');
      assert.ok(isPositive(g.value), `${g.name}: ${g.value}`);
      const limit = Number(/[\d.,]+/.exec(g.goal)![0].replace(/,/g, ''));
      assert.equal(g.met, g.goal.startsWith('>=') ? g.value >= limit : g.value <= limit, g.name);
    }
  });

  it('gives consistent storage figures for every storage run', () => {
    const s = result.scenarios;
    const runs = [
      s.synthetic,
      s.real20,
      s.realReplay,
      s.compareSynthetic.storewatch,
      s.compareReal.storewatch,
    ];
    for (const r of runs) {
      assert.ok(r.samples > 0 && Number.isInteger(r.samples), r.scenario);
      assert.equal(r.samples, r.firstRound.samples + r.append.samples, r.scenario);
      for (const x of [r.append.perSecWall, r.append.perSecCpu, r.disk.bytesPerSample, r.peakRssMB]) {
        assert.ok(isPositive(x), `${r.scenario}: ${x}`);
      }
      assert.ok(r.disk.chunkPayloadPerSample > 0 && r.disk.chunkPayloadPerSample < r.disk.bytesPerSample);
      assert.ok(r.disk.files['storewatch.db'] > 0, r.scenario);
      assert.ok(r.peakRssMB >= r.baselineRssMB);
    }
    // 3 targets x 60 series x 2.5 h at 15 s.
    assert.equal(s.synthetic.series, 180);
    assert.equal(s.synthetic.samples, 180 * 600);
    assert.ok(isPositive(s.synthetic.written.writeBytesPerSample));
    assert.ok(isPositive(s.synthetic.written.wcharPerSample));
    assert.equal(s.compareSynthetic.storewatch.written, null);
    assert.equal(s.real20.rounds, result.real.scrapes);
  });

  it('compares with Prometheus on exactly the same samples', () => {
    for (const c of [result.scenarios.compareSynthetic, result.scenarios.compareReal]) {
      assert.equal(c.prometheus.numSamples, c.storewatch.samples);
      assert.equal(c.prometheus.numSeries, c.storewatch.series);
      assert.ok(c.prometheus.chunksBytes > 0 && c.prometheus.indexBytes > 0);
      assert.ok(
        Math.abs(c.ratioDisk - c.storewatch.disk.bytesPerSample / c.prometheus.bytesPerSample) < 1e-9,
      );
    }
  });

  it('measures parse + append over every sample of the bodies', () => {
    const p = result.scenarios.parse;
    assert.equal(p.samples, p.series * p.rounds);
    assert.ok(isPositive(p.parseAppend.perSecWall) && isPositive(p.parseOnly.perSecWall));
    assert.ok(p.bodyBytes > p.samples * 10);
  });
});

describe('scripts/bench.ts arguments', () => {
  it('rejects unknown arguments with exit code 2 and a usage line', async () => {
    await assert.rejects(run(process.execPath, [BENCH, '--bogus']), (err: Json) => {
      assert.equal(err.code, 2);
      assert.match(err.stderr, /unknown argument "--bogus"; usage: bench\.ts/);
      return true;
    });
  });

  it('rejects --out without a value', async () => {
    await assert.rejects(run(process.execPath, [BENCH, '--quick', '--out']), (err: Json) => {
      assert.equal(err.code, 2);
      assert.match(err.stderr, /--out needs a value/);
      return true;
    });
  });
});
