// Drain of a stored backlog: how fast storewatch ships what piled up during a long outage, under a bandwidth cap,
// to a real receiver (VictoriaMetrics 1.79 on 127.0.0.1). `npm run bench:drain` (defaults: 50,000 series, a
// 2-hour backlog at 15 s, a 10 Mbit/s cap, at most 180 s of draining) or `--quick` for the smoke test.
// Options: --series N, --hours H (24 is the issue's figure: ~288 M samples and a long build), --interval S,
// --bandwidth-limit BYTES/s (1250000 = 10 Mbit/s), --seconds S (drain time limit), --json FILE.
//
// Two child processes, so each figure counts one phase only:
// 1. build: a TSDB holding H hours of a node_exporter-like mix (counters growing with noise, gauges, constants)
//    ending now, written through the Appender as scrapes would, maintained (chunks flushed, windows sealed).
// 2. drain: a RemoteSender (the appliance's own class, configured as main.ts configures it) ships the backlog
//    from a fresh cursor until the cursor reaches the end of the backlog or --seconds pass. Reported: samples/s,
//    compressed wire bytes per sample, CPU seconds per million samples, peak RSS, the byte rate against the cap,
//    and the time the whole backlog would take at the measured rate.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { loadConfig } from '../appliance/config/load.ts';
import { REMOTE_STEP_MS } from '../appliance/main.ts';
import type { Labels } from '../appliance/model/labels.ts';
import { labelsFromRecord } from '../appliance/model/labels.ts';
import { silentLogger } from '../appliance/model/logger.ts';
import { HttpWriteClient } from '../appliance/remote/client.ts';
import { RemoteSender } from '../appliance/remote/sender.ts';
import { Tsdb } from '../appliance/tsdb/db.ts';
import { NODE_RUNTIME_FLAGS } from '../firmware/node-flags.ts';
import { freePort, procStat, waitUp, which } from './bench-targets.ts';

const USAGE =
  'usage: bench-drain.ts [--quick] [--series N] [--hours H] [--interval S] [--bandwidth-limit BYTES] ' +
  '[--seconds S] [--json FILE]';

interface Settings {
  readonly quick: boolean;
  readonly series: number;
  readonly hours: number;
  readonly intervalS: number;
  readonly bandwidth: number;
  readonly seconds: number;
  readonly json: string | undefined;
}

function settings(argv: string[]): Settings & { phase?: string; dir?: string; url?: string } {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      series: { type: 'string' },
      hours: { type: 'string' },
      interval: { type: 'string' },
      'bandwidth-limit': { type: 'string' },
      seconds: { type: 'string' },
      json: { type: 'string' },
      phase: { type: 'string' },
      dir: { type: 'string' },
      url: { type: 'string' },
    },
  });
  const quick = values.quick ?? false;
  const num = (name: keyof typeof values, def: number): number => {
    const raw = values[name];
    if (raw === undefined) return def;
    const n = Number(raw);
    if (!(n > 0)) {
      process.stderr.write(`bench-drain: --${name} needs a positive number\n${USAGE}\n`);
      process.exit(2);
    }
    return n;
  };
  return {
    quick,
    series: num('series', quick ? 500 : 50_000),
    hours: num('hours', quick ? 0.25 : 2),
    intervalS: num('interval', 15),
    bandwidth: num('bandwidth-limit', 1_250_000),
    seconds: num('seconds', quick ? 30 : 180),
    json: values.json,
    ...(values.phase ? { phase: values.phase } : {}),
    ...(values.dir ? { dir: values.dir } : {}),
    ...(values.url ? { url: values.url } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Phase 1: the backlog.
// ---------------------------------------------------------------------------------------------------------

interface SeriesModel {
  labels: Labels;
  kind: 'counter' | 'gauge' | 'constant';
  value: number;
  step: number;
}

/** A node_exporter-like mix per 1,000 series: about half counters, a third gauges, the rest constants. */
function model(n: number): SeriesModel[] {
  const out: SeriesModel[] = [];
  let x = 12345;
  const rnd = (): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x / 2 ** 32;
  };
  for (let i = 0; i < n; i++) {
    const target = Math.floor(i / 1000);
    const r = i % 1000;
    const kind = r < 500 ? 'counter' : r < 830 ? 'gauge' : 'constant';
    const name =
      kind === 'counter'
        ? `node_bench_total_${r % 40}`
        : kind === 'gauge'
          ? `node_bench_gauge_${r % 25}`
          : 'node_bench_info';
    out.push({
      labels: labelsFromRecord({
        __name__: name,
        instance: `127.0.${Math.floor(target / 250)}.${(target % 250) + 1}:9100`,
        job: 'node',
        series: String(r),
      }),
      kind,
      value: kind === 'constant' ? 1 : Math.floor(rnd() * 1e6),
      step: Math.floor(rnd() * 5000),
    });
  }
  return out;
}

function build(s: Settings, dir: string): void {
  const end = Math.floor(Date.now() / 1000) * 1000 - 60_000;
  const stepMs = s.intervalS * 1000;
  const steps = Math.floor((s.hours * 3_600_000) / stepMs);
  const start = end - (steps - 1) * stepMs;
  let clock = start;
  const db = Tsdb.open({
    dir,
    openDatabase: (file) => new Database(file),
    now: () => clock,
    logger: silentLogger,
    retentionTimeMs: 0,
    retentionSizeBytes: 0,
  });
  const series = model(s.series);
  const refs = new Array<number>(series.length).fill(0);
  let lastMaintain = start;
  for (let k = 0; k < steps; k++) {
    const t = start + k * stepMs;
    clock = t;
    for (let base = 0; base < series.length; base += 1000) {
      const app = db.appender();
      for (let i = base; i < Math.min(series.length, base + 1000); i++) {
        const m = series[i]!;
        if (m.kind === 'counter') m.value += m.step + ((k * 7 + i) % 13);
        else if (m.kind === 'gauge') m.value = Math.round(m.value * 0.9 + ((k * 31 + i * 17) % 1000) * 0.1);
        refs[i] = app.append(refs[i]!, m.labels, t, m.value);
      }
      app.commit();
    }
    if (t - lastMaintain >= 600_000) {
      db.maintain();
      lastMaintain = t;
    }
  }
  clock = Date.now();
  db.maintain({ forceFlush: true });
  db.close();
  process.stdout.write(JSON.stringify({ samples: steps * series.length, start, end }) + '\n');
}

// ---------------------------------------------------------------------------------------------------------
// Phase 2: the drain.
// ---------------------------------------------------------------------------------------------------------

async function drain(s: Settings, dir: string, url: string): Promise<void> {
  const db = Tsdb.open({
    dir,
    openDatabase: (file) => new Database(file),
    now: () => Date.now(),
    logger: silentLogger,
    retentionTimeMs: 0,
    retentionSizeBytes: 0,
  });
  const newest = db.stats().newestTimestamp ?? 0;
  // The destination as a user would configure it: Prometheus's defaults for everything but the URL and the cap.
  const rw = loadConfig(
    `remote_write: [{url: '${url}', store_and_forward: {bandwidth_limit: ${s.bandwidth}}}]`,
    { baseDir: '/', readFile: () => '' },
  ).remote_write[0]!;
  const sender = new RemoteSender({
    name: 'bench',
    client: new HttpWriteClient({
      url: rw.url,
      http: rw.http_client_config,
      timeoutMs: rw.remote_timeout,
      headers: rw.headers,
      userAgent: 'storewatch-bench',
      retryOn429: rw.queue_config.retry_on_http_429,
    }),
    storage: db,
    cursors: db,
    logger: silentLogger,
    now: () => Date.now(),
    sleep: (ms, signal) =>
      new Promise((r) => {
        const t = setTimeout(r, ms);
        signal.addEventListener('abort', () => {
          clearTimeout(t);
          r(undefined);
        });
      }),
    externalLabels: { store: 'bench' },
    maxSamplesPerSend: rw.queue_config.max_samples_per_send,
    batchSendDeadlineMs: rw.queue_config.batch_send_deadline,
    minBackoffMs: rw.queue_config.min_backoff,
    maxBackoffMs: rw.queue_config.max_backoff,
    sampleAgeLimitMs: rw.queue_config.sample_age_limit,
    readLagMs: 15_000,
    stepMs: REMOTE_STEP_MS,
    bandwidthLimit: rw.store_and_forward.bandwidth_limit,
    shards: rw.queue_config.max_shards,
    writeRelabel: [],
    protobufMessage: rw.protobuf_message,
    catchUp: rw.store_and_forward.catch_up,
    backfillWindows: rw.store_and_forward.backfill_windows,
    minuteOfDay: () => 0,
  });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  sender.start();
  let st = sender.status();
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    st = sender.status();
    if ((st.sentThrough ?? -Infinity) >= newest) break;
    if (performance.now() - t0 > s.seconds * 1000) break;
  }
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await sender.stop();
  db.close();
  const hwm = procStat(process.pid).hwmMB;
  process.stdout.write(
    JSON.stringify({
      wall,
      cpuSec: (cpu.user + cpu.system) / 1e6,
      samples: st.samplesSent,
      bytes: st.bytesSent,
      requests: st.requests,
      retries: st.retries,
      lastError: st.lastError,
      finished: (st.sentThrough ?? -Infinity) >= newest,
      hwmMB: hwm,
    }) + '\n',
  );
}

// ---------------------------------------------------------------------------------------------------------
// The driver.
// ---------------------------------------------------------------------------------------------------------

function runChild(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    // The appliance's own heap settings, so peak RSS is what a store would see.
    const child = spawn(process.execPath, [...NODE_RUNTIME_FLAGS, import.meta.filename, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) =>
      code === 0 ? resolve(out.trim().split('\n').pop() ?? '') : reject(new Error(`child exited ${code}`)),
    );
  });
}

async function main(): Promise<void> {
  const s = settings(process.argv.slice(2));
  if (s.phase === 'build') return build(s, s.dir!);
  if (s.phase === 'drain') return drain(s, s.dir!, s.url!);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-bench-drain-'));
  const pass = ['--series', String(s.series), '--hours', String(s.hours), '--interval', String(s.intervalS)];
  let vm: ChildProcess | null = null;
  try {
    process.stderr.write(
      `building a ${s.hours} h backlog of ${s.series} series every ${s.intervalS} s ...\n`,
    );
    const b0 = performance.now();
    const built = JSON.parse(
      await runChild(['--phase', 'build', '--dir', path.join(dir, 'data'), ...pass]),
    ) as {
      samples: number;
    };
    const buildS = (performance.now() - b0) / 1000;
    const dbBytes = fs.statSync(path.join(dir, 'data', 'storewatch.db')).size;
    const port = await freePort();
    vm = spawn(
      which('victoria-metrics'),
      [
        `-httpListenAddr=127.0.0.1:${port}`,
        `-storageDataPath=${path.join(dir, 'vm-data')}`,
        '-retentionPeriod=3d',
        '-loggerLevel=WARN',
      ],
      { stdio: ['ignore', 'ignore', fs.openSync(path.join(dir, 'vm.log'), 'w')] },
    );
    await waitUp(`http://127.0.0.1:${port}/health`, 20_000);
    process.stderr.write(`draining through a ${s.bandwidth} B/s cap for at most ${s.seconds} s ...\n`);
    const r = JSON.parse(
      await runChild([
        '--phase',
        'drain',
        '--dir',
        path.join(dir, 'data'),
        '--url',
        `http://127.0.0.1:${port}/api/v1/write`,
        '--bandwidth-limit',
        String(s.bandwidth),
        '--seconds',
        String(s.seconds),
      ]),
    ) as {
      wall: number;
      cpuSec: number;
      samples: number;
      bytes: number;
      requests: number;
      retries: number;
      lastError: string;
      finished: boolean;
      hwmMB: number;
    };
    const rate = r.samples / r.wall;
    const result = {
      settings: s,
      backlog: { samples: built.samples, buildSeconds: buildS, storedBytes: dbBytes },
      drain: {
        ...r,
        samplesPerSecond: rate,
        wireBytesPerSample: r.bytes / Math.max(1, r.samples),
        cpuSecondsPerMillion: (r.cpuSec / Math.max(1, r.samples)) * 1e6,
        capShare: r.bytes / r.wall / s.bandwidth,
        wholeBacklogHours: built.samples / rate / 3600,
        backlog24hHours: (s.series * 86_400) / s.intervalS / rate / 3600,
      },
    };
    const d = result.drain;
    process.stdout.write(
      `# storewatch backlog drain${s.quick ? ' (--quick: tiny sizes, figures not meaningful)' : ''}\n\n` +
        `Backlog: ${s.series} series x ${s.hours} h at ${s.intervalS} s = ${built.samples} samples, ${(dbBytes / 1e6).toFixed(1)} MB stored.\n` +
        `Cap: ${s.bandwidth} B/s. Receiver: VictoriaMetrics on 127.0.0.1.\n\n` +
        `| figure | value |\n|---|---|\n` +
        `| drained | ${d.finished ? 'all' : `${d.samples} samples in ${d.wall.toFixed(0)} s (time limit)`} |\n` +
        `| drain rate | ${Math.round(d.samplesPerSecond)} samples/s |\n` +
        `| wire bytes per sample | ${d.wireBytesPerSample.toFixed(2)} |\n` +
        `| byte rate / cap | ${(d.capShare * 100).toFixed(0)} % |\n` +
        `| CPU s per 1 M samples | ${d.cpuSecondsPerMillion.toFixed(1)} |\n` +
        `| peak RSS (drain process) | ${d.hwmMB.toFixed(0)} MB |\n` +
        `| a 24 h backlog of this store at this rate | ${d.backlog24hHours.toFixed(2)} h |\n` +
        `| retries / last error | ${d.retries} / ${d.lastError || '-'} |\n`,
    );
    if (s.json) fs.writeFileSync(s.json, JSON.stringify(result, null, 2));
  } finally {
    vm?.kill('SIGTERM');
    if (!process.env.BENCH_KEEP) fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
