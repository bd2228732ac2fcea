import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { newMatcher } from '../../../appliance/model/matcher.ts';
import type { CommandDeps, EngineLimits } from '../../../appliance/query/cli.ts';
import { importCommand, queryCommand } from '../../../appliance/query/cli.ts';
import { Tsdb } from '../../../appliance/tsdb/db.ts';
import { silentLogger } from '../../../appliance/model/logger.ts';
import type { QueryEngine, QueryOutcome } from '../../../appliance/web/api.ts';
import { tempDir } from '../tsdb/helpers.ts';

const NOW = 1_700_000_000_000;

function io(): { out: string[]; err: string[]; io: { out: (s: string) => void; err: (s: string) => void } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (s) => out.push(s), err: (s) => err.push(s) } };
}

/** A test engine that sums the last sample of every series matching {__name__=~".+"} (enough to see data). */
function countingEngine(calls: unknown[]): (l: EngineLimits) => QueryEngine {
  return (limits) => ({
    instantQuery(q, expr, t): Promise<QueryOutcome> {
      calls.push(['instant', expr, t, limits]);
      if (expr === 'fail')
        return Promise.resolve({ ok: false, error: { kind: 'bad_data', message: '1:1: parse error: x' } });
      const n = q.querier().select([newMatcher('=~', '__name__', '.+')], -1e15, t).length;
      return Promise.resolve({ ok: true, value: { type: 'scalar', t, v: n }, warnings: ['w'], infos: [] });
    },
    rangeQuery(_q, expr, s, e, step): Promise<QueryOutcome> {
      calls.push(['range', expr, s, e, step]);
      return Promise.resolve({ ok: true, value: { type: 'matrix', series: [] }, warnings: [], infos: [] });
    },
  });
}

function deps(calls: unknown[], files: Record<string, string> = {}): CommandDeps {
  return {
    openDatabase: (f) => new Database(f),
    makeEngine: countingEngine(calls),
    now: () => NOW,
    openInput: (f) =>
      (async function* () {
        const text = files[f];
        await Promise.resolve();
        if (text === undefined) throw new Error(`ENOENT: ${f}`);
        yield new TextEncoder().encode(text);
      })(),
  };
}

describe('storewatch tsdb import / query', () => {
  it('imports a file, then queries it with instant and range evaluation, and never applies retention', async () => {
    const dir = tempDir('sw-cli-');
    try {
      const calls: unknown[] = [];
      const d = deps(calls, { 'a.om': 'up{job="x"} 1 1\nup{job="y"} 0 2\n# EOF\n' });
      const imp = io();
      assert.equal(await importCommand(['--storage.path', dir, 'a.om'], imp.io, d), 0, imp.err.join(''));
      assert.match(imp.out.join(''), /imported 2 samples of 2 series \(2 new\).*1970-01-01T00:00:01\.000Z/);
      const q = io();
      assert.equal(
        await queryCommand(['--storage.path', dir, '--time', '10', 'count(up)'], q.io, d),
        0,
        q.err.join(''),
      );
      assert.deepEqual(JSON.parse(q.out.join('')), { resultType: 'scalar', result: [10, '2'] });
      assert.deepEqual(q.err, ['warning: w\n']);
      const r = io();
      assert.equal(
        await queryCommand(
          ['--storage.path', dir, '--start', '0', '--end', '1970-01-01T01:00:00Z', '--step', '1m', 'up'],
          r.io,
          d,
        ),
        0,
      );
      assert.deepEqual(JSON.parse(r.out.join('')), { resultType: 'matrix', result: [] });
      assert.deepEqual(calls[1], ['range', 'up', 0, 3_600_000, 60_000]);
      assert.deepEqual((calls[0] as unknown[])[3], {
        maxSamples: 50_000_000,
        timeoutMs: 120_000,
        lookbackDeltaMs: 300_000,
      });
      // 1970 data is still there after both commands (the TSDB reopened with real retention would drop it).
      const db = Tsdb.open({
        dir,
        openDatabase: (f) => new Database(f),
        now: () => NOW,
        logger: silentLogger,
        retentionTimeMs: 0,
        retentionSizeBytes: 0,
      });
      assert.equal(db.querier().select([newMatcher('=', '__name__', 'up')], 0, 10_000).length, 2);
      db.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits non-zero with the error on a failed query, a bad usage or a missing data directory', async () => {
    const dir = tempDir('sw-cli-');
    try {
      const calls: unknown[] = [];
      const d = deps(calls, { 'a.om': 'up 1 1\n# EOF\n' });
      assert.equal(await importCommand(['--storage.path', dir, 'a.om'], io().io, d), 0);
      const f = io();
      assert.equal(await queryCommand(['--storage.path', dir, 'fail'], f.io, d), 1);
      assert.equal(f.err.join(''), 'error (bad_data): invalid parameter "query": 1:1: parse error: x\n');
      const usages: string[][] = [
        ['up'],
        ['--storage.path', dir],
        ['--storage.path', dir, '--time', '1', '--start', '1', 'up'],
        ['--storage.path', dir, '--start', '1', 'up'],
        ['--storage.path', dir, '--start', '10', '--end', '1', '--step', '1', 'up'],
        ['--storage.path', dir, '--start', '0', '--end', '20000', '--step', '1', 'up'],
        ['--storage.path', dir, '--time', 'yesterday', 'up'],
        ['--storage.path', dir, '--bogus', 'up'],
      ];
      for (const u of usages) {
        const x = io();
        assert.equal(await queryCommand(u, x.io, d), 2, u.join(' '));
        assert.ok(x.err.join('').length > 0);
      }
      const missing = io();
      assert.equal(await queryCommand(['--storage.path', path.join(dir, 'nope'), 'up'], missing.io, d), 1);
      assert.match(missing.err.join(''), /no storewatch data/);
      assert.equal(fs.existsSync(path.join(dir, 'nope')), false, 'query does not create a data directory');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports import errors with the file and line and imports nothing', async () => {
    const dir = tempDir('sw-cli-');
    try {
      const d = deps([], { 'bad.om': 'a 1 1\nb 1 1\nb 2 0\n# EOF\n', 'noeof.om': 'a 1 1\n' });
      const x = io();
      assert.equal(await importCommand(['--storage.path', dir, 'bad.om'], x.io, d), 1);
      assert.match(x.err.join(''), /nothing was imported: bad\.om: line 3: out of order sample/);
      const y = io();
      assert.equal(await importCommand(['--storage.path', dir, 'noeof.om'], y.io, d), 1);
      assert.match(y.err.join(''), /missing "# EOF"/);
      const z = io();
      assert.equal(await importCommand(['--storage.path', dir, 'absent.om'], z.io, d), 1);
      assert.match(z.err.join(''), /ENOENT/);
      assert.equal(await importCommand(['--storage.path', dir], io().io, d), 2);
      const q = io();
      await queryCommand(['--storage.path', dir, 'count(up)'], q.io, deps([]));
      assert.deepEqual(JSON.parse(q.out.join('')).result, [NOW / 1000, '0']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
