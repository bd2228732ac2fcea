// The appliance pointed at the NetBox fixture: the store is monitored from what NetBox says is there (POS
// terminals exporting metrics on their own loopback addresses), the page lists what is not monitored and why,
// and a restart with NetBox gone keeps monitoring from the cached inventory.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeWriteRequestV1, snappyDecompress } from '../../appliance/remote/wire.ts';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../appliance/config/load.ts';
import type { Config } from '../../appliance/config/schema.ts';
import { Appliance } from '../../appliance/main.ts';
import { inventoryCommand } from '../../appliance/cli-inventory.ts';
import { silentLogger } from '../../appliance/model/logger.ts';
import { rewriteAddress, startNetboxFixture } from '../../scripts/netbox-fixture.ts';
import type { NetboxFixture } from '../../scripts/netbox-fixture.ts';
import type { TempDir } from './peers.ts';
import { tempDir, waitFor } from './peers.ts';

const TOKEN = '0123456789abcdef0123456789abcdef01234567';
let fixture: NetboxFixture;
let netboxUrl = '';
let dir: TempDir;
const terminals: http.Server[] = [];
let posAddresses: string[] = [];

before(async () => {
  dir = await tempDir();
  const rx = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      for (const s of decodeWriteRequestV1(snappyDecompress(Buffer.concat(chunks), 1 << 26)).series) {
        received.add(JSON.stringify(Object.fromEntries(s.labels.map((l) => [l.name, l.value]))));
      }
      res.writeHead(204);
      res.end();
    });
  });
  await new Promise<void>((resolve) => rx.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(rx.address() as AddressInfo).port}/api/v1/write`;
  terminals.push(rx);
  fixture = await startNetboxFixture({ v1Tokens: [TOKEN] });
  fixture.generateStore({ slug: 'store-0042', devices: 12, net: 77 });
  netboxUrl = fixture.baseUrl;
  // Every POS terminal NetBox lists gets a tiny exporter on its own (rewritten, loopback) address and port 9100.
  posAddresses = [...fixture.devices.values()]
    .filter((d) => JSON.stringify(d.role ?? d.device_role).includes('pos-terminal'))
    .map((d) => String((d.primary_ip4 as { address?: string } | null)?.address ?? '').replace(/\/\d+$/, ''))
    .map((a) => (a === '' ? a : rewriteAddress(a)))
    .filter((a) => a !== '');
  assert.ok(posAddresses.length >= 5, `POS terminals in the fixture: ${posAddresses.join(', ')}`);
  for (const addr of posAddresses) {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(`# TYPE pos_transactions_total counter\npos_transactions_total 42\n`);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(9100, addr, resolve);
    });
    terminals.push(server);
  }
});

after(async () => {
  for (const s of terminals) s.close();
  await fixture.close();
  await dir.remove();
});

/** A remote-write receiver on loopback that keeps the label sets it received. */
const received = new Set<string>();
let receiverUrl = '';

function config(url: string): Config {
  return loadConfig(
    `
global: {scrape_interval: 1s, scrape_timeout: 800ms}
remote_write: [{url: '${receiverUrl}', queue_config: {batch_send_deadline: 200ms}}]
host: {enabled: false}
web: {listen_address: '127.0.0.1:0'}
storage: {path: '${dir.path}/data'}
netbox:
  url: ${url}
  token: ${TOKEN}
  site: store-0042
  allowed_networks: [127.0.0.0/8]
  sync_interval: 1s
  full_sync_interval: 5s
  retries: 0
  timeout: 2s
`,
    { baseDir: dir.path, readFile: () => '' },
  );
}

interface Overview {
  targets: { scrapePool: string; health: string; labels: Record<string, string>; scrapeUrl: string }[];
  inventory: {
    origin: string;
    devices: number;
    monitored: number;
    lastError: { message: string } | null;
    notMonitored: { device: string; reason: string }[];
  } | null;
  notScraped: { job: string; reason: string }[];
}

async function overview(app: Appliance): Promise<Overview> {
  const r = await fetch(`http://127.0.0.1:${app.listenPort}/api/v1/status/overview`);
  return ((await r.json()) as { data: Overview }).data;
}

test('NetBox decides what is monitored; with NetBox gone a restart monitors from the cache', async () => {
  let app = await Appliance.start({
    config: config(netboxUrl),
    logger: silentLogger,
    version: 't',
    cacheDir: dir.path,
  });
  try {
    const o = await waitFor(async () => {
      const x = await overview(app);
      const pos = x.targets.filter((t) => t.scrapePool === 'pos-terminal');
      return pos.length === posAddresses.length && pos.every((t) => t.health === 'up') ? x : null;
    }, 30_000);
    const pos = o.targets.filter((t) => t.scrapePool === 'pos-terminal');
    assert.deepEqual(
      pos.map((t) => t.scrapeUrl).sort(),
      posAddresses.map((a) => `http://${a}:9100/metrics`).sort(),
    );
    // NetBox's labels reach the series: the device name and its role.
    assert.ok(
      pos.every((t) => /^store-0042-pos-terminal-\d{4}$/.test(t.labels.device ?? '')),
      JSON.stringify(pos[0]),
    );
    // Reachability probes of the same terminals.
    const probes = await waitFor(async () => {
      const p = (await overview(app)).targets.filter((t) => t.scrapePool === 'pos-terminal-probe');
      return p.length === posAddresses.length && p.every((t) => t.health === 'up') ? p : null;
    }, 30_000);
    assert.equal(probes.length, posAddresses.length);
    assert.equal(o.inventory?.origin, 'netbox');
    assert.equal(o.inventory?.devices, 12);
    // What leaves the appliance carries the store's identity from its NetBox site.
    const shipped = await waitFor(() => {
      const up = [...received]
        .map((x) => JSON.parse(x) as Record<string, string>)
        .find((l) => l.job === 'pos-terminal');
      return up ?? null;
    }, 30_000);
    assert.equal(shipped.site, 'store-0042');
    // The PDU has no profile: reported, not silently ignored.
    assert.ok(
      o.inventory?.notMonitored.some((n) => /pdu/.test(n.device)),
      JSON.stringify(o.inventory?.notMonitored),
    );
  } finally {
    await app.stop();
  }

  // The CLI reads the cached inventory: what is monitored through which profile and rule, what is not and why.
  const out: string[] = [];
  const io = { out: (x: string) => out.push(x), err: (x: string) => out.push(`ERR ${x}`) };
  assert.equal(inventoryCommand('show', config(netboxUrl), dir.path, io), 0, out.join(''));
  const shown = out.join('');
  assert.match(shown, /store-0042-pos-terminal-0001/);
  assert.match(shown, /pos-terminal/);
  assert.match(shown, /store-0042-pdu-0012.*no profile/s);
  out.length = 0;
  assert.equal(inventoryCommand('diff', config(netboxUrl), dir.path, io), 0, out.join(''));
  assert.match(out.join(''), /\+ store-0042-pos-terminal-0001/);

  // NetBox goes away; the appliance restarts and monitors the same terminals from the cached inventory.
  await fixture.close();
  app = await Appliance.start({
    config: config(netboxUrl),
    logger: silentLogger,
    version: 't',
    cacheDir: dir.path,
  });
  try {
    const o = await waitFor(async () => {
      const x = await overview(app);
      const pos = x.targets.filter((t) => t.scrapePool === 'pos-terminal');
      return pos.length === posAddresses.length &&
        pos.every((t) => t.health === 'up') &&
        x.inventory?.lastError
        ? x
        : null;
    }, 30_000);
    assert.equal(o.inventory?.origin, 'cache');
    assert.ok(o.inventory?.lastError?.message, 'the failing sync is shown');
    assert.doesNotMatch(JSON.stringify(o), new RegExp(TOKEN), 'the token never appears');
  } finally {
    await app.stop();
  }
});
