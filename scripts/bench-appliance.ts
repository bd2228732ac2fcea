// The appliance against the real peer: storewatch and Prometheus 2.42 (server mode, local TSDB) scrape the same
// 50 local targets of ~1,000 series each (a real node_exporter body, replicated and drifting) side by side, and
// we compare peak RSS, CPU seconds and bytes written per sample ingested. `npm run bench:appliance`.
// Options: --seconds N (default 180), --interval S (scrape interval in seconds, default 5), --targets N (50),
// --cpu-prof DIR (profile storewatch).
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  freePort,
  procStat,
  realNodeExporterBody,
  renderTarget,
  targetLines,
  waitUp,
  which,
} from './bench-targets.ts';
import { NODE_RUNTIME_FLAGS } from '../firmware/node-flags.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '180' },
    interval: { type: 'string', default: '5' },
    targets: { type: 'string', default: '50' },
    'cpu-prof': { type: 'string' },
  },
});
const SECONDS = Number(args.seconds);
const INTERVAL = Number(args.interval);
const TARGETS = Number(args.targets);
const SERIES_PER_TARGET = 1000;

interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(url)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-bench-app-'));
  const servers: http.Server[] = [];
  const procs: Proc[] = [];
  try {
    const template = await realNodeExporterBody();
    fs.writeFileSync(path.join(dir, 'node_exporter.txt'), template);
    const addresses: string[] = [];
    for (let t = 0; t < TARGETS; t++) {
      const lines = targetLines(template, SERIES_PER_TARGET);
      const server = http.createServer((_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
        res.end(renderTarget(lines));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      servers.push(server);
      addresses.push(`127.0.0.1:${(server.address() as AddressInfo).port}`);
    }
    const scrape = `global: {scrape_interval: ${INTERVAL}s, scrape_timeout: ${Math.min(INTERVAL, 4)}s}
scrape_configs:
  - job_name: pos
    static_configs: [{targets: [${addresses.map((a) => `'${a}'`).join(', ')}]}]
`;
    fs.writeFileSync(path.join(dir, 'storewatch.yml'), `${scrape}host: {enabled: false}\n`);
    fs.writeFileSync(path.join(dir, 'prometheus.yml'), scrape);
    const swPort = await freePort();
    const promPort = await freePort();
    const sw = spawn(
      path.join(ROOT, 'node_modules', '.bin', 'node'),
      [
        ...NODE_RUNTIME_FLAGS,
        ...(args['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${args['cpu-prof']}`] : []),
        path.join(ROOT, 'appliance', 'cli.ts'),
        'run',
        '--config',
        path.join(dir, 'storewatch.yml'),
        '--web.listen-address',
        `127.0.0.1:${swPort}`,
        '--storage.path',
        path.join(dir, 'sw-data'),
        '--log.level',
        'warn',
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    procs.push({ name: 'storewatch', child: sw });
    const prom = spawn(
      which('prometheus'),
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'prom-data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'ignore'] },
    );
    procs.push({ name: 'prometheus', child: prom });
    await waitUp(`http://127.0.0.1:${swPort}/-/ready`, 30_000);
    await waitUp(`http://127.0.0.1:${promPort}/-/ready`, 30_000);
    process.stderr.write(
      `bench-appliance: ${TARGETS} targets x ${SERIES_PER_TARGET} series every ${INTERVAL}s for ${SECONDS}s ...\n`,
    );
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const swSamples = await metric(
      `http://127.0.0.1:${swPort}/metrics`,
      'storewatch_tsdb_samples_appended_total',
    );
    const swSeries = await metric(`http://127.0.0.1:${swPort}/metrics`, 'storewatch_tsdb_series');
    const promSamples = await metric(
      `http://127.0.0.1:${promPort}/metrics`,
      'prometheus_tsdb_head_samples_appended_total',
    );
    const promSeries = await metric(`http://127.0.0.1:${promPort}/metrics`, 'prometheus_tsdb_head_series');
    const swStat = procStat(sw.pid!);
    const promStat = procStat(prom.pid!);
    const rows = [
      { name: 'storewatch', series: swSeries, samples: swSamples, ...swStat },
      { name: 'prometheus 2.42', series: promSeries, samples: promSamples, ...promStat },
    ];
    let md = `| process | series | samples | peak RSS MB | CPU s per 1M samples | written B/sample |\n|---|---|---|---|---|---|\n`;
    for (const r of rows) {
      md += `| ${r.name} | ${r.series} | ${r.samples} | ${r.hwmMB.toFixed(0)} | ${((r.cpuSec / r.samples) * 1e6).toFixed(2)} | ${(r.writeBytes / r.samples).toFixed(2)} |\n`;
    }
    const [a, b] = rows as [(typeof rows)[0], (typeof rows)[0]];
    md += `\nRatios storewatch / Prometheus: peak RSS ${(a.hwmMB / b.hwmMB).toFixed(2)}, CPU per sample ${(a.cpuSec / a.samples / (b.cpuSec / b.samples)).toFixed(2)}, bytes written per sample ${(a.writeBytes / a.samples / (b.writeBytes / b.samples)).toFixed(2)} (Prometheus has not cut a block yet in a short run: its writes are WAL only).\n`;
    console.log(md);
    // A clean stop under load (and it lets --cpu-prof write its profile).
    sw.kill('SIGTERM');
    await new Promise((r) => sw.once('exit', r));
  } finally {
    for (const p of procs) p.child.kill('SIGKILL');
    for (const s of servers) s.close();
    execFileSync('rm', ['-rf', dir]);
  }
}

main().catch((err: unknown) => {
  console.error(`bench-appliance: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
