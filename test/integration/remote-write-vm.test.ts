// Store-and-forward against a real VictoriaMetrics 1.79 receiver: the appliance scrapes a real node_exporter and
// ships to VictoriaMetrics; the receiver is stopped for a few seconds and started again on the same data
// directory, and every locally stored sample of the probe series must then be in VictoriaMetrics with the same
// timestamp and value. VictoriaMetrics' raw-sample export (/api/v1/export) makes this an exact comparison.
//
// What VictoriaMetrics 1.79.5 does with what it receives (checked by hand against the Debian binary and
// asserted below where it matters):
// - Prometheus staleness markers are stored, not dropped: the export shows them as `null` at their timestamp.
//   Ordinary NaNs are dropped at ingestion (its decimal encoding cannot hold them).
// - Values are not kept as raw float64: each is converted to a decimal mantissa and exponent (lib/decimal,
//   `conversionPrecision = 1e12`, 1e15 above 1e6). Short decimals (the probe's values below, most node_exporter
//   values) come back bit-identical; 16-17 digit values lose their last digits (1234567890.123456 exports as
//   1234567890.1234562, 0.30000000000000004 as 0.3), and a block mixing magnitudes far apart loses the small
//   ones (1.5 next to 1e308 exports as 0). A real node_exporter series with many digits (node_time_seconds) is
//   therefore compared within VictoriaMetrics' relative 1e-12, and the count of inexact values is reported.
// - Duplicates are kept: the same (timestamp, value) sent twice is exported twice.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { silentLogger } from '../../appliance/model/logger.ts';
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

const DESTINATION = 'vm';

let exporter: NodeExporter;
let dir: TempDir;
let vmPort = 0;
let swPort = 0;
let vm: ProcessHandle | undefined;
let sw: ProcessHandle | undefined;
let probeWriter: NodeJS.Timeout | undefined;
/** The appliance's `up` samples of the node_exporter target over the first test's run (for the second test). */
let upLocal: { t: number; v: number; stale: boolean }[] = [];

function startVictoriaMetrics(): ProcessHandle {
  const bin = requireBinary('victoria-metrics', 'victoria-metrics');
  return spawnProcess(bin, [
    `-httpListenAddr=127.0.0.1:${vmPort}`,
    `-storageDataPath=${path.join(dir.path, 'vm-data')}`,
    '-retentionPeriod=1d',
    // The default 30 s offset hides the newest samples from queries and exports.
    '-search.latencyOffset=1s',
    '-search.disableCache',
  ]);
}

function startStorewatch(): ProcessHandle {
  return spawnStorewatch({
    config: path.join(dir.path, 'storewatch.yml'),
    port: swPort,
    storage: path.join(dir.path, 'sw-data'),
  });
}

async function vmReady(): Promise<boolean> {
  const r = await fetch(`http://127.0.0.1:${vmPort}/health`);
  await r.arrayBuffer();
  return r.ok;
}

/** One series as /api/v1/export returns it: a JSON line with parallel value and timestamp arrays. */
interface Exported {
  metric: Record<string, string>;
  values: (number | null)[];
  timestamps: number[];
}

async function vmExport(selector: string): Promise<Exported[]> {
  const url = `http://127.0.0.1:${vmPort}/api/v1/export?match[]=${encodeURIComponent(selector)}`;
  const res = await fetch(url);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Exported);
}

async function swMetric(name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${swPort}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

/** Writes the textfile collector's probe atomically (a half-written file would be a failed collection). */
function writeProbe(content: string | null): void {
  const file = path.join(exporter.textfileDir, 'probe.prom');
  if (content === null) {
    fs.rmSync(file, { force: true });
    return;
  }
  const tmp = path.join(exporter.textfileDir, 'probe.prom.tmp');
  fs.writeFileSync(tmp, content);
  fs.renameSync(tmp, file);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Local truth: every stored sample of one series up to `through`, stale flag read before any copy. */
function localSamples(db: Tsdb, name: string, through: number): { t: number; v: number; stale: boolean }[] {
  const s = db.querier().select([newMatcher('=', '__name__', name)], 0, through);
  assert.equal(s.length, 1, `one local series ${name}`);
  const out: { t: number; v: number; stale: boolean }[] = [];
  const it = s[0]!.iterator();
  while (it.next()) out.push({ t: it.t, v: it.v, stale: isStaleNaN(it.v) });
  return out;
}

/** VictoriaMetrics' samples of one exported series up to `through`, in timestamp order. */
function upstreamSamples(e: Exported, through: number): { t: number; v: number | null }[] {
  assert.equal(e.values.length, e.timestamps.length, 'export arrays have the same length');
  const out = e.timestamps.map((t, i) => ({ t, v: e.values[i] ?? null })).filter((x) => x.t <= through);
  out.sort((a, b) => a.t - b.t);
  return out;
}

/**
 * Compares local and upstream samples one to one. An exact duplicate upstream (a batch delivered twice,
 * which at-least-once delivery allows) is skipped and counted; anything else must match in order.
 */
function compare(
  local: readonly { t: number; v: number; stale: boolean }[],
  upstream: readonly { t: number; v: number | null }[],
  sameValue: (a: number, b: number) => boolean,
): { duplicates: number; inexact: number; markers: number } {
  // Ordinary NaNs never reach VictoriaMetrics' storage; staleness markers arrive as null.
  const expected = local.filter((s) => s.stale || !Number.isNaN(s.v));
  const deduped: { t: number; v: number | null }[] = [];
  let duplicates = 0;
  for (const u of upstream) {
    const prev = deduped[deduped.length - 1];
    if (prev !== undefined && prev.t === u.t && prev.v === u.v) duplicates++;
    else deduped.push(u);
  }
  assert.deepEqual(
    deduped.map((u) => u.t),
    expected.map((s) => s.t),
    'upstream holds exactly the local timestamps, none lost, none extra',
  );
  let inexact = 0;
  let markers = 0;
  expected.forEach((s, i) => {
    const u = deduped[i]!;
    if (s.stale) {
      markers++;
      assert.equal(u.v, null, `staleness marker at ${s.t} arrived as a marker`);
      return;
    }
    assert.ok(u.v !== null, `value at ${s.t} arrived as a marker`);
    assert.ok(sameValue(s.v, u.v), `value at ${s.t}: local ${s.v}, upstream ${u.v}`);
    if (!Object.is(s.v, u.v)) inexact++;
  });
  return { duplicates, inexact, markers };
}

before(async () => {
  exporter = await startNodeExporter();
  dir = await tempDir();
  vmPort = await freePort();
  swPort = await freePort();
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
  - url: http://127.0.0.1:${vmPort}/api/v1/write
    name: ${DESTINATION}
    remote_timeout: 5s
    queue_config: {batch_send_deadline: 500ms, min_backoff: 50ms, max_backoff: 500ms, max_samples_per_send: 5000}
host: {enabled: false}
`,
  );
});

after(async () => {
  if (probeWriter) clearInterval(probeWriter);
  await sw?.stop('SIGKILL');
  await vm?.stop('SIGKILL');
  await exporter?.stop();
  await dir?.remove();
});

test('every stored sample reaches VictoriaMetrics across a receiver restart, staleness markers included', async () => {
  // The probe's value changes while the test runs, in steps VictoriaMetrics' decimals hold exactly.
  let k = 0;
  let probeOn = true;
  const probeLine = (): string => `storewatch_test_probe{source="textfile"} ${1000 + k * 0.25}\n`;
  writeProbe(probeLine());
  probeWriter = setInterval(() => {
    k++;
    if (probeOn) writeProbe(probeLine());
  }, 700);

  vm = startVictoriaMetrics();
  await waitFor(vmReady, 30_000);
  sw = startStorewatch();
  const probe = 'storewatch_test_probe{job="node",store="s001"}';
  await waitFor(async () => (await vmExport(probe)).length === 1, 30_000).catch((err: unknown) => {
    throw new Error(`${String(err)}\n${sw?.output() ?? ''}`);
  });

  // The series disappears from the target for a few scrapes: storewatch writes a staleness marker.
  probeOn = false;
  writeProbe(null);
  await sleep(2500);
  probeOn = true;
  writeProbe(probeLine());
  await sleep(2000);

  // Outage: VictoriaMetrics stops (cleanly, so it keeps what it acknowledged) while scraping goes on.
  const retriesBefore = await swMetric('storewatch_remote_retries_total');
  const outageStart = Date.now();
  await vm.stop('SIGTERM', 15_000);
  await sleep(5000);
  await waitFor(async () => (await swMetric('storewatch_remote_retries_total')) > retriesBefore, 10_000);

  // The receiver returns on the same data: the backlog drains from the durable cursor.
  vm = startVictoriaMetrics();
  await waitFor(vmReady, 30_000);
  const outageEnd = Date.now();
  await waitFor(
    async () =>
      (await swMetric('storewatch_remote_sent_through_timestamp_seconds')) * 1000 > outageEnd + 2000,
    60_000,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}\n${sw?.output() ?? ''}`);
  });
  const status = await sw.stop('SIGTERM', 15_000);
  assert.equal(status.code, 0, sw.output());
  clearInterval(probeWriter);
  probeWriter = undefined;

  // After a clean stop the saved cursor is exact: everything stored up to it was acknowledged.
  const db = Tsdb.open({
    dir: path.join(dir.path, 'sw-data'),
    openDatabase: (f) => new Database(f),
    now: () => Date.now(),
    logger: silentLogger,
    retentionTimeMs: 0,
    retentionSizeBytes: 0,
  });
  let through: number;
  let probeLocal: { t: number; v: number; stale: boolean }[];
  let timeLocal: { t: number; v: number; stale: boolean }[];
  try {
    through = db.loadCursor(DESTINATION) ?? -1;
    assert.ok(through > outageEnd, `cursor ${through} is past the outage`);
    probeLocal = localSamples(db, 'storewatch_test_probe', through);
    timeLocal = localSamples(db, 'node_time_seconds', through);
    upLocal = localSamples(db, 'up', through);
  } finally {
    db.close();
  }
  assert.ok(
    probeLocal.some((s) => s.t < outageStart) && probeLocal.some((s) => s.t > outageStart + 5000),
    'local samples span the outage',
  );
  assert.ok(
    probeLocal.some((s) => s.stale),
    'the local probe series holds a staleness marker',
  );
  assert.ok(
    new Set(probeLocal.filter((s) => !s.stale).map((s) => s.v)).size > 5,
    'the probe value changed over time',
  );

  // VictoriaMetrics makes new rows searchable within a second or two: wait until the newest one shows.
  const lastProbe = probeLocal[probeLocal.length - 1]!.t;
  const exported = await waitFor(async () => {
    const e = await vmExport(probe);
    return e.length === 1 && e[0]!.timestamps.includes(lastProbe) ? e : false;
  }, 15_000);
  const upProbe = upstreamSamples(exported[0]!, through);
  const probeResult = compare(probeLocal, upProbe, (a, b) => Object.is(a, b));
  assert.equal(probeResult.inexact, 0);
  assert.ok(probeResult.markers >= 1, 'a staleness marker was compared');

  // A real node_exporter series with 17 significant digits: same timestamps, values within decimal rounding.
  const timeExport = await vmExport('node_time_seconds{job="node",store="s001"}');
  assert.equal(timeExport.length, 1);
  const timeResult = compare(
    timeLocal,
    upstreamSamples(timeExport[0]!, through),
    (a, b) => Math.abs(a - b) <= 1e-12 * Math.max(Math.abs(a), Math.abs(b)),
  );
  console.log(
    `# probe: ${probeLocal.length} samples (${probeResult.markers} staleness markers, ${probeResult.duplicates} duplicates upstream); ` +
      `node_time_seconds: ${timeLocal.length} samples, ${timeResult.inexact} rounded by VictoriaMetrics, ${timeResult.duplicates} duplicates`,
  );
});

test('shipping leaves scraping alone: the node_exporter scrapes of that run succeeded on schedule', () => {
  // node_exporter answers in tens of milliseconds, so with a 1 s interval and an 800 ms timeout a scrape fails
  // only when the appliance's event loop is blocked (a failed scrape is stored as up=0, and one that overruns
  // the interval is skipped). A tenth of the rounds may fail on a loaded machine.
  const ok = upLocal.filter((s) => !s.stale && s.v === 1);
  assert.ok(upLocal.length >= 10, `up samples: ${upLocal.length}`);
  const rounds = (upLocal[upLocal.length - 1]!.t - upLocal[0]!.t) / 1000 + 1;
  assert.ok(
    ok.length >= 0.9 * rounds,
    `${ok.length} successful scrapes of ${Math.round(rounds)} scheduled; failed at ` +
      JSON.stringify(upLocal.filter((s) => s.v !== 1).map((s) => s.t - upLocal[0]!.t)),
  );
});
