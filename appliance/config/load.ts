// Turns the configuration file's text into the one read-only Config tree, or a ConfigError listing every issue.
// This is the edge: after loadConfig returns, no component checks configuration again or reads a file for it.

import { createHash } from 'node:crypto';
import { isAbsolute, join } from 'node:path';
import type { z } from 'zod';
import type { Document, ParsedNode, ScalarTag, Tags } from 'yaml';
import { LineCounter, isAlias, isMap, isNode, isScalar, isSeq, parseAllDocuments } from 'yaml';
import { ADDRESS_LABEL, type TargetGroup } from '../model/target.ts';
import {
  DEFAULT_AUTHORIZATION_TYPE,
  DEFAULT_METRICS_PATH,
  DEFAULT_SCHEME,
  DEFAULT_SCRAPE_INTERVAL_MS,
  DEFAULT_SCRAPE_TIMEOUT_MS,
  DEFAULT_TLS_MIN_VERSION,
  deepFreeze,
  defaultConfig,
  DEFAULT_REMOTE_TIMEOUT_MS,
  HOST_JOB_NAME,
} from './defaults.ts';
import { formatDuration } from './duration.ts';
import { buildNetboxConfig, profileJobNames } from './netbox.ts';
import type { NetboxConfig } from './netbox.ts';
import { buildSnmpConfig, snmpSchema } from './snmp.ts';
import { buildSnmpRegistry } from '../snmp/collector.ts';
import type { SnmpRegistry } from '../snmp/collector.ts';
import type {
  Config,
  GlobalConfig,
  HTTPClientConfig,
  RawScrapeConfig,
  RemoteWriteConfig,
  ScrapeConfig,
} from './schema.ts';
import {
  UNSUPPORTED_KEY_RE,
  configSchema,
  globalSchema,
  hostSchema,
  kindOf,
  netboxSchema,
  querySchema,
  remoteWriteSchema,
  scrapeConfigSchema,
  storageSchema,
  webSchema,
} from './schema.ts';

/** One problem in a configuration file. `path` is like "scrape_configs[1].scrape_timeout"; "" for the file. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
  /** 1-based line in the file where the problem is, when known. */
  readonly line?: number;
}

/** Thrown by loadConfig with every issue found, not just the first. Messages never contain secret values. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super(`invalid configuration:\n${formatIssues(issues)}`);
    this.issues = issues;
  }
}

export interface LoadOptions {
  /** Directory of the configuration file; relative secret and TLS file names resolve against it. */
  readonly baseDir: string;
  /** Reads a whole file as UTF-8 text, throwing (ideally a Node error with a `code`) when it cannot. */
  readonly readFile: (path: string) => string;
}

type Path = readonly (string | number)[];
interface Found {
  readonly path: Path;
  readonly message: string;
}

/**
 * Parses and validates a configuration file. An empty file (or one holding only comments) gives the defaults.
 * Secret files (password_file, credentials_file, username_file) and TLS files are read through opts.readFile,
 * so a changed secret file takes effect on the next reload. Throws ConfigError listing all issues.
 */
export function loadConfig(yamlText: string, opts: LoadOptions): Config {
  const lc = new LineCounter();
  const docs = parseAllDocuments(yamlText, { lineCounter: lc, merge: true, customTags: keepWrittenScalars });
  const syntax: ConfigIssue[] = [];
  for (const doc of docs) for (const err of doc.errors) syntax.push({ path: '', message: yamlMessage(err) });
  const second = docs[1];
  if (second !== undefined) {
    syntax.push({
      path: '',
      message: 'the file holds more than one YAML document ("---"); put the whole configuration in one',
      line: lc.linePos(second.range[0]).line,
    });
  }
  if (syntax.length > 0) throw new ConfigError(syntax);
  const doc = docs[0];
  if (doc === undefined) return defaultConfig();

  let raw: unknown;
  try {
    raw = nullsToAbsent(doc.toJS({ maxAliasCount: 100 }));
  } catch (e) {
    // toJS throws for unresolvable aliases and alias bombs; its messages name aliases, not values.
    throw new ConfigError([{ path: '', message: `YAML: ${e instanceof Error ? e.message : String(e)}` }]);
  }
  // A document of only comments or an empty "---" is an empty file: the defaults, as in Prometheus.
  if (raw === null || raw === undefined) return defaultConfig();
  if (!isRecord(raw)) {
    throw new ConfigError([
      { path: '', message: `the configuration must be a YAML mapping, got ${kindOf(raw)}` },
    ]);
  }

  const found: Found[] = [];
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) for (const iss of parsed.error.issues) found.push(...fromZod(iss));
  const config = build(raw, opts, found);
  if (found.length > 0) {
    const issues = found.map((f): ConfigIssue => {
      const line = lineOf(doc, lc, f.path);
      return { path: formatPath(f.path), message: f.message, ...(line === undefined ? {} : { line }) };
    });
    // Stable sort into file order; zod reports in schema order, which reads oddly in a long file.
    throw new ConfigError(issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)));
  }
  return deepFreeze(config);
}

/** Text for `storewatch check-config`: one line per issue "path: message", or a short OK summary. */
export function formatIssues(issues: readonly ConfigIssue[]): string {
  if (issues.length === 0) return 'OK: configuration is valid';
  return issues
    .map(
      (i) =>
        `${i.path === '' ? '' : `${i.path}: `}${i.message}${i.line === undefined ? '' : ` (line ${i.line})`}`,
    )
    .join('\n');
}

/**
 * A stable fingerprint of one scrape config, so the scrape manager can keep the loops of unchanged jobs on reload.
 * Equal configs give equal fingerprints whatever the key order. It covers resolved secrets too (a rotated
 * password must restart the job), so treat it like a password hash: compare it, do not publish it.
 */
export function scrapeConfigFingerprint(sc: ScrapeConfig): string {
  return createHash('sha256').update(canonicalJson(sc)).digest('hex').slice(0, 16);
}

/** The static targets of a scrape config as discovery-shaped target groups (source = index, as in Prometheus). */
export function staticTargetGroups(sc: ScrapeConfig): TargetGroup[] {
  return sc.static_configs.map((s, i) => ({
    source: String(i),
    targets: s.targets.map((t) => ({ [ADDRESS_LABEL]: t })),
    labels: s.labels,
  }));
}

// ---------------------------------------------------------------------------------------------------------------
// Building the tree: defaults, inheritance from global, rules across jobs, secret files.
// ---------------------------------------------------------------------------------------------------------------

// Every field is also parsed on its own, so one broken field does not hide the issues that depend on its
// siblings: duplicate job names, timeouts against (inherited) intervals, unreadable secret files. Fields that fail
// fall back to defaults; that tree is thrown away anyway, because failing fields were reported by the full parse.
function build(root: Readonly<Record<string, unknown>>, opts: LoadOptions, found: Found[]): Config {
  const g = fields(globalSchema, root.global);
  const interval = g.scrape_interval || DEFAULT_SCRAPE_INTERVAL_MS;
  const global: GlobalConfig = {
    scrape_interval: interval,
    scrape_timeout: g.scrape_timeout || Math.min(DEFAULT_SCRAPE_TIMEOUT_MS, interval),
    external_labels: g.external_labels ?? {},
    sample_limit: g.sample_limit ?? 0,
    label_limit: g.label_limit ?? 0,
    label_name_length_limit: g.label_name_length_limit ?? 0,
    label_value_length_limit: g.label_value_length_limit ?? 0,
    body_size_limit: g.body_size_limit ?? 0,
    target_limit: g.target_limit ?? 0,
  };
  // With a broken global interval or timeout, inherited values would be guesses; judge only what is known.
  const rawGlobal = isRecord(root.global) ? root.global : {};
  const globalTimingKnown =
    (rawGlobal.scrape_interval === undefined || g.scrape_interval !== undefined) &&
    (rawGlobal.scrape_timeout === undefined || g.scrape_timeout !== undefined);
  if (globalTimingKnown) checkTimeout(found, ['global'], global.scrape_timeout, global.scrape_interval);

  const read = fileReader(opts, found);
  const firstIndex = new Map<string, number>();
  const rawJobs = Array.isArray(root.scrape_configs) ? (root.scrape_configs as unknown[]) : [];
  const scrape_configs = rawJobs.map((rawJob, i): ScrapeConfig => {
    const at = ['scrape_configs', i];
    const sc = fields(scrapeConfigSchema, rawJob);
    if (sc.job_name !== undefined) {
      const first = firstIndex.get(sc.job_name);
      if (first === undefined) firstIndex.set(sc.job_name, i);
      else {
        const message = `duplicate job_name ${JSON.stringify(sc.job_name)} (first in scrape_configs[${first}])`;
        found.push({ path: [...at, 'job_name'], message });
      }
    }
    const job = resolveJob(sc, global, at, read);
    if (sc.scrape_interval !== undefined || globalTimingKnown) {
      checkTimeout(found, at, job.scrape_timeout, job.scrape_interval);
    }
    return job;
  });

  const d = defaultConfig();
  const storage = fields(storageSchema, root.storage);
  const web = fields(webSchema, root.web);
  const host = fields(hostSchema, root.host);
  const query = fields(querySchema, root.query);
  const snmp = resolveSnmp(root, read);
  // The appliance's own host metrics are scraped as job "host"; a scrape job of that name would mix two sources.
  const hostIndex = firstIndex.get(HOST_JOB_NAME);
  if (hostIndex !== undefined && (host.enabled ?? d.host.enabled)) {
    found.push({
      path: ['scrape_configs', hostIndex, 'job_name'],
      message: `job_name "${HOST_JOB_NAME}" is reserved for the appliance's own host metrics (set host.enabled: false to use it)`,
    });
  }
  const rwNames = new Map<string, number>();
  const rawRw = Array.isArray(root.remote_write) ? (root.remote_write as unknown[]) : [];
  const remote_write = rawRw.map((raw, i): RemoteWriteConfig => {
    const at = ['remote_write', i];
    const rw = fields(remoteWriteSchema, raw);
    const url = rw.url ?? '';
    // Prometheus names an unnamed queue by a hash of its settings; the URL alone keeps the cursor stable.
    const name = rw.name ?? createHash('sha256').update(url).digest('hex').slice(0, 6);
    const first = rwNames.get(name);
    if (first === undefined) rwNames.set(name, i);
    else
      found.push({
        path: [...at, 'name'],
        message: `duplicate remote write name ${JSON.stringify(name)} (first in remote_write[${first}])`,
      });
    const q = rw.queue_config ?? {};
    return {
      url,
      name,
      remote_timeout: rw.remote_timeout ?? DEFAULT_REMOTE_TIMEOUT_MS,
      headers: rw.headers ?? {},
      http_client_config: resolveHttp(rw, at, read),
      queue_config: {
        max_samples_per_send: q.max_samples_per_send ?? 2000,
        batch_send_deadline: q.batch_send_deadline ?? 5_000,
        min_backoff: q.min_backoff ?? 30,
        max_backoff: q.max_backoff ?? 5_000,
        retry_on_http_429: q.retry_on_http_429 ?? false,
        sample_age_limit: q.sample_age_limit ?? 0,
        max_shards: q.max_shards || 1,
      },
      protobuf_message: rw.protobuf_message ?? 'prometheus.WriteRequest',
      write_relabel_configs: rw.write_relabel_configs ?? [],
      store_and_forward: {
        bandwidth_limit: rw.store_and_forward?.bandwidth_limit ?? 0,
        catch_up: rw.store_and_forward?.catch_up ?? 'oldest-first',
        backfill_windows: rw.store_and_forward?.backfill_windows ?? [],
      },
    };
  });
  const netbox =
    root.netbox === undefined
      ? undefined
      : buildNetboxConfig(fields(netboxSchema, root.netbox), ['netbox'], read);
  if (netbox) {
    // Discovered jobs are named after profiles; a configured job of the same name would silently win.
    for (const p of netbox.profiles) {
      for (const job of profileJobNames(p)) {
        const i = firstIndex.get(job);
        if (i !== undefined)
          found.push({
            path: ['scrape_configs', i, 'job_name'],
            message: `job_name ${JSON.stringify(job)} is also the job of NetBox profile ${JSON.stringify(p.name)}; rename one`,
          });
        if (job === HOST_JOB_NAME)
          found.push({
            path: ['netbox', 'profiles'],
            message: `profile ${JSON.stringify(p.name)} would create job "${HOST_JOB_NAME}", reserved for host metrics`,
          });
      }
    }
  }
  checkSnmpReferences(snmp, scrape_configs, netbox, found);
  return {
    global,
    scrape_configs,
    remote_write,
    ...(netbox ? { netbox } : {}),
    snmp,
    query: {
      max_samples: query.max_samples ?? d.query.max_samples,
      timeout: query.timeout ?? d.query.timeout,
      lookback_delta: query.lookback_delta ?? d.query.lookback_delta,
    },
    storage: {
      path: storage.path ?? d.storage.path,
      retention: {
        time: storage.retention?.time ?? d.storage.retention.time,
        size: storage.retention?.size ?? d.storage.retention.size,
        priorities: storage.retention?.priorities ?? [],
      },
    },
    web: { listen_address: web.listen_address ?? d.web.listen_address },
    host: {
      enabled: host.enabled ?? d.host.enabled,
      scrape_interval: host.scrape_interval ?? d.host.scrape_interval,
    },
  };
}

/** The `snmp:` section with its module files read and checked (snmp_exporter's format, parsed once here). */
function resolveSnmp(root: Readonly<Record<string, unknown>>, read: ReadFile): Config['snmp'] {
  const raw = root.snmp === undefined ? undefined : fields(snmpSchema, root.snmp);
  const cfg = buildSnmpConfig(raw === undefined ? undefined : { ...raw });
  const module_texts = cfg.module_files.map((file, i) => ({
    path: file,
    text: read(file, ['snmp', 'module_files', i], false),
  }));
  return { ...cfg, module_texts };
}

/** Module and auth names used by SNMP scrape jobs must exist (a typo would otherwise fail every scrape). */
function checkSnmpReferences(
  snmp: Config['snmp'],
  jobs: readonly ScrapeConfig[],
  netbox: NetboxConfig | undefined,
  found: Found[],
): void {
  let registry: SnmpRegistry;
  try {
    // An unreadable file was reported already (its text is empty); check the rest.
    registry = buildSnmpRegistry(
      snmp,
      snmp.module_texts.filter((f) => f.text !== ''),
    );
  } catch (e) {
    found.push({ path: ['snmp', 'module_files'], message: e instanceof Error ? e.message : String(e) });
    return;
  }
  jobs.forEach((sc, i) => {
    if (sc.collector !== 'snmp') return;
    for (const list of sc.params.module ?? []) {
      for (const m of list.split(',')) {
        if (!registry.modules.has(m))
          found.push({
            path: ['scrape_configs', i, 'params', 'module'],
            message: `unknown SNMP module ${JSON.stringify(m)}`,
          });
      }
    }
    for (const a of sc.params.auth ?? []) {
      if (!registry.auths.has(a))
        found.push({
          path: ['scrape_configs', i, 'params', 'auth'],
          message: `unknown SNMP auth ${JSON.stringify(a)} (define it under snmp.auths)`,
        });
    }
  });
  netbox?.profiles.forEach((p, i) => {
    if (!p.snmp) return;
    for (const m of p.snmp.modules) {
      if (!registry.modules.has(m))
        found.push({
          path: ['netbox', 'profiles', i, 'snmp', 'modules'],
          message: `unknown SNMP module ${JSON.stringify(m)}`,
        });
    }
    if (!registry.auths.has(p.snmp.auth))
      found.push({
        path: ['netbox', 'profiles', i, 'snmp', 'auth'],
        message: `unknown SNMP auth ${JSON.stringify(p.snmp.auth)} (define it under snmp.auths)`,
      });
  });
}

function checkTimeout(found: Found[], at: Path, timeout: number, interval: number): void {
  if (timeout > interval) {
    found.push({
      path: [...at, 'scrape_timeout'],
      message: `scrape_timeout ${formatDuration(timeout)} is greater than scrape_interval ${formatDuration(interval)}`,
    });
  }
}

type ReadFile = (file: string, path: Path, trim: boolean) => string;

/** The HTTP settings shared by scrape configs and remote_write, with secrets and PEM files read. */
function resolveHttp(
  raw: Pick<
    Partial<RawScrapeConfig>,
    'basic_auth' | 'authorization' | 'tls_config' | 'follow_redirects' | 'enable_http2'
  >,
  at: Path,
  read: ReadFile,
): HTTPClientConfig {
  // Secrets come from the inline value or from the file; the schema already refused both at once.
  const secret = (inline: string | undefined, file: string | undefined, path: Path, trim = true) =>
    file ? read(file, path, trim) : inline || undefined;
  const ba = raw.basic_auth;
  const auth = raw.authorization;
  const tls = raw.tls_config ?? {};
  const tlsAt = [...at, 'tls_config'];
  return defined({
    basic_auth: ba && {
      username: secret(ba.username, ba.username_file, [...at, 'basic_auth', 'username_file']) ?? '',
      password: secret(ba.password, ba.password_file, [...at, 'basic_auth', 'password_file']) ?? '',
    },
    authorization: auth && {
      type: auth.type || DEFAULT_AUTHORIZATION_TYPE,
      credentials:
        secret(auth.credentials, auth.credentials_file, [...at, 'authorization', 'credentials_file']) ?? '',
    },
    tls_config: defined({
      // PEM files are passed on exactly as read; only one-line secrets are trimmed, as Prometheus does.
      ca: secret(tls.ca, tls.ca_file, [...tlsAt, 'ca_file'], false),
      cert: secret(tls.cert, tls.cert_file, [...tlsAt, 'cert_file'], false),
      key: secret(tls.key, tls.key_file, [...tlsAt, 'key_file'], false),
      server_name: tls.server_name || undefined,
      insecure_skip_verify: tls.insecure_skip_verify ?? false,
      min_version: tls.min_version ?? DEFAULT_TLS_MIN_VERSION,
      max_version: tls.max_version,
    }),
    follow_redirects: raw.follow_redirects ?? true,
    enable_http2: raw.enable_http2 ?? true,
  });
}

/**
 * A scrape job with every default applied and no targets, as the config file would give for `job_name` alone:
 * the template of jobs the appliance makes itself (NetBox profiles, its own metrics).
 */
export function defaultScrapeConfig(jobName: string, global: GlobalConfig): ScrapeConfig {
  return resolveJob({ job_name: jobName }, global, [], () => '');
}

function resolveJob(
  sc: Partial<RawScrapeConfig>,
  global: GlobalConfig,
  at: Path,
  read: ReadFile,
): ScrapeConfig {
  const interval = sc.scrape_interval || global.scrape_interval;
  const http = resolveHttp(sc, at, read);
  return {
    job_name: sc.job_name ?? '',
    scrape_interval: interval,
    scrape_timeout: sc.scrape_timeout || Math.min(global.scrape_timeout, interval),
    metrics_path: sc.metrics_path ?? DEFAULT_METRICS_PATH,
    scheme: sc.scheme ?? DEFAULT_SCHEME,
    params: sc.params ?? {},
    honor_labels: sc.honor_labels ?? false,
    honor_timestamps: sc.honor_timestamps ?? true,
    track_timestamps_staleness: sc.track_timestamps_staleness ?? false,
    // As in Prometheus, a job's 0 ("no limit") falls back to the global limit.
    sample_limit: sc.sample_limit || global.sample_limit,
    label_limit: sc.label_limit || global.label_limit,
    label_name_length_limit: sc.label_name_length_limit || global.label_name_length_limit,
    label_value_length_limit: sc.label_value_length_limit || global.label_value_length_limit,
    body_size_limit: sc.body_size_limit || global.body_size_limit,
    target_limit: sc.target_limit || global.target_limit,
    http_client_config: http,
    relabel_configs: sc.relabel_configs ?? [],
    metric_relabel_configs: sc.metric_relabel_configs ?? [],
    collector: sc.collector ?? 'http',
    static_configs: (sc.static_configs ?? []).map((s) => ({
      targets: s.targets ?? [],
      labels: s.labels ?? {},
    })),
  };
}

function fileReader(opts: LoadOptions, found: Found[]): ReadFile {
  return (file, path, trim) => {
    const abs = isAbsolute(file) ? file : join(opts.baseDir, file);
    try {
      const text = opts.readFile(abs);
      return trim ? text.trim() : text;
    } catch (e) {
      found.push({ path, message: `cannot read ${JSON.stringify(abs)}: ${readFailure(e)}` });
      return '';
    }
  };
}

// Only the error code is shown: an injected reader's message could quote what it read.
function readFailure(e: unknown): string {
  const code = typeof e === 'object' && e !== null && 'code' in e ? e.code : undefined;
  const known: Readonly<Record<string, string>> = {
    ENOENT: 'no such file',
    EACCES: 'permission denied',
    EISDIR: 'is a directory',
  };
  return typeof code === 'string' ? (known[code] ?? code) : 'read failed';
}

// ---------------------------------------------------------------------------------------------------------------
// YAML and zod plumbing.
// ---------------------------------------------------------------------------------------------------------------

// YAML 1.2 reads `store: 0042` as the number 42, but Prometheus (yaml.v2 into a string field) keeps "0042".
// Numbers and booleans therefore survive only in their canonical spelling; anything else stays the written text,
// which string fields take as is and number fields reject.
function keepWrittenScalars(tags: Tags): Tags {
  return tags.map((tag) => {
    if (typeof tag === 'string' || !('resolve' in tag) || !/:(int|float|bool)$/.test(tag.tag)) return tag;
    const scalar = tag as ScalarTag;
    return {
      ...scalar,
      resolve: (src, onError, options) => {
        const v = scalar.resolve(src, onError, options);
        return String(v) === src ? v : src;
      },
    } satisfies ScalarTag;
  });
}

// An empty YAML value (`global:`) means "not set", as Go's yaml.v2 treats it; the key stays present so that
// unknown and unsupported keys are still reported.
function nullsToAbsent(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(nullsToAbsent);
  if (!isRecord(v)) return v;
  // fromEntries defines own properties, so a "__proto__" key stays a plain (and rejected) key.
  return Object.fromEntries(
    Object.entries(v).map(([k, x]) => [k, x === null ? undefined : nullsToAbsent(x)]),
  );
}

// Syntax error messages drop yaml's quoted source excerpt: the offending line may hold a secret.
function yamlMessage(err: { message: string; linePos?: readonly { line: number; col: number }[] }): string {
  const text = (err.message.split('\n')[0] ?? '')
    .replace(/ at line \d+, column \d+:?$/, '')
    .replace(/: ".*$/, '');
  const pos = err.linePos?.[0];
  return `YAML syntax error: ${text}${pos ? ` (line ${pos.line}, column ${pos.col})` : ''}`;
}

function fromZod(iss: z.core.$ZodIssue): Found[] {
  const path = iss.path.filter((s): s is string | number => typeof s !== 'symbol');
  switch (iss.code) {
    case 'unrecognized_keys':
      return iss.keys.map((k) => ({
        path: [...path, k],
        message: UNSUPPORTED_KEY_RE.test(k) ? 'not supported yet' : `unknown key ${JSON.stringify(k)}`,
      }));
    case 'invalid_key':
      return [{ path, message: iss.issues[0]?.message ?? iss.message }];
    case 'invalid_type': {
      // Rephrase zod's own wording only; schema-specific messages are already written for YAML users.
      const m = /^Invalid input: expected (\w+), received (\w+)$/.exec(iss.message);
      if (m === null) return [{ path, message: iss.message }];
      if (m[2] === 'undefined') return [{ path, message: 'required' }];
      return [{ path, message: `expected ${typeName(m[1]!)}, got ${typeName(m[2]!)}` }];
    }
    default:
      return [{ path, message: iss.message.replace(/^Invalid (input|option): /, '') }];
  }
}

// Zod names JavaScript types; people writing YAML think in mappings and lists.
function typeName(t: string): string {
  const names: Readonly<Record<string, string>> = {
    object: 'a mapping',
    record: 'a mapping',
    array: 'a list',
    null: 'nothing',
    int: 'a whole number',
    boolean: 'true or false',
  };
  return names[t] ?? `a ${t}`;
}

// Parses each field of an object schema on its own; a failing field (or a value that is no mapping) is absent.
function fields<S extends z.ZodObject>(schema: S, value: unknown): Partial<z.output<S>> {
  if (!isRecord(value)) return {};
  const out: Record<string, unknown> = {};
  const shape: Readonly<Record<string, z.ZodType>> = schema.shape;
  for (const [key, fieldSchema] of Object.entries(shape)) {
    const r = fieldSchema.safeParse(value[key]);
    if (r.success && r.data !== undefined) out[key] = r.data;
  }
  return out as Partial<z.output<S>>;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Drops undefined members so optional keys are absent rather than present-but-undefined. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** "scrape_configs[1].static_configs[0].labels["a-b"]" */
export function formatPath(path: Path): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

// The line of the deepest node on the path that exists in the document: the key's line for a mapping entry.
function lineOf(doc: Document.Parsed, lc: LineCounter, path: Path): number | undefined {
  let node: unknown = doc.contents;
  let offset = isNode(node) ? node.range?.[0] : undefined;
  for (const seg of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (pair === undefined) break;
      offset = (pair.key as ParsedNode).range[0];
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item: unknown = node.items[seg];
      if (!isNode(item)) break;
      offset = item.range?.[0];
      node = item;
    } else {
      break;
    }
  }
  return offset === undefined ? undefined : lc.linePos(offset).line;
}

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (isRecord(v)) {
    const keys = Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
