// PromQL benchmark against the real peer: the same synthetic store imported into storewatch
// (`storewatch tsdb import`) and into Prometheus 2.42 (`promtool tsdb create-blocks-from openmetrics`), the same
// dashboard queries sent over HTTP to both (/api/v1/query_range, 1 h and 24 h ranges), latency and peak RSS as a
// ratio to Prometheus. `npm run bench:promql` runs the size (10k series, 24 h at 15 s: a ~4 GB
// OpenMetrics file; expect a long import); --series N, --hours H, --interval S, --runs N (timed runs per query,
// median reported, after one warm-up), --json FILE, --quick (tiny sizes, for the smoke test).
// BENCH_KEEP=1 keeps the run's directory.
//
// storewatch serves from a child process (this script with --serve) that opens the imported data directory,
// seals it once (as the appliance's maintenance would), and mounts the same API router the appliance uses,
// with the appliance's V8 flags; Prometheus runs with an empty scrape config on the promtool blocks. Both bind
// 127.0.0.1 only. Peak RSS is each server's VmHWM after all queries. Each answer pair is compared (same series,
// values within 1e-9 relative): the "agree" column says whether both computed the same thing.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import express from 'express';
import { NODE_RUNTIME_FLAGS } from '../firmware/node-flags.ts';
import { silentLogger } from '../appliance/model/logger.ts';
import { Engine } from '../appliance/promql/engine.ts';
import { Tsdb } from '../appliance/tsdb/db.ts';
import { apiRouter } from '../appliance/web/api.ts';
import { freePort, procStat, waitUp, which } from './bench-targets.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
/** Data ends here (a fixed time, so every run queries the same instants). */
const END_S = 1_700_006_400;
const LES = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1.0', '2.5', '+Inf'];

export interface Settings {
  readonly series: number;
  readonly hours: number;
  readonly intervalS: number;
  readonly runs: number;
  readonly quick: boolean;
}

export interface QueryRow {
  readonly query: string;
  readonly rangeH: number;
  readonly stepS: number;
  readonly storewatchMs: number;
  readonly prometheusMs: number;
  readonly ratio: number;
  readonly series: number;
  readonly agree: boolean;
}

export interface BenchResult {
  readonly settings: Settings;
  readonly samples: number;
  readonly fileBytes: number;
  readonly importS: { readonly storewatch: number; readonly prometheus: number };
  readonly queries: QueryRow[];
  readonly peakRssMB: { readonly storewatch: number; readonly prometheus: number; readonly ratio: number };
}

/** The dashboard queries of the issue. */
export const QUERIES: readonly string[] = [
  'sum by (job) (rate(http_requests_total[5m]))',
  'topk(5, rate(http_requests_total[5m]))',
  'histogram_quantile(0.99, sum by (job, le) (rate(http_request_duration_seconds_bucket[5m])))',
  'sum(rate(http_requests_total{instance=~"host-1.*", code=~"5.."}[5m]))',
];

/** Writes the synthetic store as OpenMetrics (series-major, timestamps in seconds); returns the sample count. */
export async function writeStore(file: string, s: Settings): Promise<number> {
  // Ten extra minutes before the longest range: no range evaluates near the start of the series, where
  // Prometheus 2.42 and 3.x extrapolate rate() differently (3.x caps the start before the zero point).
  const points = Math.floor((s.hours * 3600 + 600) / s.intervalS) + 1;
  // 7 s off the evaluation grid: no sample sits exactly on a range boundary, where Prometheus 2.42's
  // left-closed range selectors and storewatch's 3.x left-open ones would legitimately differ.
  const startS = END_S - points * s.intervalS + 7;
  const nCounters = Math.floor(s.series * 0.5);
  const nGroups = Math.floor((s.series * 0.4) / LES.length);
  const nGauges = s.series - nCounters - nGroups * LES.length;
  const out = fs.createWriteStream(file);
  let buf = '';
  let samples = 0;
  const emit = async (line: string): Promise<void> => {
    buf += line + '\n';
    if (buf.length > 1 << 20) {
      const ok = out.write(buf);
      buf = '';
      if (!ok) await new Promise<void>((r) => out.once('drain', () => r()));
    }
  };
  const codes = ['200', '404', '500', '503'];
  await emit('# HELP http_requests Requests served.');
  await emit('# TYPE http_requests counter');
  for (let i = 0; i < nCounters; i++) {
    const labels = `{code="${codes[i % 4]}",instance="host-${Math.floor(i / 4)}",job="job-${i % 10}"}`;
    let v = 0;
    for (let k = 0; k < points; k++) {
      // A per-series fraction keeps rates distinct: topk with ties may pick either series.
      v += ((k * 7 + i) % 13) + (i % 997) / 1000;
      await emit(`http_requests_total${labels} ${v} ${startS + k * s.intervalS}`);
      samples++;
    }
  }
  await emit('# TYPE http_request_duration_seconds histogram');
  for (let g = 0; g < nGroups; g++) {
    for (let j = 0; j < LES.length; j++) {
      const frac = (j + 1) / LES.length;
      const labels = `{instance="host-${g}",job="job-${g % 10}",le="${LES[j]}"}`;
      let total = 0;
      for (let k = 0; k < points; k++) {
        total += (k * 5 + g) % 11;
        await emit(
          `http_request_duration_seconds_bucket${labels} ${Math.floor(total * frac)} ${startS + k * s.intervalS}`,
        );
        samples++;
      }
    }
  }
  await emit('# TYPE node_load1 gauge');
  for (let i = 0; i < nGauges; i++) {
    const labels = `{instance="host-${i}",job="job-${i % 10}"}`;
    for (let k = 0; k < points; k++) {
      await emit(`node_load1${labels} ${(((k + i) % 100) / 25).toFixed(2)} ${startS + k * s.intervalS}`);
      samples++;
    }
  }
  await emit('# EOF');
  out.end(buf);
  await new Promise<void>((resolve, reject) => {
    out.once('finish', resolve);
    out.once('error', reject);
  });
  return samples;
}

function runToEnd(file: string, args: readonly string[]): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-8192)));
    child.stderr.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-8192)));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve((performance.now() - t0) / 1000);
      else reject(new Error(`${path.basename(file)} ${args.join(' ')} exited ${code}: ${out}`));
    });
  });
}

function startChild(file: string, args: readonly string[], log: string): ChildProcess {
  const fd = fs.openSync(log, 'a');
  const child = spawn(file, args, { stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  return child;
}

async function stopChild(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const done = new Promise((r) => c.once('close', r));
  c.kill('SIGTERM');
  const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
  await done;
  clearTimeout(timer);
}

interface Answer {
  readonly ms: number;
  readonly result: { metric: Record<string, string>; values: [number, string][] }[];
}

async function rangeQuery(
  base: string,
  q: string,
  start: number,
  end: number,
  step: number,
): Promise<Answer> {
  const body = new URLSearchParams({ query: q, start: String(start), end: String(end), step: String(step) });
  const t0 = performance.now();
  const r = await fetch(`${base}/api/v1/query_range`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: body.toString(),
  });
  const j = (await r.json()) as { status: string; error?: string; data?: { result: Answer['result'] } };
  const ms = performance.now() - t0;
  if (j.status !== 'success' || !j.data) throw new Error(`${base}: ${q}: ${j.error ?? r.status}`);
  return { ms, result: j.data.result };
}

/** The first difference between two range answers, or null when they agree (values within 1e-9 relative). */
export function answerDiff(a: Answer['result'], b: Answer['result']): string | null {
  if (a.length !== b.length) return `${a.length} series vs ${b.length}`;
  const key = (m: Record<string, string>): string => JSON.stringify(Object.entries(m).sort());
  const bm = new Map(b.map((s) => [key(s.metric), s.values]));
  for (const s of a) {
    const k = key(s.metric);
    const other = bm.get(k);
    if (!other) return `series ${k} missing`;
    if (other.length !== s.values.length) return `${k}: ${s.values.length} points vs ${other.length}`;
    for (let i = 0; i < s.values.length; i++) {
      const [t1, v1] = s.values[i]!;
      const [t2, v2] = other[i]!;
      const x = Number(v1);
      const y = Number(v2);
      const same =
        x === y ||
        (Number.isNaN(x) && Number.isNaN(y)) ||
        Math.abs(x - y) <= 1e-9 * Math.max(Math.abs(x), Math.abs(y));
      if (t1 !== t2 || !same) return `${k}: [${t1}, ${v1}] vs [${t2}, ${v2}]`;
    }
  }
  return null;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Runs the whole benchmark; returns the figures. */
export async function bench(s: Settings, log: (line: string) => void): Promise<BenchResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-bench-promql-'));
  const children: ChildProcess[] = [];
  try {
    const file = path.join(dir, 'store.om');
    log(`writing ${s.series} series x ${s.hours} h at ${s.intervalS} s to ${file}`);
    const samples = await writeStore(file, s);
    const fileBytes = fs.statSync(file).size;
    log(`importing ${samples} samples (${(fileBytes / 1e6).toFixed(0)} MB) into storewatch`);
    const swDir = path.join(dir, 'sw');
    const swImport = await runToEnd(process.execPath, [
      ...NODE_RUNTIME_FLAGS,
      path.join(ROOT, 'appliance', 'cli.ts'),
      'tsdb',
      'import',
      '--storage.path',
      swDir,
      file,
    ]);
    log('importing into Prometheus (promtool tsdb create-blocks-from openmetrics)');
    const promDir = path.join(dir, 'prom');
    const promImport = await runToEnd(which('promtool'), [
      'tsdb',
      'create-blocks-from',
      'openmetrics',
      '-q',
      file,
      promDir,
    ]);
    fs.writeFileSync(path.join(dir, 'prometheus.yml'), 'global: {}\n');
    const promPort = await freePort();
    const prom = startChild(
      which('prometheus'),
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${promDir}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        // Retention counts from the newest block, but make sure nothing of the synthetic past is dropped.
        '--storage.tsdb.retention.time=100y',
      ],
      path.join(dir, 'prometheus.log'),
    );
    children.push(prom);
    const swPort = await freePort();
    const sw = startChild(
      process.execPath,
      [
        ...NODE_RUNTIME_FLAGS,
        path.join(ROOT, 'scripts', 'bench-promql.ts'),
        '--serve',
        swDir,
        '--port',
        String(swPort),
      ],
      path.join(dir, 'storewatch.log'),
    );
    children.push(sw);
    const dead = (c: ChildProcess, name: string) => (): string | null =>
      c.exitCode !== null ? `${name} exited ${c.exitCode}: see logs in ${dir}` : null;
    const promBase = `http://127.0.0.1:${promPort}`;
    const swBase = `http://127.0.0.1:${swPort}`;
    await waitUp(`${promBase}/-/ready`, 120_000, dead(prom, 'prometheus'));
    await waitUp(`${swBase}/-/ready`, 120_000, dead(sw, 'storewatch'));
    const rows: QueryRow[] = [];
    for (const rangeH of s.hours > 1 ? [1, s.hours] : [s.hours]) {
      const stepS = rangeH <= 1 ? 15 : 60;
      const start = END_S - rangeH * 3600;
      for (const q of QUERIES) {
        const a = await rangeQuery(swBase, q, start, END_S, stepS);
        const b = await rangeQuery(promBase, q, start, END_S, stepS);
        const swMs: number[] = [];
        const prMs: number[] = [];
        for (let i = 0; i < s.runs; i++) {
          swMs.push((await rangeQuery(swBase, q, start, END_S, stepS)).ms);
          prMs.push((await rangeQuery(promBase, q, start, END_S, stepS)).ms);
        }
        const diff = answerDiff(a.result, b.result);
        const row: QueryRow = {
          query: q,
          rangeH,
          stepS,
          storewatchMs: median(swMs),
          prometheusMs: median(prMs),
          ratio: median(swMs) / median(prMs),
          series: a.result.length,
          agree: diff === null,
        };
        if (diff !== null) log(`answers differ: ${diff}`);
        log(`${rangeH} h ${q}: ${row.storewatchMs.toFixed(1)} ms vs ${row.prometheusMs.toFixed(1)} ms`);
        rows.push(row);
      }
    }
    const swRss = procStat(sw.pid!).hwmMB;
    const prRss = procStat(prom.pid!).hwmMB;
    return {
      settings: s,
      samples,
      fileBytes,
      importS: { storewatch: swImport, prometheus: promImport },
      queries: rows,
      peakRssMB: { storewatch: swRss, prometheus: prRss, ratio: swRss / prRss },
    };
  } finally {
    for (const c of children) await stopChild(c);
    if (process.env.BENCH_KEEP === '1') log(`kept ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Markdown report. */
export function report(r: BenchResult): string {
  const s = r.settings;
  const lines = [
    `# storewatch PromQL benchmark${s.quick ? ' (--quick)' : ''}: ${s.series} series, ${s.hours} h at ${s.intervalS} s, ${r.samples.toLocaleString('en-US')} samples`,
    '',
    `Import: storewatch ${r.importS.storewatch.toFixed(1)} s, promtool ${r.importS.prometheus.toFixed(1)} s (${(r.fileBytes / 1e6).toFixed(0)} MB OpenMetrics).`,
    '',
    '| range | step | query | series | storewatch ms | Prometheus 2.42 ms | ratio | agree |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const q of r.queries) {
    lines.push(
      `| ${q.rangeH} h | ${q.stepS} s | \`${q.query}\` | ${q.series} | ${q.storewatchMs.toFixed(1)} | ${q.prometheusMs.toFixed(1)} | ${q.ratio.toFixed(2)} | ${q.agree ? 'yes' : 'NO'} |`,
    );
  }
  lines.push(
    '',
    `Peak RSS after all queries: storewatch ${r.peakRssMB.storewatch.toFixed(0)} MB, Prometheus ${r.peakRssMB.prometheus.toFixed(0)} MB, ratio ${r.peakRssMB.ratio.toFixed(2)}.`,
    '',
  );
  return lines.join('\n');
}

/** --serve DIR --port P: the storewatch side, the API router over the imported directory. */
async function serve(dir: string, port: number): Promise<void> {
  const db = Tsdb.open({
    dir,
    openDatabase: (f) => new Database(f),
    now: Date.now,
    logger: silentLogger,
    retentionTimeMs: 0,
    retentionSizeBytes: 0,
  });
  // The appliance's maintenance seals old windows; a benchmark of imported history should read sealed data.
  db.maintain({ forceFlush: true });
  const engine = new Engine({ maxSamples: 50_000_000, timeoutMs: 120_000, lookbackDeltaMs: 300_000 });
  const app = express();
  app.get('/-/ready', (_req, res) => {
    res.type('text/plain').send('ready\n');
  });
  app.use(
    apiRouter({ queryable: db, engine, metadata: () => new Map(), now: Date.now, logger: silentLogger }),
  );
  const server = http.createServer(app);
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const addr = server.address() as AddressInfo;
  process.stderr.write(`serving ${dir} on 127.0.0.1:${addr.port}\n`);
  const stop = (): void => {
    server.close(() => {
      db.close();
      process.exit(0);
    });
    server.closeAllConnections();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    options: {
      serve: { type: 'string' },
      port: { type: 'string' },
      quick: { type: 'boolean' },
      series: { type: 'string' },
      hours: { type: 'string' },
      interval: { type: 'string' },
      runs: { type: 'string' },
      json: { type: 'string' },
    },
  });
  if (values.serve !== undefined) {
    await serve(values.serve, Number(values.port ?? 0));
    return;
  }
  const quick = values.quick ?? false;
  const s: Settings = {
    series: Number(values.series ?? (quick ? 100 : 10_000)),
    hours: Number(values.hours ?? (quick ? 2 : 24)),
    intervalS: Number(values.interval ?? (quick ? 60 : 15)),
    runs: Number(values.runs ?? (quick ? 1 : 5)),
    quick,
  };
  for (const [k, v] of Object.entries(s)) {
    if (typeof v === 'number' && !(Number.isFinite(v) && v > 0))
      throw new Error(`--${k} must be a positive number`);
  }
  if (s.series < 20) throw new Error('--series must be at least 20');
  const r = await bench(s, (l) => process.stderr.write(`${l}\n`));
  process.stdout.write(report(r));
  if (values.json) {
    fs.mkdirSync(path.dirname(values.json), { recursive: true });
    fs.writeFileSync(values.json, JSON.stringify(r, null, 2));
  }
}

if (import.meta.main) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench-promql: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
