// From the PDUs of one walk to series, following snmp_exporter's collector: each PDU belongs to the metric whose
// OID is its shortest matching prefix, the rest of the OID is decoded into index labels, lookups add labels from
// other PDUs of the same walk, and the metric's type decides value and shape. Pure: plain values in and out.
//
// Counter64 mapping to float64: the exact 64-bit value arrives as a bigint and is converted with Number(), i.e.
// rounded to the nearest float64. Below 2^53 that is exact; above, consecutive values differ by at most 2^-53 of
// the value (for a counter at 2^60 that is a step of 128), which is far below what rate() over a scrape interval
// can see. Unlike snmp_exporter with --snmp.wrap-large-counters we never wrap at 2^53, so no false resets.

import { labelsFromRecord, METRIC_NAME } from '../model/labels.ts';
import type { FamilyMetadata, ScrapedSample } from '../scrape/loop.ts';
import type { IndexType, SnmpMetric, SnmpModule } from './module.ts';

/** The SNMP types a PDU can carry, with the value type our client produces for each. */
export type PduType =
  | 'Integer'
  | 'OctetString'
  | 'OID'
  | 'IpAddress'
  | 'Counter32'
  | 'Gauge32'
  | 'TimeTicks'
  | 'Counter64'
  | 'Opaque'
  | 'Null'
  | 'Boolean'
  | 'BitString';

/**
 * One variable binding. `value` is a number for Integer/Counter32/Gauge32/TimeTicks/Boolean (0/1), a bigint for
 * Counter64, bytes for OctetString/Opaque/BitString, dotted text for OID and IpAddress, null for Null.
 */
export interface Pdu {
  readonly oid: string;
  readonly type: PduType;
  readonly value: number | bigint | Uint8Array | string | null;
}

/** One output series, with label values exactly as snmp_exporter prints them (empty values included). */
export interface SnmpSeries {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface SnmpFamily {
  readonly name: string;
  readonly type: 'counter' | 'gauge';
  readonly help: string;
}

export interface MappedWalk {
  readonly series: readonly SnmpSeries[];
  readonly families: ReadonlyMap<string, SnmpFamily>;
}

const COMBINED_TYPES: Readonly<Record<string, Readonly<Record<number, IndexType>>>> = {
  InetAddress: { 1: 'InetAddressIPv4', 2: 'InetAddressIPv6' },
  InetAddressMissingSize: { 1: 'InetAddressIPv4', 2: 'InetAddressIPv6' },
};

interface TreeNode {
  metric?: SnmpMetric;
  children: Map<number, TreeNode>;
}

function buildTree(metrics: readonly SnmpMetric[]): TreeNode {
  const root: TreeNode = { children: new Map() };
  for (const m of metrics) {
    let head = root;
    for (const part of m.oid.split('.')) {
      const n = Number(part);
      let next = head.children.get(n);
      if (!next) head.children.set(n, (next = { children: new Map() }));
      head = next;
    }
    head.metric = m;
  }
  return root;
}

function oidToList(oid: string): number[] {
  return oid.split('.').map(Number);
}

/** Maps the PDUs of one module's walk. PDUs with the same OID count once (the last wins, as in a Go map). */
export function mapPdus(pdus: readonly Pdu[], module: Pick<SnmpModule, 'metrics'>): MappedWalk {
  const byOid = new Map<string, Pdu>();
  for (const p of pdus) byOid.set(p.oid, p);
  const tree = buildTree(module.metrics);
  const series: SnmpSeries[] = [];
  const families = new Map<string, SnmpFamily>();
  for (const [oid, pdu] of byOid) {
    if (!isValuePdu(pdu)) continue;
    const list = oidToList(oid);
    let head: TreeNode | undefined = tree;
    for (let i = 0; i < list.length && head; i++) {
      head = head.children.get(list[i]!);
      if (head?.metric) {
        pduToSeries(list.slice(i + 1), pdu, head.metric, byOid, series, families);
        break;
      }
    }
  }
  // Sort keys are built once per series: building them inside the comparator dominated the mapping's cost.
  const keyed = series.map((s) => ({ s, k: s.name + '\u0002' + labelString(s.labels) }));
  keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  return { series: keyed.map((x) => x.s), families };
}

function isValuePdu(p: Pdu): boolean {
  return p.type !== 'Null';
}

function labelString(l: Readonly<Record<string, string>>): string {
  return Object.keys(l)
    .sort()
    .map((k) => `${k}\u0000${l[k]}`)
    .join('\u0001');
}

/** The numeric value of a PDU as snmp_exporter's getPduValue reads it (strings and OIDs read as 0). */
export function pduNumber(p: Pdu): number {
  switch (typeof p.value) {
    case 'number':
      return p.value;
    case 'bigint':
      return Number(p.value);
    default:
      if (p.type === 'Opaque' && p.value instanceof Uint8Array) return opaqueFloat(p.value) ?? 0;
      return 0;
  }
}

/**
 * Decodes the Opaque-wrapped float (0x9f 0x78, 4 bytes) and double (0x9f 0x79, 8 bytes) of the NET-SNMP
 * extensions; other Opaque contents are not numbers.
 */
export function opaqueFloat(b: Uint8Array): number | undefined {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length === 7 && b[0] === 0x9f && b[1] === 0x78 && b[2] === 4) return dv.getFloat32(3);
  if (b.length === 11 && b[0] === 0x9f && b[1] === 0x79 && b[2] === 8) return dv.getFloat64(3);
  return undefined;
}

function addFamily(
  families: Map<string, SnmpFamily>,
  name: string,
  type: 'counter' | 'gauge',
  help: string,
): void {
  if (!families.has(name)) families.set(name, { name, type, help });
}

function pduToSeries(
  indexOids: number[],
  pdu: Pdu,
  metric: SnmpMetric,
  byOid: ReadonlyMap<string, Pdu>,
  out: SnmpSeries[],
  families: Map<string, SnmpFamily>,
): void {
  const labels = indexesToLabels(indexOids, metric, byOid);
  let value = pduNumber(pdu);
  switch (metric.type) {
    case 'counter':
    case 'gauge':
    case 'Float':
    case 'Double': {
      const t = metric.type === 'counter' ? 'counter' : 'gauge';
      addFamily(families, metric.name, t, metric.help);
      out.push({ name: metric.name, labels, value });
      return;
    }
    case 'EnumAsInfo': {
      const state = metric.enum_values.get(Math.trunc(value)) ?? String(Math.trunc(value));
      const name = metric.name + '_info';
      addFamily(families, name, 'gauge', metric.help + ' (EnumAsInfo)');
      out.push({ name, labels: { ...labels, [metric.name]: state }, value: 1 });
      return;
    }
    case 'EnumAsStateSet': {
      const v = Math.trunc(value);
      addFamily(families, metric.name, 'gauge', metric.help + ' (EnumAsStateSet)');
      out.push({
        name: metric.name,
        labels: { ...labels, [metric.name]: metric.enum_values.get(v) ?? String(v) },
        value: 1,
      });
      for (const [k, state] of metric.enum_values) {
        if (k === v) continue;
        out.push({ name: metric.name, labels: { ...labels, [metric.name]: state }, value: 0 });
      }
      return;
    }
    case 'Bits': {
      if (!(pdu.value instanceof Uint8Array)) return; // snmp_exporter reports an error sample; we skip the PDU.
      const bytes = pdu.value;
      addFamily(families, metric.name, 'gauge', metric.help + ' (Bits)');
      for (const [k, state] of metric.enum_values) {
        const bit = k >= 0 && k < bytes.length * 8 && (bytes[k >> 3]! & (128 >> (k % 8))) !== 0 ? 1 : 0;
        out.push({ name: metric.name, labels: { ...labels, [metric.name]: state }, value: bit });
      }
      return;
    }
    default: {
      // A string type: the value becomes a label named after the metric, and the sample is 1.
      value = 1;
      let type: string = metric.type;
      const mapping = COMBINED_TYPES[type];
      if (mapping) {
        const prev = byOid.get(`${prevOid(metric.oid)}.${indexOids.join('.')}`);
        type = (prev ? mapping[Math.trunc(pduNumber(prev))] : undefined) ?? 'OctetString';
      }
      const text = pduAsString(pdu, type);
      if (metric.regex_extracts.size > 0) {
        for (const [suffix, alternatives] of metric.regex_extracts) {
          for (const alt of alternatives) {
            const m = alt.regex.exec(text);
            if (!m) continue;
            const expanded = expandTemplate(alt.value, m);
            const v = Number(expanded.trim());
            if (
              expanded.trim() === '' ||
              (Number.isNaN(v) && !/^[+-]?(nan|inf(inity)?)$/i.test(expanded.trim()))
            )
              continue;
            const name = metric.name + suffix;
            addFamily(families, name, 'gauge', metric.help + ' (regex extracted)');
            out.push({ name, labels, value: parseGoFloat(expanded.trim()) });
            break;
          }
        }
        return;
      }
      addFamily(families, metric.name, 'gauge', metric.help);
      out.push({
        name: metric.name,
        labels: metric.name in labels ? labels : { ...labels, [metric.name]: text },
        value,
      });
    }
  }
}

function parseGoFloat(s: string): number {
  if (/^[+-]?inf(inity)?$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(s)) return NaN;
  return Number(s);
}

/** Go's Regexp.ExpandString: $1, ${1}, $name, ${name}; $$ is a dollar. */
function expandTemplate(template: string, m: RegExpExecArray): string {
  return template.replace(
    /\$(\$|\{(\w+)\}|(\w+))/g,
    (_all, whole: string, braced?: string, bare?: string) => {
      if (whole === '$') return '$';
      const key = braced ?? bare ?? '';
      if (/^\d+$/.test(key)) return m[Number(key)] ?? '';
      return m.groups?.[key] ?? '';
    },
  );
}

function prevOid(oid: string): string {
  const parts = oid.split('.');
  parts[parts.length - 1] = String(Number(parts[parts.length - 1]) - 1);
  return parts.join('.');
}

function indexesToLabels(
  indexOids: number[],
  metric: SnmpMetric,
  byOid: ReadonlyMap<string, Pdu>,
): Record<string, string> {
  const labels: Record<string, string> = {};
  const labelOids = new Map<string, number[]>();
  let rest = indexOids;
  for (const idx of metric.indexes) {
    const r = indexOidsAsString(rest, idx.type, idx.fixed_size, idx.implied, idx.enum_values);
    labels[idx.labelname] = r.text;
    labelOids.set(idx.labelname, r.used);
    rest = r.remaining;
  }
  for (const lookup of metric.lookups) {
    if (lookup.labels.length === 0) {
      delete labels[lookup.labelname];
      continue;
    }
    let oid = lookup.oid;
    for (const l of lookup.labels) oid += '.' + (labelOids.get(l) ?? []).join('.');
    const pdu = byOid.get(oid);
    if (pdu && isValuePdu(pdu)) {
      let type = lookup.type;
      const mapping = COMBINED_TYPES[type];
      if (mapping) {
        let prev = prevOid(lookup.oid);
        for (const l of lookup.labels) prev += '.' + (labelOids.get(l) ?? []).join('.');
        const p = byOid.get(prev);
        const t = p ? mapping[Math.trunc(pduNumber(p))] : undefined;
        if (t) type = t;
      }
      labels[lookup.labelname] = pduAsString(pdu, type);
      labelOids.set(lookup.labelname, [Math.trunc(pduNumber(pdu))]);
    } else {
      labels[lookup.labelname] = '';
    }
  }
  return labels;
}

/** Splits `oids` at `count`, padding with zeros (some agents drop trailing zeros), as snmp_exporter does. */
function splitOid(oids: readonly number[], count: number): [number[], number[]] {
  const head = new Array<number>(Math.max(0, count)).fill(0);
  for (let i = 0; i < Math.min(count, oids.length); i++) head[i] = oids[i]!;
  return [head, oids.slice(Math.max(0, count))];
}

/** Longest string index we decode; a hostile length sub-identifier must not allocate gigabytes. */
const MAX_INDEX_LENGTH = 1024;

function hex2(n: number): string {
  return (n & 0xff).toString(16).toUpperCase().padStart(2, '0');
}

/** Decodes the index sub-identifiers of one index label, as snmp_exporter's indexOidsAsString. */
export function indexOidsAsString(
  oids: readonly number[],
  type: string,
  fixedSize: number,
  implied: boolean,
  enumValues: ReadonlyMap<number, string>,
): { text: string; used: number[]; remaining: number[] } {
  const mapping = COMBINED_TYPES[type];
  if (mapping) {
    let [sub, values] = splitOid(oids, 2);
    if (type === 'InetAddressMissingSize') [sub, values] = splitOid(oids, 1);
    const t = mapping[sub[0]!];
    if (t) {
      const r = indexOidsAsString(values, t, 0, false, enumValues);
      return { text: r.text, used: [...sub, ...r.used], remaining: r.remaining };
    }
    if (type === 'InetAddressMissingSize') return indexOidsAsString(oids, 'OctetString', 0, true, enumValues);
    return indexOidsAsString(oids, 'OctetString', sub[1]! + 2, false, enumValues);
  }
  switch (type) {
    case 'Integer32':
    case 'Integer':
    case 'gauge':
    case 'counter': {
      const [sub, rest] = splitOid(oids, 1);
      return { text: String(sub[0]), used: sub, remaining: rest };
    }
    case 'PhysAddress48': {
      const [sub, rest] = splitOid(oids, 6);
      return { text: sub.map(hex2).join(':'), used: sub, remaining: rest };
    }
    case 'OctetString':
    case 'DisplayString': {
      let used: number[] = [];
      let rest = [...oids];
      let length = fixedSize;
      if (implied) length = rest.length;
      if (length === 0) {
        [used, rest] = splitOid(rest, 1);
        length = used[0]!;
      }
      length = Math.min(length, MAX_INDEX_LENGTH);
      const [content, remaining] = splitOid(rest, length);
      used = [...used, ...content];
      const bytes = Uint8Array.from(content, (n) => n & 0xff);
      if (type === 'OctetString') {
        return { text: bytes.length === 0 ? '' : '0x' + Array.from(bytes, hex2).join(''), used, remaining };
      }
      return { text: bytesToText(bytes), used, remaining };
    }
    case 'InetAddressIPv4': {
      const [sub, rest] = splitOid(oids, 4);
      return { text: sub.join('.'), used: sub, remaining: rest };
    }
    case 'InetAddressIPv6': {
      const [sub, rest] = splitOid(oids, 16);
      const groups: string[] = [];
      for (let i = 0; i < 16; i += 2) groups.push(hex2(sub[i]!) + hex2(sub[i + 1]!));
      return { text: groups.join(':'), used: sub, remaining: rest };
    }
    case 'EnumAsInfo': {
      const [sub, rest] = splitOid(oids, 1);
      return { text: enumValues.get(sub[0]!) ?? String(sub[0]), used: sub, remaining: rest };
    }
    default:
      // The parser only admits known index types; an unknown one reads as a plain integer rather than crash.
      return indexOidsAsString(oids, 'gauge', 0, false, enumValues);
  }
}

/**
 * Text for a label value: DisplayString bytes as UTF-8, with invalid sequences replaced (snmp_exporter would
 * emit an invalid label value that Prometheus then rejects; a replacement character keeps the series).
 */
function bytesToText(bytes: Uint8Array): string {
  return UTF8.decode(bytes);
}

/** Stateless when used without `stream`, so one shared instance is safe. */
const UTF8 = new TextDecoder('utf-8', { fatal: false });

/** The PDU's value as label text, as snmp_exporter's pduValueAsString. */
export function pduAsString(pdu: Pdu, type: string): string {
  const v = pdu.value;
  if (v === null) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return pdu.type === 'OID' && v.startsWith('.') ? v.slice(1) : v;
  let t = type;
  if (t === '' || t === 'Bits') t = 'OctetString';
  if (t === 'DisplayString') return bytesToText(v); // the common case, without the sub-identifier detour
  const parts = Array.from(v);
  if (t === 'OctetString' || t === 'DisplayString') parts.unshift(parts.length);
  return indexOidsAsString(parts, t, 0, false, new Map()).text;
}

/** The series as the scrape loop takes them (empty label values dropped, as Prometheus does on ingestion). */
export function toScrapedSamples(series: readonly SnmpSeries[]): ScrapedSample[] {
  return series.map((s) => ({
    labels: labelsFromRecord({ ...s.labels, [METRIC_NAME]: s.name }),
    value: s.value,
  }));
}

export function toMetadata(families: ReadonlyMap<string, SnmpFamily>): Map<string, FamilyMetadata> {
  const out = new Map<string, FamilyMetadata>();
  for (const f of families.values()) out.set(f.name, { type: f.type, help: f.help, unit: '' });
  return out;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Formats a float the way Go's Prometheus client does in text exposition. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Number.isInteger(v) && Math.abs(v) < 1e21) {
    // Go prints large integral floats in exponent form (strconv 'g' with shortest repr): 1e+21 and up.
    return Math.abs(v) >= 1e21 ? v.toExponential().replace('e+', 'e+') : String(v);
  }
  const s = String(v);
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

/**
 * Text exposition (format 0.0.4) of mapped series, grouped by family and sorted like Go's client: families by
 * name, series by label values. Empty label values are printed, as snmp_exporter does.
 */
export function toExposition(
  families: ReadonlyMap<string, SnmpFamily>,
  series: readonly SnmpSeries[],
): string {
  const byFamily = new Map<string, SnmpSeries[]>();
  for (const s of series) {
    let list = byFamily.get(s.name);
    if (!list) byFamily.set(s.name, (list = []));
    list.push(s);
  }
  const names = [...byFamily.keys()].sort();
  let out = '';
  for (const name of names) {
    const f = families.get(name);
    out += `# HELP ${name} ${escapeHelp(f?.help ?? '')}\n# TYPE ${name} ${f?.type ?? 'untyped'}\n`;
    for (const s of byFamily.get(name)!) {
      const keys = Object.keys(s.labels).sort();
      const ls = keys.map((k) => `${k}="${escapeLabel(s.labels[k]!)}"`).join(',');
      out += `${name}${ls ? `{${ls}}` : ''} ${formatValue(s.value)}\n`;
    }
  }
  return out;
}
