// The collector against real agents: Debian's snmpd (v2c and a v3 authPriv user, wrong credentials of each kind)
// and snmpsim recordings (v3 with SHA-2 and AES-256 in both key localisations, the built-in UPS, printer and
// entity modules on generated recordings).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { SnmpAuth } from '../../appliance/config/snmp.ts';
import { DEFAULT_SNMP_AUTH } from '../../appliance/config/snmp.ts';
import { silentLogger } from '../../appliance/model/logger.ts';
import { SnmpError } from '../../appliance/snmp/client.ts';
import type { SnmpCollection } from '../../appliance/snmp/collector.ts';
import { buildSnmpRegistry, SnmpCollector } from '../../appliance/snmp/collector.ts';
import type { SnmpPeer } from './snmp-peers.ts';
import { SNMPD_V3, SNMPSIM_V3_USERS, startSnmpd, startSnmpsim } from './snmp-peers.ts';

const DATA = new URL('../testdata/snmp/', import.meta.url).pathname;

const v2 = (community: string): SnmpAuth => ({ ...DEFAULT_SNMP_AUTH, community });
const v3 = (a: Partial<SnmpAuth>): SnmpAuth => ({ ...DEFAULT_SNMP_AUTH, version: 3, ...a });

const SECRETS = [SNMPD_V3.auth, SNMPD_V3.priv, 'wrongAuthPass99', 'wrongPrivPass99', 'not-the-community'];

const AUTHS: Record<string, SnmpAuth> = {
  wrong_community: v2('not-the-community'),
  v1_public: { ...v2('public'), version: 1 },
  snmpd_v3: v3({
    username: SNMPD_V3.user,
    security_level: 'authPriv',
    password: SNMPD_V3.auth,
    auth_protocol: 'SHA',
    priv_protocol: 'AES',
    priv_password: SNMPD_V3.priv,
  }),
  wrong_auth_pass: v3({
    username: SNMPD_V3.user,
    security_level: 'authPriv',
    password: 'wrongAuthPass99',
    auth_protocol: 'SHA',
    priv_protocol: 'AES',
    priv_password: SNMPD_V3.priv,
  }),
  wrong_priv_pass: v3({
    username: SNMPD_V3.user,
    security_level: 'authPriv',
    password: SNMPD_V3.auth,
    auth_protocol: 'SHA',
    priv_protocol: 'AES',
    priv_password: 'wrongPrivPass99',
  }),
  unknown_user: v3({
    username: 'nobody-here',
    security_level: 'authPriv',
    password: SNMPD_V3.auth,
    auth_protocol: 'SHA',
    priv_protocol: 'AES',
    priv_password: SNMPD_V3.priv,
  }),
  too_low_level: v3({
    username: SNMPD_V3.user,
    security_level: 'authNoPriv',
    password: SNMPD_V3.auth,
    auth_protocol: 'SHA',
  }),
  wrong_auth_proto: v3({
    username: SNMPD_V3.user,
    security_level: 'authPriv',
    password: SNMPD_V3.auth,
    auth_protocol: 'SHA256',
    priv_protocol: 'AES',
    priv_password: SNMPD_V3.priv,
  }),
};

// snmpsim: the v3 context name selects the recording.
const u = (name: string) => SNMPSIM_V3_USERS.find((x) => x.user === name)!;
const SIM_AUTHS: Record<string, SnmpAuth> = {
  sim_sha_aes: v3({
    username: 'edgeuser',
    security_level: 'authPriv',
    password: u('edgeuser').authKey,
    auth_protocol: 'SHA',
    priv_protocol: 'AES',
    priv_password: u('edgeuser').privKey,
    context_name: 'sw3',
  }),
  sim_sha256_aes256b: v3({
    username: 'sha256user',
    security_level: 'authPriv',
    password: u('sha256user').authKey,
    auth_protocol: 'SHA256',
    priv_protocol: 'AES256',
    priv_password: u('sha256user').privKey,
    context_name: 'sw3',
  }),
  sim_sha_aes256r: v3({
    username: 'ciscouser',
    security_level: 'authPriv',
    password: u('ciscouser').authKey,
    auth_protocol: 'SHA',
    priv_protocol: 'AES256C',
    priv_password: u('ciscouser').privKey,
    context_name: 'sw3',
  }),
  sim_sha512_authnopriv: v3({
    username: 'authonly',
    security_level: 'authNoPriv',
    password: u('authonly').authKey,
    auth_protocol: 'SHA512',
    context_name: 'sw3',
  }),
  // With SHA-1 (20-byte keys) the two AES-256 key extensions differ; with SHA-256 they coincide.
  sim_aes256_wrong_localisation: v3({
    username: 'ciscouser',
    security_level: 'authPriv',
    password: u('ciscouser').authKey,
    auth_protocol: 'SHA',
    priv_protocol: 'AES256',
    priv_password: u('ciscouser').privKey,
    context_name: 'sw3',
  }),
  sim_noauth: v3({ username: 'noauthuser', security_level: 'noAuthNoPriv', context_name: 'sw3' }),
  sim_ups: v2('ups'),
  sim_printer: v2('printer'),
  sim_sw48: v2('sw48'),
};

function collector(): SnmpCollector {
  return new SnmpCollector({
    registry: buildSnmpRegistry({ auths: { ...AUTHS, ...SIM_AUTHS } }, [
      { path: 'edge-modules.yml', text: fs.readFileSync(DATA + 'edge-modules.yml', 'utf8') },
      {
        path: 'fast.yml',
        text: 'fast_sys:\n  retries: 0\n  timeout: 300ms\n  get: [1.3.6.1.2.1.1.5.0]\n  metrics:\n  - { name: sysName, oid: 1.3.6.1.2.1.1.5, type: DisplayString }\n',
      },
    ]),
    maxConcurrentWalks: 4,
    maxConcurrentWalksPerDevice: 1,
    walkLimit: 100_000,
    logger: silentLogger,
  });
}

const sysName = (c: SnmpCollection): string | undefined =>
  c.series.find((s) => s.name === 'sysName')?.labels['sysName'];
const value = (c: SnmpCollection, name: string, labels: Record<string, string> = {}): number | undefined =>
  c.series.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

async function failsWith(p: Promise<unknown>, kind: string, re: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof SnmpError, String(err));
    assert.equal(err.kind, kind, err.message);
    assert.match(err.message, re);
    for (const s of SECRETS) assert.ok(!err.message.includes(s), 'secret in error');
    return true;
  });
}

describe('real snmpd (Debian net-snmp 5.9)', { timeout: 120_000 }, () => {
  let snmpd: SnmpPeer;
  const c = collector();
  const sig = (): AbortSignal => AbortSignal.timeout(15_000);
  before(async () => {
    snmpd = await startSnmpd();
  });
  after(async () => {
    await snmpd?.stop();
  });

  it('v2c: system, if_mib and host_resources walks', async () => {
    const sys = await c.collect({ target: snmpd.address, modules: ['system'] }, sig());
    assert.equal(sysName(sys), 'edge-snmpd-test');
    assert.equal(
      sys.series.find((s) => s.name === 'sysLocation')?.labels['sysLocation'],
      'Store 001 back office',
    );
    const ifm = await c.collect({ target: snmpd.address, modules: ['if_mib'] }, sig());
    // The loopback interface always exists, with its name as ifDescr.
    assert.ok(ifm.series.some((s) => s.name === 'ifType_info' && s.labels['ifType'] === 'softwareLoopback'));
    assert.ok(ifm.series.some((s) => s.name === 'ifHCInOctets' && s.labels['ifDescr'] === 'lo'));
    const hr = await c.collect({ target: snmpd.address, modules: ['host_resources'] }, sig());
    assert.ok((value(hr, 'hrSystemProcesses') ?? 0) > 0);
    assert.ok((value(hr, 'hrMemorySize') ?? 0) > 0);
    assert.ok(
      hr.series.some((s) => s.name === 'hrStorageSize' && s.labels['hrStorageDescr'] === 'Physical memory'),
    );
  });

  it('v1: GETNEXT walks, and a missing scalar (noSuchName in v1) is skipped, not fatal', async () => {
    const r = await c.collect(
      { target: snmpd.address, modules: ['system', 'if_mib'], auth: 'v1_public' },
      sig(),
    );
    assert.equal(sysName(r), 'edge-snmpd-test');
    assert.ok(r.series.some((s) => s.name === 'ifType_info' && s.labels['ifType'] === 'softwareLoopback'));
    // HC counters are Counter64, which v1 cannot carry: snmpd leaves them out of v1 walks.
    assert.ok(!r.series.some((s) => s.name === 'ifHCInOctets'));
    const hr = await c.collect(
      { target: snmpd.address, modules: ['host_resources'], auth: 'v1_public' },
      sig(),
    );
    assert.ok((value(hr, 'hrSystemProcesses') ?? 0) > 0);
  });

  it('v3 authPriv SHA/AES, from a 0.21 module with the auth inside and from a named auth', async () => {
    const legacy = await c.collect({ target: snmpd.address, modules: ['edge_sys_v3'] }, sig());
    assert.equal(sysName(legacy), 'edge-snmpd-test');
    const named = await c.collect({ target: snmpd.address, modules: ['system'], auth: 'snmpd_v3' }, sig());
    assert.equal(sysName(named), 'edge-snmpd-test');
  });

  it('a wrong community looks like a timeout, and the error says so', async () => {
    await failsWith(
      c.collect({ target: snmpd.address, modules: ['fast_sys'], auth: 'wrong_community' }, sig()),
      'timeout',
      /no response from 127\.0\.0\.1:\d+ after 1 tries of 300ms \(with SNMP v1\/v2c a wrong community looks exactly like this/,
    );
  });

  it('wrong v3 credentials of each kind are auth failures with a specific reason', async () => {
    await failsWith(
      c.collect({ target: snmpd.address, modules: ['fast_sys'], auth: 'wrong_auth_pass' }, sig()),
      'auth',
      /wrong auth password or auth protocol/,
    );
    await failsWith(
      c.collect({ target: snmpd.address, modules: ['fast_sys'], auth: 'wrong_auth_proto' }, sig()),
      'auth',
      /wrong auth password or auth protocol/,
    );
    await failsWith(
      c.collect({ target: snmpd.address, modules: ['fast_sys'], auth: 'unknown_user' }, sig()),
      'auth',
      /unknown user name/,
    );
    await failsWith(
      c.collect({ target: snmpd.address, modules: ['fast_sys'], auth: 'too_low_level' }, sig()),
      'auth',
      /refused access: AuthorizationError/i,
    );
  });

  it('a wrong v3 priv password looks like a timeout (snmpd cannot decrypt and stays silent), and the error says so', async () => {
    await failsWith(
      c.collect({ target: snmpd.address, modules: ['fast_sys'], auth: 'wrong_priv_pass' }, sig()),
      'timeout',
      /no response .* \(with SNMP v3 authPriv a wrong priv password or priv protocol looks like this/,
    );
  });
});

describe('snmpsim recordings', { timeout: 120_000 }, () => {
  let sim: SnmpPeer;
  const c = collector();
  const sig = (): AbortSignal => AbortSignal.timeout(15_000);
  before(async () => {
    sim = await startSnmpsim({
      sw3: DATA + 'switch-3port.snmprec',
      sw48: DATA + 'switch-48port.snmprec',
      ups: DATA + 'ups.snmprec',
      printer: DATA + 'printer.snmprec',
    });
  });
  after(async () => {
    await sim?.stop();
  });

  for (const auth of [
    'sim_sha_aes',
    'sim_sha256_aes256b',
    'sim_sha_aes256r',
    'sim_sha512_authnopriv',
    'sim_noauth',
  ]) {
    it(`v3 ${auth} walks the switch`, async () => {
      const r = await c.collect({ target: sim.address, modules: ['system', 'edge_if_v2'], auth }, sig());
      assert.equal(sysName(r), 'sw-s001-01');
      assert.equal(value(r, 'ifOperStatus', { ifIndex: '3', ifName: 'Gi0/3' }), 2);
    });
  }

  it('AES-256 key localisations are not interchangeable (a Reeder user asked with Blumenthal fails)', async () => {
    await assert.rejects(
      c.collect({ target: sim.address, modules: ['fast_sys'], auth: 'sim_aes256_wrong_localisation' }, sig()),
      (err: unknown) => err instanceof SnmpError && ['timeout', 'auth'].includes(err.kind),
    );
  });

  it('ups: on battery, charge, runtime, load', async () => {
    const r = await c.collect({ target: sim.address, modules: ['ups'], auth: 'sim_ups' }, sig());
    assert.equal(value(r, 'upsOutputSource', { upsOutputSource: 'battery' }), 1);
    assert.equal(value(r, 'upsOutputSource', { upsOutputSource: 'normal' }), 0);
    assert.equal(value(r, 'upsBatteryStatus', { upsBatteryStatus: 'batteryLow' }), 1);
    assert.equal(value(r, 'upsSecondsOnBattery'), 420);
    assert.equal(value(r, 'upsEstimatedChargeRemaining'), 37);
    assert.equal(value(r, 'upsEstimatedMinutesRemaining'), 12);
    assert.equal(value(r, 'upsOutputPercentLoad', { upsOutputLineIndex: '1' }), 41);
  });

  it('printer: status and supply levels', async () => {
    const r = await c.collect({ target: sim.address, modules: ['printer'], auth: 'sim_printer' }, sig());
    assert.equal(value(r, 'hrPrinterStatus', { hrDeviceIndex: '1', hrPrinterStatus: 'idle' }), 1);
    assert.equal(value(r, 'hrDeviceStatus', { hrDeviceStatus: 'warning' }), 1);
    assert.equal(value(r, 'hrPrinterDetectedErrorState', { hrPrinterDetectedErrorState: 'lowPaper' }), 1);
    assert.equal(value(r, 'hrPrinterDetectedErrorState', { hrPrinterDetectedErrorState: 'doorOpen' }), 1);
    assert.equal(value(r, 'hrPrinterDetectedErrorState', { hrPrinterDetectedErrorState: 'jammed' }), 0);
    assert.equal(
      value(r, 'prtMarkerSuppliesLevel', { prtMarkerSuppliesDescription: 'Black ink ribbon' }),
      63,
    );
    assert.equal(value(r, 'prtMarkerSuppliesMaxCapacity', { prtMarkerSuppliesIndex: '1' }), 100);
    assert.equal(
      value(r, 'prtMarkerSuppliesLevel', { prtMarkerSuppliesDescription: 'Receipt paper roll' }),
      -3,
    );
  });

  it('entity: model, serial, firmware and software revisions as one info series', async () => {
    const r = await c.collect({ target: sim.address, modules: ['entity'], auth: 'sim_sw48' }, sig());
    assert.deepEqual(r.series, [
      {
        name: 'entPhysicalModelName',
        labels: {
          entPhysicalIndex: '1',
          entPhysicalModelName: 'FSW-48G',
          entPhysicalDescr: 'FakeSwitch 48-port chassis',
          entPhysicalName: 'Chassis',
          entPhysicalHardwareRev: 'V02',
          entPhysicalFirmwareRev: '1.2.3',
          entPhysicalSoftwareRev: '15.2(7)E9',
          entPhysicalSerialNum: 'FSW48-000123',
          entPhysicalMfgName: 'FakeNet',
        },
        value: 1,
      },
    ]);
  });

  it('48-port if_mib: every port, exact HC counters beyond 2^53, a walk limit that fails clearly', async () => {
    const r = await c.collect({ target: sim.address, modules: ['if_mib'], auth: 'sim_sw48' }, sig());
    assert.equal(r.series.filter((s) => s.name === 'ifOperStatus').length, 48);
    assert.equal(value(r, 'ifHCInOctets', { ifIndex: '47' }), 9007199254740992);
    assert.equal(value(r, 'ifHCInOctets', { ifIndex: '48', ifAlias: 'uplink' }), 18446744073709550000);
    const small = new SnmpCollector({
      registry: c.registry,
      maxConcurrentWalks: 1,
      maxConcurrentWalksPerDevice: 1,
      walkLimit: 100,
      logger: silentLogger,
    });
    await failsWith(
      small.collect({ target: sim.address, modules: ['if_mib'], auth: 'sim_sw48' }, sig()),
      'walk_limit',
      /module if_mib: walk of 1\.3\.6\.1\.2\.1\.2 on 127\.0\.0\.1:\d+ returned more than 100 PDUs/,
    );
  });
});
