// Store-and-forward against a real Prometheus 2.42 receiver: the appliance scrapes a real node_exporter and
// ships upstream; the receiver goes away, the appliance is kill -9'd and restarted during the outage, the
// receiver comes back, and every locally stored sample must arrive upstream with the same timestamp and value.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { labelsFromRecord } from '../../appliance/model/labels.ts';
import { silentLogger } from '../../appliance/model/logger.ts';
import { HttpWriteClient } from '../../appliance/remote/client.ts';
import { RemoteSender } from '../../appliance/remote/sender.ts';
import { newMatcher } from '../../appliance/model/matcher.ts';
import { isStaleNaN } from '../../appliance/model/sample.ts';
import { Tsdb } from '../../appliance/tsdb/db.ts';
import type { NodeExporter, ProcessHandle, TempDir } from './peers.ts';
import {
  freePort,
  requireBinary,
  spawnProcess,
  spawnStorewatch,
  startNodeExporter,
  tempDir,
  waitFor,
} from './peers.ts';

let exporter: NodeExporter;
let dir: TempDir;
let promPort = 0;
let swPort = 0;
let prom: ProcessHandle | undefined;
let sw: ProcessHandle | undefined;

function startPrometheus(): ProcessHandle {
  const bin = requireBinary('prometheus', 'prometheus');
  return spawnProcess(bin, [
    `--config.file=${path.join(dir.path, 'prometheus.yml')}`,
    `--storage.tsdb.path=${path.join(dir.path, 'prom-data')}`,
    `--web.listen-address=127.0.0.1:${promPort}`,
    '--web.enable-remote-write-receiver',
    '--storage.tsdb.retention.time=2h',
  ]);
}

function startStorewatch(): ProcessHandle {
  return spawnStorewatch({
    config: path.join(dir.path, 'storewatch.yml'),
    port: swPort,
    storage: path.join(dir.path, 'sw-data'),
  });
}

async function promQuery(
  q: string,
  time: number,
): Promise<{ metric: Record<string, string>; values: [number, string][] }[]> {
  const url = `http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}&time=${time}`;
  const body = (await (await fetch(url)).json()) as {
    status: string;
    data: { result: { metric: Record<string, string>; values: [number, string][] }[] };
  };
  assert.equal(body.status, 'success');
  return body.data.result;
}

async function swMetric(name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${swPort}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

before(async () => {
  exporter = await startNodeExporter();
  dir = await tempDir();
  promPort = await freePort();
  swPort = await freePort();
  fs.writeFileSync(
    path.join(dir.path, 'prometheus.yml'),
    'global: {scrape_interval: 15s}\nstorage: {tsdb: {out_of_order_time_window: 30m}}\nscrape_configs: []\n',
  );
  fs.writeFileSync(
    path.join(dir.path, 'storewatch.yml'),
    `global:
  scrape_interval: 1s
  scrape_timeout: 800ms
  external_labels: {store: s001}
scrape_configs:
  - job_name: node
    static_configs: [{targets: ['${exporter.address}']}]
remote_write:
  - url: http://127.0.0.1:${promPort}/api/v1/write
    name: central
    remote_timeout: 5s
    queue_config: {batch_send_deadline: 500ms, min_backoff: 50ms, max_backoff: 500ms, max_samples_per_send: 5000}
host: {enabled: false}
`,
  );
});

after(async () => {
  await sw?.stop('SIGKILL');
  await prom?.stop('SIGKILL');
  await exporter?.stop();
  await dir?.remove();
});

test('every stored sample reaches Prometheus across a receiver outage and a kill -9 of the appliance', async () => {
  prom = startPrometheus();
  await waitFor(async () => (await fetch(`http://127.0.0.1:${promPort}/-/ready`)).ok, 30_000);
  sw = startStorewatch();
  const probe = 'storewatch_test_probe{job="node",store="s001"}';
  await waitFor(async () => (await promQuery(probe, Date.now() / 1000)).length === 1, 30_000).catch(
    (err: unknown) => {
      throw new Error(`${String(err)}\n${sw?.output() ?? ''}`);
    },
  );

  // Outage: the receiver goes away; the appliance keeps scraping, is killed without warning, and restarts.
  await prom.stop('SIGTERM', 15_000);
  await new Promise((r) => setTimeout(r, 3000));
  await sw.stop('SIGKILL');
  sw = startStorewatch();
  await waitFor(async () => (await fetch(`http://127.0.0.1:${swPort}/-/ready`)).ok, 30_000);
  await new Promise((r) => setTimeout(r, 3000));
  const outageEnd = Date.now();

  // The receiver returns: the backlog drains from the durable cursor.
  prom = startPrometheus();
  await waitFor(async () => (await fetch(`http://127.0.0.1:${promPort}/-/ready`)).ok, 30_000);
  await waitFor(
    async () =>
      (await swMetric('storewatch_remote_sent_through_timestamp_seconds')) * 1000 > outageEnd + 2000,
    60_000,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}\n${sw?.output() ?? ''}`);
  });
  const sentThrough = (await swMetric('storewatch_remote_sent_through_timestamp_seconds')) * 1000;
  const status = await sw.stop('SIGTERM', 15_000);
  assert.equal(status.code, 0, sw.output());

  // Local truth: every stored sample of the probe series up to the cursor.
  const db = Tsdb.open({
    dir: path.join(dir.path, 'sw-data'),
    openDatabase: (f) => new Database(f),
    now: () => Date.now(),
    logger: silentLogger,
    retentionTimeMs: 0,
    retentionSizeBytes: 0,
  });
  // The stale flag is read at once: a [t, v] pair in a JS array would quiet the NaN's payload.
  const local: [number, number, boolean][] = [];
  try {
    const s = db.querier().select([newMatcher('=', '__name__', 'storewatch_test_probe')], 0, sentThrough);
    assert.equal(s.length, 1);
    const it = s[0]!.iterator();
    while (it.next()) local.push([it.t, it.v, isStaleNaN(it.v)]);
  } finally {
    db.close();
  }
  assert.ok(local.length >= 8, `local samples: ${local.length}`);

  const span = Math.ceil((sentThrough - local[0]![0]) / 1000) + 5;
  const upstream = await promQuery(`${probe}[${span}s]`, sentThrough / 1000);
  assert.equal(upstream.length, 1);
  const got = upstream[0]!.values.map(([t, v]): [number, number] => [Math.round(t * 1000), Number(v)]);
  // Prometheus's API hides staleness markers from range results; they show as "no value right after".
  const markers = local.filter(([, , stale]) => stale).map(([t]) => t);
  const values = local.filter(([, , stale]) => !stale).map(([t, v]): [number, number] => [t, v]);
  assert.deepEqual(
    got.filter(([t]) => t >= local[0]![0]),
    values,
    'upstream holds exactly the local samples, same timestamps and values, none lost',
  );
  for (const t of markers) {
    const next = values.find(([vt]) => vt > t)?.[0] ?? Infinity;
    if (next - t < 2) continue;
    assert.deepEqual(await promQuery(probe, (t + 1) / 1000), [], `staleness marker at ${t} arrived upstream`);
  }
});

test('a sender configured for remote write 2.0 detects that Prometheus 2.42 speaks only 1.0 and delivers anyway', async () => {
  assert.ok(prom && !prom.hasExited(), 'the receiver from the previous test is still up');
  const data = path.join(dir.path, 'v2-data');
  const now = Date.now();
  const db = Tsdb.open({
    dir: data,
    openDatabase: (f) => new Database(f),
    now: () => now,
    logger: silentLogger,
    retentionTimeMs: 0,
    retentionSizeBytes: 0,
  });
  const labels = labelsFromRecord({ __name__: 'storewatch_v2_probe', store: 's002' });
  const a = db.appender();
  for (let i = 0; i < 10; i++) a.append(0, labels, now - 60_000 + i * 1000, i * 1.5);
  a.commit();
  const url = `http://127.0.0.1:${promPort}/api/v1/write`;
  const sender = new RemoteSender({
    name: 'v2',
    client: new HttpWriteClient({
      url,
      http: {
        tls_config: { insecure_skip_verify: false, min_version: 'TLS12' },
        follow_redirects: false,
        enable_http2: false,
      },
      timeoutMs: 5000,
      headers: {},
      userAgent: 'storewatch/test',
      retryOn429: false,
    }),
    storage: db,
    cursors: db,
    logger: silentLogger,
    now: () => now,
    sleep: (ms, signal) =>
      new Promise((r) => {
        const t = setTimeout(r, Math.min(ms, 50));
        signal.addEventListener('abort', () => {
          clearTimeout(t);
          r();
        });
      }),
    externalLabels: {},
    maxSamplesPerSend: 1000,
    batchSendDeadlineMs: 50,
    minBackoffMs: 10,
    maxBackoffMs: 100,
    sampleAgeLimitMs: 0,
    readLagMs: 0,
    stepMs: 60_000,
    bandwidthLimit: 0,
    shards: 1,
    writeRelabel: [],
    protobufMessage: 'io.prometheus.write.v2.Request',
    catchUp: 'oldest-first',
    backfillWindows: [],
    minuteOfDay: () => 0,
  });
  try {
    sender.start();
    await waitFor(() => sender.status().samplesSent === 10, 20_000);
    await sender.stop();
    const got = await promQuery('storewatch_v2_probe[2m]', now / 1000);
    assert.deepEqual(
      got[0]!.values.map(([t, v]) => [Math.round(t * 1000), Number(v)]),
      Array.from({ length: 10 }, (_, i) => [now - 60_000 + i * 1000, i * 1.5]),
    );
    assert.equal(sender.status().requests, 2, 'one 2.0 attempt, then the same batch as 1.0');
  } finally {
    db.close();
  }
});
