import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_ALLOWED_NETWORKS, defaultProfiles } from '../../appliance/config/netbox.ts';
import type { NetboxProfile } from '../../appliance/config/netbox.ts';
import { labelsFromRecord, labelsToRecord } from '../../appliance/model/labels.ts';
import { compileRelabel, relabel, RELABEL_DEFAULTS } from '../../appliance/model/relabel.ts';
import type { RelabelConfig } from '../../appliance/model/relabel.ts';
import type { NbConfigContext, NbDevice, NbSite } from '../../inventory/model.ts';
import {
  AddressPolicy,
  buildInventory,
  hostPort,
  labelSafe,
  parseOverride,
} from '../../inventory/profiles.ts';
import type { Inventory, Snapshot } from '../../inventory/profiles.ts';
import { testConfig } from './helpers.ts';

const site: NbSite = {
  id: 2,
  slug: 'store-0042',
  name: 'Store 42',
  region: { id: 40, slug: 'us-nc', name: 'North Carolina' },
  tenant: { id: 5, slug: 'retail', name: 'Retail' },
  timeZone: 'America/New_York',
  facility: 'S42',
  lastUpdated: '',
};
let nextId = 1;
function dev(role: string | undefined, ip: string | undefined, over: Partial<NbDevice> = {}): NbDevice {
  const id = nextId++;
  return {
    id,
    name: `${role ?? 'none'}-${id}`,
    display: `${role ?? 'none'}-${id}`,
    ...(role ? { role: { id: role.length, slug: role, name: role } } : {}),
    site: { id: 2, slug: 'store-0042', name: 'Store 42' },
    status: 'active',
    tags: [],
    customFields: {},
    ...(ip ? { primaryIp: ip } : {}),
    localContext: null,
    lastUpdated: '2026-01-01T00:00:00Z',
    ...over,
  };
}
function snap(devices: NbDevice[], contexts: NbConfigContext[] = []): Snapshot {
  return {
    site,
    devices,
    contexts,
    apiVersion: '4.6',
    fullSyncAt: 0,
    deviceWatermark: '',
    contextWatermark: '',
  };
}
function targetsOf(inv: Inventory, job: string): Record<string, string>[] {
  return inv.jobs.find((j) => j.name === job)?.groups.flatMap((g) => g.targets.map((t) => ({ ...t }))) ?? [];
}
function reason(inv: Inventory, id: number): string | undefined {
  return inv.notMonitored.find((n) => n.id === id)?.reason;
}

describe('buildInventory with the default profiles', () => {
  it('maps each store role to its intents and jobs', () => {
    const pos = dev('pos-terminal', '127.42.0.2');
    const sw = dev('switch', '127.42.0.3');
    const ap = dev('access-point', '127.42.0.4');
    const printer = dev('printer', '127.42.0.5');
    const ups = dev('ups', '127.42.0.6');
    const inv = buildInventory(snap([pos, sw, ap, printer, ups]), testConfig());
    assert.deepEqual(
      inv.jobs.map((j) => `${j.name}:${j.kind}:${j.groups.length}`),
      [
        'network-snmp:snmp:2',
        'pos-terminal:prometheus:1',
        'pos-terminal-probe:probe:1',
        'printer-snmp:snmp:1',
        'ups-snmp:snmp:1',
      ],
    );
    const [posTarget] = targetsOf(inv, 'pos-terminal');
    assert.equal(posTarget!.__address__, '127.42.0.2:9100');
    assert.equal(posTarget!.__metrics_path__, '/metrics');
    assert.equal(posTarget!.__scheme__, 'http');
    assert.equal(posTarget!.__meta_netbox_role, 'pos-terminal');
    assert.equal(posTarget!.__meta_netbox_site, 'store-0042');
    assert.equal(posTarget!.__meta_netbox_region, 'us-nc');
    assert.equal(posTarget!.__meta_netbox_id, String(pos.id));
    const swTarget = targetsOf(inv, 'network-snmp').find((t) => t.__meta_netbox_role === 'switch')!;
    assert.equal(swTarget.__address__, '127.42.0.3:161');
    assert.equal(swTarget.__param_module, 'if_mib,system');
    assert.equal(swTarget.__param_auth, 'public_v2');
    assert.equal(targetsOf(inv, 'printer-snmp')[0]!.__param_module, 'printer');
    assert.equal(targetsOf(inv, 'ups-snmp')[0]!.__param_module, 'ups');
    assert.deepEqual(inv.store, {
      site: 'store-0042',
      site_name: 'Store 42',
      region: 'us-nc',
      tenant: 'retail',
      time_zone: 'America/New_York',
      facility: 'S42',
    });
    const m = inv.monitored.find((x) => x.id === pos.id)!;
    assert.equal(m.rule, 'role=pos-terminal');
    assert.deepEqual(m.jobs, ['pos-terminal', 'pos-terminal-probe']);
  });

  it('reports devices it cannot monitor, with the reason, and never throws', () => {
    const noIp = dev('pos-terminal', undefined);
    const unknown = dev('pdu', '127.42.0.9');
    const noRole = dev(undefined, '127.42.0.10');
    const dupA = dev('switch', '127.42.0.11');
    const dupB = dev('printer', '127.42.0.11');
    const offline = dev('switch', '127.42.0.12', { status: 'offline' });
    const inv = buildInventory(snap([noIp, unknown, noRole, dupA, dupB, offline]), testConfig());
    assert.equal(inv.monitored.length, 0);
    assert.equal(reason(inv, noIp.id), 'no primary IP');
    assert.match(reason(inv, unknown.id)!, /no profile matches \(role pdu/);
    assert.match(reason(inv, noRole.id)!, /role none/);
    assert.match(
      reason(inv, dupA.id)!,
      new RegExp(`duplicate primary IP 127.42.0.11 \\(also on ${dupB.name}\\)`),
    );
    assert.match(reason(inv, dupB.id)!, /duplicate primary IP/);
    assert.match(reason(inv, offline.id)!, /status offline/);
  });

  it('refuses addresses outside allowed_networks and never allows link-local or metadata addresses', () => {
    const cases: [string, RegExp][] = [
      ['10.1.2.3', /outside netbox.allowed_networks/],
      ['169.254.169.254', /link-local, metadata/],
      ['::ffff:169.254.169.254', /link-local, metadata/],
      ['fe80::1', /link-local, metadata/],
      ['fd00:ec2::254', /link-local, metadata/],
      ['8.8.8.8', /outside/],
    ];
    const devices = cases.map(([ip]) => dev('pos-terminal', ip));
    const cfg = testConfig({ allowed_networks: ['127.0.0.0/8', '169.254.0.0/16', 'fc00::/7', 'fe80::/10'] });
    const inv = buildInventory(snap(devices), cfg);
    assert.equal(inv.monitored.length, 0);
    cases.forEach(([, re], i) => assert.match(reason(inv, devices[i]!.id)!, re, cases[i]![0]));
  });

  it('allows private ranges and ULA by default, but not loopback', () => {
    const p = new AddressPolicy(DEFAULT_ALLOWED_NETWORKS);
    for (const ip of ['10.0.0.1', '172.31.255.1', '192.168.1.1', '100.64.0.1', 'fd12::1']) {
      assert.equal(p.problem(ip), undefined, ip);
    }
    for (const ip of ['127.0.0.1', '::1', '172.32.0.1', '169.254.1.1', '0.0.0.0', 'not-an-ip']) {
      assert.notEqual(p.problem(ip), undefined, ip);
    }
  });

  it('brackets IPv6 addresses in __address__', () => {
    assert.equal(hostPort('fd00::5', 9100), '[fd00::5]:9100');
    const inv = buildInventory(
      snap([dev('pos-terminal', 'fd00::5')]),
      testConfig({ allowed_networks: ['fd00::/8'] }),
    );
    assert.equal(targetsOf(inv, 'pos-terminal')[0]!.__address__, '[fd00::5]:9100');
  });

  it('copies chosen custom fields into label-safe names, whatever their values', () => {
    const d = dev('pos-terminal', '127.0.0.2', {
      customFields: { lane: 7, 'bad-name': 'x', obj: { a: [1] }, huge: 'y'.repeat(10_000), nul: null },
      tags: [
        { slug: 'lane-1', name: 'Lane 1' },
        { slug: 'ok', name: 'OK' },
      ],
    });
    const cfg = testConfig({ custom_field_labels: ['lane', 'bad-name', 'obj', 'huge', 'nul', 'absent'] });
    const t = targetsOf(buildInventory(snap([d]), cfg), 'pos-terminal')[0]!;
    assert.equal(t.__meta_netbox_custom_field_lane, '7');
    assert.equal(t.__meta_netbox_custom_field_bad_name, 'x');
    assert.equal(t.__meta_netbox_custom_field_obj, '{"a":[1]}');
    assert.equal(t.__meta_netbox_custom_field_huge!.length, 256);
    assert.equal(t.__meta_netbox_custom_field_nul, undefined);
    assert.equal(t.__meta_netbox_tags, ',Lane 1,OK,');
    assert.equal(t.__meta_netbox_tag_slugs, ',lane-1,ok,');
    assert.equal(labelSafe('9-lives'), '_9_lives');
  });
});

describe('config context overrides (storewatch key)', () => {
  const ctx = (data: unknown, over: Partial<NbConfigContext> = {}): NbConfigContext => ({
    id: 1,
    name: 'c',
    weight: 1000,
    isActive: true,
    regions: [],
    siteGroups: [],
    sites: [],
    locations: [],
    deviceTypes: [],
    roles: [],
    platforms: [],
    tenantGroups: [],
    tenants: [],
    tags: [],
    clusterAssigned: false,
    data,
    lastUpdated: '',
    ...over,
  });

  it('overrides port, path, scheme, interval, SNMP modules and credential per device', () => {
    const pos = dev('pos-terminal', '127.0.0.2', {
      localContext: {
        storewatch: {
          port: 9182,
          path: '/m',
          scheme: 'https',
          interval: '30s',
          timeout: '45s',
          probe_port: 22,
        },
      },
    });
    const sw = dev('switch', '127.0.0.3', {
      localContext: { storewatch: { snmp_module: 'if_mib', credential: 'store-v3' } },
    });
    const inv = buildInventory(snap([pos, sw]), testConfig());
    const t = targetsOf(inv, 'pos-terminal')[0]!;
    assert.equal(t.__address__, '127.0.0.2:9182');
    assert.equal(t.__metrics_path__, '/m');
    assert.equal(t.__scheme__, 'https');
    assert.equal(t.__scrape_interval__, '30s');
    // A timeout longer than the interval is cut to the interval.
    assert.equal(t.__scrape_timeout__, '30s');
    assert.equal(targetsOf(inv, 'pos-terminal-probe')[0]!.__address__, '127.0.0.2:22');
    const s = targetsOf(inv, 'network-snmp')[0]!;
    assert.equal(s.__param_module, 'if_mib');
    assert.equal(s.__param_auth, 'store-v3');
    assert.equal(s.__address__, '127.0.0.3:161');
  });

  it('port moves the SNMP agent of an SNMP-only profile; snmp_port says it explicitly', () => {
    const sw = dev('switch', '127.0.0.3', { localContext: { storewatch: { port: 16161 } } });
    const ap = dev('access-point', '127.0.0.4', { localContext: { storewatch: { snmp_port: 1161 } } });
    const inv = buildInventory(snap([sw, ap]), testConfig());
    assert.deepEqual(
      targetsOf(inv, 'network-snmp').map((t) => t.__address__),
      ['127.0.0.3:16161', '127.0.0.4:1161'],
    );
  });

  it('applies group overrides from config contexts by role, and disables devices', () => {
    const a = dev('pos-terminal', '127.0.0.2');
    const b = dev('pos-terminal', '127.0.0.3', { localContext: { storewatch: { disabled: true } } });
    const contexts = [ctx({ storewatch: { port: 9999 } }, { roles: [a.role!.id] })];
    const inv = buildInventory(snap([a, b], contexts), testConfig());
    assert.equal(targetsOf(inv, 'pos-terminal')[0]!.__address__, '127.0.0.2:9999');
    assert.match(reason(inv, b.id)!, /disabled by config context/);
  });

  it('chooses a profile by name from the context', () => {
    const d = dev('pdu', '127.0.0.4', { localContext: { storewatch: { profile: 'ups' } } });
    const inv = buildInventory(snap([d]), testConfig());
    assert.equal(inv.monitored[0]!.profile, 'ups');
    assert.equal(inv.monitored[0]!.rule, 'config context storewatch.profile');
    const bad = dev('pdu', '127.0.0.5', { localContext: { storewatch: { profile: 'nope' } } });
    assert.match(reason(buildInventory(snap([bad]), testConfig()), bad.id)!, /unknown profile "nope"/);
  });

  it('reports invalid overrides instead of guessing', () => {
    const bad: unknown[] = [
      'not a mapping',
      { storewatch: 'x' },
      { storewatch: { port: 0 } },
      { storewatch: { port: '9100' } },
      { storewatch: { path: 'metrics' } },
      { storewatch: { scheme: 'ftp' } },
      { storewatch: { interval: 30 } },
      { storewatch: { interval: 'soon' } },
      { storewatch: { snmp_modules: [] } },
      { storewatch: { credential: 'has space' } },
      { storewatch: { disabled: 'yes' } },
      { storewatch: { communitty: 'public' } },
    ];
    assert.equal(parseOverride(bad[0]).ok, true);
    for (const c of bad.slice(1)) assert.equal(parseOverride(c).ok, false, JSON.stringify(c));
    const d = dev('pos-terminal', '127.0.0.2', { localContext: { storewatch: { port: 70000 } } });
    assert.match(
      reason(buildInventory(snap([d]), testConfig()), d.id)!,
      /invalid config context: storewatch.port/,
    );
  });
});

describe('profiles from the config and relabelling on __meta_netbox_* labels', () => {
  const rule = (r: Partial<RelabelConfig>): RelabelConfig => ({
    source_labels: [],
    modulus: 0,
    target_label: '',
    ...RELABEL_DEFAULTS,
    ...r,
  });

  it('matches by platform, tags and custom fields; first profile wins', () => {
    const profiles: NetboxProfile[] = [
      {
        name: 'kiosk',
        match: { roles: [], platforms: ['linux'], tags: ['kiosk'], custom_fields: { lane: 3 } },
        prometheus: {
          port: 9200,
          path: '/metrics',
          scheme: 'http',
          interval: 0,
          timeout: 0,
          relabel_configs: [],
          metric_relabel_configs: [],
        },
      },
      ...defaultProfiles(),
    ];
    const k = dev('pos-terminal', '127.0.0.2', {
      platform: { id: 1, slug: 'linux', name: 'Linux' },
      tags: [{ slug: 'kiosk', name: 'kiosk' }],
      customFields: { lane: 3 },
    });
    const other = dev('pos-terminal', '127.0.0.3', {
      platform: { id: 1, slug: 'linux', name: 'Linux' },
      customFields: { lane: 3 },
    });
    const inv = buildInventory(snap([k, other]), testConfig({ profiles }));
    assert.equal(inv.monitored.find((m) => m.id === k.id)!.profile, 'kiosk');
    assert.equal(inv.monitored.find((m) => m.id === k.id)!.rule, 'platform=linux,tag=kiosk,cf_lane=3');
    assert.equal(inv.monitored.find((m) => m.id === other.id)!.profile, 'pos-terminal');
  });

  it('carries relabel rules with the job, and they work on the discovered labels', () => {
    const relabel_configs = [
      rule({ action: 'labelmap', regex: '__meta_netbox_(role|site|device)' }),
      rule({ action: 'drop', source_labels: ['__meta_netbox_tag_slugs'], regex: '.*,skip,.*' }),
    ];
    const profiles = defaultProfiles().map((p) =>
      p.name === 'pos-terminal' ? { ...p, prometheus: { ...p.prometheus!, relabel_configs } } : p,
    );
    const a = dev('pos-terminal', '127.0.0.2');
    const b = dev('pos-terminal', '127.0.0.3', { tags: [{ slug: 'skip', name: 'skip' }] });
    const inv = buildInventory(snap([a, b]), testConfig({ profiles }));
    const job = inv.jobs.find((j) => j.name === 'pos-terminal')!;
    const rules = job.relabel_configs.map(compileRelabel);
    const out = job.groups
      .flatMap((g) => g.targets)
      .map((t) => relabel(labelsFromRecord(t), rules))
      .filter((l) => l !== null)
      .map((l) => labelsToRecord(l));
    assert.equal(out.length, 1);
    assert.equal(out[0]!.role, 'pos-terminal');
    assert.equal(out[0]!.site, 'store-0042');
    assert.equal(out[0]!.device, a.name);
  });
});
