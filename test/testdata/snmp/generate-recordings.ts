// Writes the deterministic snmpsim recordings used by the SNMP tests and the benchmark:
//   switch-48port.snmprec  a 48-port access switch (IF-MIB ifTable + ifXTable, ENTITY-MIB chassis)
//   ups.snmprec            an RFC 1628 UPS on battery
//   printer.snmprec        a receipt/label printer (HOST-RESOURCES + Printer-MIB supplies)
// Run: node_modules/.bin/node test/testdata/snmp/generate-recordings.ts
// The output only depends on this file, so re-running it must not change the committed recordings.

import { writeFileSync } from 'node:fs';
import path from 'node:path';

type Row = [oid: string, tag: string, value: string];

function compareOids(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

function render(rows: Row[]): string {
  return (
    rows
      .sort((a, b) => compareOids(a[0], b[0]))
      .map((r) => r.join('|'))
      .join('\n') + '\n'
  );
}

/** snmpsim's hex form for OCTET STRING values that are not printable text. */
function hex(bytes: number[]): string {
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join('');
}

function system(descr: string, objectId: string, name: string, uptime: number): Row[] {
  return [
    ['1.3.6.1.2.1.1.1.0', '4', descr],
    ['1.3.6.1.2.1.1.2.0', '6', objectId],
    ['1.3.6.1.2.1.1.3.0', '67', String(uptime)],
    ['1.3.6.1.2.1.1.5.0', '4', name],
    ['1.3.6.1.2.1.1.6.0', '4', 'Store 001 back office'],
  ];
}

export function switch48(): Row[] {
  const rows: Row[] = system('FakeSwitch 48-port store access switch', '1.3.6.1.4.1.99999.2', 'sw-s001-48', 987654);
  const N = 48;
  rows.push(['1.3.6.1.2.1.2.1.0', '2', String(N)]);
  const T = '1.3.6.1.2.1.2.2.1';
  const X = '1.3.6.1.2.1.31.1.1.1';
  for (let i = 1; i <= N; i++) {
    const up = i % 5 !== 0; // every fifth port is down
    const name = `Gi1/0/${i}`;
    rows.push(
      [`${T}.1.${i}`, '2', String(i)],
      [`${T}.2.${i}`, '4', `GigabitEthernet1/0/${i}`],
      [`${T}.3.${i}`, '2', '6'],
      [`${T}.4.${i}`, '2', '1500'],
      [`${T}.5.${i}`, '66', up ? '1000000000' : '0'],
      [`${T}.6.${i}`, '4x', hex([0x00, 0x1b, 0x2c, 0x3d, 0x4e, i])],
      [`${T}.7.${i}`, '2', i === 48 ? '2' : '1'],
      [`${T}.8.${i}`, '2', up ? '1' : '2'],
      [`${T}.9.${i}`, '67', String(1000 + i)],
      [`${T}.10.${i}`, '65', String(1000 * i)],
      [`${T}.11.${i}`, '65', String(10 * i)],
      [`${T}.12.${i}`, '65', String(i)],
      [`${T}.13.${i}`, '65', String(i % 3)],
      [`${T}.14.${i}`, '65', String(i % 7)],
      [`${T}.15.${i}`, '65', '0'],
      [`${T}.16.${i}`, '65', String(2000 * i)],
      [`${T}.17.${i}`, '65', String(20 * i)],
      [`${T}.18.${i}`, '65', String(2 * i)],
      [`${T}.19.${i}`, '65', String(i % 2)],
      [`${T}.20.${i}`, '65', String(i % 4)],
      [`${T}.21.${i}`, '66', '0'],
      [`${T}.22.${i}`, '6', '0.0'],
      [`${X}.1.${i}`, '4', name],
      [`${X}.2.${i}`, '65', String(3 * i)],
      [`${X}.3.${i}`, '65', String(4 * i)],
      [`${X}.4.${i}`, '65', String(5 * i)],
      [`${X}.5.${i}`, '65', String(6 * i)],
      // Port 1 grows (for rate checks); ports 47/48 sit beyond 2^53 to exercise exact Counter64 handling.
      [
        `${X}.6.${i}`,
        i === 1 ? '70:numeric' : '70',
        i === 1 ? 'rate=1000,initial=1000000000' : i === 47 ? '9007199254740993' : i === 48 ? '18446744073709550000' : String(1e9 * i),
      ],
      [`${X}.7.${i}`, '70', String(7000 * i)],
      [`${X}.8.${i}`, '70', String(80 * i)],
      [`${X}.9.${i}`, '70', String(90 * i)],
      [`${X}.10.${i}`, '70', String(5e8 * i)],
      [`${X}.11.${i}`, '70', String(11000 * i)],
      [`${X}.12.${i}`, '70', String(120 * i)],
      [`${X}.13.${i}`, '70', String(130 * i)],
      [`${X}.14.${i}`, '2', '1'],
      [`${X}.15.${i}`, '66', up ? '1000' : '0'],
      [`${X}.16.${i}`, '2', '2'],
      [`${X}.17.${i}`, '2', '1'],
      [`${X}.18.${i}`, '4', i <= 10 ? `pos-t${i}` : i === 48 ? 'uplink' : ''],
      [`${X}.19.${i}`, '67', '0'],
    );
  }
  const E = '1.3.6.1.2.1.47.1.1.1.1';
  rows.push(
    [`${E}.2.1`, '4', 'FakeSwitch 48-port chassis'],
    [`${E}.7.1`, '4', 'Chassis'],
    [`${E}.8.1`, '4', 'V02'],
    [`${E}.9.1`, '4', '1.2.3'],
    [`${E}.10.1`, '4', '15.2(7)E9'],
    [`${E}.11.1`, '4', 'FSW48-000123'],
    [`${E}.12.1`, '4', 'FakeNet'],
    [`${E}.13.1`, '4', 'FSW-48G'],
  );
  return rows;
}

export function ups(): Row[] {
  const U = '1.3.6.1.2.1.33.1';
  return [
    ...system('FakeUPS 1500 VA', '1.3.6.1.4.1.99999.3', 'ups-s001', 555555),
    [`${U}.1.1.0`, '4', 'FakeUPS'],
    [`${U}.1.2.0`, '4', 'FU-1500'],
    [`${U}.2.1.0`, '2', '3'], // batteryLow
    [`${U}.2.2.0`, '2', '420'], // on battery for 7 minutes
    [`${U}.2.3.0`, '2', '12'],
    [`${U}.2.4.0`, '2', '37'],
    [`${U}.2.5.0`, '2', '241'],
    [`${U}.2.7.0`, '2', '29'],
    [`${U}.3.1.0`, '65', '3'],
    [`${U}.3.2.0`, '2', '1'],
    [`${U}.3.3.1.1.1`, '2', '1'],
    [`${U}.3.3.1.2.1`, '2', '0'],
    [`${U}.3.3.1.3.1`, '2', '0'],
    [`${U}.4.1.0`, '2', '5'], // battery
    [`${U}.4.2.0`, '2', '500'],
    [`${U}.4.3.0`, '2', '1'],
    [`${U}.4.4.1.2.1`, '2', '230'],
    [`${U}.4.4.1.5.1`, '2', '41'],
    [`${U}.6.1.0`, '66', '1'],
  ];
}

export function printer(): Row[] {
  const P = '1.3.6.1.2.1.43.11.1.1';
  return [
    ...system('FakePrint TM-80 receipt printer', '1.3.6.1.4.1.99999.4', 'prn-s001-till1', 4242),
    ['1.3.6.1.2.1.25.1.1.0', '67', '4200'],
    ['1.3.6.1.2.1.25.1.6.0', '66', '12'],
    ['1.3.6.1.2.1.25.2.2.0', '2', '65536'],
    ['1.3.6.1.2.1.25.2.3.1.3.1', '4', 'RAM'],
    ['1.3.6.1.2.1.25.2.3.1.3.2', '4', 'Flash'],
    ['1.3.6.1.2.1.25.2.3.1.4.1', '2', '1024'],
    ['1.3.6.1.2.1.25.2.3.1.4.2', '2', '4096'],
    ['1.3.6.1.2.1.25.2.3.1.5.1', '2', '64'],
    ['1.3.6.1.2.1.25.2.3.1.5.2', '2', '2048'],
    ['1.3.6.1.2.1.25.2.3.1.6.1', '2', '40'],
    ['1.3.6.1.2.1.25.2.3.1.6.2', '2', '512'],
    ['1.3.6.1.2.1.25.3.2.1.2.1', '6', '1.3.6.1.2.1.25.3.1.5'],
    ['1.3.6.1.2.1.25.3.2.1.3.1', '4', 'FakePrint TM-80'],
    ['1.3.6.1.2.1.25.3.2.1.5.1', '2', '3'], // warning
    ['1.3.6.1.2.1.25.3.5.1.1.1', '2', '3'], // idle
    // hrPrinterDetectedErrorState: lowPaper (bit 0) and doorOpen (bit 4) → 0b10001000.
    ['1.3.6.1.2.1.25.3.5.1.2.1', '4x', hex([0x88, 0x00])],
    [`${P}.4.1.1`, '2', '3'],
    [`${P}.4.1.2`, '2', '3'],
    [`${P}.5.1.1`, '2', '3'],
    [`${P}.5.1.2`, '2', '9'],
    [`${P}.6.1.1`, '4', 'Black ink ribbon'],
    [`${P}.6.1.2`, '4', 'Receipt paper roll'],
    [`${P}.7.1.1`, '2', '19'],
    [`${P}.7.1.2`, '2', '8'],
    [`${P}.8.1.1`, '2', '100'],
    [`${P}.8.1.2`, '2', '-2'],
    [`${P}.9.1.1`, '2', '63'],
    [`${P}.9.1.2`, '2', '-3'],
  ];
}

export const RECORDINGS: Readonly<Record<string, () => Row[]>> = {
  'switch-48port.snmprec': switch48,
  'ups.snmprec': ups,
  'printer.snmprec': printer,
};

/** The recording text for a file name (tests compare it to the committed file). */
export function recordingText(file: string): string {
  const gen = RECORDINGS[file];
  if (!gen) throw new Error(`unknown recording ${file}`);
  return render(gen());
}

if (import.meta.main) {
  const dir = path.dirname(new URL(import.meta.url).pathname);
  for (const file of Object.keys(RECORDINGS)) {
    writeFileSync(path.join(dir, file), recordingText(file));
    console.log(`wrote ${path.join(dir, file)}`);
  }
}
