import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import {
  DEFAULT_WALK_PARAMS,
  isNumericOid,
  parseModuleFile,
  SnmpModuleError,
} from '../../../appliance/snmp/module.ts';

const TESTDATA = new URL('../../testdata/snmp/', import.meta.url);
const read = (f: string): string => fs.readFileSync(new URL(f, TESTDATA), 'utf8');

function fails(text: string, re: RegExp): void {
  assert.throws(
    () => parseModuleFile(text, 'mods.yml'),
    (err: unknown) => {
      assert.ok(err instanceof SnmpModuleError, String(err));
      assert.match(err.message, re);
      assert.match(err.message, /^mods\.yml: /);
      return true;
    },
  );
}

const metricYaml = (extra: string, type = 'gauge'): string => `
m1:
  walk: [1.3.6.1.2.1.2]
  metrics:
  - name: ifThing
    oid: 1.3.6.1.2.1.2.2.1.8
    type: ${type}
${extra}`;

describe('parseModuleFile: snmp_exporter files', () => {
  it('loads the 0.21 edge modules with auth and walk params inside the module', () => {
    const f = parseModuleFile(read('edge-modules.yml'), 'edge-modules.yml');
    assert.deepEqual([...f.modules.keys()], ['edge_if_v2', 'edge_sys_v3']);
    const v2 = f.modules.get('edge_if_v2')!;
    assert.deepEqual(v2.walk_params, {
      max_repetitions: 25,
      retries: 1,
      timeout: 2000,
      allow_nonincreasing_oids: false,
    });
    assert.equal(v2.auth?.version, 2);
    assert.equal(v2.auth?.community, 'public');
    assert.equal(v2.metrics.length, 5);
    assert.deepEqual(v2.metrics[2]!.lookups, [
      { labels: ['ifIndex'], labelname: 'ifName', oid: '1.3.6.1.2.1.31.1.1.1.1', type: 'DisplayString' },
    ]);
    const v3 = f.modules.get('edge_sys_v3')!;
    assert.equal(v3.auth?.version, 3);
    assert.equal(v3.auth?.security_level, 'authPriv');
    assert.equal(v3.auth?.auth_protocol, 'SHA');
    assert.equal(v3.auth?.priv_protocol, 'AES');
    assert.deepEqual(v3.walk_params, DEFAULT_WALK_PARAMS);
  });

  it('loads the upstream if_mib module with its 40 metrics and enum values', () => {
    const m = parseModuleFile(read('if_mib-v0.21.0.yml'), 'if_mib.yml').modules.get('if_mib')!;
    assert.equal(m.metrics.length, 40);
    assert.equal(m.auth, undefined);
    const ifType = m.metrics.find((x) => x.name === 'ifType')!;
    assert.equal(ifType.type, 'EnumAsInfo');
    assert.equal(ifType.enum_values.get(6), 'ethernetCsmacd');
  });

  it('loads the 0.23+ layout with top-level auths and nested walk_params', () => {
    const f = parseModuleFile(
      `auths:
  store_v3:
    version: 3
    username: mon
    security_level: authPriv
    password: p4ssw0rd-secret
    auth_protocol: SHA256
    priv_protocol: AES256C
    priv_password: pr1v-secret
    context_name: ctx
modules:
  sys:
    walk_params: { max_repetitions: 10, retries: 0, timeout: 500ms }
    get: [1.3.6.1.2.1.1.5.0]
    metrics:
    - { name: sysName, oid: 1.3.6.1.2.1.1.5, type: DisplayString, help: name }
`,
      'new.yml',
    );
    assert.equal(f.auths.get('store_v3')?.priv_protocol, 'AES256C');
    assert.equal(f.auths.get('store_v3')?.context_name, 'ctx');
    assert.deepEqual(f.modules.get('sys')!.walk_params, {
      max_repetitions: 10,
      retries: 0,
      timeout: 500,
      allow_nonincreasing_oids: false,
    });
  });

  it('treats an empty file as no modules', () => {
    assert.equal(parseModuleFile('', 'e.yml').modules.size, 0);
    assert.equal(parseModuleFile('# only a comment\n', 'e.yml').modules.size, 0);
  });
});

describe('parseModuleFile: refusals name the file, module and metric', () => {
  it('garbage and non-mapping YAML', () => {
    fails('m1: [unclosed', /not valid YAML at line 1/);
    fails('- a\n- b\n', /expected a mapping of modules, got a list/);
    fails('"just text"', /expected a mapping of modules, got a string/);
    fails('m1: 42', /m1: expected a module mapping, got a number/);
    fails('m1: {}\nm1: {}\n', /not valid YAML/); // duplicate keys
  });

  it('does not echo secrets from a broken file', () => {
    assert.throws(
      () => parseModuleFile('m1:\n  auth:\n    community: "s3cret-community\n', 'mods.yml'),
      (err: Error) => !err.message.includes('s3cret'),
    );
    assert.throws(
      () =>
        parseModuleFile(
          'm1:\n  version: 3\n  auth: { password: s3cret-pass, security_level: authNoPriv }\n',
          'mods.yml',
        ),
      (err: Error) =>
        /m1\.auth\.username: required for version 3/.test(err.message) && !err.message.includes('s3cret'),
    );
  });

  it('unknown metric type names module and metric', () => {
    fails(
      metricYaml('', 'Counter128'),
      /mods\.yml: m1\.metrics\[0\] \(ifThing\)\.type: unsupported type "Counter128"/,
    );
    fails(
      metricYaml('', 'DateAndTime'),
      /m1\.metrics\[0\] \(ifThing\)\.type: unsupported type "DateAndTime"/,
    );
  });

  it('unknown and unsupported keys', () => {
    fails('m1:\n  walk: []\n  frobnicate: 1\n', /m1\.frobnicate: unknown key/);
    fails('m1:\n  filters: {}\n', /m1\.filters: not supported/);
    fails(metricYaml('    offset: 2\n'), /\(ifThing\)\.offset: unknown or unsupported key/);
    fails('auths: {}\nmodules:\n  m1:\n    version: 2\n', /modules\.m1\.version: belongs in top-level auths/);
  });

  it('hostile values', () => {
    fails('m1:\n  walk: [1.3.6.1.2.1.99999999999]\n', /m1\.walk\[0\]: expected a numeric OID/);
    fails('m1:\n  walk: [.1.3.6]\n', /m1\.walk\[0\]/);
    fails('m1:\n  walk: [ifTable]\n', /MIB names need the generator/);
    fails('m1:\n  walk: 1.3.6\n', /m1\.walk: expected a list of OIDs/);
    fails('m1:\n  max_repetitions: -1\n', /max_repetitions: expected a whole number from 0 to 1000/);
    fails('m1:\n  max_repetitions: 1e9\n', /max_repetitions/);
    fails('m1:\n  retries: 2.5\n', /retries/);
    fails('m1:\n  timeout: 5\n', /timeout: expected a duration/);
    fails('m1:\n  timeout: 1h\n', /timeout: must be between 1ms and 10m/);
    fails('m1:\n  timeout: soon\n', /timeout: not a valid duration/);
    fails('m1:\n  version: 4\n', /m1\.auth\.version: must be 1, 2 or 3/);
    fails(
      'm1:\n  version: 3\n  auth: { username: u, security_level: authPriv, password: x, priv_password: y, priv_protocol: AES192 }\n',
      /priv_protocol.*no AES-192/,
    );
    fails('m1:\n  auth: { security_level: superSecure }\n', /security_level/);
    fails(
      metricYaml('', 'gauge').replace('name: ifThing', 'name: "bad-name"'),
      /metrics\[0\]\.name: expected a valid metric name/,
    );
    fails(metricYaml('    indexes:\n    - { labelname: "1bad", type: gauge }\n'), /indexes\[0\]\.labelname/);
    fails(
      metricYaml('    indexes:\n    - { labelname: ifIndex, type: Float }\n'),
      /indexes\[0\]\.type: unsupported index type/,
    );
    fails(
      metricYaml('    indexes:\n    - { labelname: ifIndex, type: OctetString, fixed_size: 100000 }\n'),
      /fixed_size/,
    );
    fails(
      metricYaml('    lookups:\n    - { labels: [nope], labelname: ifName, oid: 1.3.6.1.2.1.31.1.1.1.1 }\n'),
      /lookups\[0\]\.labels: "nope" is not an index/,
    );
    fails(
      metricYaml('    enum_values: { one: up }\n', 'EnumAsInfo'),
      /enum_values: keys must be whole numbers/,
    );
    fails(metricYaml('', 'Bits'), /enum_values: required for type Bits/);
    fails(
      metricYaml("    regex_extracts:\n      Temp: [{ regex: '(unclosed', value: '$1' }]\n", 'DisplayString'),
      /regex_extracts\.Temp\[0\]\.regex/,
    );
    fails('m1:\n  metrics: {}\n', /m1\.metrics: expected a list/);
    fails('"bad module!": {}\n', /invalid module name/);
  });

  it('refuses YAML alias bombs', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
    ].join('\n');
    assert.throws(() => parseModuleFile(bomb, 'bomb.yml'), SnmpModuleError);
  });
});

describe('isNumericOid', () => {
  it('accepts dotted 32-bit sub-identifiers only', () => {
    assert.ok(isNumericOid('1.3.6.1.4294967295'));
    assert.ok(!isNumericOid('1.3.6.1.4294967296'));
    assert.ok(!isNumericOid('1..3'));
    assert.ok(!isNumericOid('1.3.'));
    assert.ok(!isNumericOid('1.3.' + '1.'.repeat(800) + '1'));
  });
});
