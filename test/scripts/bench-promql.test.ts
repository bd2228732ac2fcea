// Smoke test of the PromQL benchmark: `scripts/bench-promql.ts --quick` imports a tiny synthetic store into
// storewatch (the real CLI) and into Prometheus 2.42 (real promtool), queries both over HTTP, and must print a
// well-formed report whose JSON agrees with it. Both answers must agree. No timing or speed assertions.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { BenchResult } from '../../scripts/bench-promql.ts';
import { QUERIES } from '../../scripts/bench-promql.ts';
import { requireBinary } from '../integration/peers.ts';

const run = promisify(execFile);
const BENCH = path.resolve(import.meta.dirname, '..', '..', 'scripts', 'bench-promql.ts');

function isPositive(x: unknown): boolean {
  return typeof x === 'number' && Number.isFinite(x) && x > 0;
}

describe('scripts/bench-promql.ts --quick', () => {
  let dir = '';
  let stdout = '';
  let result: BenchResult;

  before(async () => {
    requireBinary('promtool', 'prometheus');
    requireBinary('prometheus', 'prometheus');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-bench-promql-test-'));
    const json = path.join(dir, 'out', 'result.json');
    ({ stdout } = await run(process.execPath, [BENCH, '--quick', '--json', json], { timeout: 120_000 }));
    result = JSON.parse(fs.readFileSync(json, 'utf8')) as BenchResult;
  });

  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('prints the report table with one row per query and range', () => {
    assert.match(
      stdout,
      /^# storewatch PromQL benchmark \(--quick\): 100 series, 2 h at 60 s, [\d,]+ samples$/m,
    );
    assert.match(
      stdout,
      /^\| range \| step \| query \| series \| storewatch ms \| Prometheus 2\.42 ms \| ratio \| agree \|$/m,
    );
    const rows = stdout.split('\n').filter((l) => /^\| \d+ h \|/.test(l));
    assert.equal(rows.length, 2 * QUERIES.length);
    for (const r of rows) assert.equal(r.split(' | ').length, 8, r);
    assert.match(
      stdout,
      /^Peak RSS after all queries: storewatch \d+ MB, Prometheus \d+ MB, ratio [\d.]+\.$/m,
    );
  });

  it('writes JSON figures that match the report, with both engines agreeing on every answer', () => {
    assert.equal(result.queries.length, 2 * QUERIES.length);
    assert.deepEqual(
      result.queries.map((q) => q.query),
      [...QUERIES, ...QUERIES],
    );
    for (const q of result.queries) {
      assert.ok(isPositive(q.storewatchMs) && isPositive(q.prometheusMs), q.query);
      assert.ok(Math.abs(q.ratio - q.storewatchMs / q.prometheusMs) < 1e-9);
      assert.ok(q.series > 0, `${q.query} returned series`);
      assert.equal(q.agree, true, `${q.query} over ${q.rangeH} h: storewatch and Prometheus agree`);
      assert.ok(stdout.includes(`| ${q.storewatchMs.toFixed(1)} | ${q.prometheusMs.toFixed(1)} |`));
    }
    assert.ok(isPositive(result.samples) && isPositive(result.fileBytes));
    assert.ok(isPositive(result.peakRssMB.storewatch) && isPositive(result.peakRssMB.prometheus));
    assert.ok(isPositive(result.importS.storewatch) && isPositive(result.importS.prometheus));
  });
});
