// The appliance as a user runs it in development (`node appliance/cli.ts run`), against a real node_exporter,
// with broken targets beside it, a SIGHUP reload and a clean stop; then its data directory is read back.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { labelsToRecord } from '../../appliance/model/labels.ts';
import { silentLogger } from '../../appliance/model/logger.ts';
import { newMatcher } from '../../appliance/model/matcher.ts';
import { isStaleNaN } from '../../appliance/model/sample.ts';
import { Tsdb } from '../../appliance/tsdb/db.ts';
import type { NodeExporter, ProcessHandle, TempDir } from './peers.ts';
import {
  freePort,
  promtoolCheckMetrics,
  spawnStorewatch,
  startNodeExporter,
  tempDir,
  waitFor,
} from './peers.ts';

interface ApiTarget {
  labels: Record<string, string>;
  health: string;
  lastError: string;
  scrapePool: string;
}

let exporter: NodeExporter;
let dir: TempDir;
let app: ProcessHandle;
let port = 0;
const servers: http.Server[] = [];

async function localServer(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function config(extraJob = ''): string {
  return `
global:
  scrape_interval: 1s
  scrape_timeout: 800ms
scrape_configs:
  - job_name: node
    static_configs: [{ targets: ['${exporter.address}'], labels: { store: s001 } }]
  - job_name: broken
    scrape_timeout: 500ms
    static_configs: [{ targets: ['${refused}', '${hanging}', '${garbage}'] }]
${extraJob}
host:
  scrape_interval: 1s
`;
}

let refused = '';
let hanging = '';
let garbage = '';

async function targets(): Promise<ApiTarget[]> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/targets`);
  const body = (await res.json()) as { status: string; data: { activeTargets: ApiTarget[] } };
  assert.equal(body.status, 'success');
  return body.data.activeTargets;
}

before(async () => {
  exporter = await startNodeExporter();
  dir = await tempDir();
  refused = `127.0.0.1:${await freePort()}`;
  hanging = await localServer(() => {
    // Never answers: the scrape must time out.
  });
  garbage = await localServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    res.end('this is { not "exposition\n\xff\xfe');
  });
  fs.writeFileSync(path.join(dir.path, 'storewatch.yml'), config());
  port = await freePort();
  app = spawnStorewatch({
    config: path.join(dir.path, 'storewatch.yml'),
    port,
    storage: path.join(dir.path, 'data'),
  });
});

after(async () => {
  await app?.stop('SIGKILL');
  for (const s of servers) s.closeAllConnections();
  for (const s of servers) s.close();
  await exporter?.stop();
  await dir?.remove();
});

test('a real node_exporter is up while broken targets are down with their reasons', async () => {
  const all = await waitFor(async () => {
    const ts = await targets();
    const ok = ts.find((t) => t.scrapePool === 'node')?.health === 'up';
    const broken = ts.filter((t) => t.scrapePool === 'broken');
    return ok && broken.length === 3 && broken.every((t) => t.health === 'down') && ts;
  }, 20_000).catch((err: unknown) => {
    throw new Error(`${String(err)}\n${app.output()}`);
  });
  const byInstance = Object.fromEntries(all.map((t) => [t.labels.instance, t]));
  assert.equal(byInstance[exporter.address]!.labels.store, 's001');
  assert.match(byInstance[refused]!.lastError, /refused/i);
  assert.match(byInstance[hanging]!.lastError, /time/i);
  assert.match(byInstance[garbage]!.lastError, /line \d+|UTF-8/i);
  assert.ok(
    all.some((t) => t.scrapePool === 'host' && t.health === 'up'),
    'host metrics target is up',
  );
});

test('the Prometheus query API answers from the local TSDB: up per job, as Grafana asks for it', async () => {
  const q = new URLSearchParams({ query: 'sum by (job) (up)', time: String(Date.now() / 1000) });
  const body = await waitFor(async () => {
    const r = await fetch(`http://127.0.0.1:${port}/api/v1/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: q.toString(),
    });
    const j = (await r.json()) as {
      status: string;
      data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    return j.data.result.length >= 3 ? j : null;
  }, 20_000);
  assert.equal(body.status, 'success');
  assert.equal(body.data.resultType, 'vector');
  const byJob = Object.fromEntries(body.data.result.map((x) => [x.metric.job, Number(x.value[1])]));
  assert.equal(byJob.node, 1);
  assert.equal(byJob.broken, 0);
  const bad = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=sum(`);
  assert.equal(bad.status, 400);
  assert.equal(((await bad.json()) as { errorType: string }).errorType, 'bad_data');
});

test('the page history graphs come from the engine; the appliance stores its own metrics as job storewatch', async () => {
  const graphs = await waitFor(async () => {
    const r = await fetch(`http://127.0.0.1:${port}/api/v1/status/overview`);
    const g = (
      (await r.json()) as {
        data: { graphs: { title: string; rows: { label: string; values: (number | null)[] }[] }[] };
      }
    ).data.graphs;
    const up = g.find((x) => x.title === 'Targets up, by job');
    return up && up.rows.some((r) => r.label === 'node') ? g : null;
  }, 40_000);
  const up = graphs.find((x) => x.title === 'Targets up, by job')!;
  const last = (label: string) => up.rows.find((r) => r.label === label)!.values.at(-1);
  assert.equal(last('node'), 1);
  assert.equal(last('broken'), 0);
  const self = await (
    await fetch(
      `http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent('storewatch_tsdb_samples_appended_total')}`,
    )
  ).json();
  assert.equal((self as { data: { result: unknown[] } }).data.result.length, 1);
});

test('/metrics passes promtool check metrics with no warnings and reports storewatch_* figures', async () => {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  assert.match(text, /^storewatch_tsdb_samples_appended_total \d+/m);
  assert.match(text, /^storewatch_scrape_errors_total\{job="broken",reason="connection_refused"\} \d+/m);
  const lint = await promtoolCheckMetrics(text);
  assert.equal(lint.code, 0, lint.output);
});

test('SIGHUP reload adds a job without restarting unchanged targets', async () => {
  const extra = `  - job_name: again
    static_configs: [{ targets: ['${exporter.address}'] }]`;
  fs.writeFileSync(path.join(dir.path, 'storewatch.yml'), config(extra));
  app.child.kill('SIGHUP');
  await waitFor(async () => (await targets()).find((t) => t.scrapePool === 'again')?.health === 'up', 20_000);
  // Let the unchanged node target scrape a few more times after the reload.
  await new Promise((r) => setTimeout(r, 2500));
});

test('SIGHUP with a broken file keeps the running configuration and says why', async () => {
  fs.writeFileSync(path.join(dir.path, 'storewatch.yml'), 'scrape_configs:\n  - job_name: [oops\n');
  app.child.kill('SIGHUP');
  await waitFor(() => app.output().includes('configuration reload failed'), 10_000);
  const ts = await targets();
  assert.ok(
    ts.some((t) => t.scrapePool === 'again'),
    'the previous reload is still in force',
  );
  assert.equal(ts.find((t) => t.scrapePool === 'node')?.health, 'up');
});

test('a clean stop exits 0; the data directory holds the real node_exporter series', async () => {
  const status = await app.stop('SIGTERM', 15_000);
  assert.equal(status.code, 0, app.output());
  const db = Tsdb.open({
    dir: path.join(dir.path, 'data'),
    openDatabase: (f) => new Database(f),
    now: () => Date.now(),
    logger: silentLogger,
    retentionTimeMs: 0,
    retentionSizeBytes: 0,
  });
  try {
    assert.equal(db.stats().logReplayedSamples, 0, 'a clean stop leaves nothing to replay');
    const q = db.querier();
    const probe = q.select(
      [newMatcher('=', '__name__', 'storewatch_test_probe'), newMatcher('=', 'job', 'node')],
      0,
      Date.now(),
    );
    assert.equal(probe.length, 1);
    assert.deepEqual(labelsToRecord(probe[0]!.labels), {
      __name__: 'storewatch_test_probe',
      instance: exporter.address,
      job: 'node',
      source: 'textfile',
      store: 's001',
    });
    const it = probe[0]!.iterator();
    let n = 0;
    let lastT = 0;
    while (it.next()) {
      assert.equal(it.v, 1);
      assert.ok(it.t > lastT);
      assert.equal(it.t % 1000, (lastT || it.t) % 1000, 'timestamps snapped to the schedule');
      lastT = it.t;
      n++;
    }
    assert.ok(n >= 3, `probe samples: ${n}`);
    // The unchanged node target was not restarted by the reload: only its first round added series.
    const added = q.select(
      [newMatcher('=', '__name__', 'scrape_series_added'), newMatcher('=', 'job', 'node')],
      0,
      Date.now(),
    );
    const values: number[] = [];
    const ai = added[0]!.iterator();
    while (ai.next()) if (!isStaleNaN(ai.v)) values.push(ai.v);
    assert.ok(values[0]! > 100, 'first scrape adds the node_exporter series');
    assert.ok(
      values.slice(1).every((v) => v < 5),
      `later rounds add (almost) nothing: ${values.join(',')}`,
    );
    const up = q.select([newMatcher('=', '__name__', 'up'), newMatcher('=', 'job', 'broken')], 0, Date.now());
    assert.equal(up.length, 3);
  } finally {
    db.close();
  }
});
