import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { labelsFromRecord } from '../../../appliance/model/labels.ts';
import { newMatcher } from '../../../appliance/model/matcher.ts';
import type { Tsdb } from '../../../appliance/tsdb/db.ts';
import { BackfillConflictError, WINDOW_MS } from '../../../appliance/tsdb/db.ts';
import { ImportError, importOpenMetrics } from '../../../appliance/tsdb/import.ts';
import { fakeClock, openTsdb, tempDir } from './helpers.ts';

const all = [newMatcher('=~', '__name__', '.+')];

async function* chunks(text: string, size = 7): AsyncIterable<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  for (let i = 0; i < bytes.length; i += size) yield await Promise.resolve(bytes.subarray(i, i + size));
}

function dump(db: Tsdb): Record<string, [number, number][]> {
  const out: Record<string, [number, number][]> = {};
  for (const s of db.querier().select(all, -1e15, 1e15)) {
    const it = s.iterator();
    const pts: [number, number][] = [];
    while (it.next()) pts.push([it.t, it.v]);
    out[s.labels.map((l) => `${l.name}=${l.value}`).join(',')] = pts;
  }
  return out;
}

function withDb(fn: (db: Tsdb, dir: string) => Promise<void>, start = 0): () => Promise<void> {
  return async () => {
    const dir = tempDir('sw-import-');
    const clock = fakeClock(start);
    const db = openTsdb(dir, clock);
    try {
      await fn(db, dir);
    } finally {
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
}

const GOOD = `# HELP http_requests Requests.
# TYPE http_requests counter
http_requests_total{code="200",job="a"} 1 0
http_requests_total{code="200",job="a"} 3 15
http_requests_total{code="500",job="a"} 0 0
http_requests_created{code="200",job="a"} 1 0
# TYPE temp_celsius gauge
# UNIT temp_celsius celsius
temp_celsius 21.5 7200.5
temp_celsius NaN 7215
# EOF
`;

describe('importOpenMetrics', () => {
  it(
    'imports samples with second timestamps, across windows, in tiny chunks',
    withDb(async (db) => {
      const r = await importOpenMetrics(chunks(GOOD), db, { batchLines: 2 });
      assert.equal(r.samples, 5);
      assert.equal(r.series, 3);
      assert.equal(r.minT, 0);
      assert.equal(r.maxT, 7_215_000);
      const d = dump(db);
      assert.deepEqual(d['__name__=http_requests_total,code=200,job=a'], [
        [0, 1],
        [15000, 3],
      ]);
      assert.deepEqual(d['__name__=http_requests_total,code=500,job=a'], [[0, 0]]);
      const temp = d['__name__=temp_celsius'];
      assert.equal(temp?.length, 2);
      assert.deepEqual(temp[0], [7_200_500, 21.5]);
      assert.ok(Number.isNaN(temp[1]![1]));
      assert.equal(Object.keys(d).length, 3, '_created samples are dropped');
    }),
  );

  it('survives a restart and then regular sealing by maintenance', async () => {
    const dir = tempDir('sw-import-');
    try {
      const clock = fakeClock(0);
      let db = openTsdb(dir, clock);
      await importOpenMetrics(chunks(GOOD, 1000), db);
      const before = dump(db);
      db.close();
      clock.set(10 * WINDOW_MS);
      db = openTsdb(dir, clock);
      assert.deepEqual(dump(db), before);
      db.maintain();
      assert.deepEqual(dump(db), before);
      db.close();
      db = openTsdb(dir, clock);
      assert.deepEqual(dump(db), before);
      db.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('backfills into windows that are already sealed, next to existing data', async () => {
    const dir = tempDir('sw-import-');
    try {
      const clock = fakeClock(10 * WINDOW_MS);
      let db = openTsdb(dir, clock);
      const up = labelsFromRecord({ __name__: 'up', job: 'a' });
      const app = db.appender();
      app.append(0, up, 5 * WINDOW_MS, 1);
      app.commit();
      db.close();
      clock.set(20 * WINDOW_MS);
      db = openTsdb(dir, clock);
      db.maintain({ forceFlush: true }); // seals every window up to ~19
      // Older than the sealed windows: the regular appender refuses it, the import takes it.
      assert.throws(
        () => db.appender().append(0, labelsFromRecord({ __name__: 'up', job: 'c' }), WINDOW_MS, 0),
        /older than the sealed/,
      );
      await importOpenMetrics(
        chunks(`up{job="a"} 0 ${WINDOW_MS / 1000}\nup{job="a"} 1 ${(3 * WINDOW_MS) / 1000}\n# EOF`),
        db,
      );
      const d = dump(db);
      assert.deepEqual(d['__name__=up,job=a'], [
        [WINDOW_MS, 0],
        [3 * WINDOW_MS, 1],
        [5 * WINDOW_MS, 1],
      ]);
      db.close();
      db = openTsdb(dir, clock);
      assert.deepEqual(dump(db), d);
      // Same window as existing data of the same series: refused, nothing written.
      await assert.rejects(
        importOpenMetrics(
          chunks(`up{job="b"} 1 10\nup{job="a"} 2 ${(5 * WINDOW_MS) / 1000 + 60}\n# EOF\n`),
          db,
        ),
        (err: unknown) =>
          err instanceof ImportError && err.line === 2 && /already has samples/.test(err.message),
      );
      assert.deepEqual(dump(db), d);
      db.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('backfills unsealed windows of a live series in time order, and refuses the window of its head', async () => {
    const dir = tempDir('sw-import-');
    try {
      const clock = fakeClock(5 * WINDOW_MS);
      const db = openTsdb(dir, clock);
      const up = labelsFromRecord({ __name__: 'up', job: 'a' });
      const app = db.appender();
      app.append(0, up, 3 * WINDOW_MS + 1000, 1);
      app.commit();
      // Window 1 is unsealed (nothing sealed yet) and empty for this series: accepted, read before window 3.
      await importOpenMetrics(chunks(`up{job="a"} 5 ${(WINDOW_MS + 1000) / 1000}\n# EOF\n`), db);
      assert.deepEqual(dump(db)['__name__=up,job=a'], [
        [WINDOW_MS + 1000, 5],
        [3 * WINDOW_MS + 1000, 1],
      ]);
      // Window 3 holds the live head: refused with the line, nothing written.
      await assert.rejects(
        importOpenMetrics(chunks(`up{job="a"} 7 ${(3 * WINDOW_MS + 5000) / 1000}\n# EOF\n`), db),
        (err: unknown) =>
          err instanceof ImportError && err.line === 1 && /already has samples/.test(err.message),
      );
      // After a restart and sealing, everything reads back in order.
      db.close();
      clock.set(10 * WINDOW_MS);
      const again = openTsdb(dir, clock);
      again.maintain({ forceFlush: true });
      assert.deepEqual(dump(again)['__name__=up,job=a'], [
        [WINDOW_MS + 1000, 5],
        [3 * WINDOW_MS + 1000, 1],
      ]);
      again.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it(
    'refuses a second import into the same window of a series, also the very first window (1970)',
    withDb(async (db) => {
      await importOpenMetrics(chunks('a 1 1\nb 1 1\n# EOF\n'), db);
      await assert.rejects(
        importOpenMetrics(chunks('c 1 1\na 2 2\n# EOF\n'), db),
        (err: unknown) =>
          err instanceof ImportError && err.line === 2 && /already has samples/.test(err.message),
      );
      // A later window of the same series is fine.
      await importOpenMetrics(chunks(`a 3 ${WINDOW_MS / 1000}\n# EOF\n`), db);
      assert.deepEqual(dump(db), {
        '__name__=a': [
          [1000, 1],
          [WINDOW_MS, 3],
        ],
        '__name__=b': [[1000, 1]],
      });
    }),
  );

  it(
    'reads repeated series on the fast path exactly as the parser does (exemplars, spaces, # in values, NaN)',
    withDb(async (db) => {
      const text = [
        '# TYPE c counter',
        'c_total{x="p q"} 1 1',
        'c_total{x="p q"} 2 2 # {id="a"} 9 9',
        'c_total{x="p q"} 3 3',
        'c_total{x="p # q"} 4 1',
        'c_total{x="p # q"} 5 2',
        '# TYPE g gauge',
        'g NaN 1',
        'g +Inf 2',
        'g -1.5e3 3.5',
        '# EOF',
      ].join('\n');
      await importOpenMetrics(chunks(text, 5), db);
      const d = dump(db);
      assert.deepEqual(d['__name__=c_total,x=p q'], [
        [1000, 1],
        [2000, 2],
        [3000, 3],
      ]);
      assert.deepEqual(d['__name__=c_total,x=p # q'], [
        [1000, 4],
        [2000, 5],
      ]);
      const g = d['__name__=g']!;
      assert.ok(Number.isNaN(g[0]![1]));
      assert.deepEqual(g.slice(1), [
        [2000, Infinity],
        [3500, -1500],
      ]);
    }),
  );

  const badRepeats: [string, string, number, RegExp][] = [
    ['a bad value', 'a{x="1"} 1 1\na{x="1"} 2 2\na{x="1"} zz 3\n# EOF\n', 3, /invalid value/],
    ['a double space', 'a 1 1\na  2 2\n# EOF\n', 2, /./],
    ['a trailing space', 'a 1 1\na 2 2 \n# EOF\n', 2, /./],
    ['a missing timestamp', 'a 1 1\na 2\n# EOF\n', 2, /without a timestamp/],
    ['an out-of-order timestamp', 'a 1 1\na 2 3\na 3 2\n# EOF\n', 3, /out of order.*line 2/],
    ['a CR line end', 'a 1 1\na 2 2\r\n# EOF\n', 2, /./],
  ];
  for (const [name, text, line, re] of badRepeats) {
    it(
      `rejects ${name} on a line of an already known series`,
      withDb(async (db) => {
        await assert.rejects(importOpenMetrics(chunks(text), db), (err: unknown) => {
          assert.ok(err instanceof ImportError, String(err));
          assert.equal(err.line, line, err.message);
          assert.match(err.message, re);
          return true;
        });
        assert.deepEqual(dump(db), {});
      }),
    );
  }

  it('splits long series into chunks at the sample limit and keeps every sample', async () => {
    const dir = tempDir('sw-import-');
    try {
      const db = openTsdb(dir, fakeClock(0));
      const lines: string[] = [];
      for (let k = 0; k < 2000; k++) lines.push(`a{x="1"} ${k} ${k * 15}`, `b ${k % 3} ${k * 15}`);
      const r = await importOpenMetrics(chunks(lines.join('\n') + '\n# EOF\n', 4096), db, {
        batchLines: 333,
      });
      assert.equal(r.samples, 4000);
      assert.ok(r.chunks > 4, `${r.chunks} chunks`);
      const d = dump(db);
      assert.equal(d['__name__=a,x=1']?.length, 2000);
      assert.deepEqual(d['__name__=a,x=1']?.[1999], [1999 * 15_000, 1999]);
      assert.equal(db.stats().chunks, r.chunks);
      db.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  const bad: [string, string, number, RegExp][] = [
    ['garbage', 'a 1 1\nthis is not openmetrics\n# EOF\n', 2, /./],
    ['missing # EOF (truncated)', 'a 1 1\na 2 2\n', 0, /missing "# EOF"/],
    ['truncated mid-line', 'a 1 1\na 2', 2, /without a timestamp/],
    ['content after # EOF', 'a 1 1\n# EOF\na 2 2\n', 3, /after "# EOF"/],
    ['no timestamp', 'a 1 1\nb 2\n# EOF\n', 2, /without a timestamp/],
    ['out of order', 'a 1 10\nb 1 1\na 2 5\n# EOF\n', 3, /out of order.*line 1/],
    ['duplicate timestamp, other value', 'a 1 10\na 2 10\n# EOF\n', 2, /duplicate timestamp/],
    ['oversize line', `a{x="${'y'.repeat(200)}"} 1 1\n# EOF\n`, 1, /longer than 100/],
    ['oversize line without newline', `a 1 1\n${'y'.repeat(500)}`, 2, /longer than 100/],
    ['invalid UTF-8', 'a 1 1\n', 0, /UTF-8/],
    ['hostile value', 'a 1e999 1\n# EOF\n', 1, /./],
  ];
  for (const [name, text, line, re] of bad) {
    it(
      `rejects ${name} with the line number and writes nothing`,
      withDb(async (db) => {
        let input: AsyncIterable<Uint8Array> = chunks(text, 3);
        if (name === 'invalid UTF-8') {
          input = (async function* () {
            await Promise.resolve();
            yield new TextEncoder().encode('a 1 1\n');
            yield Uint8Array.from([0x62, 0xff, 0x20, 0x31, 0x20, 0x31, 0x0a]);
          })();
        }
        await assert.rejects(
          importOpenMetrics(input, db, { maxLineLength: 100, batchLines: 1 }),
          (err: unknown) => {
            assert.ok(err instanceof ImportError, String(err));
            if (line > 0) assert.equal(err.line, line, err.message);
            assert.match(err.message, re);
            return true;
          },
        );
        assert.deepEqual(dump(db), {});
        assert.equal(db.querier().labelNames(-1e15, 1e15).length, 0);
      }),
    );
  }

  it(
    'accepts an exact duplicate sample and a final # EOF without newline',
    withDb(async (db) => {
      const r = await importOpenMetrics(chunks('a 1 10\na 1 10\n# EOF'), db);
      assert.equal(r.samples, 1);
    }),
  );

  it('exports the conflict error type', () => {
    assert.equal(new BackfillConflictError('x').name, 'BackfillConflictError');
  });
});
