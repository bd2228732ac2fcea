// SNMP inside the appliance: a static `collector: snmp` job and a NetBox-profiled switch are walked on their
// schedule against snmpsim, their series land in the TSDB and answer PromQL, /snmp serves one walk like
// snmp_exporter, and a device that does not answer is down with the reason.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../appliance/config/load.ts';
import { Appliance } from '../../appliance/main.ts';
import { silentLogger } from '../../appliance/model/logger.ts';
import { rewriteAddress, startNetboxFixture } from '../../scripts/netbox-fixture.ts';
import type { NetboxFixture } from '../../scripts/netbox-fixture.ts';
import type { TempDir } from './peers.ts';
import { tempDir, waitFor } from './peers.ts';
import type { SnmpPeer } from './snmp-peers.ts';
import { freeUdpPort, startSnmpsim } from './snmp-peers.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const DATA = path.join(ROOT, 'test', 'testdata', 'snmp');
const TOKEN = '0123456789abcdef0123456789abcdef01234567';
let dir: TempDir;
let sim: SnmpPeer;
let netbox: NetboxFixture;
let app: Appliance;
let silentPort = 0;

before(async () => {
  dir = await tempDir();
  sim = await startSnmpsim({ public: path.join(DATA, 'switch-48port.snmprec') });
  silentPort = await freeUdpPort();
  netbox = await startNetboxFixture({ v1Tokens: [TOKEN] });
  netbox.generateStore({ slug: 'store-0042', devices: 7, net: 1 });
  // NetBox says the store's switch answers SNMP on the simulator's port (a per-device config context).
  const sw = [...netbox.devices.values()].find((d) => JSON.stringify(d.role).includes('"switch"'))!;
  netbox.updateDevice(Number(sw.id), { local_context_data: { storewatch: { port: sim.port } } });
  const swAddress = rewriteAddress(
    String((sw.primary_ip4 as { address: string }).address).replace(/\/\d+$/, ''),
  );
  // snmpsim listens on 127.0.0.1 only: point the switch's NetBox address there.
  netbox.setPrimaryIp(Number(sw.id), '127.0.0.1/8');
  assert.ok(swAddress);
  const config = loadConfig(
    `
global: {scrape_interval: 2s, scrape_timeout: 1500ms}
host: {enabled: false}
web: {listen_address: '127.0.0.1:0'}
storage: {path: '${dir.path}/data'}
scrape_configs:
  - job_name: switch
    collector: snmp
    # snmpsim (Python) needs up to a few seconds for a 48-port walk on a loaded 2-core machine.
    scrape_interval: 5s
    scrape_timeout: 4500ms
    params: {module: [if_mib], auth: [public_v2]}
    static_configs: [{targets: ['${sim.address}', '127.0.0.1:${silentPort}']}]
netbox:
  url: ${netbox.baseUrl}
  token: ${TOKEN}
  site: store-0042
  allowed_networks: [127.0.0.0/8]
  profiles:
    - name: network
      match: {roles: [switch]}
      snmp: {modules: [system], interval: 5s, timeout: 4s}
`,
    { baseDir: dir.path, readFile: () => '' },
  );
  app = await Appliance.start({ config, logger: silentLogger, version: 't', cacheDir: dir.path });
});

after(async () => {
  await app?.stop();
  await netbox?.close();
  await sim?.stop();
  await dir?.remove();
});

async function query(q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const r = await fetch(
    `http://127.0.0.1:${app.listenPort}/api/v1/query?query=${encodeURIComponent(q)}&time=${Date.now() / 1000}`,
  );
  const j = (await r.json()) as {
    data: { result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  return j.data.result;
}

test('a static SNMP job walks the switch on schedule; a silent device is down with the reason', async () => {
  const targets = await waitFor(async () => {
    const r = await fetch(`http://127.0.0.1:${app.listenPort}/api/v1/targets`);
    const all = (
      (await r.json()) as {
        data: {
          activeTargets: { scrapePool: string; health: string; lastError: string; scrapeUrl: string }[];
        };
      }
    ).data.activeTargets.filter((t) => t.scrapePool === 'switch');
    const ok = all.find((t) => t.scrapeUrl.includes(sim.address))?.health === 'up';
    const silent = all.find((t) => t.scrapeUrl.includes(String(silentPort)))?.health === 'down';
    return all.length === 2 && ok && silent ? all : null;
  }, 45_000).catch((err: unknown) => {
    throw new Error(`${String(err)}: the switch should be up and the silent device down`);
  });
  const up = targets.find((t) => t.scrapeUrl.includes(sim.address))!;
  const down = targets.find((t) => t.scrapeUrl.includes(String(silentPort)))!;
  assert.equal(up.health, 'up', up.lastError);
  assert.equal(down.health, 'down');
  assert.match(down.lastError, /timeout|timed out/i);
  // The 48-port switch's interface table, with snmp_exporter's series names and labels.
  const oper = await waitFor(async () => {
    const r = await query(`ifOperStatus{job="switch"}`);
    return r.length === 48 ? r : null;
  }, 20_000);
  assert.ok(
    oper.every((x) => x.metric.ifIndex && x.metric.ifName),
    JSON.stringify(oper[0]),
  );
  const failed = await query(`up{job="switch"} == 0`);
  assert.equal(failed.length, 1);
});

test('NetBox profiles the switch: walked with the profile module at the port its config context gives', async () => {
  const name = await waitFor(async () => {
    const r = await query(`sysName{job="network-snmp"}`);
    return r.length === 1 ? r : null;
  }, 30_000);
  assert.equal(name[0]!.metric.device?.startsWith('store-0042-switch'), true, JSON.stringify(name[0]));
});

test('/snmp answers one walk as text exposition; an unknown module is a 400 like snmp_exporter', async () => {
  const base = `http://127.0.0.1:${app.listenPort}/snmp`;
  const ok = await fetch(`${base}?target=${encodeURIComponent(sim.address)}&module=system`);
  assert.equal(ok.status, 200);
  assert.match(await ok.text(), /^sysUpTime \d+/m);
  const bad = await fetch(`${base}?target=${encodeURIComponent(sim.address)}&module=nope`);
  assert.equal(bad.status, 400);
});

test('storewatch snmp probe walks a device from the command line', () => {
  const r = spawnSync(
    path.join(ROOT, 'node_modules', '.bin', 'node'),
    [path.join(ROOT, 'appliance', 'cli.ts'), 'snmp', 'probe', '--target', sim.address, '--module', 'system'],
    { encoding: 'utf8', timeout: 30_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^sysUpTime \d+/m);
  const silent = spawnSync(
    path.join(ROOT, 'node_modules', '.bin', 'node'),
    [
      path.join(ROOT, 'appliance', 'cli.ts'),
      'snmp',
      'probe',
      '--target',
      `127.0.0.1:${silentPort}`,
      '--module',
      'system',
      '--timeout',
      '1s',
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
  assert.equal(silent.status, 1);
  assert.match(silent.stderr, /timeout|timed out/i);
});
