// Remote write against the real peer: storewatch and Prometheus 2.42 in agent mode scrape the same local targets
// (a real node_exporter body, replicated, counters growing) and ship to the same receiver, VictoriaMetrics 1.79,
// side by side. `npm run bench:remote` (about 5 minutes on 2 cores) or `--quick` (under a minute, tiny sizes,
// for the smoke test). Options: --targets N (50), --series N per target (1000), --interval S (5), --warmup S
// (30), --seconds S (steady window, 120), --outage S (60), --bandwidth-limit BYTES/s (262144), --json FILE.
// BENCH_KEEP=1 keeps the run's directory (configs, data, and every peer's log) for a post-mortem.
//
// The receiver is VictoriaMetrics rather than a Prometheus 2.42 server: both keep up with 2 x 10k samples/s, but
// VictoriaMetrics needs a fraction of the CPU on a 2-core machine that also runs both senders and the targets,
// and it accepts the catch-up backlog without an out-of-order window. Each sender reaches it through its own
// small HTTP proxy in this process, which records the arrival time and body size of every request: that is the
// receiver-side byte count. Every process binds 127.0.0.1 only.
//
// Phases:
// 1. Steady state: both senders run for --warmup s, then --seconds s are measured: CPU seconds of each sender
//    process (/proc/PID/stat utime + stime) per million samples shipped, peak RSS (VmHWM), and compressed wire
//    bytes per sample. Samples shipped are the senders' own counters (storewatch_remote_samples_sent_total,
//    prometheus_remote_storage_samples_total); the receiver's count of the same window (count_over_time per
//    sender label, which leaves staleness markers out: a failed scrape's markers are shipped but not counted)
//    and its rows inserted are reported beside them as a cross-check. Bytes are
//    storewatch_remote_bytes_sent_total and prometheus_remote_storage_bytes_total (both compressed request
//    bodies, metadata excluded), cross-checked against the proxies. The share of successful scrapes (up == 1
//    at the receiver) shows whether a sender kept up with its own scraping.
// 2. Catch-up, storewatch only: the agent is stopped, storewatch is reloaded (SIGHUP) with
//    store_and_forward.bandwidth_limit set, the receiver is stopped for --outage s and started again on the same
//    data. Drain: from the restart until storewatch's sent-through cursor passes the restart time. Reported:
//    drain rate (samples/s), wire bytes per sample during the drain, and the receiver-side byte rate against
//    the cap (within 10 % passes). The reload restarts the sender, so its counters restart from zero; the
//    phase uses differences taken after the reload.
import {
  freePort,
  procStat,
  realNodeExporterBody,
  renderTarget,
  targetLines,
  which,
} from './bench-targets.ts';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { NODE_RUNTIME_FLAGS } from '../firmware/node-flags.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const USAGE =
  'usage: bench-remote.ts [--quick] [--targets N] [--series N] [--interval S] [--warmup S] [--seconds S] ' +
  '[--outage S] [--bandwidth-limit BYTES] [--json FILE]';

interface Settings {
  readonly quick: boolean;
  readonly targets: number;
  readonly series: number;
  readonly intervalS: number;
  readonly warmupS: number;
  readonly seconds: number;
  readonly outageS: number;
  readonly bandwidthLimit: number;
  readonly json: string | undefined;
}

function settings(): Settings {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        quick: { type: 'boolean', default: false },
        targets: { type: 'string' },
        series: { type: 'string' },
        interval: { type: 'string' },
        warmup: { type: 'string' },
        seconds: { type: 'string' },
        outage: { type: 'string' },
        'bandwidth-limit': { type: 'string' },
        json: { type: 'string' },
      },
      strict: true,
    });
  } catch (err) {
    process.stderr.write(`bench-remote: ${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  const a = parsed.values;
  const quick = a.quick;
  const num = (name: string, v: string | undefined, quickDefault: number, fullDefault: number): number => {
    const n = v === undefined ? (quick ? quickDefault : fullDefault) : Number(v);
    if (!Number.isFinite(n) || n <= 0) {
      process.stderr.write(`bench-remote: --${name} needs a positive number\n${USAGE}\n`);
      process.exit(2);
    }
    return n;
  };
  return {
    quick,
    targets: Math.round(num('targets', a.targets, 4, 50)),
    series: Math.round(num('series', a.series, 200, 1000)),
    intervalS: num('interval', a.interval, 1, 5),
    warmupS: num('warmup', a.warmup, 12, 30),
    seconds: num('seconds', a.seconds, 10, 120),
    outageS: num('outage', a.outage, 6, 60),
    bandwidthLimit: Math.round(num('bandwidth-limit', a['bandwidth-limit'], 16384, 262144)),
    json: a.json,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Peers and targets

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitUpPeer(url: string, ms: number, peer?: Peer): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (peer && (peer.child.exitCode !== null || peer.child.signalCode !== null)) {
      throw new Error(`${peer.name} exited early (see ${peer.logFile})`);
    }
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      if (r.ok) return;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error(`${url} not ready`);
    await sleep(200);
  }
}

/** A spawned peer whose stdout and stderr go to a log file in the run's directory. */
interface Peer {
  readonly name: string;
  readonly logFile: string;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
}

function startPeer(name: string, file: string, args: readonly string[], logFile: string): Peer {
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(file, args, { stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return { name, logFile, child, exited };
}

async function stopPeer(p: Peer, graceMs: number): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const t = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  await p.exited;
  clearTimeout(t);
}

// ---------------------------------------------------------------------------------------------------------
// The counting proxy in front of the receiver

interface Arrival {
  readonly t: number;
  readonly bytes: number;
  readonly status: number;
}

interface Proxy {
  readonly url: string;
  readonly arrivals: Arrival[];
  close(): Promise<void>;
}

/**
 * Forwards POSTs to the receiver and records each request's body size and arrival time. While the receiver is
 * down it answers 503, which both senders retry.
 */
async function startProxy(target: () => string): Promise<Proxy> {
  const arrivals: Arrival[] = [];
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const t = Date.now();
      const headers: http.OutgoingHttpHeaders = { ...req.headers, 'content-length': body.length };
      delete headers.host;
      delete headers.connection;
      const up = http.request(
        `${target()}${req.url ?? '/'}`,
        { method: req.method, headers, agent },
        (ures) => {
          const status = ures.statusCode ?? 502;
          arrivals.push({ t, bytes: body.length, status });
          res.writeHead(status, ures.headers);
          ures.pipe(res);
        },
      );
      up.on('error', () => {
        arrivals.push({ t, bytes: body.length, status: 503 });
        if (!res.headersSent) res.writeHead(503, { 'Content-Type': 'text/plain' });
        res.end('receiver down');
      });
      up.end(body);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`,
    arrivals,
    close: async () => {
      agent.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Measurements

/** Sum of every sample of `name` (any labels) in a Prometheus text exposition. */
async function metricSum(url: string, name: string): Promise<number> {
  const text = await (await fetch(url)).text();
  const re = new RegExp(`^${name}(?:\\{[^}]*\\})? ([-0-9.e+]+|NaN)$`, 'gm');
  let sum = 0;
  let found = false;
  for (const m of text.matchAll(re)) {
    sum += Number(m[1]);
    found = true;
  }
  return found ? sum : NaN;
}

/** One instant query against the receiver; the first result's value, or 0 for an empty result. */
async function vmScalar(base: string, query: string, timeSec: number): Promise<number> {
  const url = `${base}/api/v1/query?query=${encodeURIComponent(query)}&time=${timeSec}`;
  const body = (await (await fetch(url)).json()) as {
    status: string;
    data?: { result: { value: [number, string] }[] };
  };
  if (body.status !== 'success') throw new Error(`query failed: ${query}`);
  const v = body.data?.result[0]?.value[1];
  return v === undefined ? 0 : Number(v);
}

interface SenderRow {
  readonly name: string;
  readonly samples: number;
  readonly receiverSamples: number;
  readonly upRatio: number;
  readonly cpuSec: number;
  readonly cpuPerMillion: number;
  readonly peakRssMB: number;
  readonly wireBytes: number;
  readonly proxyBytes: number;
  readonly bytesPerSample: number;
  readonly requests: number;
}

export interface BenchResult {
  readonly quick: boolean;
  readonly receiver: string;
  readonly setup: {
    targets: number;
    seriesPerTarget: number;
    intervalS: number;
    warmupS: number;
    seconds: number;
    outageS: number;
    bandwidthLimit: number;
  };
  readonly steady: {
    readonly storewatch: SenderRow;
    readonly agent: SenderRow;
    readonly receiverRowsInserted: number;
    readonly receiverCpuSec: number;
    readonly ratios: { cpuPerMillion: number; peakRss: number; bytesPerSample: number };
  };
  readonly catchUp: {
    readonly backlogSeconds: number;
    readonly drainSeconds: number;
    readonly samples: number;
    readonly samplesPerSec: number;
    readonly wireBytes: number;
    readonly bytesPerSample: number;
    readonly receiverBytes: number;
    readonly receiverBytesPerSec: number;
    /** Receiver-side rate without the bucket's first second (see main). */
    readonly sustainedBytesPerSec: number;
    readonly capRatio: number;
    readonly sustainedCapRatio: number;
    /** Sustained rate within 10 % of the cap. */
    readonly withinCap: boolean;
    readonly requests: number;
    readonly peakRssMB: number;
  };
}

function fmt(n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits }) : 'n/a';
}

function markdown(r: BenchResult): string {
  const s = r.setup;
  const rows = [r.steady.storewatch, r.steady.agent];
  let md = `# storewatch remote-write benchmark${r.quick ? ' (--quick: tiny sizes, figures not meaningful)' : ''}\n\n`;
  md += `${s.targets} targets x ${s.seriesPerTarget} series every ${s.intervalS} s, ${s.warmupS} s warm-up, `;
  md += `${s.seconds} s measured; receiver ${r.receiver}.\n\n`;
  md += `| sender | samples shipped | receiver count | scrapes up | CPU s | CPU s per 1M samples | peak RSS MB | wire B/sample | requests |\n`;
  md += `|---|---|---|---|---|---|---|---|---|\n`;
  for (const x of rows) {
    md += `| ${x.name} | ${fmt(x.samples, 0)} | ${fmt(x.receiverSamples, 0)} | ${fmt(x.upRatio * 100, 1)} % | ${fmt(x.cpuSec)} | ${fmt(x.cpuPerMillion)} | ${fmt(x.peakRssMB, 0)} | ${fmt(x.bytesPerSample)} | ${fmt(x.requests, 0)} |\n`;
  }
  const q = r.steady.ratios;
  md += `| **storewatch / agent** | | | | | **${fmt(q.cpuPerMillion)}** | **${fmt(q.peakRss)}** | **${fmt(q.bytesPerSample)}** | |\n\n`;
  md += `Receiver: ${fmt(r.steady.receiverRowsInserted, 0)} rows inserted in the window, ${fmt(r.steady.receiverCpuSec)} CPU s.\n\n`;
  const c = r.catchUp;
  md += `## Catch-up (storewatch only, bandwidth_limit ${fmt(s.bandwidthLimit, 0)} B/s)\n\n`;
  md += `| backlog s | drain s | samples | samples/s | wire B/sample | requests | receiver B/s (of cap) | sustained B/s (of cap) | within 10 % | peak RSS MB |\n`;
  md += `|---|---|---|---|---|---|---|---|---|---|\n`;
  md += `| ${fmt(c.backlogSeconds, 1)} | ${fmt(c.drainSeconds, 1)} | ${fmt(c.samples, 0)} | ${fmt(c.samplesPerSec, 0)} | ${fmt(c.bytesPerSample)} | ${fmt(c.requests, 0)} | ${fmt(c.receiverBytesPerSec, 0)} (${fmt(c.capRatio * 100, 1)} %) | ${fmt(c.sustainedBytesPerSec, 0)} (${fmt(c.sustainedCapRatio * 100, 1)} %) | ${c.withinCap ? 'yes' : 'no'} | ${fmt(c.peakRssMB, 0)} |\n`;
  md += `\nDrain: from the receiver's restart until every sample stamped before it was acknowledged (at least storewatch's read lag, the scrape timeout + 5 s). Receiver B/s: request bytes arriving at the receiver over the drain; sustained: without the token bucket's first second.\n`;
  return md;
}

// ---------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const s = settings();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-bench-remote-'));
  const servers: http.Server[] = [];
  const peers: Peer[] = [];
  const proxies: Proxy[] = [];
  const log = (m: string): void => {
    process.stderr.write(`bench-remote: ${m}\n`);
  };
  try {
    // Targets.
    const template = await realNodeExporterBody();
    const addresses: string[] = [];
    for (let t = 0; t < s.targets; t++) {
      const lines = targetLines(template, s.series);
      const server = http.createServer((_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
        res.end(renderTarget(lines));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      servers.push(server);
      addresses.push(`127.0.0.1:${(server.address() as AddressInfo).port}`);
    }

    // Receiver and the two proxies in front of it.
    const vmPort = await freePort();
    const vmBase = `http://127.0.0.1:${vmPort}`;
    const startVm = (): Peer => {
      const p = startPeer(
        'victoria-metrics',
        which('victoria-metrics'),
        [
          `-httpListenAddr=127.0.0.1:${vmPort}`,
          `-storageDataPath=${path.join(dir, 'vm-data')}`,
          '-retentionPeriod=1d',
          '-search.latencyOffset=1s',
          '-search.disableCache',
          '-loggerLevel=WARN',
        ],
        path.join(dir, 'vm.log'),
      );
      peers.push(p);
      return p;
    };
    let vm = startVm();
    await waitUpPeer(`${vmBase}/health`, 30_000, vm);
    const swProxy = await startProxy(() => vmBase);
    const agentProxy = await startProxy(() => vmBase);
    proxies.push(swProxy, agentProxy);

    // The two senders, same targets and the same queue settings where both have them.
    const intervalS = s.intervalS;
    const timeoutMs = Math.round(Math.min(intervalS * 0.8, 4) * 1000);
    const scrape = (bench: string): string => `global:
  scrape_interval: ${Math.round(intervalS * 1000)}ms
  scrape_timeout: ${timeoutMs}ms
  external_labels: {bench: ${bench}}
scrape_configs:
  - job_name: pos
    static_configs: [{targets: [${addresses.map((a) => `'${a}'`).join(', ')}]}]
`;
    const queue = '{max_samples_per_send: 2000, batch_send_deadline: 5s}';
    const swConfig = (limit: number): string =>
      `${scrape('storewatch')}remote_write:
  - url: ${swProxy.url}
    name: bench
    queue_config: ${queue}
    store_and_forward: {bandwidth_limit: ${limit}}
host: {enabled: false}
`;
    const swConfigFile = path.join(dir, 'storewatch.yml');
    fs.writeFileSync(swConfigFile, swConfig(0));
    fs.writeFileSync(
      path.join(dir, 'agent.yml'),
      `${scrape('agent')}remote_write:
  - url: ${agentProxy.url}
    queue_config: ${queue}
`,
    );
    const swPort = await freePort();
    const agentPort = await freePort();
    const swMetrics = `http://127.0.0.1:${swPort}/metrics`;
    const agentMetrics = `http://127.0.0.1:${agentPort}/metrics`;
    const sw = startPeer(
      'storewatch',
      path.join(ROOT, 'node_modules', '.bin', 'node'),
      [
        ...NODE_RUNTIME_FLAGS,
        path.join(ROOT, 'appliance', 'cli.ts'),
        'run',
        '--config',
        swConfigFile,
        '--web.listen-address',
        `127.0.0.1:${swPort}`,
        '--storage.path',
        path.join(dir, 'sw-data'),
      ],
      path.join(dir, 'storewatch.log'),
    );
    peers.push(sw);
    const agent = startPeer(
      'prometheus-agent',
      which('prometheus'),
      [
        '--enable-feature=agent',
        `--config.file=${path.join(dir, 'agent.yml')}`,
        `--storage.agent.path=${path.join(dir, 'agent-data')}`,
        `--web.listen-address=127.0.0.1:${agentPort}`,
        '--storage.remote.flush-deadline=3s',
        '--log.level=warn',
      ],
      path.join(dir, 'agent.log'),
    );
    peers.push(agent);
    await waitUpPeer(`http://127.0.0.1:${swPort}/-/ready`, 30_000, sw);
    await waitUpPeer(`http://127.0.0.1:${agentPort}/-/ready`, 30_000, agent);
    log(
      `${s.targets} targets x ${s.series} series every ${intervalS}s; warm-up ${s.warmupS}s, measuring ${s.seconds}s ...`,
    );
    await sleep(s.warmupS * 1000);

    // Steady state.
    const swSent = (): Promise<number> => metricSum(swMetrics, 'storewatch_remote_samples_sent_total');
    const swBytes = (): Promise<number> => metricSum(swMetrics, 'storewatch_remote_bytes_sent_total');
    const swThrough = (): Promise<number> =>
      metricSum(swMetrics, 'storewatch_remote_sent_through_timestamp_seconds');
    const agentSent = (): Promise<number> =>
      metricSum(agentMetrics, 'prometheus_remote_storage_samples_total');
    const agentBytes = (): Promise<number> =>
      metricSum(agentMetrics, 'prometheus_remote_storage_bytes_total');
    const vmRows = (): Promise<number> => metricSum(`${vmBase}/metrics`, 'vm_rows_inserted_total');
    const okBytes = (p: Proxy, from: number, to: number): number =>
      p.arrivals.filter((a) => a.t >= from && a.t < to && a.status < 300).reduce((x, a) => x + a.bytes, 0);
    const requestsIn = (p: Proxy, from: number, to: number): number =>
      p.arrivals.filter((a) => a.t >= from && a.t < to).length;

    const snap = async () => ({
      t: Date.now(),
      sw: { sent: await swSent(), bytes: await swBytes(), proc: procStat(sw.child.pid!) },
      agent: { sent: await agentSent(), bytes: await agentBytes(), proc: procStat(agent.child.pid!) },
      vm: { rows: await vmRows(), proc: procStat(vm.child.pid!) },
    });
    const a0 = await snap();
    await sleep(s.seconds * 1000);
    const a1 = await snap();
    // The receiver's view of the same window, per sender label, after its ingestion buffers are searchable.
    await sleep(2500);
    const windowS = Math.round((a1.t - a0.t) / 1000);
    const atSec = Math.floor(a1.t / 1000);
    const receiverCount = (bench: string): Promise<number> =>
      vmScalar(vmBase, `sum(count_over_time({bench="${bench}"}[${windowS}s]))`, atSec);
    const upRatio = async (bench: string): Promise<number> =>
      (await vmScalar(vmBase, `sum(sum_over_time(up{bench="${bench}"}[${windowS}s]))`, atSec)) /
      Math.max(1, s.targets * (windowS / intervalS));
    const row = async (
      name: string,
      bench: string,
      x0: (typeof a0)['sw'],
      x1: (typeof a0)['sw'],
      proxy: Proxy,
    ): Promise<SenderRow> => {
      const samples = x1.sent - x0.sent;
      const cpuSec = x1.proc.cpuSec - x0.proc.cpuSec;
      const wireBytes = x1.bytes - x0.bytes;
      return {
        name,
        samples,
        receiverSamples: await receiverCount(bench),
        upRatio: await upRatio(bench),
        cpuSec,
        cpuPerMillion: (cpuSec / samples) * 1e6,
        peakRssMB: x1.proc.hwmMB,
        wireBytes,
        proxyBytes: okBytes(proxy, a0.t, a1.t),
        bytesPerSample: wireBytes / samples,
        requests: requestsIn(proxy, a0.t, a1.t),
      };
    };
    const swRow = await row('storewatch', 'storewatch', a0.sw, a1.sw, swProxy);
    const agentRow = await row('Prometheus 2.42 agent', 'agent', a0.agent, a1.agent, agentProxy);

    // Catch-up, storewatch only.
    await stopPeer(agent, 10_000);
    fs.writeFileSync(swConfigFile, swConfig(s.bandwidthLimit));
    const logBefore = fs.readFileSync(path.join(dir, 'storewatch.log'), 'utf8').length;
    sw.child.kill('SIGHUP');
    const reloaded = (): boolean =>
      fs
        .readFileSync(path.join(dir, 'storewatch.log'), 'utf8')
        .slice(logBefore)
        .includes('configuration reloaded');
    for (let i = 0; i < 100 && !reloaded(); i++) await sleep(100);
    if (!reloaded()) throw new Error('storewatch did not reload its configuration');
    log(`catch-up: receiver down for ${s.outageS}s, bandwidth_limit ${s.bandwidthLimit} B/s ...`);
    const outageStart = Date.now();
    await stopPeer(vm, 15_000);
    await sleep(s.outageS * 1000);
    const c0 = { sent: await swSent(), bytes: await swBytes() };
    vm = startVm();
    await waitUpPeer(`${vmBase}/health`, 30_000, vm);
    const restart = Date.now();
    const drainTimeoutMs = Math.max(60_000, s.outageS * 4000);
    let drained = 0;
    for (;;) {
      if ((await swThrough()) * 1000 >= restart) {
        drained = Date.now();
        break;
      }
      if (Date.now() - restart > drainTimeoutMs)
        throw new Error('storewatch did not drain its backlog in time');
      await sleep(250);
    }
    const c1 = { sent: await swSent(), bytes: await swBytes() };
    const drainS = (drained - restart) / 1000;
    const receiverBytes = okBytes(swProxy, restart, drained);
    const catchSamples = c1.sent - c0.sent;
    const receiverBytesPerSec = receiverBytes / drainS;
    // The token bucket starts full, so the first second may carry a second's worth on top of the rate; the
    // sustained rate leaves that second out: bytes of the requests after it over the time they span.
    const drainArrivals = swProxy.arrivals.filter((a) => a.t >= restart && a.t < drained && a.status < 300);
    const first = drainArrivals[0]?.t ?? restart;
    const later = drainArrivals.filter((a) => a.t >= first + 1000);
    const sustainedBytesPerSec =
      later.length >= 2
        ? later.slice(1).reduce((x, a) => x + a.bytes, 0) /
          ((later[later.length - 1]!.t - later[0]!.t) / 1000)
        : NaN;
    const swAfter = procStat(sw.child.pid!);
    await stopPeer(sw, 20_000);

    const result: BenchResult = {
      quick: s.quick,
      receiver: 'VictoriaMetrics 1.79.5',
      setup: {
        targets: s.targets,
        seriesPerTarget: s.series,
        intervalS,
        warmupS: s.warmupS,
        seconds: s.seconds,
        outageS: s.outageS,
        bandwidthLimit: s.bandwidthLimit,
      },
      steady: {
        storewatch: swRow,
        agent: agentRow,
        receiverRowsInserted: a1.vm.rows - a0.vm.rows,
        receiverCpuSec: a1.vm.proc.cpuSec - a0.vm.proc.cpuSec,
        ratios: {
          cpuPerMillion: swRow.cpuPerMillion / agentRow.cpuPerMillion,
          peakRss: swRow.peakRssMB / agentRow.peakRssMB,
          bytesPerSample: swRow.bytesPerSample / agentRow.bytesPerSample,
        },
      },
      catchUp: {
        backlogSeconds: (restart - outageStart) / 1000,
        drainSeconds: drainS,
        samples: catchSamples,
        samplesPerSec: catchSamples / drainS,
        wireBytes: c1.bytes - c0.bytes,
        bytesPerSample: (c1.bytes - c0.bytes) / catchSamples,
        receiverBytes,
        receiverBytesPerSec,
        sustainedBytesPerSec,
        capRatio: receiverBytesPerSec / s.bandwidthLimit,
        sustainedCapRatio: sustainedBytesPerSec / s.bandwidthLimit,
        withinCap: sustainedBytesPerSec <= 1.1 * s.bandwidthLimit,
        requests: drainArrivals.length,
        peakRssMB: swAfter.hwmMB,
      },
    };
    const md = markdown(result);
    console.log(md);
    if (s.json !== undefined) {
      fs.mkdirSync(path.dirname(path.resolve(s.json)), { recursive: true });
      fs.writeFileSync(s.json, `${JSON.stringify(result, null, 2)}\n`);
    }
  } finally {
    for (const p of [...peers].reverse()) await stopPeer(p, 5000);
    for (const p of proxies) await p.close();
    for (const srv of servers) srv.close();
    if (process.env.BENCH_KEEP !== '1') fs.rmSync(dir, { recursive: true, force: true });
    else log(`kept ${dir}`);
  }
}

main().catch((err: unknown) => {
  console.error(`bench-remote: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
