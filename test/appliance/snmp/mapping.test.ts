import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pdu } from '../../../appliance/snmp/mapping.ts';
import {
  formatValue,
  indexOidsAsString,
  mapPdus,
  opaqueFloat,
  pduAsString,
  toExposition,
  toMetadata,
  toScrapedSamples,
} from '../../../appliance/snmp/mapping.ts';
import { parseModuleFile } from '../../../appliance/snmp/module.ts';
import { labelsToRecord } from '../../../appliance/model/labels.ts';

function mod(yaml: string) {
  return parseModuleFile(yaml, 't.yml').modules.get('m')!;
}

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const IF = '1.3.6.1.2.1.2.2.1';

const ifModule = mod(`
m:
  metrics:
  - name: ifOperStatus
    oid: ${IF}.8
    type: gauge
    help: oper
    indexes: [{ labelname: ifIndex, type: gauge }]
    lookups:
    - { labels: [ifIndex], labelname: ifDescr, oid: ${IF}.2, type: DisplayString }
    - { labels: [ifIndex], labelname: ifAlias, oid: 1.3.6.1.2.1.31.1.1.1.18, type: DisplayString }
  - name: ifHCInOctets
    oid: 1.3.6.1.2.1.31.1.1.1.6
    type: counter
    help: in
    indexes: [{ labelname: ifIndex, type: gauge }]
  - name: ifDescr
    oid: ${IF}.2
    type: DisplayString
    help: descr
    indexes: [{ labelname: ifIndex, type: gauge }]
  - name: ifPhysAddress
    oid: ${IF}.6
    type: PhysAddress48
    help: mac
    indexes: [{ labelname: ifIndex, type: gauge }]
  - name: ifType
    oid: ${IF}.3
    type: EnumAsInfo
    help: type
    indexes: [{ labelname: ifIndex, type: gauge }]
    enum_values: { 6: ethernetCsmacd, 24: softwareLoopback }
  - name: sysUpTime
    oid: 1.3.6.1.2.1.1.3
    type: gauge
    help: up
`);

describe('mapPdus', () => {
  const pdus: Pdu[] = [
    { oid: `${IF}.8.1`, type: 'Integer', value: 1 },
    { oid: `${IF}.8.2`, type: 'Integer', value: 2 },
    { oid: `${IF}.2.1`, type: 'OctetString', value: bytes('eth0') },
    { oid: `${IF}.2.2`, type: 'OctetString', value: bytes('lo') },
    { oid: '1.3.6.1.2.1.31.1.1.1.18.1', type: 'OctetString', value: bytes('uplink "core"\n') },
    { oid: '1.3.6.1.2.1.31.1.1.1.6.1', type: 'Counter64', value: 18446744073709551615n },
    { oid: '1.3.6.1.2.1.31.1.1.1.6.2', type: 'Counter64', value: 9007199254740993n },
    { oid: `${IF}.6.1`, type: 'OctetString', value: Uint8Array.from([0, 0x1b, 0x2c, 0xa, 0xff, 1]) },
    { oid: `${IF}.3.1`, type: 'Integer', value: 6 },
    { oid: `${IF}.3.2`, type: 'Integer', value: 99 },
    { oid: '1.3.6.1.2.1.1.3.0', type: 'TimeTicks', value: 123456 },
    { oid: '1.3.6.1.9.9.9', type: 'Integer', value: 5 }, // no metric: ignored
  ];
  const { series, families } = mapPdus(pdus, ifModule);
  const find = (name: string, idx?: string) =>
    series.filter((s) => s.name === name && (idx === undefined || s.labels['ifIndex'] === idx));

  it('labels indexes and lookups, with "" for a missing lookup as snmp_exporter', () => {
    // Sorted like Go's client: by label values in label-name order, so ifAlias="" comes first.
    assert.deepEqual(find('ifOperStatus'), [
      { name: 'ifOperStatus', labels: { ifIndex: '2', ifDescr: 'lo', ifAlias: '' }, value: 2 },
      {
        name: 'ifOperStatus',
        labels: { ifIndex: '1', ifDescr: 'eth0', ifAlias: 'uplink "core"\n' },
        value: 1,
      },
    ]);
  });

  it('keeps Counter64 as exact as float64 allows (no wrapping at 2^53)', () => {
    assert.equal(find('ifHCInOctets', '1')[0]!.value, 18446744073709551615);
    assert.equal(find('ifHCInOctets', '2')[0]!.value, 9007199254740992); // nearest float64 to 2^53+1
    assert.equal(families.get('ifHCInOctets')?.type, 'counter');
  });

  it('maps strings to a label named after the metric with value 1', () => {
    assert.deepEqual(find('ifDescr', '1'), [
      { name: 'ifDescr', labels: { ifIndex: '1', ifDescr: 'eth0' }, value: 1 },
    ]);
    assert.deepEqual(find('ifPhysAddress')[0]!.labels, { ifIndex: '1', ifPhysAddress: '00:1B:2C:0A:FF:01' });
  });

  it('maps EnumAsInfo to name_info, falling back to the number', () => {
    assert.deepEqual(
      find('ifType_info').map((s) => s.labels['ifType']),
      ['ethernetCsmacd', '99'],
    );
    assert.equal(families.get('ifType_info')?.help, 'type (EnumAsInfo)');
  });

  it('reads scalars without index labels', () => {
    assert.deepEqual(find('sysUpTime'), [{ name: 'sysUpTime', labels: {}, value: 123456 }]);
  });

  it('turns series into sorted label sets and metadata for the scrape loop, dropping empty labels', () => {
    const samples = toScrapedSamples(find('ifOperStatus'));
    assert.deepEqual(labelsToRecord(samples[0]!.labels), {
      __name__: 'ifOperStatus',
      ifDescr: 'lo',
      ifIndex: '2',
    });
    assert.deepEqual(toMetadata(families).get('ifHCInOctets'), { type: 'counter', help: 'in', unit: '' });
  });

  it('writes text exposition with escaping, HELP and TYPE', () => {
    const text = toExposition(families, series);
    assert.match(text, /# HELP ifOperStatus oper\n# TYPE ifOperStatus gauge\n/);
    assert.match(text, /ifOperStatus\{ifAlias="uplink \\"core\\"\\n",ifDescr="eth0",ifIndex="1"\} 1\n/);
    assert.match(text, /ifOperStatus\{ifAlias="",ifDescr="lo",ifIndex="2"\} 2\n/);
    assert.match(text, /ifHCInOctets\{ifIndex="1"\} 18446744073709552000\n/);
    assert.match(text, /^sysUpTime 123456$/m);
  });

  it('uses the shortest matching metric OID, as snmp_exporter', () => {
    const m = mod(`
m:
  metrics:
  - { name: outer, oid: 1.3.6.1.4.1, type: gauge, indexes: [{ labelname: a, type: gauge }, { labelname: b, type: gauge }] }
  - { name: inner, oid: 1.3.6.1.4.1.5, type: gauge }
`);
    const r = mapPdus([{ oid: '1.3.6.1.4.1.5.7', type: 'Integer', value: 3 }], m);
    assert.deepEqual(r.series, [{ name: 'outer', labels: { a: '5', b: '7' }, value: 3 }]);
  });

  it('handles EnumAsStateSet and Bits', () => {
    const m = mod(`
m:
  metrics:
  - { name: upsBatteryStatus, oid: 1.3.6.1.2.1.33.1.2.1, type: EnumAsStateSet, enum_values: { 2: normal, 3: low } }
  - name: errState
    oid: 1.3.6.1.2.1.25.3.5.1.2
    type: Bits
    indexes: [{ labelname: hrDeviceIndex, type: gauge }]
    enum_values: { 0: lowPaper, 4: doorOpen, 9: outputTrayMissing, 40: beyond }
`);
    const r = mapPdus(
      [
        { oid: '1.3.6.1.2.1.33.1.2.1.0', type: 'Integer', value: 3 },
        { oid: '1.3.6.1.2.1.25.3.5.1.2.1', type: 'OctetString', value: Uint8Array.from([0x88, 0x40]) },
        { oid: '1.3.6.1.2.1.25.3.5.1.2.2', type: 'Integer', value: 1 }, // not bytes: skipped
      ],
      m,
    );
    const vals = Object.fromEntries(
      r.series.map((s) => [s.name + ':' + (s.labels['upsBatteryStatus'] ?? s.labels['errState']), s.value]),
    );
    assert.deepEqual(vals, {
      'upsBatteryStatus:low': 1,
      'upsBatteryStatus:normal': 0,
      'errState:lowPaper': 1,
      'errState:doorOpen': 1,
      'errState:outputTrayMissing': 1,
      'errState:beyond': 0,
    });
  });

  it('decodes Float/Double opaque values and regex_extracts', () => {
    const m = mod(`
m:
  metrics:
  - { name: temp, oid: 1.3.6.1.4.1.2021.13.16.2.1.3, type: Float }
  - name: psu
    oid: 1.3.6.1.4.1.99.1
    type: DisplayString
    regex_extracts:
      Watts: [{ regex: '(\\d+) W.*', value: '$1' }]
      Status: [{ regex: '.*OK.*', value: '1' }, { regex: '.*', value: '0' }]
`);
    const r = mapPdus(
      [
        {
          oid: '1.3.6.1.4.1.2021.13.16.2.1.3.1',
          type: 'Opaque',
          value: Uint8Array.from([0x9f, 0x78, 4, 0x3f, 0xc0, 0, 0]),
        },
        { oid: '1.3.6.1.4.1.99.1.0', type: 'OctetString', value: bytes('450 W FAIL') },
      ],
      m,
    );
    assert.deepEqual(
      r.series.map((s) => [s.name, s.value]),
      [
        ['psuStatus', 0],
        ['psuWatts', 450],
        ['temp', 1.5],
      ],
    );
  });

  it('resolves InetAddress from the preceding type column', () => {
    const m = mod(`
m:
  metrics:
  - name: addr
    oid: 1.3.6.1.2.1.4.34.1.5
    type: InetAddress
    indexes: [{ labelname: idx, type: gauge }]
`);
    const r = mapPdus(
      [
        { oid: '1.3.6.1.2.1.4.34.1.4.1', type: 'Integer', value: 1 },
        { oid: '1.3.6.1.2.1.4.34.1.5.1', type: 'OctetString', value: Uint8Array.from([10, 0, 0, 7]) },
        { oid: '1.3.6.1.2.1.4.34.1.5.2', type: 'OctetString', value: Uint8Array.from([1, 2]) }, // no type column
      ],
      m,
    );
    assert.deepEqual(
      r.series.map((s) => s.labels['addr']),
      ['0x0102', '10.0.0.7'],
    );
  });

  it('survives hostile PDUs: huge length sub-identifiers, invalid UTF-8, Null values', () => {
    const m = mod(`
m:
  metrics:
  - name: x
    oid: 1.3.6.1.4.1.1
    type: DisplayString
    indexes: [{ labelname: name, type: DisplayString }]
`);
    const r = mapPdus(
      [
        {
          oid: '1.3.6.1.4.1.1.4294967295.65',
          type: 'OctetString',
          value: Uint8Array.from([0xff, 0xfe, 0x41]),
        },
        { oid: '1.3.6.1.4.1.1.2.66.67', type: 'Null', value: null },
      ],
      m,
    );
    assert.equal(r.series.length, 1);
    assert.equal(r.series[0]!.labels['x'], '\ufffd\ufffdA');
    assert.equal(r.series[0]!.labels['name']!.length, 1024); // capped, padded with NULs like snmp_exporter
  });
});

describe('index and value decoding (snmp_exporter indexOidsAsString / pduValueAsString)', () => {
  const none = new Map<number, string>();
  it('decodes each index type', () => {
    assert.deepEqual(indexOidsAsString([5, 9], 'gauge', 0, false, none), {
      text: '5',
      used: [5],
      remaining: [9],
    });
    assert.equal(
      indexOidsAsString([0, 27, 44, 10, 255, 1], 'PhysAddress48', 0, false, none).text,
      '00:1B:2C:0A:FF:01',
    );
    assert.equal(indexOidsAsString([3, 97, 98, 99, 7], 'DisplayString', 0, false, none).text, 'abc');
    assert.deepEqual(indexOidsAsString([2, 1, 255, 7], 'OctetString', 0, false, none), {
      text: '0x01FF',
      used: [2, 1, 255],
      remaining: [7],
    });
    assert.equal(indexOidsAsString([104, 105], 'DisplayString', 0, true, none).text, 'hi');
    assert.equal(indexOidsAsString([1, 2], 'OctetString', 2, false, none).text, '0x0102');
    assert.equal(indexOidsAsString([0], 'OctetString', 0, false, none).text, '');
    assert.equal(indexOidsAsString([192, 168, 1, 1], 'InetAddressIPv4', 0, false, none).text, '192.168.1.1');
    assert.equal(
      indexOidsAsString(
        [32, 1, 13, 184, ...new Array<number>(11).fill(0), 1],
        'InetAddressIPv6',
        0,
        false,
        none,
      ).text,
      '2001:0DB8:0000:0000:0000:0000:0000:0001',
    );
    assert.equal(indexOidsAsString([1, 4, 10, 0, 0, 1], 'InetAddress', 0, false, none).text, '10.0.0.1');
    assert.equal(
      indexOidsAsString([1, 10, 0, 0, 1], 'InetAddressMissingSize', 0, false, none).text,
      '10.0.0.1',
    );
    assert.equal(indexOidsAsString([3], 'EnumAsInfo', 0, false, new Map([[3, 'three']])).text, 'three');
    // Missing sub-identifiers are padded with zeros, as some agents drop trailing zeros.
    assert.equal(indexOidsAsString([10], 'InetAddressIPv4', 0, false, none).text, '10.0.0.0');
    assert.equal(indexOidsAsString([], 'gauge', 0, false, none).text, '0');
  });

  it('prints values as snmp_exporter does', () => {
    assert.equal(pduAsString({ oid: '1', type: 'OID', value: '1.3.6.1' }, 'DisplayString'), '1.3.6.1');
    assert.equal(
      pduAsString({ oid: '1', type: 'Counter64', value: 18446744073709551615n }, 'gauge'),
      '18446744073709551615',
    );
    assert.equal(
      pduAsString({ oid: '1', type: 'OctetString', value: Uint8Array.from([1, 0xab]) }, 'OctetString'),
      '0x01AB',
    );
    assert.equal(pduAsString({ oid: '1', type: 'OctetString', value: new Uint8Array() }, 'OctetString'), '');
    assert.equal(
      pduAsString({ oid: '1', type: 'IpAddress', value: '10.1.2.3' }, 'InetAddressIPv4'),
      '10.1.2.3',
    );
    assert.equal(pduAsString({ oid: '1', type: 'Null', value: null }, 'DisplayString'), '');
  });

  it('decodes opaque floats and refuses other opaque contents', () => {
    assert.equal(
      opaqueFloat(Uint8Array.from([0x9f, 0x79, 8, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18])),
      Math.PI,
    );
    assert.equal(opaqueFloat(Uint8Array.from([0x9f, 0x78, 4, 0x3f])), undefined);
    assert.equal(opaqueFloat(Uint8Array.from([1, 2, 3])), undefined);
  });

  it('formats values like Prometheus text', () => {
    assert.equal(formatValue(NaN), 'NaN');
    assert.equal(formatValue(Infinity), '+Inf');
    assert.equal(formatValue(-Infinity), '-Inf');
    assert.equal(formatValue(1.5), '1.5');
    assert.equal(formatValue(1e-7), '1e-07');
  });
});
