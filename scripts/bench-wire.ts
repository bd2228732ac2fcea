// Wire bytes per sample of remote write, and how low they can go: the issue asks for <= 2 B/sample while catching
// up. `npm run bench:wire` (seconds, no peers). It encodes the same node_exporter-like mix as bench:drain (half
// counters growing with noise, a third gauges, the rest constants; 1,000 series x 2 h at 15 s) as remote write
// 1.0 requests of at most 2,000 samples, shaped three ways:
//   - steady state: one sample per series per request (what a caught-up sender sends);
//   - catch-up: 40 samples per series per request (storewatch's 10-minute catch-up steps);
//   - whole chunks: 480 samples per series per request (a 2-hour window per series);
// with scrape timestamps exactly on the 15 s grid, and with the few milliseconds of jitter real scrapes have.
// Each body is compressed with snappy (block format: the only encoding the spec allows, 1.0 and 2.0 alike) and,
// for reference only, with gzip and zstd, which no Prometheus receiver accepts for remote write.
import zlib from 'node:zlib';
import { labelsFromRecord } from '../appliance/model/labels.ts';
import type { WireSeries } from '../appliance/remote/wire.ts';
import { encodeWriteRequestV1, snappyCompress } from '../appliance/remote/wire.ts';

const SERIES = 1000;
const STEPS = 480;
const INTERVAL_MS = 15_000;
const BATCH = 2000;

interface Data {
  readonly labels: ReturnType<typeof labelsFromRecord>;
  readonly ts: number[];
  readonly vs: Float64Array;
}

function generate(jitterMs: number): Data[] {
  let x = 12345;
  const rnd = (): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x / 2 ** 32;
  };
  const t0 = Date.UTC(2026, 10, 25);
  const out: Data[] = [];
  for (let i = 0; i < SERIES; i++) {
    const kind = i < 500 ? 'counter' : i < 830 ? 'gauge' : 'constant';
    const name =
      kind === 'counter'
        ? `node_bench_total_${i % 40}`
        : kind === 'gauge'
          ? `node_bench_gauge_${i % 25}`
          : 'node_bench_info';
    const labels = labelsFromRecord({
      __name__: name,
      instance: '10.0.1.17:9100',
      job: 'node',
      series: String(i),
      store: 's001',
    });
    let value = kind === 'constant' ? 1 : Math.floor(rnd() * 1e6);
    const step = Math.floor(rnd() * 5000);
    const ts: number[] = [];
    const vs = new Float64Array(STEPS);
    for (let k = 0; k < STEPS; k++) {
      if (kind === 'counter') value += step + ((k * 7 + i) % 13);
      else if (kind === 'gauge') value = Math.round(value * 0.9 + ((k * 31 + i * 17) % 1000) * 0.1);
      ts.push(t0 + k * INTERVAL_MS + (jitterMs > 0 ? Math.floor(rnd() * jitterMs) : 0));
      vs[k] = value;
    }
    out.push({ labels, ts, vs });
  }
  return out;
}

function measure(data: Data[], perSeries: number): Record<'raw' | 'snappy' | 'gzip' | 'zstd', number> {
  const bytes = { raw: 0, snappy: 0, gzip: 0, zstd: 0 };
  let samples = 0;
  let batch: WireSeries[] = [];
  let n = 0;
  const flush = (): void => {
    if (batch.length === 0) return;
    const body = encodeWriteRequestV1(batch);
    bytes.raw += body.length;
    bytes.snappy += snappyCompress(body).length;
    bytes.gzip += zlib.gzipSync(body, { level: 9 }).length;
    bytes.zstd += zlib.zstdCompressSync(body).length;
    batch = [];
    n = 0;
  };
  for (let s0 = 0; s0 < STEPS; s0 += perSeries) {
    for (const d of data) {
      const ts = d.ts.slice(s0, s0 + perSeries);
      batch.push({ labels: d.labels, timestamps: ts, values: d.vs.subarray(s0, s0 + perSeries) });
      n += ts.length;
      samples += ts.length;
      if (n >= BATCH) flush();
    }
    flush();
  }
  return {
    raw: bytes.raw / samples,
    snappy: bytes.snappy / samples,
    gzip: bytes.gzip / samples,
    zstd: bytes.zstd / samples,
  };
}

const rows: string[] = [];
for (const [label, jitter] of [
  ['on the grid', 0],
  ['0–20 ms jitter', 20],
] as const) {
  const data = generate(jitter);
  for (const [shape, per] of [
    ['steady (1 per series)', 1],
    ['catch-up (40 per series)', 40],
    ['whole chunks (480 per series)', 480],
  ] as const) {
    const r = measure(data, per);
    rows.push(
      `| ${shape} | ${label} | ${r.raw.toFixed(1)} | **${r.snappy.toFixed(2)}** | ${r.gzip.toFixed(2)} | ${r.zstd.toFixed(2)} |`,
    );
  }
}
process.stdout.write(
  '| request shape | timestamps | protobuf B/sample | snappy (sent) | gzip -9 (not allowed) | zstd (not allowed) |\n' +
    '| --- | --- | --- | --- | --- | --- |\n' +
    rows.join('\n') +
    '\n',
);
