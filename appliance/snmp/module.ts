// snmp_exporter's module file format (generator output), parsed into a checked, read-only tree. Pure: text in,
// modules out; the caller reads the file. Supported: the 0.21 layout (top-level module names, `version`/`auth`
// inside each module) and the 0.23+ layout (top-level `auths:` and `modules:`). Anything outside the subset in
// appliance/snmp/README.md is refused with a message naming the file, module and metric.

import { parse as parseYaml } from 'yaml';
import type { SnmpAuth } from '../config/snmp.ts';
import { resolveSnmpAuth, snmpAuthSchema } from '../config/snmp.ts';
import { parseDuration } from '../config/duration.ts';
import { LABEL_NAME_RE, METRIC_NAME_RE } from '../model/labels.ts';

/** Metric types whose value is the PDU's number. */
export const NUMERIC_TYPES = ['counter', 'gauge', 'Float', 'Double'] as const;
/** Metric types that become a label with the metric's name and value 1. */
export const STRING_TYPES = [
  'DisplayString',
  'OctetString',
  'PhysAddress48',
  'InetAddress',
  'InetAddressMissingSize',
  'InetAddressIPv4',
  'InetAddressIPv6',
] as const;
export const ENUM_TYPES = ['EnumAsInfo', 'EnumAsStateSet', 'Bits'] as const;
export const METRIC_TYPES = [...NUMERIC_TYPES, ...STRING_TYPES, ...ENUM_TYPES] as const;
export type MetricType = (typeof METRIC_TYPES)[number];

export const INDEX_TYPES = [
  'gauge',
  'counter',
  'Integer',
  'Integer32',
  'PhysAddress48',
  'OctetString',
  'DisplayString',
  'InetAddressIPv4',
  'InetAddressIPv6',
  'InetAddress',
  'InetAddressMissingSize',
  'EnumAsInfo',
] as const;
export type IndexType = (typeof INDEX_TYPES)[number];

export interface SnmpIndex {
  readonly labelname: string;
  readonly type: IndexType;
  /** Fixed length of an OctetString/DisplayString index (0 = length-prefixed). */
  readonly fixed_size: number;
  /** The last index of an IMPLIED string takes all remaining sub-identifiers. */
  readonly implied: boolean;
  readonly enum_values: ReadonlyMap<number, string>;
}

export interface SnmpLookup {
  /** Index labels whose sub-identifiers, in order, address the lookup OID's row. */
  readonly labels: readonly string[];
  readonly labelname: string;
  readonly oid: string;
  readonly type: string;
}

export interface RegexExtract {
  readonly regex: RegExp;
  readonly value: string;
}

export interface SnmpMetric {
  readonly name: string;
  readonly oid: string;
  readonly type: MetricType;
  readonly help: string;
  readonly indexes: readonly SnmpIndex[];
  readonly lookups: readonly SnmpLookup[];
  readonly enum_values: ReadonlyMap<number, string>;
  /** Suffix → alternatives, in file order (Go's map order is random; ours is stable). */
  readonly regex_extracts: ReadonlyMap<string, readonly RegexExtract[]>;
}

export interface WalkParams {
  readonly max_repetitions: number;
  readonly retries: number;
  /** Per-request timeout in milliseconds (each retry waits this long again). */
  readonly timeout: number;
  /** Accept agents whose walks return non-increasing OIDs (loop protection then relies on walk_limit). */
  readonly allow_nonincreasing_oids: boolean;
}

export interface SnmpModule {
  readonly name: string;
  readonly walk: readonly string[];
  readonly get: readonly string[];
  readonly metrics: readonly SnmpMetric[];
  readonly walk_params: WalkParams;
  /** Credentials inside the module (0.21 layout); a request's `auth` overrides them. */
  readonly auth?: SnmpAuth;
}

/** What one file holds. */
export interface SnmpModuleFile {
  readonly modules: ReadonlyMap<string, SnmpModule>;
  readonly auths: ReadonlyMap<string, SnmpAuth>;
}

/** snmp_exporter's defaults (config.DefaultWalkParams). */
export const DEFAULT_WALK_PARAMS: WalkParams = Object.freeze({
  max_repetitions: 25,
  retries: 3,
  timeout: 5000,
  allow_nonincreasing_oids: false,
});

/** A module file that cannot be used; the message names the file and the path inside it, never a secret. */
export class SnmpModuleError extends Error {
  override readonly name = 'SnmpModuleError';
}

const OID_RE = /^\d+(\.\d+)*$/;
const MAX_SUBID = 4294967295;

/** True when `s` is a dotted numeric OID whose sub-identifiers fit in 32 bits (a leading dot is refused). */
export function isNumericOid(s: string): boolean {
  if (!OID_RE.test(s) || s.length > 1408) return false;
  for (const part of s.split('.')) if (Number(part) > MAX_SUBID) return false;
  return true;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function kind(v: unknown): string {
  if (v === undefined || v === null) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `a ${typeof v}`;
}

/** Parses and checks a module file. Throws SnmpModuleError naming `source` and the path of the first problem. */
export function parseModuleFile(text: string, source: string): SnmpModuleFile {
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 100, uniqueKeys: true });
  } catch (err) {
    // The YAML library's message quotes the offending line; module files may carry passwords, so only say where.
    const pos = (err as { linePos?: { line: number; col: number }[] }).linePos?.[0];
    const where = pos ? ` at line ${pos.line}, column ${pos.col}` : '';
    throw new SnmpModuleError(`${source}: not valid YAML${where}`);
  }
  if (doc === null || doc === undefined) return { modules: new Map(), auths: new Map() };
  if (!isObj(doc)) throw new SnmpModuleError(`${source}: expected a mapping of modules, got ${kind(doc)}`);
  const modules = new Map<string, SnmpModule>();
  const auths = new Map<string, SnmpAuth>();
  const keys = Object.keys(doc);
  const newLayout =
    keys.length > 0 && keys.every((k) => k === 'auths' || k === 'modules') && 'modules' in doc;
  if (newLayout || (keys.length === 1 && keys[0] === 'auths')) {
    const rawAuths = doc['auths'] ?? {};
    if (!isObj(rawAuths))
      throw new SnmpModuleError(`${source}: auths: expected a mapping, got ${kind(rawAuths)}`);
    for (const [name, a] of Object.entries(rawAuths))
      auths.set(name, parseAuth(a, `${source}: auths.${name}`));
    const rawModules = doc['modules'] ?? {};
    if (!isObj(rawModules))
      throw new SnmpModuleError(`${source}: modules: expected a mapping, got ${kind(rawModules)}`);
    for (const [name, m] of Object.entries(rawModules))
      modules.set(name, parseModule(name, m, `${source}: modules.${name}`, false));
  } else {
    for (const [name, m] of Object.entries(doc))
      modules.set(name, parseModule(name, m, `${source}: ${name}`, true));
  }
  return { modules, auths };
}

function parseAuth(raw: unknown, path: string): SnmpAuth {
  const r = snmpAuthSchema.safeParse(raw ?? {});
  if (!r.success) {
    const i = r.error.issues[0]!;
    const sub = i.path.length > 0 ? '.' + i.path.join('.') : '';
    throw new SnmpModuleError(`${path}${sub}: ${i.message}`);
  }
  return resolveSnmpAuth(r.data);
}

const MODULE_KEYS = new Set([
  'walk',
  'get',
  'metrics',
  'max_repetitions',
  'retries',
  'timeout',
  'allow_nonincreasing_oids',
  'use_unconnected_udp_socket',
  'walk_params',
]);
const LEGACY_MODULE_KEYS = new Set(['version', 'auth']);
const UNSUPPORTED_MODULE_KEYS = new Set(['filters']);

function parseModule(name: string, raw: unknown, path: string, legacy: boolean): SnmpModule {
  if (!METRIC_NAME_RE.test(name) && !/^[A-Za-z0-9_.-]+$/.test(name))
    throw new SnmpModuleError(`${path}: invalid module name (letters, digits, "_", "-", "." only)`);
  if (!isObj(raw)) throw new SnmpModuleError(`${path}: expected a module mapping, got ${kind(raw)}`);
  for (const k of Object.keys(raw)) {
    if (UNSUPPORTED_MODULE_KEYS.has(k))
      throw new SnmpModuleError(`${path}.${k}: not supported (see appliance/snmp/README.md)`);
    if (LEGACY_MODULE_KEYS.has(k) && !legacy)
      throw new SnmpModuleError(`${path}.${k}: belongs in top-level auths: in the 0.23+ layout`);
    if (!MODULE_KEYS.has(k) && !LEGACY_MODULE_KEYS.has(k))
      throw new SnmpModuleError(`${path}.${k}: unknown key`);
  }
  // 0.23+ nests walk params under walk_params; 0.21 inlines them. Both are accepted.
  const wpSource: Obj = { ...raw };
  if (raw['walk_params'] !== undefined) {
    if (!isObj(raw['walk_params'])) throw new SnmpModuleError(`${path}.walk_params: expected a mapping`);
    Object.assign(wpSource, raw['walk_params']);
  }
  const walk_params = parseWalkParams(wpSource, path);
  const walk = oidList(raw['walk'], `${path}.walk`);
  const get = oidList(raw['get'], `${path}.get`);
  const metricsRaw = raw['metrics'] ?? [];
  if (!Array.isArray(metricsRaw))
    throw new SnmpModuleError(`${path}.metrics: expected a list, got ${kind(metricsRaw)}`);
  const metrics = metricsRaw.map((m: unknown, i) => parseMetric(m, `${path}.metrics[${i}]`));
  let auth: SnmpAuth | undefined;
  if (legacy && (raw['version'] !== undefined || raw['auth'] !== undefined)) {
    const a: Obj = isObj(raw['auth']) ? { ...raw['auth'] } : {};
    if (raw['auth'] !== undefined && !isObj(raw['auth']))
      throw new SnmpModuleError(`${path}.auth: expected a mapping, got ${kind(raw['auth'])}`);
    if (raw['version'] !== undefined) a['version'] = raw['version'];
    auth = parseAuth(a, `${path}.auth`);
  }
  return Object.freeze({ name, walk, get, metrics, walk_params, ...(auth ? { auth } : {}) });
}

function parseWalkParams(raw: Obj, path: string): WalkParams {
  const d = DEFAULT_WALK_PARAMS;
  const int = (k: string, max: number, def: number): number => {
    const v = raw[k];
    if (v === undefined) return def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max)
      throw new SnmpModuleError(`${path}.${k}: expected a whole number from 0 to ${max}`);
    return v;
  };
  let timeout = d.timeout;
  if (raw['timeout'] !== undefined) {
    try {
      if (typeof raw['timeout'] !== 'string') throw new Error('expected a duration such as "5s"');
      timeout = parseDuration(raw['timeout']);
    } catch (err) {
      throw new SnmpModuleError(`${path}.timeout: ${(err as Error).message}`);
    }
    if (timeout <= 0 || timeout > 600_000)
      throw new SnmpModuleError(`${path}.timeout: must be between 1ms and 10m`);
  }
  const anio = raw['allow_nonincreasing_oids'];
  if (anio !== undefined && typeof anio !== 'boolean')
    throw new SnmpModuleError(`${path}.allow_nonincreasing_oids: expected true or false`);
  return Object.freeze({
    // GETBULK packs max_repetitions rows in one response; beyond a few hundred the response exceeds UDP sizes.
    max_repetitions: int('max_repetitions', 1000, d.max_repetitions),
    retries: int('retries', 20, d.retries),
    timeout,
    allow_nonincreasing_oids: anio ?? false,
  });
}

function oidList(raw: unknown, path: string): string[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new SnmpModuleError(`${path}: expected a list of OIDs, got ${kind(raw)}`);
  return raw.map((o: unknown, i) => {
    const s = typeof o === 'number' ? String(o) : o;
    if (typeof s !== 'string' || !isNumericOid(s))
      throw new SnmpModuleError(
        `${path}[${i}]: expected a numeric OID such as 1.3.6.1.2.1.2 (MIB names need the generator)`,
      );
    return s;
  });
}

const METRIC_KEYS = new Set([
  'name',
  'oid',
  'type',
  'help',
  'indexes',
  'lookups',
  'regex_extracts',
  'enum_values',
]);

function parseMetric(raw: unknown, path: string): SnmpMetric {
  if (!isObj(raw)) throw new SnmpModuleError(`${path}: expected a metric mapping, got ${kind(raw)}`);
  const name = raw['name'];
  if (typeof name !== 'string' || !METRIC_NAME_RE.test(name))
    throw new SnmpModuleError(`${path}.name: expected a valid metric name`);
  const at = `${path} (${name})`;
  for (const k of Object.keys(raw)) {
    if (!METRIC_KEYS.has(k)) throw new SnmpModuleError(`${at}.${k}: unknown or unsupported key`);
  }
  const oid = raw['oid'];
  if (typeof oid !== 'string' || !isNumericOid(oid))
    throw new SnmpModuleError(`${at}.oid: expected a numeric OID`);
  const type = raw['type'];
  if (typeof type !== 'string' || !(METRIC_TYPES as readonly string[]).includes(type))
    throw new SnmpModuleError(
      `${at}.type: unsupported type ${JSON.stringify(String(type)).slice(0, 64)} (supported: ${METRIC_TYPES.join(', ')})`,
    );
  const help = raw['help'] ?? '';
  if (typeof help !== 'string') throw new SnmpModuleError(`${at}.help: expected text`);
  const indexesRaw = raw['indexes'] ?? [];
  if (!Array.isArray(indexesRaw)) throw new SnmpModuleError(`${at}.indexes: expected a list`);
  const indexes = indexesRaw.map((x: unknown, i) => parseIndex(x, `${at}.indexes[${i}]`));
  const lookupsRaw = raw['lookups'] ?? [];
  if (!Array.isArray(lookupsRaw)) throw new SnmpModuleError(`${at}.lookups: expected a list`);
  const known = new Set(indexes.map((x) => x.labelname));
  const lookups = lookupsRaw.map((x: unknown, i) => {
    const l = parseLookup(x, `${at}.lookups[${i}]`);
    for (const lab of l.labels)
      if (!known.has(lab))
        throw new SnmpModuleError(
          `${at}.lookups[${i}].labels: ${JSON.stringify(lab)} is not an index or earlier lookup label`,
        );
    known.add(l.labelname);
    return l;
  });
  const enum_values = enumValues(raw['enum_values'], `${at}.enum_values`);
  if (
    (type === 'EnumAsInfo' || type === 'EnumAsStateSet' || type === 'Bits') &&
    raw['enum_values'] === undefined &&
    type === 'Bits'
  )
    throw new SnmpModuleError(`${at}.enum_values: required for type Bits`);
  const regex_extracts = regexExtracts(raw['regex_extracts'], `${at}.regex_extracts`);
  return Object.freeze({
    name,
    oid,
    type: type as MetricType,
    help,
    indexes,
    lookups,
    enum_values,
    regex_extracts,
  });
}

function parseIndex(raw: unknown, path: string): SnmpIndex {
  if (!isObj(raw)) throw new SnmpModuleError(`${path}: expected a mapping`);
  for (const k of Object.keys(raw))
    if (!['labelname', 'type', 'fixed_size', 'implied', 'enum_values'].includes(k))
      throw new SnmpModuleError(`${path}.${k}: unknown key`);
  const labelname = raw['labelname'];
  if (typeof labelname !== 'string' || !LABEL_NAME_RE.test(labelname))
    throw new SnmpModuleError(`${path}.labelname: expected a valid label name`);
  const type = raw['type'];
  if (typeof type !== 'string' || !(INDEX_TYPES as readonly string[]).includes(type))
    throw new SnmpModuleError(`${path}.type: unsupported index type (supported: ${INDEX_TYPES.join(', ')})`);
  const fixed = raw['fixed_size'] ?? 0;
  if (typeof fixed !== 'number' || !Number.isInteger(fixed) || fixed < 0 || fixed > 128)
    throw new SnmpModuleError(`${path}.fixed_size: expected a whole number from 0 to 128`);
  const implied = raw['implied'] ?? false;
  if (typeof implied !== 'boolean') throw new SnmpModuleError(`${path}.implied: expected true or false`);
  return Object.freeze({
    labelname,
    type: type as IndexType,
    fixed_size: fixed,
    implied,
    enum_values: enumValues(raw['enum_values'], `${path}.enum_values`),
  });
}

function parseLookup(raw: unknown, path: string): SnmpLookup {
  if (!isObj(raw)) throw new SnmpModuleError(`${path}: expected a mapping`);
  for (const k of Object.keys(raw))
    if (!['labels', 'labelname', 'oid', 'type'].includes(k))
      throw new SnmpModuleError(`${path}.${k}: unknown key`);
  const labels = raw['labels'] ?? [];
  if (!Array.isArray(labels) || !labels.every((l) => typeof l === 'string'))
    throw new SnmpModuleError(`${path}.labels: expected a list of label names`);
  const labelname = raw['labelname'];
  if (typeof labelname !== 'string' || !LABEL_NAME_RE.test(labelname))
    throw new SnmpModuleError(`${path}.labelname: expected a valid label name`);
  const oid = raw['oid'];
  if (typeof oid !== 'string' || !isNumericOid(oid))
    throw new SnmpModuleError(`${path}.oid: expected a numeric OID`);
  const type = raw['type'] ?? 'DisplayString';
  if (typeof type !== 'string' || !([...METRIC_TYPES, ...INDEX_TYPES] as readonly string[]).includes(type))
    throw new SnmpModuleError(`${path}.type: unsupported lookup type`);
  return Object.freeze({ labels: labels, labelname, oid, type });
}

function enumValues(raw: unknown, path: string): ReadonlyMap<number, string> {
  const out = new Map<number, string>();
  if (raw === undefined || raw === null) return out;
  if (!isObj(raw)) throw new SnmpModuleError(`${path}: expected a mapping of numbers to names`);
  for (const [k, v] of Object.entries(raw)) {
    const n = Number(k);
    if (!/^-?\d+$/.test(k) || !Number.isSafeInteger(n))
      throw new SnmpModuleError(`${path}: keys must be whole numbers`);
    if (typeof v !== 'string' && typeof v !== 'number')
      throw new SnmpModuleError(`${path}.${k}: expected a name`);
    out.set(n, String(v));
  }
  return out;
}

function regexExtracts(raw: unknown, path: string): ReadonlyMap<string, readonly RegexExtract[]> {
  const out = new Map<string, RegexExtract[]>();
  if (raw === undefined || raw === null) return out;
  if (!isObj(raw)) throw new SnmpModuleError(`${path}: expected a mapping`);
  for (const [suffix, list] of Object.entries(raw)) {
    if (suffix !== '' && !/^[a-zA-Z0-9_:]+$/.test(suffix))
      throw new SnmpModuleError(`${path}.${suffix}: invalid metric name suffix`);
    if (!Array.isArray(list)) throw new SnmpModuleError(`${path}.${suffix}: expected a list`);
    out.set(
      suffix,
      list.map((e: unknown, i) => {
        if (
          !isObj(e) ||
          typeof e['regex'] !== 'string' ||
          (e['value'] !== undefined && typeof e['value'] !== 'string')
        )
          throw new SnmpModuleError(`${path}.${suffix}[${i}]: expected {regex: text, value: text}`);
        let regex: RegExp;
        try {
          // Go's regexp is RE2 and snmp_exporter anchors it; JavaScript's engine accepts a superset of the syntax.
          regex = new RegExp(`^(?:${e['regex']})$`);
        } catch (err) {
          throw new SnmpModuleError(`${path}.${suffix}[${i}].regex: ${(err as Error).message}`);
        }
        return { regex, value: e['value'] ?? '$1' };
      }),
    );
  }
  return out;
}
