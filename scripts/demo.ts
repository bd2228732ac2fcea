// `npm run demo`: a whole simulated store on loopback, and storewatch pointed at it, as a newcomer's first look.
//
// - NetBox: the fixture server (scripts/netbox-fixture.ts) with one store, "store-0042": POS terminals, a switch,
//   an access point, a printer, a UPS, a router and a PDU, with addresses rewritten into 127.0.0.0/8.
// - POS terminals: small exporters on each terminal's own loopback address, port 9100, with counters that grow.
//   One terminal answers 500 and one is switched off, so the page shows what a failing device looks like.
// - SNMP: when snmpsim is installed (bash scripts/install-test-peers.sh), the switch (48 ports), the UPS and the
//   printer are recordings served by snmpsimd on each device's address; NetBox's config context points storewatch
//   at the port. The access point and the router do not answer (down, with the reason).
// - storewatch: `node appliance/cli.ts run` with a generated configuration; the page is at the printed address.
//
// Everything binds loopback only and stops with Ctrl-C. Options: --port N (the page, default 9782),
// --keep (keep the data directory).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { NODE_RUNTIME_FLAGS } from '../firmware/node-flags.ts';
import { which } from './bench-targets.ts';
import { rewriteAddress, startNetboxFixture } from './netbox-fixture.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const TOKEN = 'demo0000000000000000000000000000000demo';
const SITE = 'store-0042';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { port: { type: 'string' }, keep: { type: 'boolean' } },
});
const port = Number(values.port ?? 9782);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'storewatch-demo-'));
fs.chmodSync(dir, 0o755);
const cleanups: (() => void | Promise<void>)[] = [];

function say(s: string): void {
  process.stdout.write(`${s}\n`);
}

/** One POS terminal's exporter: transactions and basket totals grow, the paper gauge drains and refills. */
function posExporter(address: string, i: number, mode: 'ok' | 'broken'): Promise<http.Server> {
  const started = Date.now();
  const server = http.createServer((req, res) => {
    if (mode === 'broken') {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('exporter crashed: receipt printer driver not responding\n');
      return;
    }
    const s = (Date.now() - started) / 1000;
    const tx = Math.floor(s / (7 + i));
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(
      [
        '# HELP pos_transactions_total Completed sales.',
        '# TYPE pos_transactions_total counter',
        `pos_transactions_total ${tx}`,
        '# HELP pos_basket_value_total Value of completed sales in cents.',
        '# TYPE pos_basket_value_total counter',
        `pos_basket_value_total ${tx * 2350 + i * 17}`,
        '# HELP pos_receipt_paper_ratio Paper left in the receipt printer.',
        '# TYPE pos_receipt_paper_ratio gauge',
        `pos_receipt_paper_ratio ${(1 - ((s / 600 + i / 7) % 1)).toFixed(3)}`,
        '# HELP pos_scanner_up Whether the barcode scanner answers.',
        '# TYPE pos_scanner_up gauge',
        `pos_scanner_up 1`,
        '',
      ].join('\n'),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(9100, address, () => resolve(server));
  });
}

/** A Debian peer's path, or null when it is not installed (the demo then goes on without it). */
function optional(bin: string): string | null {
  try {
    return which(bin);
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const netbox = await startNetboxFixture({ v1Tokens: [TOKEN] });
  cleanups.push(() => netbox.close());
  netbox.generateStore({ slug: SITE, name: 'Store 0042 (demo)', devices: 12, net: 42 });
  // The fixture also holds NetBox's demo data of other sites; the demo store is one site.
  const devices = [...netbox.devices.values()].filter(
    (d) => JSON.stringify((d.site as { slug?: string } | null)?.slug) === JSON.stringify(SITE),
  );
  const roleOf = (d: Record<string, unknown>): string =>
    String(((d.role ?? d.device_role) as { slug?: string } | null)?.slug ?? '');
  const addressOf = (d: Record<string, unknown>): string => {
    const raw = String((d.primary_ip4 as { address?: string } | null)?.address ?? '').replace(/\/\d+$/, '');
    return raw === '' ? '' : rewriteAddress(raw);
  };

  const pos = devices.filter((d) => roleOf(d) === 'pos-terminal');
  for (const [i, d] of pos.entries()) {
    // The last terminal is switched off (nothing listens), the one before it has a crashed exporter.
    if (i === pos.length - 1) continue;
    const server = await posExporter(addressOf(d), i, i === pos.length - 2 ? 'broken' : 'ok');
    cleanups.push(() => void server.close());
  }

  // The switch, the UPS and the printer answer SNMP from recordings (one snmpsimd each, on the device's own
  // address); the access point and the router stay silent, to show what an unreachable device looks like.
  const snmpsimd = optional('snmpsimd') ?? optional('snmpsimd.py');
  let snmpNote = 'snmpsim is not installed (bash scripts/install-test-peers.sh): SNMP devices show as down';
  if (snmpsimd) {
    const snmpPort = 16161;
    const simulated: string[] = [];
    for (const [role, recording] of [
      ['switch', 'switch-48port.snmprec'],
      ['ups', 'ups.snmprec'],
      ['printer', 'printer.snmprec'],
    ] as const) {
      const d = devices.find((x) => roleOf(x) === role);
      if (!d) continue;
      const data = path.join(dir, `snmpsim-${role}`, 'data');
      const cache = path.join(dir, `snmpsim-${role}`, 'cache');
      fs.mkdirSync(data, { recursive: true });
      fs.mkdirSync(cache, { recursive: true });
      fs.chmodSync(path.dirname(data), 0o755);
      fs.chmodSync(cache, 0o777);
      fs.copyFileSync(
        path.join(ROOT, 'test', 'testdata', 'snmp', recording),
        path.join(data, 'public.snmprec'),
      );
      const args = [
        `--data-dir=${data}`,
        `--cache-dir=${cache}`,
        `--agent-udpv4-endpoint=${addressOf(d)}:${snmpPort}`,
        '--logging-method=null',
      ];
      if (process.getuid?.() === 0) args.push('--process-user=nobody', '--process-group=nogroup');
      const child: ChildProcess = spawn(snmpsimd, args, { stdio: 'ignore' });
      cleanups.push(() => void child.kill('SIGTERM'));
      // NetBox's per-device config context tells storewatch where the agent listens.
      netbox.updateDevice(Number(d.id), { local_context_data: { storewatch: { port: snmpPort } } });
      simulated.push(`${role} ${addressOf(d)}:${snmpPort}`);
    }
    snmpNote = `SNMP recordings (snmpsim): ${simulated.join(', ')}; the access point and router do not answer`;
  }

  const config = path.join(dir, 'storewatch.yml');
  fs.writeFileSync(
    config,
    `# Generated by scripts/demo.ts
global:
  scrape_interval: 5s
  scrape_timeout: 4s
  external_labels: {store: ${SITE}}
storage:
  path: ${path.join(dir, 'data')}
web:
  listen_address: 127.0.0.1:${port}
netbox:
  url: ${netbox.baseUrl}
  token: ${TOKEN}
  site: ${SITE}
  # The demo's devices live on loopback; a real store keeps the default (private ranges only).
  allowed_networks: [127.0.0.0/8]
  sync_interval: 30s
`,
  );
  const app = spawn(
    process.execPath,
    [...NODE_RUNTIME_FLAGS, path.join(ROOT, 'appliance', 'cli.ts'), 'run', '--config', config],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        if (app.exitCode !== null) return resolve();
        app.once('exit', () => resolve());
        app.kill('SIGTERM');
      }),
  );
  say('');
  say(
    `storewatch demo: store ${SITE} with ${devices.length} devices in a simulated NetBox at ${netbox.baseUrl}`,
  );
  say(`  ${pos.length} POS terminals (one exporter crashed, one terminal switched off)`);
  say(`  ${snmpNote}`);
  say(`  open http://127.0.0.1:${port}/  ·  config: ${config}  ·  Ctrl-C stops everything`);
  say('');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
    app.once('exit', (code) => {
      say(`storewatch exited (${code})`);
      resolve();
    });
  });
}

try {
  await main();
} finally {
  for (const c of cleanups.reverse()) await c();
  if (!values.keep) fs.rmSync(dir, { recursive: true, force: true });
}
