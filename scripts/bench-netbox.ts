// NetBox inventory benchmark: a full sync of one store of 2,000 devices against the NetBox fixture, as the
// appliance runs it (throttled client, exclude=config_context, config contexts merged locally, inventory built
// with the default profiles), then one incremental sync with nothing changed.
//
//   node scripts/bench-netbox.ts [--devices 2000] [--quick]
//
// The fixture runs in a child process, and every scenario is measured in a child process of its own, so the
// peak RSS reported (getrusage maxrss) is the syncing process's alone. Reported per scenario: wall time of
// the full sync (site, device pages, config contexts, inventory build), requests sent, devices, monitored
// targets, RSS before the sync (Node, type stripping and imports) and peak RSS; and for the incremental sync its wall time and requests.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { loadConfig } from '../appliance/config/load.ts';
import { NetBoxClient, TokenBucket, abortableSleep, nodeTransport } from '../inventory/client.ts';
import { buildInventory } from '../inventory/profiles.ts';
import { fullSync, incrementalSync } from '../inventory/sync.ts';

const TOKEN = '0123456789abcdef0123456789abcdef01234567';

interface Scenario {
  readonly name: string;
  readonly pageSize: number;
  readonly rate: number;
}
const SCENARIOS: readonly Scenario[] = [
  { name: 'defaults (page 500, 5 req/s)', pageSize: 500, rate: 5 },
  { name: 'page 1000, 5 req/s', pageSize: 1000, rate: 5 },
  { name: 'page 100, 5 req/s', pageSize: 100, rate: 5 },
  { name: 'page 100, unthrottled', pageSize: 100, rate: 100_000 },
];

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? def) : def;
}

async function measure(url: string, s: Scenario): Promise<void> {
  // The config a user would write, through the same validation and defaults as the appliance's.
  const cfg = loadConfig(
    `netbox: {url: '${url}', token: '${TOKEN}', site: store-0042, page_size: ${s.pageSize}, ` +
      `rate_limit: ${s.rate}, allowed_networks: [127.0.0.0/8], custom_field_labels: [lane]}\n`,
    { baseDir: '/', readFile: () => '' },
  ).netbox!;
  const transport = nodeTransport(cfg.tls_config);
  const client = new NetBoxClient({
    url,
    token: TOKEN,
    transport,
    timeoutMs: cfg.timeout,
    maxBytes: cfg.max_response_size,
    retries: cfg.retries,
    bucket: new TokenBucket({ rate: s.rate, now: Date.now, sleep: abortableSleep }),
  });
  const signal = new AbortController().signal;
  // Node with type stripping and the imported modules, before any sync: the floor under peakRssMB.
  const baselineRssMB = Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
  const t0 = performance.now();
  const r = await fullSync(client, cfg, signal, Date.now);
  if (!r.ok) throw new Error(`full sync failed: ${r.error.message}`);
  const inv = buildInventory(r.snapshot, cfg);
  const fullMs = performance.now() - t0;
  const fullRequests = client.requests;
  const t1 = performance.now();
  const inc = await incrementalSync(client, cfg, r.snapshot, signal, Date.now);
  if (!inc.ok) throw new Error(`incremental sync failed: ${inc.error.message}`);
  const incMs = performance.now() - t1;
  transport.close();
  process.stdout.write(
    JSON.stringify({
      scenario: s.name,
      devices: r.snapshot.devices.length,
      monitored: inv.monitored.length,
      targets: inv.jobs.reduce((n, j) => n + j.groups.length, 0),
      fullMs: Math.round(fullMs),
      fullRequests,
      incrementalMs: Math.round(incMs),
      incrementalRequests: client.requests - fullRequests,
      baselineRssMB,
      peakRssMB: Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10,
    }) + '\n',
  );
}

async function main(): Promise<void> {
  if (process.argv.includes('--measure')) {
    const s = SCENARIOS[Number(arg('measure', '0'))]!;
    await measure(arg('url', ''), s);
    return;
  }
  const devices = process.argv.includes('--quick') ? '200' : arg('devices', '2000');
  const fixture = spawn(
    process.execPath,
    [new URL('./netbox-fixture.ts', import.meta.url).pathname, '--devices', devices, '--token', TOKEN],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    let out = '';
    fixture.stdout.setEncoding('utf8');
    while (!/http:\/\/127\.0\.0\.1:\d+/.test(out)) {
      const [chunk] = (await once(fixture.stdout, 'data')) as [string];
      out += chunk;
    }
    const url = /http:\/\/127\.0\.0\.1:\d+/.exec(out)![0];
    const rows: Record<string, unknown>[] = [];
    for (let i = 0; i < SCENARIOS.length; i++) {
      const child = spawn(process.execPath, [import.meta.filename, '--measure', String(i), '--url', url], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let text = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (c: string) => (text += c));
      const [code] = (await once(child, 'exit')) as [number];
      if (code !== 0) throw new Error(`scenario ${SCENARIOS[i]!.name} exited with ${code}`);
      rows.push(JSON.parse(text) as Record<string, unknown>);
    }
    const cols = [
      'scenario',
      'devices',
      'monitored',
      'targets',
      'fullMs',
      'fullRequests',
      'incrementalMs',
      'incrementalRequests',
      'baselineRssMB',
      'peakRssMB',
    ];
    process.stdout.write(`NetBox full sync, ${devices} devices in the store (fixture on loopback)\n\n`);
    process.stdout.write(`| ${cols.join(' | ')} |\n|${cols.map(() => '---').join('|')}|\n`);
    for (const r of rows) process.stdout.write(`| ${cols.map((c) => String(r[c])).join(' | ')} |\n`);
  } finally {
    fixture.kill();
  }
}

await main();
