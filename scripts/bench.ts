// storewatch's storage and ingest benchmark: `npm run bench` (full run, a few minutes on 2 cores) or
// `node scripts/bench.ts --quick` (tiny sizes, for the smoke test). `--out FILE` sets where the JSON result
// goes (default: bench-results.json in a new temp dir); a markdown report is printed and written beside it.
// `--cpu-prof DIR` runs every measuring child with `node --cpu-prof` and leaves the profiles in DIR.
//
// Every measurement runs in a child process of its own, so peak RSS and /proc/self/io count one scenario
// only. Scenarios:
// - synthetic:  50 targets x 1,000 series of a node_exporter-like mix (see MIX below), 6 h of simulated
//               time scraped every 15 s, one commit per target per round, maintain() every simulated 10 s,
//               in compressed time with a fake clock. Append rate, bytes on disk and written, RSS, CPU.
// - parse:      the same targets as exposition text bodies with HELP/TYPE: parse + append + commit rate.
// - real-20:    20 scrapes of a real prometheus-node-exporter on 127.0.0.1, fetched back to back and stored
//               with synthetic timestamps 15 s apart.
// - real-replay: the same real series continued for 6 h with modelled drift (see realReplaySource).
// - compare-*:  the first 2 h of the synthetic targets (a subset) and of the real replay, stored by
//               storewatch and by Prometheus's own TSDB (`promtool tsdb create-blocks-from openmetrics`).
//
// Definitions used in the report:
// - Append rate: samples / time spent in Appender.append + commit only (labels and refs are built in the
//   first round, which is timed separately as series creation; values are generated outside the timer).
//   Wall time and process CPU time (process.cpuUsage, user + system) are both reported.
// - On disk: apparent size of every file in the data dir (storewatch.db, -wal, head-log/) after close(),
//   divided by samples. Chunk payload: sum(length(data)) of the chunks table / samples (the codec alone).
// - Written: /proc/self/io write_bytes delta from before Tsdb.open to after close() and a `sync`, / samples
//   (bytes the kernel accounted to the block layer for this process: head log, WAL, checkpoints). wchar is
//   the syscall-level figure (every write(2), also page-cache-only rewrites of the same pages).
// - CPU per 1k samples/s: with C = CPU seconds spent on append + commit + maintain per simulated hour and
//   R = samples per second the simulated store ingests (samples per simulated hour / 3600), the fraction of
//   one core needed per 1,000 samples/s of real ingest is (C / 3600) / (R / 1000) = CPU seconds per
//   1,000 samples. The report also gives C / (R / 1000), the CPU seconds per hour per 1k samples/s.
import { NODE_RUNTIME_FLAGS } from '../firmware/node-flags.ts';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import Database from 'better-sqlite3';
import type { Labels } from '../appliance/model/labels.ts';
import { LabelsBuilder, labelsFromRecord, labelsKey, METRIC_NAME } from '../appliance/model/labels.ts';
import { silentLogger } from '../appliance/model/logger.ts';
import { parseExposition } from '../appliance/scrape/textparse.ts';
import type { SeriesRef } from '../appliance/storage/interface.ts';
import { MAINTENANCE_INTERVAL_MS, SEAL_GRACE_MS, Tsdb, WINDOW_MS } from '../appliance/tsdb/db.ts';

const INTERVAL_MS = 15_000;
const HOUR_MS = 3_600_000;
/** 2025-01-06T00:00:00Z: aligned to the 2 h windows, so "6 h" covers exactly three of them. */
const T0 = Date.UTC(2025, 0, 6);
const NODE_EXPORTER = 'prometheus-node-exporter';
const PROMTOOL = 'promtool';
const INSTALL_HINT = 'run bash scripts/install-test-peers.sh';

/** The issue's targets. */
const GOALS = {
  appendPerSec: 1_000_000,
  diskBytesPerSample: 1.5,
  writtenBytesPerSample: 6,
  rssMB: 120,
};

// ---------------------------------------------------------------------------------------------------------
// The synthetic node_exporter-like mix, per 1,000 series of one target.
//
// 45 % constant or rarely changing:
//   const  200  info metrics (1), sizes, limits, MTU, link speed, max CPU frequency: never change.
//   flag   100  0/1 state gauges (link up, carrier, RAID state): flip with probability 1/5,000 per scrape.
//   slow   150  slowly moving gauges: free filesystem bytes (multiples of 4 KiB) and small counts (open fds,
//               conntrack entries, processes), changing with probability 0.1 per scrape.
// 35 % counters:
//   cpu    100  node_cpu_seconds_total: + 15 s x a per-series utilisation share, 2 decimals (idle ~ 14.5 per
//               scrape, user/system fractions, iowait/steal mostly 0).
//   bytes  100  network and disk byte counters: integer increments of varying size (per-series scale from
//               100 B to 1 MB per scrape, disk in 4 KiB multiples), idle 30 % of the time.
//   ops     50  packet/operation counters: small integer increments (0..~100).
//   errors 100  error/drop counters that stay 0.
// 20 % noisy gauges:
//   mem     80  memory bytes: random walk in 4 KiB pages, every scrape.
//   temp    40  temperatures, 1 decimal, slow drift plus noise.
//   dec2    50  load averages and pressure figures, 2 decimals.
//   float   30  full-precision floats (scrape collector durations): the XOR codec's worst case.
// ---------------------------------------------------------------------------------------------------------

type Kind =
  'const' | 'flag' | 'slow' | 'cpu' | 'bytes' | 'ops' | 'errors' | 'mem' | 'temp' | 'dec2' | 'float';

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  /** Labels of the i-th series of this family (besides __name__, instance, job). */
  readonly labels: (i: number) => Record<string, string>;
}

const dev = (p: string) => (i: number) => ({ device: `${p}${i}` });
const CPU_MODES = ['idle', 'user', 'system', 'iowait', 'irq', 'softirq', 'steal', 'nice'] as const;

/** The mix: kind, series per 1,000 and the families its series are spread over (round robin). */
export const MIX: readonly { kind: Kind; per1000: number; families: readonly Family[] }[] = [
  {
    kind: 'const',
    per1000: 200,
    families: [
      {
        name: 'node_filesystem_size_bytes',
        help: 'Filesystem size in bytes.',
        type: 'gauge',
        labels: (i) => ({ device: `/dev/sd${i}`, mountpoint: `/mnt/d${i}`, fstype: 'ext4' }),
      },
      {
        name: 'node_network_mtu_bytes',
        help: 'Network device property: mtu_bytes.',
        type: 'gauge',
        labels: dev('eth'),
      },
      {
        name: 'node_network_speed_bytes',
        help: 'Network device property: speed_bytes.',
        type: 'gauge',
        labels: dev('eth'),
      },
      {
        name: 'node_cpu_frequency_max_hertz',
        help: 'Maximum CPU thread frequency in hertz.',
        type: 'gauge',
        labels: (i) => ({ cpu: String(i) }),
      },
      {
        name: 'node_network_info',
        help: 'Non-numeric data from /sys/class/net/<iface>.',
        type: 'gauge',
        labels: (i) => ({
          device: `eth${i}`,
          address: `52:54:00:12:34:${(i % 256).toString(16).padStart(2, '0')}`,
          operstate: 'up',
        }),
      },
    ],
  },
  {
    kind: 'flag',
    per1000: 100,
    families: [
      {
        name: 'node_network_up',
        help: 'Value is 1 if operstate is up, 0 otherwise.',
        type: 'gauge',
        labels: dev('eth'),
      },
      {
        name: 'node_network_carrier',
        help: 'Network device property: carrier.',
        type: 'gauge',
        labels: dev('eth'),
      },
      { name: 'node_md_disks_active_ok', help: 'State of the md device.', type: 'gauge', labels: dev('md') },
    ],
  },
  {
    kind: 'slow',
    per1000: 150,
    families: [
      {
        name: 'node_filesystem_avail_bytes',
        help: 'Filesystem space available to non-root users in bytes.',
        type: 'gauge',
        labels: (i) => ({ device: `/dev/sd${i}`, mountpoint: `/mnt/d${i}`, fstype: 'ext4' }),
      },
      {
        name: 'node_filefd_allocated',
        help: 'File descriptor statistics: allocated.',
        type: 'gauge',
        labels: (i) => ({ pool: String(i) }),
      },
      {
        name: 'node_nf_conntrack_entries',
        help: 'Number of currently allocated flow entries.',
        type: 'gauge',
        labels: (i) => ({ zone: String(i) }),
      },
    ],
  },
  {
    kind: 'cpu',
    per1000: 100,
    families: [
      {
        name: 'node_cpu_seconds_total',
        help: 'Seconds the CPUs spent in each mode.',
        type: 'counter',
        labels: (i) => ({
          cpu: String(Math.floor(i / CPU_MODES.length)),
          mode: CPU_MODES[i % CPU_MODES.length]!,
        }),
      },
    ],
  },
  {
    kind: 'bytes',
    per1000: 100,
    families: [
      {
        name: 'node_network_receive_bytes_total',
        help: 'Network device statistic receive_bytes.',
        type: 'counter',
        labels: dev('eth'),
      },
      {
        name: 'node_network_transmit_bytes_total',
        help: 'Network device statistic transmit_bytes.',
        type: 'counter',
        labels: dev('eth'),
      },
      {
        name: 'node_disk_read_bytes_total',
        help: 'The total number of bytes read successfully.',
        type: 'counter',
        labels: dev('sd'),
      },
      {
        name: 'node_disk_written_bytes_total',
        help: 'The total number of bytes written successfully.',
        type: 'counter',
        labels: dev('sd'),
      },
    ],
  },
  {
    kind: 'ops',
    per1000: 50,
    families: [
      {
        name: 'node_network_receive_packets_total',
        help: 'Network device statistic receive_packets.',
        type: 'counter',
        labels: dev('eth'),
      },
      {
        name: 'node_disk_reads_completed_total',
        help: 'The total number of reads completed successfully.',
        type: 'counter',
        labels: dev('sd'),
      },
    ],
  },
  {
    kind: 'errors',
    per1000: 100,
    families: [
      {
        name: 'node_network_receive_errs_total',
        help: 'Network device statistic receive_errs.',
        type: 'counter',
        labels: dev('eth'),
      },
      {
        name: 'node_network_transmit_drop_total',
        help: 'Network device statistic transmit_drop.',
        type: 'counter',
        labels: dev('eth'),
      },
      { name: 'node_disk_io_errors_total', help: 'Disk I/O errors.', type: 'counter', labels: dev('sd') },
    ],
  },
  {
    kind: 'mem',
    per1000: 80,
    families: [
      {
        name: 'node_memory_MemAvailable_bytes',
        help: 'Memory information field MemAvailable_bytes.',
        type: 'gauge',
        labels: (i) => ({ numa: String(i) }),
      },
      {
        name: 'node_memory_Cached_bytes',
        help: 'Memory information field Cached_bytes.',
        type: 'gauge',
        labels: (i) => ({ numa: String(i) }),
      },
    ],
  },
  {
    kind: 'temp',
    per1000: 40,
    families: [
      {
        name: 'node_hwmon_temp_celsius',
        help: 'Hardware monitor for temperature (input).',
        type: 'gauge',
        labels: (i) => ({ chip: `platform_coretemp_${i >> 3}`, sensor: `temp${i & 7}` }),
      },
    ],
  },
  {
    kind: 'dec2',
    per1000: 50,
    families: [
      { name: 'node_load1', help: '1m load average.', type: 'gauge', labels: (i) => ({ ns: String(i) }) },
      {
        name: 'node_pressure_cpu_waiting_ratio',
        help: 'CPU pressure ratio.',
        type: 'gauge',
        labels: (i) => ({ ns: String(i) }),
      },
    ],
  },
  {
    kind: 'float',
    per1000: 30,
    families: [
      {
        name: 'node_scrape_collector_duration_seconds',
        help: 'node_exporter: Duration of a collector scrape.',
        type: 'gauge',
        labels: (i) => ({ collector: `c${i}` }),
      },
    ],
  },
];

// ---------------------------------------------------------------------------------------------------------
// Value sources: labels per series and one round of values at a time.
// ---------------------------------------------------------------------------------------------------------

/** A deterministic PRNG (mulberry32), one per target, so a subset of targets sees the same values. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const round1 = (x: number) => Math.round(x * 10) / 10;

interface SeriesDef {
  readonly labels: Labels;
  readonly family: Family;
}

/** Produces the series and values of a set of scrape targets. */
interface Source {
  readonly targets: number;
  /** Offset of each target's scrape within the interval, whole seconds (so OpenMetrics seconds are exact). */
  offset(target: number): number;
  series(target: number): readonly SeriesDef[];
  /** Writes the values of `round` (0, 1, 2 ... in order) into out. */
  step(target: number, round: number, out: Float64Array): void;
}

function targetLabels(target: number): Record<string, string> {
  return { instance: `10.1.${target >> 8}.${target & 255}:9100`, job: 'node' };
}

/** Series counts per kind for n series per target, proportional to MIX, summing to n. */
function kindCounts(n: number): number[] {
  const counts = MIX.map((m) => Math.floor((m.per1000 * n) / 1000));
  let rest = n - counts.reduce((a, b) => a + b, 0);
  for (let i = 0; rest > 0; i = (i + 1) % counts.length, rest--) counts[i]!++;
  return counts;
}

interface SynthTarget {
  readonly defs: SeriesDef[];
  readonly kind: Uint8Array;
  readonly v: Float64Array;
  readonly a: Float64Array;
  readonly b: Float64Array;
  readonly rnd: () => number;
}

function syntheticSource(targets: number, seriesPerTarget: number): Source {
  const counts = kindCounts(seriesPerTarget);
  const state: SynthTarget[] = [];
  for (let t = 0; t < targets; t++) {
    const rnd = prng(t + 1);
    const defs: SeriesDef[] = [];
    const kinds: number[] = [];
    MIX.forEach((m, k) => {
      for (let j = 0; j < counts[k]!; j++) {
        const family = m.families[j % m.families.length]!;
        const idx = Math.floor(j / m.families.length);
        defs.push({
          family,
          labels: labelsFromRecord({ [METRIC_NAME]: family.name, ...family.labels(idx), ...targetLabels(t) }),
        });
        kinds.push(k);
      }
    });
    const n = defs.length;
    const s: SynthTarget = {
      defs,
      kind: Uint8Array.from(kinds),
      v: new Float64Array(n),
      a: new Float64Array(n),
      b: new Float64Array(n),
      rnd,
    };
    for (let i = 0; i < n; i++) initSeries(s, i);
    state.push(s);
  }
  return {
    targets,
    offset: (t) => ((t * 7) % 15) * 1000,
    series: (t) => state[t]!.defs,
    step: (t, round, out) => {
      const s = state[t]!;
      if (round > 0) for (let i = 0; i < s.v.length; i++) advance(s, i, round);
      out.set(s.v);
    },
  };
}

function initSeries(s: SynthTarget, i: number): void {
  const r = s.rnd;
  const kind = MIX[s.kind[i]!]!.kind;
  switch (kind) {
    case 'const':
      s.v[i] = r() < 0.3 ? 1 : Math.floor(r() * 2 ** 20) * 4096;
      break;
    case 'flag':
      s.v[i] = r() < 0.9 ? 1 : 0;
      break;
    case 'slow':
      s.v[i] = r() < 0.5 ? Math.floor(r() * 2 ** 22) * 4096 : Math.floor(r() * 2000);
      s.a[i] = s.v[i] >= 4096 ? 4096 : 1;
      break;
    case 'cpu': {
      const mode = i % CPU_MODES.length;
      // Utilisation share of the interval per mode; steal/irq often exactly zero.
      s.a[i] = mode === 0 ? 0.85 : mode === 1 ? 0.08 : mode === 2 ? 0.04 : r() < 0.5 ? 0 : 0.005;
      s.v[i] = round2(r() * 1e6 * s.a[i]);
      break;
    }
    case 'bytes':
      s.a[i] = 10 ** (2 + r() * 4);
      s.b[i] = r() < 0.5 ? 4096 : 1;
      s.v[i] = Math.floor(r() * 1e12);
      break;
    case 'ops':
      s.a[i] = 1 + r() * 100;
      s.v[i] = Math.floor(r() * 1e8);
      break;
    case 'errors':
      s.v[i] = 0;
      break;
    case 'mem':
      s.v[i] = Math.floor((2 ** 18 + r() * 2 ** 19) * 1) * 4096;
      break;
    case 'temp':
      s.a[i] = 35 + r() * 20;
      s.b[i] = r() * 6.28;
      s.v[i] = round1(s.a[i]);
      break;
    case 'dec2':
      s.a[i] = r() * 2;
      s.v[i] = round2(s.a[i]);
      break;
    case 'float':
      s.v[i] = r() * 0.01;
      break;
  }
}

function advance(s: SynthTarget, i: number, round: number): void {
  const r = s.rnd;
  const v = s.v[i]!;
  switch (MIX[s.kind[i]!]!.kind) {
    case 'const':
    case 'errors':
      return;
    case 'flag':
      if (r() < 1 / 5000) s.v[i] = 1 - v;
      return;
    case 'slow':
      if (r() < 0.1) s.v[i] = Math.max(0, v + s.a[i]! * Math.round((r() - 0.5) * 8));
      return;
    case 'cpu':
      if (s.a[i]! > 0) s.v[i] = round2(v + 15 * s.a[i]! * (0.7 + r() * 0.6));
      return;
    case 'bytes':
      if (r() < 0.3) return;
      s.v[i] = v + Math.round((s.a[i]! * r() * 2) / s.b[i]!) * s.b[i]!;
      return;
    case 'ops':
      s.v[i] = v + Math.floor(r() * s.a[i]!);
      return;
    case 'mem':
      s.v[i] = Math.max(4096, v + Math.round((r() - 0.5) * 512) * 4096);
      return;
    case 'temp':
      s.v[i] = round1(s.a[i]! + 3 * Math.sin(round / 240 + s.b[i]!) + (r() - 0.5) * 0.8);
      return;
    case 'dec2':
      s.v[i] = round2(Math.max(0, s.a[i]! + 0.5 * Math.sin(round / 60) + (r() - 0.5) * 0.3));
      return;
    case 'float':
      s.v[i] = r() * 0.01;
      return;
  }
}

/** Recorded real scrapes: one target, series present in every scrape, values per scrape. */
interface RealData {
  readonly defs: SeriesDef[];
  /** values[scrape][series] */
  readonly values: number[][];
  readonly isCounter: boolean[];
  /** Wall-clock seconds between the first and the last fetch. */
  readonly elapsedSec: number;
}

function loadReal(bodiesDir: string, elapsedSec: number): RealData {
  const files = fs
    .readdirSync(bodiesDir)
    .filter((f) => f.endsWith('.prom'))
    .sort();
  const scrapes = files.map((f) => parseExposition(fs.readFileSync(path.join(bodiesDir, f)), 'text'));
  const first = scrapes[0];
  if (!first) throw new Error('no recorded node_exporter scrapes');
  const maps = scrapes.map((r) => new Map(r.samples.map((s) => [labelsKey(s.labels), s.value])));
  const defs: SeriesDef[] = [];
  const keys: string[] = [];
  const isCounter: boolean[] = [];
  for (const s of first.samples) {
    const key = labelsKey(s.labels);
    if (!maps.every((m) => m.has(key))) continue;
    const name = s.labels.find((l) => l.name === METRIC_NAME)?.value ?? '';
    const meta = first.metadata.get(name) ?? first.metadata.get(name.replace(/_total$/, ''));
    const family: Family = {
      name,
      help: meta?.help ?? '',
      type: meta?.type === 'counter' ? 'counter' : 'gauge',
      labels: () => ({}),
    };
    const labels = new LabelsBuilder(s.labels).set('instance', '127.0.0.1:9100').set('job', 'node').labels();
    defs.push({ family, labels });
    keys.push(key);
    isCounter.push(meta?.type === 'counter');
  }
  const values = maps.map((m) => keys.map((k) => m.get(k)!));
  return { defs, values, isCounter, elapsedSec };
}

/** The recorded scrapes as they are: round k = scrape k. */
function realSource(d: RealData): Source {
  return {
    targets: 1,
    offset: () => 0,
    series: () => d.defs,
    step: (_t, round, out) => {
      const row = d.values[round];
      if (!row) throw new Error(`only ${d.values.length} real scrapes recorded`);
      out.set(row);
    },
  };
}

/** Decimal places a value is written with, or -1 for "full precision" (more than 6 or exponent form). */
function decimals(v: number): number {
  const s = String(v);
  if (s.includes('e')) return -1;
  const dot = s.indexOf('.');
  if (dot < 0) return 0;
  const d = s.length - dot - 1;
  return d > 6 ? -1 : d;
}

function roundTo(v: number, d: number): number {
  if (d < 0) return v;
  const f = 10 ** d;
  return Math.round(v * f) / f;
}

/**
 * The real series continued with modelled drift, after the recorded scrapes (which come first, verbatim).
 * The recorded scrapes were fetched back to back, so they under-state change per 15 s; the model:
 * - counters that moved: the observed rate per wall second x 15 s per scrape, x U(0.5, 1.5), rounded to the
 *   decimals the series was written with; counters that did not move: 0 stays 0, others + one unit with
 *   probability 0.05 per scrape;
 * - gauges that moved: mean-reverting random walk (AR(1)) with the observed spread, same decimals;
 * - gauges that did not move: constant, except `_bytes` gauges (memory, free space), which change by
 *   +-U(1, 256) 4 KiB pages with probability 0.3 per scrape.
 */
function realReplaySource(d: RealData): Source {
  const n = d.defs.length;
  const rnd = prng(4242);
  const last = d.values[d.values.length - 1]!;
  const v = Float64Array.from(last);
  const dec = new Int8Array(n);
  const inc = new Float64Array(n);
  const mean = new Float64Array(n);
  const sd = new Float64Array(n);
  const moved = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const obs = d.values.map((row) => row[i]!);
    const ds = obs.map((x) => (Number.isFinite(x) ? decimals(x) : 0));
    dec[i] = ds.includes(-1) ? -1 : Math.max(...ds);
    moved[i] = obs.some((x) => x !== obs[0]) ? 1 : 0;
    const m = obs.reduce((a, b) => a + b, 0) / obs.length;
    mean[i] = m;
    sd[i] = Math.sqrt(obs.reduce((a, b) => a + (b - m) ** 2, 0) / obs.length);
    if (d.isCounter[i] && moved[i])
      inc[i] = ((obs[obs.length - 1]! - obs[0]!) / Math.max(d.elapsedSec, 0.001)) * 15;
  }
  const recorded = d.values.length;
  return {
    targets: 1,
    offset: () => 0,
    series: () => d.defs,
    step: (_t, round, out) => {
      if (round < recorded) {
        out.set(d.values[round]!);
        return;
      }
      for (let i = 0; i < n; i++) {
        const x = v[i]!;
        if (!Number.isFinite(x)) continue;
        const dd = dec[i]!;
        if (d.isCounter[i]) {
          if (moved[i]) v[i] = roundTo(x + inc[i]! * (0.5 + rnd()), dd);
          else if (x !== 0 && rnd() < 0.05) v[i] = roundTo(x + (dd > 0 ? 10 ** -dd : 1), dd);
        } else if (moved[i]) {
          v[i] = roundTo(mean[i]! + 0.9 * (x - mean[i]!) + (rnd() - 0.5) * 2 * sd[i]!, dd);
        } else if (d.defs[i]!.family.name.endsWith('_bytes') && x > 0 && rnd() < 0.3) {
          v[i] = Math.max(0, x + Math.round((rnd() - 0.5) * 512) * 4096);
        }
      }
      out.set(v);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Measuring helpers.
// ---------------------------------------------------------------------------------------------------------

interface ProcIo {
  rchar: number;
  wchar: number;
  write_bytes: number;
  cancelled_write_bytes: number;
}

function readProcIo(): ProcIo {
  const out: ProcIo = { rchar: 0, wchar: 0, write_bytes: 0, cancelled_write_bytes: 0 };
  for (const line of fs.readFileSync('/proc/self/io', 'utf8').split('\n')) {
    const [k, v] = line.split(':');
    if (k && v && k in out) out[k as keyof ProcIo] = Number(v.trim());
  }
  return out;
}

function dirBytes(dir: string): { total: number; files: Record<string, number> } {
  const files: Record<string, number> = {};
  let total = 0;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const size = fs.statSync(p).size;
        files[path.relative(dir, p)] = size;
        total += size;
      }
    }
  };
  walk(dir);
  return { total, files };
}

class Stopwatch {
  wallNs = 0n;
  cpuUs = 0;
  private w0 = 0n;
  private c0: NodeJS.CpuUsage = { user: 0, system: 0 };
  start(): void {
    this.c0 = process.cpuUsage();
    this.w0 = process.hrtime.bigint();
  }
  stop(): void {
    this.wallNs += process.hrtime.bigint() - this.w0;
    const c = process.cpuUsage(this.c0);
    this.cpuUs += c.user + c.system;
  }
  get wallSec(): number {
    return Number(this.wallNs) / 1e9;
  }
  get cpuSec(): number {
    return this.cpuUs / 1e6;
  }
}

function fakeClock(start: number): { now: () => number; set: (t: number) => void } {
  let t = start;
  return { now: () => t, set: (x) => (t = x) };
}

function omEscape(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function seriesText(labels: Labels): string {
  let name = '';
  const rest: string[] = [];
  for (const l of labels) {
    if (l.name === METRIC_NAME) name = l.value;
    else rest.push(`${l.name}="${omEscape(l.value)}"`);
  }
  return rest.length > 0 ? `${name}{${rest.join(',')}}` : name;
}

/** Formats like Go's strconv.FormatFloat(v, 'g', -1, 64), as client_golang writes sample values. */
function goFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  if (v === 0) return '0';
  const [mant, exp] = v.toExponential().split('e') as [string, string];
  const x = Number(exp);
  // Go picks %e when the exponent is < -4 or >= 6 (the shortest format's fixed precision of 6).
  if (x < -4 || x >= 6) return `${mant}e${x < 0 ? '-' : '+'}${String(Math.abs(x)).padStart(2, '0')}`;
  return String(v);
}

/** The markdown-free, JSON-friendly numbers of one storage run. */
interface StoreResult {
  scenario: string;
  targets: number;
  series: number;
  rounds: number;
  simulatedHours: number;
  samples: number;
  firstRound: { samples: number; wallSec: number; cpuSec: number };
  append: { samples: number; wallSec: number; cpuSec: number; perSecWall: number; perSecCpu: number };
  maintain: { calls: number; wallSec: number; cpuSec: number };
  close: { wallSec: number; cpuSec: number };
  cpuPerSimHourSec: number;
  ingestSamplesPerSec: number;
  coreFractionPer1kSamplesPerSec: number;
  cpuSecPerHourPer1kSamplesPerSec: number;
  disk: {
    bytes: number;
    files: Record<string, number>;
    bytesPerSample: number;
    chunkPayloadBytes: number;
    chunkPayloadPerSample: number;
    chunks: number;
    samplesPerChunk: number;
    tables: Record<string, number> | null;
  };
  written: {
    writeBytes: number;
    cancelledWriteBytes: number;
    wchar: number;
    writeBytesPerSample: number;
    netWriteBytesPerSample: number;
    wcharPerSample: number;
  } | null;
  peakRssMB: number;
  /** Peak RSS before Tsdb.open: Node, better-sqlite3 and the benchmark's label sets (which the store shares). */
  baselineRssMB: number;
  heapUsedMB: number;
  sqliteVersion: string;
  omFile: string | null;
}

interface ChildParams {
  scenario: 'synthetic' | 'parse' | 'real-20' | 'real-replay' | 'compare-synthetic' | 'compare-real';
  dir: string;
  resultFile: string;
  targets: number;
  seriesPerTarget: number;
  hours: number;
  rounds?: number;
  realDir?: string;
  realElapsedSec?: number;
  omFile?: string;
}

/**
 * The scrape loop's storage side in compressed time: per round and target (in schedule order) set the fake
 * clock to the snapped timestamp, append every series with its cached ref, commit; maintain() every 10 s.
 */
function runStore(src: Source, rounds: number, p: ChildParams): StoreResult {
  const baselineRssMB = process.resourceUsage().maxRSS / 1024;
  const ioStart = readProcIo();
  const clock = fakeClock(T0);
  const db = Tsdb.open({
    dir: p.dir,
    openDatabase: (file) => new Database(file),
    now: clock.now,
    logger: silentLogger,
    retentionTimeMs: 0,
    retentionSizeBytes: 0,
  });
  const order = [...Array(src.targets).keys()].sort((a, b) => src.offset(a) - src.offset(b) || a - b);
  const defs = order.map((t) => src.series(t));
  const labels = defs.map((d) => d.map((x) => x.labels));
  const refs = defs.map((d) => new Array<SeriesRef>(d.length).fill(0));
  const apps = order.map(() => db.appender());
  const vals = defs.map((d) => new Float64Array(d.length));
  const om = p.omFile ? fs.openSync(p.omFile, 'w') : null;
  const omText = om === null ? [] : defs.map((d) => d.map((x) => seriesText(x.labels) + ' '));
  const first = new Stopwatch();
  const steady = new Stopwatch();
  const maint = new Stopwatch();
  let maintCalls = 0;
  let nextMaint = T0;
  let firstSamples = 0;
  let steadySamples = 0;
  let lastT = T0;
  for (let k = 0; k < rounds; k++) {
    for (let j = 0; j < order.length; j++) {
      const target = order[j]!;
      const t = T0 + k * INTERVAL_MS + src.offset(target);
      while (nextMaint <= t) {
        clock.set(nextMaint);
        maint.start();
        db.maintain();
        maint.stop();
        maintCalls++;
        nextMaint += MAINTENANCE_INTERVAL_MS;
      }
      clock.set(t);
      const v = vals[j]!;
      src.step(target, k, v);
      const lab = labels[j]!;
      const ref = refs[j]!;
      const app = apps[j]!;
      const n = v.length;
      const sw = k === 0 ? first : steady;
      sw.start();
      for (let i = 0; i < n; i++) ref[i] = app.append(ref[i]!, lab[i]!, t, v[i]!);
      app.commit();
      sw.stop();
      if (k === 0) firstSamples += n;
      else steadySamples += n;
      lastT = t;
      if (om !== null) {
        const text = omText[j]!;
        const ts = ` ${t / 1000}\n`;
        let chunk = '';
        for (let i = 0; i < n; i++) chunk += text[i]! + String(v[i]!) + ts;
        fs.writeSync(om, chunk);
      }
    }
  }
  if (om !== null) {
    fs.writeSync(om, '# EOF\n');
    fs.closeSync(om);
  }
  // Past the last window plus the seal grace, then one forced pass: every chunk flushed, every window sealed.
  clock.set((Math.floor(lastT / WINDOW_MS) + 1) * WINDOW_MS + SEAL_GRACE_MS + 60_000);
  maint.start();
  db.maintain({ forceFlush: true });
  maint.stop();
  maintCalls++;
  const heapUsedMB = process.memoryUsage().heapUsed / 2 ** 20;
  const stats = db.stats();
  const closeSw = new Stopwatch();
  closeSw.start();
  db.close();
  closeSw.stop();
  execFileSync('sync');
  const ioEnd = readProcIo();
  const peakRssMB = process.resourceUsage().maxRSS / 1024;
  const samples = firstSamples + steadySamples;
  if (stats.samplesAppended !== samples) {
    throw new Error(`storage counted ${stats.samplesAppended} samples, the benchmark appended ${samples}`);
  }

  const disk = dirBytes(p.dir);
  const ro = new Database(path.join(p.dir, 'storewatch.db'), { readonly: true });
  const chunkRow = ro
    .prepare('SELECT count(*) AS n, coalesce(sum(length(data)), 0) AS bytes FROM chunks')
    .get() as {
    n: number;
    bytes: number;
  };
  let tables: Record<string, number> | null = null;
  try {
    tables = {};
    for (const r of ro
      .prepare('SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY 2 DESC')
      .all() as {
      name: string;
      bytes: number;
    }[])
      tables[r.name] = r.bytes;
  } catch {
    tables = null; // dbstat is not compiled into every SQLite build.
  }
  const sqliteVersion = ro.prepare('SELECT sqlite_version()').pluck().get() as string;
  ro.close();

  const simulatedHours = (rounds * INTERVAL_MS) / HOUR_MS;
  const cpuTotal = first.cpuSec + steady.cpuSec + maint.cpuSec;
  const cpuPerSimHourSec = cpuTotal / simulatedHours;
  const ingestSamplesPerSec = samples / simulatedHours / 3600;
  const w = ioEnd.write_bytes - ioStart.write_bytes;
  const cw = ioEnd.cancelled_write_bytes - ioStart.cancelled_write_bytes;
  const wc = ioEnd.wchar - ioStart.wchar;
  return {
    scenario: p.scenario,
    targets: src.targets,
    series: defs.reduce((a, d) => a + d.length, 0),
    rounds,
    simulatedHours,
    samples,
    firstRound: { samples: firstSamples, wallSec: first.wallSec, cpuSec: first.cpuSec },
    append: {
      samples: steadySamples,
      wallSec: steady.wallSec,
      cpuSec: steady.cpuSec,
      perSecWall: steadySamples / steady.wallSec,
      perSecCpu: steadySamples / steady.cpuSec,
    },
    maintain: { calls: maintCalls, wallSec: maint.wallSec, cpuSec: maint.cpuSec },
    close: { wallSec: closeSw.wallSec, cpuSec: closeSw.cpuSec },
    cpuPerSimHourSec,
    ingestSamplesPerSec,
    coreFractionPer1kSamplesPerSec: cpuPerSimHourSec / 3600 / (ingestSamplesPerSec / 1000),
    cpuSecPerHourPer1kSamplesPerSec: cpuPerSimHourSec / (ingestSamplesPerSec / 1000),
    disk: {
      bytes: disk.total,
      files: disk.files,
      bytesPerSample: disk.total / samples,
      chunkPayloadBytes: chunkRow.bytes,
      chunkPayloadPerSample: chunkRow.bytes / samples,
      chunks: chunkRow.n,
      samplesPerChunk: samples / chunkRow.n,
      tables,
    },
    // The OpenMetrics file of the compare runs is written by this process too: its bytes would pollute
    // the figure, and the synthetic run measures writes cleanly anyway.
    written:
      om !== null
        ? null
        : {
            writeBytes: w,
            cancelledWriteBytes: cw,
            wchar: wc,
            writeBytesPerSample: w / samples,
            netWriteBytesPerSample: (w - cw) / samples,
            wcharPerSample: wc / samples,
          },
    peakRssMB,
    baselineRssMB,
    heapUsedMB,
    sqliteVersion,
    omFile: p.omFile ?? null,
  };
}

interface ParseResultSummary {
  scenario: 'parse';
  targets: number;
  series: number;
  rounds: number;
  samples: number;
  bodyBytes: number;
  parseAppend: { samples: number; wallSec: number; cpuSec: number; perSecWall: number; perSecCpu: number };
  parseOnly: { wallSec: number; perSecWall: number };
  peakRssMB: number;
}

/** Renders one target's exposition body (HELP/TYPE per family, families contiguous, Go float format). */
function renderBody(defs: readonly SeriesDef[], v: Float64Array, texts: readonly string[]): string {
  let out = '';
  let fam: Family | null = null;
  for (let i = 0; i < defs.length; i++) {
    const d = defs[i]!;
    if (d.family !== fam) {
      fam = d.family;
      out += `# HELP ${fam.name} ${fam.help}\n# TYPE ${fam.name} ${fam.type}\n`;
    }
    out += texts[i]! + goFloat(v[i]!) + '\n';
  }
  return out;
}

/**
 * Parse + append, as the scrape loop does it: parse the body, look each series up in a per-target cache
 * keyed by its parsed label set (labelsKey), attach target labels on a miss, append with the cached ref,
 * commit once per target per round.
 */
function runParse(src: Source, rounds: number, p: ChildParams): ParseResultSummary {
  const clock = fakeClock(T0);
  const db = Tsdb.open({
    dir: p.dir,
    openDatabase: (file) => new Database(file),
    now: clock.now,
    logger: silentLogger,
    retentionTimeMs: 0,
    retentionSizeBytes: 0,
  });
  const targets = [...Array(src.targets).keys()];
  // Bodies carry no target labels: the families are grouped per target as an exporter writes them.
  const defs = targets.map((t) => {
    const byFamily = new Map<Family, { d: SeriesDef; i: number }[]>();
    src.series(t).forEach((d, i) => {
      const list = byFamily.get(d.family);
      if (list) list.push({ d, i });
      else byFamily.set(d.family, [{ d, i }]);
    });
    return [...byFamily.values()].flat();
  });
  const texts = defs.map((d) =>
    d.map(({ d: x }) => seriesText(x.labels.filter((l) => l.name !== 'instance' && l.name !== 'job'))),
  );
  const caches = targets.map(() => new Map<string, { labels: Labels; ref: SeriesRef }>());
  const apps = targets.map(() => db.appender());
  const vals = targets.map((t) => new Float64Array(src.series(t).length));
  const ordered = defs.map((d) => new Float64Array(d.length));
  const sw = new Stopwatch();
  const parseSw = new Stopwatch();
  let samples = 0;
  let bodyBytes = 0;
  let nextMaint = T0;
  for (let k = 0; k < rounds; k++) {
    for (const t of targets) {
      const ts = T0 + k * INTERVAL_MS + src.offset(t);
      while (nextMaint <= ts) {
        clock.set(nextMaint);
        db.maintain();
        nextMaint += MAINTENANCE_INTERVAL_MS;
      }
      clock.set(ts);
      src.step(t, k, vals[t]!);
      const order = defs[t]!;
      const o = ordered[t]!;
      for (let i = 0; i < order.length; i++) o[i] = vals[t]![order[i]!.i]!;
      const body = Buffer.from(
        renderBody(
          order.map((x) => x.d),
          o,
          texts[t]!,
        ),
      );
      bodyBytes += body.length;
      const cache = caches[t]!;
      const app = apps[t]!;
      const tl = targetLabels(t);
      sw.start();
      parseSw.start();
      const parsed = parseExposition(body, 'text');
      parseSw.stop();
      for (const s of parsed.samples) {
        const key = labelsKey(s.labels);
        let e = cache.get(key);
        if (!e) {
          const b = new LabelsBuilder(s.labels);
          for (const [name, value] of Object.entries(tl)) b.set(name, value);
          e = { labels: b.labels(), ref: 0 };
          cache.set(key, e);
        }
        e.ref = app.append(e.ref, e.labels, ts, s.value);
      }
      app.commit();
      sw.stop();
      samples += parsed.samples.length;
    }
  }
  db.close();
  return {
    scenario: 'parse',
    targets: src.targets,
    series: defs.reduce((a, d) => a + d.length, 0),
    rounds,
    samples,
    bodyBytes,
    parseAppend: {
      samples,
      wallSec: sw.wallSec,
      cpuSec: sw.cpuSec,
      perSecWall: samples / sw.wallSec,
      perSecCpu: samples / sw.cpuSec,
    },
    parseOnly: { wallSec: parseSw.wallSec, perSecWall: samples / parseSw.wallSec },
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  };
}

function child(p: ChildParams): void {
  const roundsFor = (hours: number) => Math.round((hours * HOUR_MS) / INTERVAL_MS);
  let result: StoreResult | ParseResultSummary;
  switch (p.scenario) {
    case 'synthetic':
    case 'compare-synthetic':
      result = runStore(syntheticSource(p.targets, p.seriesPerTarget), roundsFor(p.hours), p);
      break;
    case 'parse':
      result = runParse(syntheticSource(p.targets, p.seriesPerTarget), roundsFor(p.hours), p);
      break;
    case 'real-20': {
      const d = loadReal(p.realDir!, p.realElapsedSec!);
      result = runStore(realSource(d), d.values.length, p);
      break;
    }
    case 'real-replay':
    case 'compare-real': {
      const d = loadReal(p.realDir!, p.realElapsedSec!);
      result = runStore(realReplaySource(d), roundsFor(p.hours), p);
      break;
    }
  }
  fs.writeFileSync(p.resultFile, JSON.stringify(result));
}

// ---------------------------------------------------------------------------------------------------------
// The parent: peers, children, promtool, report.
// ---------------------------------------------------------------------------------------------------------

interface Options {
  quick: boolean;
  out: string | null;
  cpuProf: string | null;
}

class UsageError extends Error {
  override readonly name = 'UsageError';
}

function parseArgs(argv: readonly string[]): Options {
  const o: Options = { quick: false, out: null, cpuProf: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') o.quick = true;
    else if (a === '--out' || a === '--cpu-prof') {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${a} needs a value`);
      if (a === '--out') o.out = path.resolve(v);
      else o.cpuProf = path.resolve(v);
    } else
      throw new UsageError(
        `unknown argument ${JSON.stringify(a)}; usage: bench.ts [--quick] [--out FILE] [--cpu-prof DIR]`,
      );
  }
  return o;
}

function which(bin: string): string | null {
  for (const d of (process.env.PATH ?? '').split(':').concat(['/usr/bin', '/usr/sbin'])) {
    const p = path.join(d, bin);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // not in this directory
    }
  }
  return null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Starts node_exporter on 127.0.0.1, fetches `count` bodies back to back, stops it. */
async function recordNodeExporter(
  dir: string,
  count: number,
): Promise<{ elapsedSec: number; bytes: number; port: number }> {
  const bin = which(NODE_EXPORTER);
  if (!bin) throw new Error(`${NODE_EXPORTER} not found: ${INSTALL_HINT}`);
  const port = await freePort();
  fs.mkdirSync(dir, { recursive: true });
  const proc = spawn(bin, [`--web.listen-address=127.0.0.1:${port}`, '--no-collector.systemd'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}/metrics`;
  try {
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`${NODE_EXPORTER} exited: ${stderr}`);
      try {
        const r = await fetch(url);
        await r.arrayBuffer();
        if (r.ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`${NODE_EXPORTER} not ready on ${url}: ${stderr}`);
      await sleep(50);
    }
    let bytes = 0;
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      const r = await fetch(url);
      if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
      const body = Buffer.from(await r.arrayBuffer());
      bytes += body.length;
      fs.writeFileSync(path.join(dir, `${String(i).padStart(3, '0')}.prom`), body);
    }
    return { elapsedSec: (performance.now() - t0) / 1000, bytes, port };
  } finally {
    proc.kill('SIGTERM');
    await exited;
  }
}

/**
 * Bundles this script with esbuild, as the shipped binary is bundled, so the children run plain JavaScript:
 * Node's TypeScript stripping would add ~20 MB of RSS that production does not have. better-sqlite3 stays
 * external (a native addon), imported by absolute path so the bundle can live in the temp dir.
 */
async function bundleSelf(outfile: string): Promise<void> {
  // Imported lazily: the bundle's children must not load esbuild.
  const esbuild = await import('esbuild');
  const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
  await esbuild.build({
    entryPoints: [fileURLToPath(import.meta.url)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    logLevel: 'error',
    alias: { 'better-sqlite3': sqlite },
    external: [sqlite, 'esbuild'],
  });
}

function runChild(p: ChildParams, o: Options, script: string): unknown {
  const args = [
    // The appliance's own V8 flags, so that RSS and throughput are what the appliance gets.
    ...NODE_RUNTIME_FLAGS,
    ...(o.cpuProf
      ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProf}`, `--cpu-prof-name=${p.scenario}.cpuprofile`]
      : []),
    script,
    '--child',
    JSON.stringify(p),
  ];
  const t0 = performance.now();
  process.stderr.write(`bench: ${p.scenario} ...`);
  execFileSync(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'], maxBuffer: 1 << 20 });
  process.stderr.write(` ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  // The data dirs are measured by the child; removing them now keeps the temp dir small.
  fs.rmSync(p.dir, { recursive: true, force: true });
  return JSON.parse(fs.readFileSync(p.resultFile, 'utf8'));
}

interface PromResult {
  wallSec: number;
  blocks: number;
  chunksBytes: number;
  indexBytes: number;
  otherBytes: number;
  numSamples: number;
  numSeries: number;
  numChunks: number;
  bytesPerSample: number;
  chunksPerSample: number;
}

function runPromtool(omFile: string, outDir: string): PromResult {
  const bin = which(PROMTOOL);
  if (!bin) throw new Error(`${PROMTOOL} not found: ${INSTALL_HINT}`);
  fs.mkdirSync(outDir, { recursive: true });
  const t0 = performance.now();
  process.stderr.write(`bench: promtool tsdb create-blocks-from openmetrics ${path.basename(omFile)} ...`);
  execFileSync(bin, ['tsdb', 'create-blocks-from', 'openmetrics', omFile, outDir], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const wallSec = (performance.now() - t0) / 1000;
  process.stderr.write(` ${wallSec.toFixed(1)} s\n`);
  const r: PromResult = {
    wallSec,
    blocks: 0,
    chunksBytes: 0,
    indexBytes: 0,
    otherBytes: 0,
    numSamples: 0,
    numSeries: 0,
    numChunks: 0,
    bytesPerSample: 0,
    chunksPerSample: 0,
  };
  for (const block of fs.readdirSync(outDir)) {
    const metaFile = path.join(outDir, block, 'meta.json');
    if (!fs.existsSync(metaFile)) continue;
    r.blocks++;
    const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as {
      stats: { numSamples: number; numSeries: number; numChunks: number };
    };
    r.numSamples += meta.stats.numSamples;
    r.numSeries += meta.stats.numSeries;
    r.numChunks += meta.stats.numChunks;
    const files = dirBytes(path.join(outDir, block)).files;
    for (const [f, size] of Object.entries(files)) {
      if (f.startsWith('chunks')) r.chunksBytes += size;
      else if (f === 'index') r.indexBytes += size;
      else r.otherBytes += size;
    }
  }
  if (r.numSamples === 0) throw new Error(`promtool wrote no samples into ${outDir}`);
  r.bytesPerSample = (r.chunksBytes + r.indexBytes) / r.numSamples;
  r.chunksPerSample = r.chunksBytes / r.numSamples;
  return r;
}

interface Sizes {
  targets: number;
  seriesPerTarget: number;
  hours: number;
  parseTargets: number;
  parseHours: number;
  realScrapes: number;
  realReplayHours: number;
  compareTargets: number;
  compareHours: number;
}

const FULL: Sizes = {
  targets: 50,
  seriesPerTarget: 1000,
  hours: 6,
  parseTargets: 50,
  parseHours: 1,
  realScrapes: 20,
  realReplayHours: 6,
  compareTargets: 50,
  compareHours: 2,
};
const QUICK: Sizes = {
  targets: 3,
  seriesPerTarget: 60,
  hours: 2.5,
  parseTargets: 2,
  parseHours: 0.1,
  realScrapes: 3,
  realReplayHours: 0.5,
  compareTargets: 2,
  compareHours: 0.5,
};

const fmt = (x: number, d = 2) =>
  Number.isFinite(x)
    ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
    : String(x);
const fmtInt = (x: number) => Math.round(x).toLocaleString('en-US');

function markdown(r: BenchResults): string {
  const s = r.scenarios;
  const lines: string[] = [];
  lines.push(
    `# storewatch storage benchmark${r.quick ? ' (--quick: tiny sizes, figures not meaningful)' : ''}`,
    '',
  );
  lines.push(
    `Node ${r.host.node}, SQLite ${s.synthetic.sqliteVersion}, ${r.host.cpus} x ${r.host.cpuModel}, ${r.host.date}`,
    '',
  );
  lines.push('## Targets (issue)', '', '| target | goal | measured | met |', '|---|---|---|---|');
  for (const g of r.goals)
    lines.push(`| ${g.name} | ${g.goal} | ${g.measured} | ${g.met ? 'yes' : '**no**'} |`);
  lines.push('', '## Storage runs', '');
  lines.push(
    '| scenario | series | samples | append/s (wall) | append/s (CPU) | on disk B/sample | chunk payload B/sample | written B/sample (write_bytes) | wchar B/sample | peak RSS MB | core per 1k samples/s |',
  );
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const x of [
    s.synthetic,
    s.real20,
    s.realReplay,
    s.compareSynthetic.storewatch,
    s.compareReal.storewatch,
  ]) {
    lines.push(
      `| ${x.scenario} (${fmt(x.simulatedHours, 2)} h) | ${fmtInt(x.series)} | ${fmtInt(x.samples)} | ${fmtInt(x.append.perSecWall)} | ${fmtInt(x.append.perSecCpu)} | ${fmt(x.disk.bytesPerSample, 3)} | ${fmt(x.disk.chunkPayloadPerSample, 3)} | ${x.written ? fmt(x.written.writeBytesPerSample, 2) : 'n/a'} | ${x.written ? fmt(x.written.wcharPerSample, 2) : 'n/a'} | ${fmt(x.peakRssMB, 1)} | ${fmt(x.coreFractionPer1kSamplesPerSec * 100, 3)} % |`,
    );
  }
  const syn = s.synthetic;
  lines.push(
    '',
    `Synthetic run: first round (series creation) ${fmtInt(syn.firstRound.samples / syn.firstRound.wallSec)} samples/s; maintain ${syn.maintain.calls} calls, ${fmt(syn.maintain.wallSec, 2)} s wall / ${fmt(syn.maintain.cpuSec, 2)} s CPU; close ${fmt(syn.close.wallSec, 2)} s; ${fmt(syn.disk.samplesPerChunk, 1)} samples per chunk; CPU ${fmt(syn.cpuPerSimHourSec, 2)} s per simulated hour at ${fmtInt(syn.ingestSamplesPerSec)} samples/s (= ${fmt(syn.cpuSecPerHourPer1kSamplesPerSec, 2)} CPU s per hour per 1k samples/s).`,
  );
  if (syn.written)
    lines.push(
      `Written (synthetic): write_bytes ${fmt(syn.written.writeBytesPerSample)} B/sample, net of cancelled_write_bytes (pages of deleted head-log segments never written back) ${fmt(syn.written.netWriteBytesPerSample)} B/sample, wchar ${fmt(syn.written.wcharPerSample)} B/sample.`,
    );
  if (syn.disk.tables)
    lines.push(
      `SQLite pages per table (synthetic): ${Object.entries(syn.disk.tables)
        .map(([k, v]) => `${k} ${fmt(v / syn.samples, 3)} B/sample`)
        .join(', ')}.`,
    );
  const pa = s.parse;
  lines.push(
    '',
    '## Parse + append',
    '',
    '| targets | series | samples | parse+append samples/s (wall) | (CPU) | parse only samples/s | body MB/s |',
    '|---|---|---|---|---|---|---|',
  );
  lines.push(
    `| ${pa.targets} | ${fmtInt(pa.series)} | ${fmtInt(pa.samples)} | ${fmtInt(pa.parseAppend.perSecWall)} | ${fmtInt(pa.parseAppend.perSecCpu)} | ${fmtInt(pa.parseOnly.perSecWall)} | ${fmt(pa.bodyBytes / 2 ** 20 / pa.parseAppend.wallSec, 1)} |`,
  );
  lines.push(
    '',
    '## Versus Prometheus TSDB (promtool tsdb create-blocks-from openmetrics, same samples)',
    '',
  );
  lines.push(
    '| data | samples | storewatch on disk B/sample | Prometheus chunks+index B/sample | ratio sw/prom | storewatch chunk payload | Prometheus chunks file | ratio | promtool s |',
    '|---|---|---|---|---|---|---|---|---|',
  );
  for (const c of [s.compareSynthetic, s.compareReal]) {
    lines.push(
      `| ${c.storewatch.scenario} (${fmtInt(c.storewatch.series)} series, ${fmt(c.storewatch.simulatedHours, 1)} h) | ${fmtInt(c.storewatch.samples)} | ${fmt(c.storewatch.disk.bytesPerSample, 3)} | ${fmt(c.prometheus.bytesPerSample, 3)} | ${fmt(c.ratioDisk, 2)} | ${fmt(c.storewatch.disk.chunkPayloadPerSample, 3)} | ${fmt(c.prometheus.chunksPerSample, 3)} | ${fmt(c.ratioChunks, 2)} | ${fmt(c.prometheus.wallSec, 1)} |`,
    );
  }
  lines.push(
    '',
    `Real node_exporter: ${r.real.scrapes} scrapes of ${fmtInt(r.real.bodyBytes / r.real.scrapes)} B fetched in ${fmt(r.real.elapsedSec, 2)} s. real-20 stores those scrapes as they are (few samples: per-series overhead dominates); real-replay continues them with modelled drift for the steady-state figure.`,
  );
  lines.push('', `Results JSON: ${r.out}`);
  return lines.join('\n') + '\n';
}

interface Compare {
  storewatch: StoreResult;
  prometheus: PromResult;
  ratioDisk: number;
  ratioChunks: number;
}

interface BenchResults {
  quick: boolean;
  out: string;
  host: { node: string; cpus: number; cpuModel: string; date: string };
  sizes: Sizes;
  mix: { kind: string; per1000: number; families: string[] }[];
  goals: { name: string; goal: string; measured: string; value: number; met: boolean }[];
  real: { scrapes: number; elapsedSec: number; bodyBytes: number };
  scenarios: {
    synthetic: StoreResult;
    parse: ParseResultSummary;
    real20: StoreResult;
    realReplay: StoreResult;
    compareSynthetic: Compare;
    compareReal: Compare;
  };
}

async function parent(o: Options): Promise<void> {
  const sizes = o.quick ? QUICK : FULL;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'storewatch-bench-'));
  const out = o.out ?? path.join(work, 'bench-results.json');
  if (!which(PROMTOOL)) throw new Error(`${PROMTOOL} not found: ${INSTALL_HINT}`);
  if (o.cpuProf) fs.mkdirSync(o.cpuProf, { recursive: true });
  const base = { targets: sizes.targets, seriesPerTarget: sizes.seriesPerTarget, hours: sizes.hours };
  const job = (scenario: ChildParams['scenario'], extra: Partial<ChildParams> = {}): ChildParams => ({
    ...base,
    scenario,
    dir: path.join(work, `${scenario}-data`),
    resultFile: path.join(work, `${scenario}.json`),
    ...extra,
  });
  try {
    const script = path.join(work, 'bench-child.mjs');
    await bundleSelf(script);
    const realDir = path.join(work, 'node-exporter');
    process.stderr.write(`bench: recording ${sizes.realScrapes} node_exporter scrapes ...\n`);
    const rec = await recordNodeExporter(realDir, sizes.realScrapes);
    const real = { realDir, realElapsedSec: rec.elapsedSec };

    const synthetic = runChild(job('synthetic'), o, script) as StoreResult;
    const parse = runChild(
      job('parse', { targets: sizes.parseTargets, hours: sizes.parseHours }),
      o,
      script,
    ) as ParseResultSummary;
    const real20 = runChild(job('real-20', real), o, script) as StoreResult;
    const realReplay = runChild(
      job('real-replay', { ...real, hours: sizes.realReplayHours }),
      o,
      script,
    ) as StoreResult;
    const compare = (
      scenario: 'compare-synthetic' | 'compare-real',
      extra: Partial<ChildParams>,
    ): Compare => {
      const omFile = path.join(work, `${scenario}.om.txt`);
      const storewatch = runChild(
        job(scenario, { ...extra, hours: sizes.compareHours, omFile }),
        o,
        script,
      ) as StoreResult;
      const prometheus = runPromtool(omFile, path.join(work, `${scenario}-prom`));
      fs.rmSync(omFile);
      if (prometheus.numSamples !== storewatch.samples) {
        throw new Error(
          `promtool stored ${prometheus.numSamples} samples, storewatch ${storewatch.samples}: the comparison is not like for like`,
        );
      }
      return {
        storewatch,
        prometheus,
        ratioDisk: storewatch.disk.bytesPerSample / prometheus.bytesPerSample,
        ratioChunks: storewatch.disk.chunkPayloadPerSample / prometheus.chunksPerSample,
      };
    };
    const compareSynthetic = compare('compare-synthetic', { targets: sizes.compareTargets });
    const compareReal = compare('compare-real', real);

    const w = synthetic.written;
    const goals = [
      {
        name: `append samples/s (synthetic, one core, wall)`,
        goal: `>= ${fmtInt(GOALS.appendPerSec)}`,
        value: synthetic.append.perSecWall,
        measured: fmtInt(synthetic.append.perSecWall),
        met: synthetic.append.perSecWall >= GOALS.appendPerSec,
      },
      {
        name: 'bytes on disk per sample (synthetic node_exporter mix)',
        goal: `<= ${GOALS.diskBytesPerSample}`,
        value: synthetic.disk.bytesPerSample,
        measured: fmt(synthetic.disk.bytesPerSample, 3),
        met: synthetic.disk.bytesPerSample <= GOALS.diskBytesPerSample,
      },
      {
        name: 'bytes on disk per sample (real node_exporter, replay)',
        goal: `<= ${GOALS.diskBytesPerSample}`,
        value: realReplay.disk.bytesPerSample,
        measured: fmt(realReplay.disk.bytesPerSample, 3),
        met: realReplay.disk.bytesPerSample <= GOALS.diskBytesPerSample,
      },
      {
        name: 'bytes written per sample (write_bytes, synthetic)',
        goal: `<= ${GOALS.writtenBytesPerSample}`,
        value: w?.writeBytesPerSample ?? NaN,
        measured: fmt(w?.writeBytesPerSample ?? NaN),
        met: (w?.writeBytesPerSample ?? Infinity) <= GOALS.writtenBytesPerSample,
      },
      {
        name: `peak RSS MB with ${fmtInt(synthetic.series)} active series`,
        goal: `<= ${GOALS.rssMB}`,
        value: synthetic.peakRssMB,
        measured: fmt(synthetic.peakRssMB, 1),
        met: synthetic.peakRssMB <= GOALS.rssMB,
      },
    ];
    const cpus = os.cpus();
    const results: BenchResults = {
      quick: o.quick,
      out,
      host: {
        node: process.version,
        cpus: cpus.length,
        cpuModel: cpus[0]?.model ?? 'unknown',
        date: new Date().toISOString(),
      },
      sizes,
      mix: MIX.map((m) => ({ kind: m.kind, per1000: m.per1000, families: m.families.map((f) => f.name) })),
      goals,
      real: { scrapes: sizes.realScrapes, elapsedSec: rec.elapsedSec, bodyBytes: rec.bytes },
      scenarios: { synthetic, parse, real20, realReplay, compareSynthetic, compareReal },
    };
    const md = markdown(results);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
    fs.writeFileSync(out.replace(/\.json$/, '') + '.md', md);
    process.stdout.write(md);
  } finally {
    // Keep only the result files: the data dirs and promtool blocks can be gigabytes.
    for (const e of fs.readdirSync(work)) {
      const p = path.join(work, e);
      if (p !== out && p !== out.replace(/\.json$/, '') + '.md')
        fs.rmSync(p, { recursive: true, force: true });
    }
    if (fs.readdirSync(work).length === 0) fs.rmSync(work, { recursive: true, force: true });
  }
}

function main(): void {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    child(JSON.parse(argv[1]!) as ChildParams);
    return;
  }
  let o: Options;
  try {
    o = parseArgs(argv);
  } catch (err) {
    console.error(`bench: ${(err as Error).message}`);
    process.exit(2);
  }
  parent(o).catch((err: unknown) => {
    console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}

main();
