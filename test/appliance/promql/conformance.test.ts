// Conformance: Prometheus's own PromQL test files (test/testdata/promqltest) through our Engine over the real
// TSDB. The suite fails when fewer than 95 % of the evaluations that do not involve native histograms pass;
// every failed and excluded case is printed with its reason.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Engine } from '../../../appliance/promql/engine.ts';
import { runFile } from './promqltest.ts';
import type { CaseResult } from './promqltest.ts';

const DIR = path.join(import.meta.dirname, '../../testdata/promqltest');
const FILES = fs
  .readdirSync(DIR)
  .filter((f) => f.endsWith('.test'))
  .sort();
const REQUIRED_PASS_RATE = 0.95;

// Two runs: the configuration of Prometheus's own test engine (delayed name removal on) over samples in the
// TSDB's in-memory head, and Prometheus's server default (delayed name removal off) over samples sealed into
// SQLite chunks. Both must reach the pass rate.
const RUNS = [
  { layout: 'head', delayedNameRemoval: true },
  { layout: 'sealed', delayedNameRemoval: false },
] as const;
for (const { layout, delayedNameRemoval } of RUNS)
  describe(`promqltest conformance (${layout} storage, delayed name removal ${delayedNameRemoval ? 'on' : 'off'})`, () => {
    const all: CaseResult[] = [];
    for (const file of FILES) {
      it(`runs ${file}`, async (t) => {
        // Prometheus's test engine uses a 5 m lookback and a max-samples limit far above these tests' needs.
        const engine = new Engine({
          maxSamples: 50_000_000,
          timeoutMs: 120_000,
          lookbackDeltaMs: 300_000,
          delayedNameRemoval,
        });
        const results = await runFile(file, fs.readFileSync(path.join(DIR, file), 'utf8'), engine, layout);
        all.push(...results);
        const pass = results.filter((r) => r.status === 'pass').length;
        const fail = results.filter((r) => r.status === 'fail');
        const native = results.filter((r) => r.status === 'native').length;
        const nativePassing = results.filter(
          (r) => r.status === 'native' && r.reason.startsWith('passes'),
        ).length;
        const rangeMode = results.filter((r) => r.rangeMode).length;
        const atVariants = results.filter((r) => r.atVariants).length;
        t.diagnostic(
          `${file}: ${pass}/${pass + fail.length} passed, ${native} native-histogram cases excluded (${nativePassing} of them pass anyway); ` +
            `${rangeMode} instant cases also checked in range mode, ${atVariants} with @-modifier variants`,
        );
        for (const r of fail) t.diagnostic(`FAIL ${file}:${r.c.line} ${r.c.text}: ${r.reason}`);
        assert.ok(results.length > 0, 'every file has evaluations');
      });
    }
    it(`passes at least ${REQUIRED_PASS_RATE * 100} % of the non-native-histogram evaluations`, (t) => {
      const counted = all.filter((r) => r.status !== 'native');
      const pass = counted.filter((r) => r.status === 'pass').length;
      const native = all.length - counted.length;
      const rate = pass / counted.length;
      const nativePassing = all.filter((x) => x.status === 'native' && x.reason.startsWith('passes')).length;
      t.diagnostic(
        `overall: ${pass}/${counted.length} = ${(rate * 100).toFixed(1)} % (${native} native-histogram cases excluded, of which ${nativePassing} pass anyway; ${all.length} evaluations)`,
      );
      for (const r of all.filter((x) => x.status === 'native'))
        t.diagnostic(`EXCLUDED (native histograms) ${r.c.file}:${r.c.line}: ${r.reason}`);
      assert.ok(all.length >= 1000, `expected the nine files' ~1,008 evaluations, ran ${all.length}`);
      assert.ok(
        rate >= REQUIRED_PASS_RATE,
        `pass rate ${(rate * 100).toFixed(1)} % is below ${REQUIRED_PASS_RATE * 100} %`,
      );
    });
  });
