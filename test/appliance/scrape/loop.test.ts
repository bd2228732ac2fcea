import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { labelsFromRecord, labelsToRecord } from '../../../appliance/model/labels.ts';
import { newMatcher } from '../../../appliance/model/matcher.ts';
import { isStaleNaN } from '../../../appliance/model/sample.ts';
import { compileRelabel, RELABEL_DEFAULTS } from '../../../appliance/model/relabel.ts';
import { silentLogger } from '../../../appliance/model/logger.ts';
import type { ScrapedSample, Scraper, ScrapeOutcome } from '../../../appliance/scrape/loop.ts';
import { ScrapeLoop, systemClock } from '../../../appliance/scrape/loop.ts';
import type { Target } from '../../../appliance/scrape/targets.ts';
import type { Tsdb } from '../../../appliance/tsdb/db.ts';
import { fakeClock, openTsdb, tempDir } from '../tsdb/helpers.ts';

const T0 = Date.UTC(2026, 10, 25, 12);
const RULE = { source_labels: [], modulus: 0, target_label: '', ...RELABEL_DEFAULTS };

/** A scraper that replays scripted outcomes: a list of samples, or an Error to throw. */
class ScriptedScraper implements Scraper {
  script: (ScrapedSample[] | Error)[];
  constructor(script: (ScrapedSample[] | Error)[]) {
    this.script = script;
  }
  scrape(): Promise<ScrapeOutcome> {
    const next = this.script.shift();
    if (next === undefined) return Promise.reject(new Error('script exhausted'));
    if (next instanceof Error) return Promise.reject(next);
    return Promise.resolve({ samples: next, bytes: 100 });
  }
}

const target: Target = {
  discoveredLabels: labelsFromRecord({ __address__: 'pos1:9100', job: 'pos' }),
  labels: labelsFromRecord({ job: 'pos', instance: 'pos1:9100' }),
  url: 'http://pos1:9100/metrics',
  intervalMs: 15_000,
  timeoutMs: 10_000,
};

const s = (rec: Record<string, string>, value: number, timestamp?: number): ScrapedSample => ({
  labels: labelsFromRecord(rec),
  value,
  ...(timestamp === undefined ? {} : { timestamp }),
});

function setup(
  script: (ScrapedSample[] | Error)[],
  extra: Partial<ConstructorParameters<typeof ScrapeLoop>[0]> = {},
) {
  const dir = tempDir();
  const db = openTsdb(dir, fakeClock(T0));
  const loop = new ScrapeLoop({
    target,
    scraper: new ScriptedScraper(script),
    storage: db,
    limits: { sample_limit: 0, label_limit: 0, label_name_length_limit: 0, label_value_length_limit: 0 },
    honorLabels: false,
    honorTimestamps: true,
    trackTimestampsStaleness: false,
    metricRelabel: [],
    clock: systemClock,
    logger: silentLogger,
    classify: () => 'other',
    ...extra,
  });
  return {
    db,
    loop,
    done: () => {
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function series(
  db: Tsdb,
  name: string,
): { labels: Record<string, string>; points: { t: number; v: number; stale: boolean }[] }[] {
  return db
    .querier()
    .select([newMatcher('=', '__name__', name)], 0, Number.MAX_SAFE_INTEGER)
    .map((x) => {
      const it = x.iterator();
      const points: { t: number; v: number; stale: boolean }[] = [];
      while (it.next()) points.push({ t: it.t, v: it.v, stale: isStaleNaN(it.v) });
      return { labels: labelsToRecord(x.labels), points };
    });
}

test('samples get target labels and the scheduled timestamp; synthetic series as Prometheus writes them', async () => {
  const { db, loop, done } = setup([
    [s({ __name__: 'pos_sales_total', till: '1' }, 5), s({ __name__: 'pos_up' }, 1)],
  ]);
  try {
    await loop.scrapeOnce(T0);
    const sales = series(db, 'pos_sales_total');
    assert.deepEqual(sales[0]!.labels, {
      __name__: 'pos_sales_total',
      instance: 'pos1:9100',
      job: 'pos',
      till: '1',
    });
    assert.deepEqual(sales[0]!.points, [{ t: T0, v: 5, stale: false }]);
    assert.equal(series(db, 'up')[0]!.points[0]!.v, 1);
    assert.equal(series(db, 'scrape_samples_scraped')[0]!.points[0]!.v, 2);
    assert.equal(series(db, 'scrape_samples_post_metric_relabeling')[0]!.points[0]!.v, 2);
    assert.equal(series(db, 'scrape_series_added')[0]!.points[0]!.v, 2);
    assert.ok(series(db, 'scrape_duration_seconds')[0]!.points[0]!.v >= 0);
    assert.equal(loop.getStatus().health, 'up');
  } finally {
    done();
  }
});

test('a series that disappears and a failed scrape write staleness markers; up=0 with the reason', async () => {
  const { db, loop, done } = setup([
    [s({ __name__: 'a' }, 1), s({ __name__: 'b' }, 2)],
    [s({ __name__: 'a' }, 1)],
    new Error('connection refused'),
  ]);
  try {
    await loop.scrapeOnce(T0);
    await loop.scrapeOnce(T0 + 15_000);
    await loop.scrapeOnce(T0 + 30_000);
    assert.deepEqual(
      series(db, 'b')[0]!.points.map((p) => [p.t, p.stale]),
      [
        [T0, false],
        [T0 + 15_000, true],
      ],
    );
    assert.deepEqual(
      series(db, 'a')[0]!.points.map((p) => [p.t, p.stale]),
      [
        [T0, false],
        [T0 + 15_000, false],
        [T0 + 30_000, true],
      ],
    );
    assert.deepEqual(
      series(db, 'up')[0]!.points.map((p) => p.v),
      [1, 1, 0],
    );
    assert.equal(loop.getStatus().health, 'down');
    assert.equal(loop.getStatus().lastError, 'connection refused');
  } finally {
    done();
  }
});

test('sample_limit fails the whole scrape; label limits too', async () => {
  const many = Array.from({ length: 11 }, (_, i) => s({ __name__: 'm', i: String(i) }, i));
  const { db, loop, done } = setup([many], {
    limits: { sample_limit: 10, label_limit: 0, label_name_length_limit: 0, label_value_length_limit: 0 },
  });
  try {
    await loop.scrapeOnce(T0);
    assert.equal(series(db, 'm').length, 0);
    assert.equal(series(db, 'up')[0]!.points[0]!.v, 0);
    assert.match(loop.getStatus().lastError, /sample limit exceeded/);
  } finally {
    done();
  }
  const long = setup([[s({ __name__: 'm', l: 'x'.repeat(100) }, 1)]], {
    limits: { sample_limit: 0, label_limit: 0, label_name_length_limit: 0, label_value_length_limit: 50 },
  });
  try {
    await long.loop.scrapeOnce(T0);
    assert.equal(series(long.db, 'm').length, 0);
    assert.match(long.loop.getStatus().lastError, /label_value_length_limit exceeded/);
  } finally {
    long.done();
  }
  const wide = setup([[s({ __name__: 'm', a: '1', b: '2', c: '3' }, 1)]], {
    limits: { sample_limit: 0, label_limit: 4, label_name_length_limit: 0, label_value_length_limit: 0 },
  });
  try {
    await wide.loop.scrapeOnce(T0);
    assert.match(wide.loop.getStatus().lastError, /label_limit exceeded/);
  } finally {
    wide.done();
  }
});

test('label clashes: exported_ prefix unless honor_labels; duplicates in one body keep the first', async () => {
  const body = [s({ __name__: 'm', job: 'inner' }, 1), s({ __name__: 'm', job: 'inner' }, 2)];
  const { db, loop, done } = setup([body]);
  try {
    await loop.scrapeOnce(T0);
    const got = series(db, 'm');
    assert.equal(got.length, 1);
    assert.deepEqual(got[0]!.labels, {
      __name__: 'm',
      exported_job: 'inner',
      instance: 'pos1:9100',
      job: 'pos',
    });
    assert.equal(got[0]!.points[0]!.v, 1);
  } finally {
    done();
  }
  const honor = setup([[s({ __name__: 'm', job: 'inner' }, 1)]], { honorLabels: true });
  try {
    await honor.loop.scrapeOnce(T0);
    assert.equal(series(honor.db, 'm')[0]!.labels.job, 'inner');
  } finally {
    honor.done();
  }
});

test('own timestamps are honoured (or not) and such series are not marked stale', async () => {
  const own = T0 - 60_000;
  const { db, loop, done } = setup([[s({ __name__: 'm' }, 1, own)], []]);
  try {
    await loop.scrapeOnce(T0);
    await loop.scrapeOnce(T0 + 15_000);
    assert.deepEqual(
      series(db, 'm')[0]!.points.map((p) => p.t),
      [own],
    );
  } finally {
    done();
  }
  const ignore = setup([[s({ __name__: 'm' }, 1, own)]], { honorTimestamps: false });
  try {
    await ignore.loop.scrapeOnce(T0);
    assert.equal(series(ignore.db, 'm')[0]!.points[0]!.t, T0);
  } finally {
    ignore.done();
  }
});

test('NaN and infinities are stored; a target removed for good gets staleness markers', async () => {
  const { db, loop, done } = setup([
    [
      s({ __name__: 'g', k: 'nan' }, NaN),
      s({ __name__: 'g', k: 'inf' }, Infinity),
      s({ __name__: 'g', k: 'ninf' }, -Infinity),
    ],
  ]);
  try {
    await loop.scrapeOnce(T0);
    await loop.stop(true);
    const got = series(db, 'g');
    assert.equal(got.length, 3);
    const byK = Object.fromEntries(got.map((g) => [g.labels.k, g.points]));
    assert.ok(Number.isNaN(byK.nan![0]!.v) && !byK.nan![0]!.stale);
    assert.equal(byK.inf![0]!.v, Infinity);
    assert.equal(byK.ninf![0]!.v, -Infinity);
    for (const g of got) assert.ok(g.points[g.points.length - 1]!.stale, 'stale at the end');
    assert.ok(series(db, 'up')[0]!.points.at(-1)!.stale);
  } finally {
    done();
  }
});

test('metric_relabel_configs drop and rewrite series before storage; post-relabelling count and limit follow', async () => {
  const rules = [
    compileRelabel({ ...RULE, source_labels: ['__name__'], regex: 'go_.*', action: 'drop' }),
    compileRelabel({ ...RULE, source_labels: ['till'], target_label: 'register', replacement: 'r$1' }),
    compileRelabel({ ...RULE, regex: 'till', action: 'labeldrop' }),
  ];
  const body = [
    s({ __name__: 'go_goroutines' }, 10),
    s({ __name__: 'go_threads' }, 4),
    s({ __name__: 'pos_sales_total', till: '7' }, 5),
  ];
  const { db, loop, done } = setup([body, body], { metricRelabel: rules });
  try {
    await loop.scrapeOnce(T0);
    await loop.scrapeOnce(T0 + 15_000);
    assert.equal(series(db, 'go_goroutines').length, 0);
    assert.deepEqual(series(db, 'pos_sales_total')[0]!.labels, {
      __name__: 'pos_sales_total',
      instance: 'pos1:9100',
      job: 'pos',
      register: 'r7',
    });
    assert.equal(series(db, 'scrape_samples_scraped')[0]!.points[0]!.v, 3);
    assert.equal(series(db, 'scrape_samples_post_metric_relabeling')[0]!.points[0]!.v, 1);
    assert.equal(series(db, 'scrape_series_added')[0]!.points[1]!.v, 0, 'cached, dropped ones included');
  } finally {
    done();
  }
  // sample_limit counts what survives relabelling: 1 kept sample is within a limit of 1.
  const limited = setup([body], {
    metricRelabel: rules,
    limits: { sample_limit: 1, label_limit: 0, label_name_length_limit: 0, label_value_length_limit: 0 },
  });
  try {
    await limited.loop.scrapeOnce(T0);
    assert.equal(limited.loop.getStatus().health, 'up');
  } finally {
    limited.done();
  }
});
