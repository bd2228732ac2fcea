// Smoke test of the remote-write benchmark: `scripts/bench-remote.ts --quick` runs both phases on tiny sizes
// against the real peers (node_exporter for the template body, VictoriaMetrics, Prometheus 2.42 in agent mode)
// and must print a well-formed markdown report and a JSON result whose figures agree with each other.
// No timing or speed assertions: only shape, signs and relations that hold whatever the machine's speed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { BenchResult } from '../../scripts/bench-remote.ts';

const run = promisify(execFile);
const BENCH = path.resolve(import.meta.dirname, '..', '..', 'scripts', 'bench-remote.ts');

function isPositive(x: unknown): boolean {
  return typeof x === 'number' && Number.isFinite(x) && x > 0;
}

function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

describe('scripts/bench-remote.ts --quick', () => {
  let dir = '';
  let stdout = '';
  let result: BenchResult;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-bench-remote-test-'));
    const json = path.join(dir, 'nested', 'result.json');
    ({ stdout } = await run(process.execPath, [BENCH, '--quick', '--json', json], { timeout: 150_000 }));
    result = JSON.parse(fs.readFileSync(json, 'utf8')) as BenchResult;
  });

  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('prints both markdown tables with a ratio row and one row per sender', () => {
    assert.match(stdout, /^# storewatch remote-write benchmark \(--quick/m);
    assert.match(stdout, /^\| sender \| samples shipped \| receiver count \| scrapes up \|/m);
    assert.match(stdout, /^\| storewatch \| [\d,]+ \|/m);
    assert.match(stdout, /^\| Prometheus 2\.42 agent \| [\d,]+ \|/m);
    assert.match(stdout, /^\| \*\*storewatch \/ agent\*\* \|/m);
    assert.match(stdout, /^## Catch-up \(storewatch only, bandwidth_limit [\d,]+ B\/s\)$/m);
    assert.match(stdout, /^\| backlog s \| drain s \| samples \|/m);
    // Every table row has as many cells as its header.
    for (const table of stdout.split(/\n\n+/).filter((b) => b.startsWith('|'))) {
      const rows = table.trim().split('\n');
      const cells = (r: string): number => r.split('|').length;
      for (const r of rows) assert.equal(cells(r), cells(rows[0]!), r);
    }
  });

  it('reports consistent steady-state figures for both senders', () => {
    const st = result.steady;
    assert.equal(result.quick, true);
    assert.equal(result.receiver, 'VictoriaMetrics 1.79.5');
    for (const r of [st.storewatch, st.agent]) {
      assert.ok(Number.isInteger(r.samples) && r.samples > 0, `${r.name}: samples ${r.samples}`);
      assert.ok(r.receiverSamples > 0, `${r.name}: the receiver holds its samples`);
      assert.ok(r.upRatio > 0 && r.upRatio <= 1.05, `${r.name}: up ratio ${r.upRatio}`);
      for (const x of [r.cpuSec, r.peakRssMB, r.wireBytes, r.proxyBytes, r.requests]) {
        assert.ok(isPositive(x), `${r.name}: ${x}`);
      }
      assert.ok(close(r.cpuPerMillion, (r.cpuSec / r.samples) * 1e6), r.name);
      assert.ok(close(r.bytesPerSample, r.wireBytes / r.samples), r.name);
      // Compressed remote-write bodies: somewhere between a packed sample and a label set per sample.
      assert.ok(r.bytesPerSample > 1 && r.bytesPerSample < 200, `${r.name}: ${r.bytesPerSample} B/sample`);
      assert.ok(r.peakRssMB > 5 && r.peakRssMB < 4096, `${r.name}: ${r.peakRssMB} MB`);
    }
    // Both senders' samples went through one receiver.
    assert.ok(st.receiverRowsInserted > 0);
    assert.ok(close(st.ratios.cpuPerMillion, st.storewatch.cpuPerMillion / st.agent.cpuPerMillion));
    assert.ok(close(st.ratios.peakRss, st.storewatch.peakRssMB / st.agent.peakRssMB));
    assert.ok(close(st.ratios.bytesPerSample, st.storewatch.bytesPerSample / st.agent.bytesPerSample));
  });

  it('drains the catch-up backlog and measures it at the receiver', () => {
    const c = result.catchUp;
    const s = result.setup;
    assert.ok(c.backlogSeconds >= s.outageS, `backlog ${c.backlogSeconds} s covers the outage`);
    assert.ok(isPositive(c.drainSeconds));
    // At least the series of every target for the outage's scrape rounds went upstream in the drain.
    const perRound = s.targets * s.seriesPerTarget;
    assert.ok(c.samples >= perRound * Math.floor(s.outageS / s.intervalS) * 0.5, `drained ${c.samples}`);
    assert.ok(close(c.samplesPerSec, c.samples / c.drainSeconds));
    assert.ok(close(c.bytesPerSample, c.wireBytes / c.samples));
    assert.ok(c.bytesPerSample > 1 && c.bytesPerSample < 200, `${c.bytesPerSample} B/sample`);
    // The proxy saw the bytes the sender counted as acknowledged, give or take a request at the edges.
    assert.ok(c.receiverBytes > 0 && c.requests > 0);
    assert.ok(close(c.receiverBytesPerSec, c.receiverBytes / c.drainSeconds));
    assert.ok(close(c.capRatio, c.receiverBytesPerSec / s.bandwidthLimit));
    assert.equal(c.withinCap, c.sustainedBytesPerSec <= 1.1 * s.bandwidthLimit);
    assert.ok(c.peakRssMB >= result.steady.storewatch.peakRssMB);
  });
});

describe('scripts/bench-remote.ts arguments', () => {
  it('rejects unknown arguments with exit code 2 and the usage line', async () => {
    await assert.rejects(
      run(process.execPath, [BENCH, '--bogus']),
      (err: { code: number; stderr: string }) => {
        assert.equal(err.code, 2);
        assert.match(err.stderr, /usage: bench-remote\.ts/);
        return true;
      },
    );
  });

  it('rejects a non-positive number', async () => {
    await assert.rejects(
      run(process.execPath, [BENCH, '--targets', '0']),
      (err: { code: number; stderr: string }) => {
        assert.equal(err.code, 2);
        assert.match(err.stderr, /--targets needs a positive number/);
        return true;
      },
    );
  });
});
