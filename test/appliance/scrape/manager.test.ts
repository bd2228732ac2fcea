import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { loadConfig } from '../../../appliance/config/load.ts';
import type { Config } from '../../../appliance/config/schema.ts';
import { silentLogger } from '../../../appliance/model/logger.ts';
import type { LoopClock, Scraper } from '../../../appliance/scrape/loop.ts';
import type { JobSpec } from '../../../appliance/scrape/manager.ts';
import { ScrapeManager } from '../../../appliance/scrape/manager.ts';
import { HttpScrapeClient } from '../../../appliance/scrape/http.ts';
import type { Target } from '../../../appliance/scrape/targets.ts';
import { fakeClock, openTsdb, tempDir } from '../tsdb/helpers.ts';

const T0 = Date.UTC(2026, 10, 25, 12);

/** A clock whose sleeps last until aborted: loops exist but never scrape, so only reconciliation is tested. */
const frozen: LoopClock = {
  now: () => T0,
  monotonic: () => 0,
  sleep: (_ms, signal) =>
    new Promise((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    }),
};

function config(yaml: string): Config {
  return loadConfig(yaml, { baseDir: '/', readFile: () => '' });
}

function setup(scrapers: ConstructorParameters<typeof ScrapeManager>[0]['scrapers'] = {}) {
  const dir = tempDir();
  const db = openTsdb(dir, fakeClock(T0));
  const made: Target[] = [];
  const manager = new ScrapeManager({
    storage: db,
    clock: frozen,
    logger: silentLogger,
    httpClient: (sc) => new HttpScrapeClient(sc.http_client_config),
    hostCollector: null,
    userAgent: 'test',
    scrapers: Object.fromEntries(
      Object.entries(scrapers).map(([k, f]) => [
        k,
        (t: Target, sc: Parameters<NonNullable<typeof f>>[1]) => {
          made.push(t);
          return f(t, sc);
        },
      ]),
    ),
  });
  return {
    manager,
    made,
    done: async () => {
      await manager.stop();
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

const idle: Scraper = { scrape: () => Promise.reject(new Error('not scraped in this test')) };
const base = config(`scrape_configs: [{job_name: pos, static_configs: [{targets: ['127.0.0.1:9']}]}]`);

function spec(kind: JobSpec['kind'], job: string, addresses: string[]): JobSpec {
  const sc = { ...base.scrape_configs[0]!, job_name: job, static_configs: [] };
  return {
    sc,
    kind,
    groups: [{ source: 'netbox', labels: {}, targets: addresses.map((a) => ({ __address__: a })) }],
  };
}

test('discovered jobs: persisting targets keep their loop, new ones start, vanished ones stop', async () => {
  const s = setup({ probe: () => idle });
  try {
    await s.manager.apply(base, [spec('probe', 'pos-probe', ['127.0.0.1:1', '127.0.0.2:1'])]);
    const before = s.manager.targets().filter((t) => t.job === 'pos-probe');
    assert.deepEqual(
      before.map((t) => t.target.url),
      ['tcp://127.0.0.1:1', 'tcp://127.0.0.2:1'],
    );
    await s.manager.apply(base, [spec('probe', 'pos-probe', ['127.0.0.2:1', '127.0.0.3:1'])]);
    const after = s.manager.targets().filter((t) => t.job === 'pos-probe');
    assert.deepEqual(
      after.map((t) => t.target.url),
      ['tcp://127.0.0.2:1', 'tcp://127.0.0.3:1'],
    );
    // The surviving target is the same loop (same Target object), not a restarted one.
    assert.equal(after[0]!.target, before[1]!.target);
    assert.equal(s.made.length, 3);
    // The configured job is untouched by discovery updates.
    assert.equal(s.manager.targets().filter((t) => t.job === 'pos').length, 1);
  } finally {
    await s.done();
  }
});

test('a kind without a collector lists its targets as dropped, with the reason', async () => {
  const s = setup({});
  try {
    await s.manager.apply(base, [spec('snmp', 'switch-snmp', ['127.0.0.1:161'])]);
    assert.equal(s.manager.targets().filter((t) => t.job === 'switch-snmp').length, 0);
    const dropped = s.manager.droppedTargets().filter((d) => d.job === 'switch-snmp');
    assert.deepEqual(
      dropped.map((d) => d.target.reason),
      ['no snmp collector'],
    );
  } finally {
    await s.done();
  }
});

test('a discovered job cannot replace a configured job of the same name', async () => {
  const s = setup({ probe: () => idle });
  try {
    await s.manager.apply(base, [spec('probe', 'pos', ['127.0.0.5:1'])]);
    const pos = s.manager.targets().filter((t) => t.job === 'pos');
    assert.deepEqual(
      pos.map((t) => t.target.url),
      ['http://127.0.0.1:9/metrics'],
    );
  } finally {
    await s.done();
  }
});

test('snmp targets carry module and auth in their URL; changed job settings restart the loops', async () => {
  const s = setup({ snmp: () => idle });
  try {
    const j = spec('snmp', 'switch-snmp', ['127.0.0.1:1161']);
    const withParams: JobSpec = {
      ...j,
      sc: { ...j.sc, params: { module: ['if_mib'], auth: ['public_v2'] } },
    };
    await s.manager.apply(base, [withParams]);
    const first = s.manager.targets().find((t) => t.job === 'switch-snmp')!;
    assert.equal(first.target.url, 'snmp://127.0.0.1:1161?module=if_mib&auth=public_v2');
    const slower: JobSpec = { ...withParams, sc: { ...withParams.sc, scrape_interval: 120_000 } };
    await s.manager.apply(base, [slower]);
    const second = s.manager.targets().find((t) => t.job === 'switch-snmp')!;
    assert.notEqual(second.target, first.target);
    assert.equal(second.target.intervalMs, 120_000);
  } finally {
    await s.done();
  }
});
