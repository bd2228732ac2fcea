// The configuration file's shape: the typed tree every component reads, and the one zod schema that checks
// the YAML before the tree is built. Keys keep Prometheus's snake_case spelling so that code reads like the file
// and a Prometheus scrape_config moves over unchanged.

import { netboxSchemaWith } from './netbox.ts';
import { snmpSchema } from './snmp.ts';
import type { SnmpConfig } from './snmp.ts';
import type { NetboxConfig } from './netbox.ts';
import { z } from 'zod';
import { LABEL_NAME_RE } from '../model/labels.ts';
import type { RelabelConfig } from '../model/relabel.ts';
import { parseByteSize, parseDuration } from './duration.ts';

// ---------------------------------------------------------------------------------------------------------------
// The typed tree. Every value is resolved: defaults applied, durations in integer milliseconds, sizes in bytes,
// secrets and TLS material read from their files. Components never see file names for secrets.
// ---------------------------------------------------------------------------------------------------------------

export type TLSVersion = 'TLS10' | 'TLS11' | 'TLS12' | 'TLS13';

/** TLS settings for talking to a target; PEM text, not file names. */
export interface TLSConfig {
  /** PEM CA bundle to verify the server with; absent means the system roots. */
  readonly ca?: string;
  /** PEM client certificate; always set together with `key`. */
  readonly cert?: string;
  /** PEM private key of the client certificate. */
  readonly key?: string;
  /** Name to verify the server certificate against (and send as SNI); absent means the target's host. */
  readonly server_name?: string;
  readonly insecure_skip_verify: boolean;
  /** Lowest TLS version offered; defaults to TLS12 as in Prometheus. */
  readonly min_version: TLSVersion;
  /** Highest TLS version offered; absent means the newest the runtime supports. */
  readonly max_version?: TLSVersion;
}

export interface BasicAuth {
  readonly username: string;
  readonly password: string;
}

/** Sent as `Authorization: <type> <credentials>`. */
export interface Authorization {
  /** Defaults to "Bearer"; "Basic" is refused (use basic_auth), as in Prometheus. */
  readonly type: string;
  readonly credentials: string;
}

/**
 * How to reach a job's targets over HTTP. In the YAML these keys sit directly in the scrape config
 * (Prometheus inlines them); the typed tree groups them so the HTTP client takes one value.
 * At most one of `basic_auth` and `authorization` is set.
 */
export interface HTTPClientConfig {
  readonly basic_auth?: BasicAuth;
  readonly authorization?: Authorization;
  readonly tls_config: TLSConfig;
  readonly follow_redirects: boolean;
  /** Accepted for compatibility only: storewatch always scrapes over HTTP/1.1. */
  readonly enable_http2: boolean;
}

/** A fixed list of targets sharing labels, in Prometheus's static_configs shape. */
export interface StaticConfig {
  /** Each target is "host:port" (IPv6 hosts in brackets); no scheme and no path. */
  readonly targets: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
}

/** One scrape job with all defaults applied, including those inherited from `global`. */
export interface ScrapeConfig {
  /** Unique among the scrape configs. */
  readonly job_name: string;
  /** Milliseconds, > 0. */
  readonly scrape_interval: number;
  /** Milliseconds, > 0 and never greater than scrape_interval. */
  readonly scrape_timeout: number;
  readonly metrics_path: string;
  readonly scheme: 'http' | 'https';
  readonly params: Readonly<Record<string, readonly string[]>>;
  readonly honor_labels: boolean;
  readonly honor_timestamps: boolean;
  readonly track_timestamps_staleness: boolean;
  /** The limits below use 0 for "no limit"; body_size_limit is in bytes. */
  readonly sample_limit: number;
  readonly label_limit: number;
  readonly label_name_length_limit: number;
  readonly label_value_length_limit: number;
  readonly body_size_limit: number;
  readonly target_limit: number;
  readonly http_client_config: HTTPClientConfig;
  readonly static_configs: readonly StaticConfig[];
  /** Applied to each target's discovered labels before scraping (Prometheus semantics). */
  readonly relabel_configs: readonly RelabelConfig[];
  /** Applied to each scraped series before it is stored. */
  readonly metric_relabel_configs: readonly RelabelConfig[];
  /**
   * storewatch's own: how targets are scraped. `http` fetches an exposition (Prometheus's only way); `snmp` walks
   * the device at `__address__` (port 161 by default) with the modules and auth named by `params: {module, auth}`
   * (or `__param_module` / `__param_auth`), as snmp_exporter would; `probe` only opens a TCP connection.
   */
  readonly collector: 'http' | 'snmp' | 'probe';
}

/** Settings shared by all scrape configs; the limits are the defaults for jobs that leave theirs at 0. */
export interface GlobalConfig {
  readonly scrape_interval: number;
  readonly scrape_timeout: number;
  /** Attached to series when they leave the appliance (remote write, federation). */
  readonly external_labels: Readonly<Record<string, string>>;
  readonly sample_limit: number;
  readonly label_limit: number;
  readonly label_name_length_limit: number;
  readonly label_value_length_limit: number;
  readonly body_size_limit: number;
  readonly target_limit: number;
}

export interface StorageConfig {
  /** Database directory, relative to the working directory (not to the config file), like Prometheus's flag. */
  readonly path: string;
  readonly retention: {
    /** Milliseconds of data to keep; 0 disables time-based retention. */
    readonly time: number;
    /** Byte budget for the database; 0 means none. */
    readonly size: number;
    /**
     * When the size budget is reached, series matching a lower priority lose their history first (oldest window
     * first); series no rule matches are only ever dropped with their whole window. First matching rule wins.
     */
    readonly priorities: readonly EvictionRule[];
  };
}

/** One eviction rule: every label regex (anchored, as in relabelling) must match. */
export interface EvictionRule {
  readonly match: Readonly<Record<string, string>>;
  readonly priority: number;
}

export interface WebConfig {
  /** "host:port" to listen on; an empty host means all interfaces. */
  readonly listen_address: string;
}

/** The appliance's own host metrics. */
export interface HostConfig {
  readonly enabled: boolean;
  /** Milliseconds, > 0. */
  readonly scrape_interval: number;
}

/** Prometheus's remote_write queue_config keys that storewatch uses, with Prometheus's defaults. */
export interface QueueConfig {
  readonly max_samples_per_send: number;
  /** Milliseconds the sender waits for more data once it has caught up. */
  readonly batch_send_deadline: number;
  readonly min_backoff: number;
  readonly max_backoff: number;
  readonly retry_on_http_429: boolean;
  /** Milliseconds; samples older than this are dropped (and counted) instead of sent. 0 = off. */
  readonly sample_age_limit: number;
  /**
   * Requests in flight at once, series split by label hash. Default 1 (not Prometheus's 50): a store's link is
   * thin and shared; raise it for receivers far away when catching up is slow.
   */
  readonly max_shards: number;
}

/** One remote-write destination (store-and-forward: every stored sample goes, from a durable cursor). */
export interface RemoteWriteConfig {
  readonly url: string;
  /** Unique; names the durable cursor. Defaults to a hash of the URL, as in Prometheus. */
  readonly name: string;
  readonly remote_timeout: number;
  /** Extra request headers; they can never override the remote-write protocol's own. */
  readonly headers: Readonly<Record<string, string>>;
  readonly http_client_config: HTTPClientConfig;
  readonly queue_config: QueueConfig;
  /** Tried first; storewatch falls back to 1.0 when the receiver does not speak 2.0 (Prometheus's default is 1.0). */
  readonly protobuf_message: 'prometheus.WriteRequest' | 'io.prometheus.write.v2.Request';
  /** Applied to every series before it is sent (after external labels), as in Prometheus. */
  readonly write_relabel_configs: readonly RelabelConfig[];
  /** storewatch's own store-and-forward settings. */
  readonly store_and_forward: {
    /** Request bytes per second on the wire; 0 = no cap. */
    readonly bandwidth_limit: number;
    /** See RemoteSender: strict order, or live data first with the backlog filled in behind. */
    readonly catch_up: 'oldest-first' | 'live-first';
    /** Daily local-time windows ("22:00-06:00") in which a destination that is behind may send its backlog. */
    readonly backfill_windows: readonly { readonly start: number; readonly end: number }[];
  };
}

/** Limits of the local PromQL engine (/api/v1/query and the page's graphs), Prometheus's --query.* flags. */
export interface QueryConfig {
  /** Samples a query may hold in memory at once. 5 M, not Prometheus's 50 M: the appliance's heap is capped. */
  readonly max_samples: number;
  readonly timeout: number;
  readonly lookback_delta: number;
}

/** The whole validated configuration. */
export interface Config {
  readonly global: GlobalConfig;
  readonly scrape_configs: readonly ScrapeConfig[];
  readonly remote_write: readonly RemoteWriteConfig[];
  /** Where the store's inventory comes from; absent: only the scrape_configs of this file are monitored. */
  readonly netbox?: NetboxConfig;
  /** SNMP credentials and snmp_exporter module files (their texts read at load, so reloads pick up edits). */
  readonly snmp: SnmpConfig & {
    readonly module_texts: readonly { readonly path: string; readonly text: string }[];
  };
  readonly query: QueryConfig;
  readonly storage: StorageConfig;
  readonly web: WebConfig;
  readonly host: HostConfig;
}

// ---------------------------------------------------------------------------------------------------------------
// The schema for the YAML as written. It checks types and local rules; defaults, inheritance from `global`,
// rules across jobs and reading secret files happen in load.ts, which needs the whole tree and the file reader.
// ---------------------------------------------------------------------------------------------------------------

// A present key whose feature does not exist yet fails loudly instead of being ignored. Because the schema is
// optional, an absent key is skipped, while a present key runs it even when its YAML value is empty.
const notSupported = z
  .unknown()
  .optional()
  .refine(() => false, { error: 'not supported yet' });
function unsupported<const K extends string>(...keys: K[]): Record<K, typeof notSupported> {
  return Object.fromEntries(keys.map((k) => [k, notSupported])) as Record<K, typeof notSupported>;
}
/** Unknown keys matching this are Prometheus service discovery mechanisms: "not supported yet", not "unknown". */
export const UNSUPPORTED_KEY_RE = /_sd_configs$/;

// YAML turns `store: 42` into a number; Prometheus (Go's yaml.v2) reads such scalars into string fields as
// written, so string fields accept them. The YAML loader keeps the written text for non-canonical numbers.
const str = z.preprocess(
  (v) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : v),
  z.string(),
);
const nonEmpty = str.refine((s) => s !== '', { error: 'must not be empty' });
const bool = z.boolean();
const limit = z.int({ error: 'expected a whole number' }).nonnegative({ error: 'must not be negative' });

function converted<T>(convert: (v: unknown) => T) {
  return z.unknown().transform((v, ctx) => {
    try {
      return convert(v);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: e instanceof Error ? e.message : String(e) });
      return z.NEVER;
    }
  });
}
const duration = converted((v) => {
  if (typeof v === 'number') return parseDuration(String(v));
  if (typeof v !== 'string') throw new TypeError(`expected a duration such as "15s", got ${kindOf(v)}`);
  return parseDuration(v);
});
const positiveDuration = duration.refine((ms) => ms > 0, { error: 'must be greater than 0' });
const byteSize = converted((v) => {
  if (typeof v !== 'number' && typeof v !== 'string') {
    throw new TypeError(`expected a size such as "10MB", got ${kindOf(v)}`);
  }
  return parseByteSize(v);
});

/** A short name for the type of a YAML value, for messages that must not print the value itself. */
export function kindOf(v: unknown): string {
  if (v === undefined || v === null) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `a ${typeof v}`;
}

/** Why a label name is unusable in a config file, or undefined when it is fine. */
export function labelNameProblem(name: string): string | undefined {
  if (!LABEL_NAME_RE.test(name)) {
    return `invalid label name ${JSON.stringify(name)}: must match [a-zA-Z_][a-zA-Z0-9_]*`;
  }
  if (name.startsWith('__'))
    return `label name ${JSON.stringify(name)} is reserved: names starting with "__"`;
  return undefined;
}
const labelName = z.string().superRefine((n, ctx) => {
  const problem = labelNameProblem(n);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});
// zod drops a "__proto__" key from records to keep the result's prototype intact; say so instead of losing it.
function record<K extends z.ZodType<string>, V extends z.ZodType>(key: K, value: V) {
  return z.preprocess(
    (v, ctx) => {
      if (typeof v === 'object' && v !== null && Object.hasOwn(v, '__proto__')) {
        ctx.addIssue({ code: 'custom', path: ['__proto__'], message: 'key "__proto__" is not allowed' });
      }
      return v;
    },
    z.record(key, value),
  );
}
const labelSet = record(labelName, str);

const HOST_PORT_RE = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]*):(\d{1,5})$/;

/** Why a static target is unusable, or undefined when it is a proper "host:port". */
export function targetProblem(t: string): string | undefined {
  const q = JSON.stringify(t);
  if (t === '') return 'target must not be empty';
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(t)) {
    return `target ${q} must not include a scheme; write host:port and set the job's scheme`;
  }
  if (t.includes('/')) return `target ${q} must not include a path; write host:port and set metrics_path`;
  const m = HOST_PORT_RE.exec(t);
  if (m === null || m[1] === '') {
    return `target ${q} is not host:port (IPv6 hosts go in brackets: [::1]:9100)`;
  }
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return `target ${q} has port ${port} outside 1-65535`;
  return undefined;
}
const target = str.superRefine((t, ctx) => {
  const problem = targetProblem(t);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

const listenAddress = str.superRefine((a, ctx) => {
  const m = HOST_PORT_RE.exec(a);
  if (m === null || Number(m[2]) > 65535) {
    ctx.addIssue({
      code: 'custom',
      message: `listen address ${JSON.stringify(a)} is not host:port or :port`,
    });
  }
});

type Ctx = z.RefinementCtx;
function exclusive(ctx: Ctx, obj: Readonly<Record<string, unknown>>, a: string, b: string): void {
  // Prometheus treats empty strings as unset, so only two non-empty values conflict.
  if (obj[a] && obj[b])
    ctx.addIssue({ code: 'custom', path: [b], message: `at most one of ${a} and ${b} may be set` });
}

const TLS_VERSIONS = ['TLS10', 'TLS11', 'TLS12', 'TLS13'] as const satisfies readonly TLSVersion[];
const tlsVersion = z.enum(TLS_VERSIONS);

const tlsConfigSchema = z
  .strictObject({
    ca: str.optional(),
    ca_file: str.optional(),
    cert: str.optional(),
    cert_file: str.optional(),
    key: str.optional(),
    key_file: str.optional(),
    server_name: str.optional(),
    insecure_skip_verify: bool.optional(),
    min_version: tlsVersion.optional(),
    max_version: tlsVersion.optional(),
    ...unsupported('ca_ref', 'cert_ref', 'key_ref'),
  })
  .superRefine((t, ctx) => {
    exclusive(ctx, t, 'ca', 'ca_file');
    exclusive(ctx, t, 'cert', 'cert_file');
    exclusive(ctx, t, 'key', 'key_file');
    if (Boolean(t.cert || t.cert_file) !== Boolean(t.key || t.key_file)) {
      ctx.addIssue({
        code: 'custom',
        message: 'a client certificate (cert/cert_file) needs a key (key/key_file)',
      });
    }
    if (t.min_version && t.max_version && t.min_version > t.max_version) {
      ctx.addIssue({
        code: 'custom',
        path: ['max_version'],
        message: 'max_version is lower than min_version',
      });
    }
  });

const basicAuthSchema = z
  .strictObject({
    username: str.optional(),
    username_file: str.optional(),
    password: str.optional(),
    password_file: str.optional(),
    ...unsupported('username_ref', 'password_ref'),
  })
  .superRefine((b, ctx) => {
    exclusive(ctx, b, 'username', 'username_file');
    exclusive(ctx, b, 'password', 'password_file');
  });

const authorizationSchema = z
  .strictObject({
    type: str.optional(),
    credentials: str.optional(),
    credentials_file: str.optional(),
    ...unsupported('credentials_ref'),
  })
  .superRefine((a, ctx) => {
    exclusive(ctx, a, 'credentials', 'credentials_file');
    if (a.type?.toLowerCase() === 'basic') {
      ctx.addIssue({
        code: 'custom',
        path: ['type'],
        message: 'type cannot be "Basic"; use basic_auth instead',
      });
    }
  });

/** Scrape jobs and remote-write destinations take basic_auth or authorization, not both (as in Prometheus). */
function oneAuthMethod(c: { basic_auth?: unknown; authorization?: unknown }, ctx: z.RefinementCtx): void {
  if (c.basic_auth && c.authorization) {
    ctx.addIssue({
      code: 'custom',
      path: ['authorization'],
      message: 'at most one of basic_auth and authorization may be set',
    });
  }
}

const RELABEL_ACTIONS = [
  'replace',
  'keep',
  'drop',
  'keepequal',
  'dropequal',
  'hashmod',
  'labelmap',
  'labeldrop',
  'labelkeep',
  'lowercase',
  'uppercase',
] as const;
const TARGET_LABEL_RE = /^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$/;

/** One relabel rule, checked as Prometheus's relabel.Config.Validate checks it; defaults applied. */
const relabelConfigSchema = z
  .strictObject({
    source_labels: z.array(str).optional(),
    separator: z.string().optional(),
    regex: z.string().optional(),
    modulus: limit.optional(),
    target_label: z.string().optional(),
    replacement: z.string().optional(),
    action: z.enum(RELABEL_ACTIONS).optional(),
  })
  .transform((r, ctx): RelabelConfig => {
    const action = r.action ?? 'replace';
    const out: RelabelConfig = {
      source_labels: r.source_labels ?? [],
      separator: r.separator ?? ';',
      regex: r.regex ?? '(.*)',
      modulus: r.modulus ?? 0,
      target_label: r.target_label ?? '',
      replacement: r.replacement ?? '$1',
      action,
    };
    try {
      new RegExp(`^(?:${out.regex})$`, 'su');
    } catch (err) {
      ctx.addIssue({
        code: 'custom',
        path: ['regex'],
        message: `invalid regular expression: ${(err as Error).message}`,
      });
    }
    const needsTarget = ['replace', 'hashmod', 'lowercase', 'uppercase', 'keepequal', 'dropequal'].includes(
      action,
    );
    if (needsTarget && out.target_label === '') {
      ctx.addIssue({
        code: 'custom',
        path: ['target_label'],
        message: `relabel configuration for ${action} action requires 'target_label' value`,
      });
    }
    if (action === 'replace' && out.target_label !== '' && !TARGET_LABEL_RE.test(out.target_label)) {
      ctx.addIssue({
        code: 'custom',
        path: ['target_label'],
        message: `${JSON.stringify(out.target_label)} is invalid 'target_label' for replace action`,
      });
    }
    if (action === 'hashmod' && out.modulus === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['modulus'],
        message: 'relabel configuration for hashmod requires non-zero modulus',
      });
    }
    return out;
  });
const relabelConfigs = z.array(relabelConfigSchema);

/** The `netbox:` section (appliance/config/netbox.ts), sharing the relabel rules of scrape jobs. */
export const netboxSchema = netboxSchemaWith(relabelConfigs);

const staticConfigSchema = z.strictObject({
  targets: z.array(target).optional(),
  labels: labelSet.optional(),
});

const limits = {
  sample_limit: limit.optional(),
  label_limit: limit.optional(),
  label_name_length_limit: limit.optional(),
  label_value_length_limit: limit.optional(),
  body_size_limit: byteSize.optional(),
  target_limit: limit.optional(),
};

export const scrapeConfigSchema = z
  .strictObject({
    job_name: nonEmpty,
    scrape_interval: duration.optional(),
    scrape_timeout: duration.optional(),
    metrics_path: str.refine((p) => p.startsWith('/'), { error: 'must start with "/"' }).optional(),
    scheme: z.enum(['http', 'https']).optional(),
    params: record(z.string(), z.array(str)).optional(),
    honor_labels: bool.optional(),
    honor_timestamps: bool.optional(),
    track_timestamps_staleness: bool.optional(),
    ...limits,
    follow_redirects: bool.optional(),
    enable_http2: bool.optional(),
    basic_auth: basicAuthSchema.optional(),
    authorization: authorizationSchema.optional(),
    tls_config: tlsConfigSchema.optional(),
    static_configs: z.array(staticConfigSchema).optional(),
    relabel_configs: relabelConfigs.optional(),
    metric_relabel_configs: relabelConfigs.optional(),
    collector: z.enum(['http', 'snmp', 'probe']).optional(),
    ...unsupported(
      'proxy_url',
      'no_proxy',
      'proxy_from_environment',
      'proxy_connect_header',
      'http_headers',
      'oauth2',
      'bearer_token',
      'bearer_token_file',
      'scrape_protocols',
      'fallback_scrape_protocol',
      'enable_compression',
      'scrape_failure_log_file',
      'keep_dropped_targets',
      'metric_name_validation_scheme',
      'metric_name_escaping_scheme',
      'scrape_classic_histograms',
      'always_scrape_classic_histograms',
      'scrape_native_histograms',
      'convert_classic_histograms_to_nhcb',
      'native_histogram_bucket_limit',
      'native_histogram_min_bucket_factor',
    ),
  })
  .superRefine(oneAuthMethod);

export const globalSchema = z.strictObject({
  scrape_interval: duration.optional(),
  scrape_timeout: duration.optional(),
  external_labels: labelSet.optional(),
  ...limits,
  ...unsupported(
    'evaluation_interval',
    'rule_query_offset',
    'query_log_file',
    'scrape_failure_log_file',
    'scrape_protocols',
    'keep_dropped_targets',
    'metric_name_validation_scheme',
    'metric_name_escaping_scheme',
    'always_scrape_classic_histograms',
    'scrape_native_histograms',
    'convert_classic_histograms_to_nhcb',
  ),
});

export const storageSchema = z.strictObject({
  path: nonEmpty.optional(),
  retention: z
    .strictObject({
      time: duration.optional(),
      size: byteSize.optional(),
      priorities: z
        .array(
          z.strictObject({
            match: record(
              z.string(),
              str.superRefine((re, ctx) => {
                try {
                  new RegExp(`^(?:${re})$`, 'su');
                } catch (err) {
                  ctx.addIssue({
                    code: 'custom',
                    message: `invalid regular expression: ${(err as Error).message}`,
                  });
                }
              }),
            ),
            priority: limit,
          }),
        )
        .optional(),
    })
    .optional(),
  // Prometheus's own top-level `storage` section has these; say so rather than calling them unknown.
  ...unsupported('tsdb', 'exemplars'),
});

export const webSchema = z.strictObject({ listen_address: listenAddress.optional() });

export const hostSchema = z.strictObject({
  enabled: bool.optional(),
  scrape_interval: positiveDuration.optional(),
});

export const querySchema = z.strictObject({
  max_samples: z
    .int({ error: 'expected a whole number' })
    .positive({ error: 'must be greater than 0' })
    .optional(),
  timeout: positiveDuration.optional(),
  lookback_delta: positiveDuration.optional(),
});

const httpUrl = str.superRefine((u, ctx) => {
  let parsed: URL | undefined;
  try {
    parsed = new URL(u);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    ctx.addIssue({ code: 'custom', message: `url ${JSON.stringify(u)} is not an http or https URL` });
  }
});

const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]|24):([0-5]\d)$/;
/** "HH:MM-HH:MM" in local time, as minutes since midnight; an end before the start wraps past midnight. */
const dailyWindow = str.transform((w, ctx) => {
  const m = HH_MM.exec(w);
  const start = m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
  const end = m ? Number(m[3]) * 60 + Number(m[4]) : NaN;
  if (!m || end > 1440 || start === end) {
    ctx.addIssue({
      code: 'custom',
      message: `window ${JSON.stringify(w)} is not "HH:MM-HH:MM" (local time, e.g. "22:00-06:00")`,
    });
    return z.NEVER;
  }
  return { start, end };
});

export const remoteWriteSchema = z
  .strictObject({
    url: httpUrl,
    name: nonEmpty.optional(),
    remote_timeout: positiveDuration.optional(),
    headers: record(str, str).optional(),
    basic_auth: basicAuthSchema.optional(),
    authorization: authorizationSchema.optional(),
    tls_config: tlsConfigSchema.optional(),
    follow_redirects: bool.optional(),
    enable_http2: bool.optional(),
    protobuf_message: z.enum(['prometheus.WriteRequest', 'io.prometheus.write.v2.Request']).optional(),
    queue_config: z
      .strictObject({
        max_samples_per_send: limit.refine((n) => n > 0, { error: 'must be greater than 0' }).optional(),
        batch_send_deadline: positiveDuration.optional(),
        min_backoff: positiveDuration.optional(),
        max_backoff: positiveDuration.optional(),
        retry_on_http_429: bool.optional(),
        sample_age_limit: duration.optional(),
        // Sharding and capacity tune Prometheus's in-memory queue; storewatch reads from disk instead.
        capacity: limit.optional(),
        min_shards: limit.optional(),
        max_shards: limit.optional(),
      })
      .optional(),
    write_relabel_configs: relabelConfigs.optional(),
    store_and_forward: z
      .strictObject({
        bandwidth_limit: byteSize.optional(),
        catch_up: z.enum(['oldest-first', 'live-first']).optional(),
        backfill_windows: z.array(dailyWindow).optional(),
      })
      .optional(),
    ...unsupported(
      'metadata_config',
      'send_exemplars',
      'send_native_histograms',
      'round_robin_dns',
      'sigv4',
      'azuread',
      'google_iam',
      'oauth2',
      'bearer_token',
      'bearer_token_file',
      'proxy_url',
      'no_proxy',
      'proxy_from_environment',
      'proxy_connect_header',
      'http_headers',
    ),
  })
  .superRefine(oneAuthMethod);

/** The one schema for the whole file. */
export const configSchema = z.strictObject({
  global: globalSchema.optional(),
  scrape_configs: z.array(scrapeConfigSchema).optional(),
  remote_write: z.array(remoteWriteSchema).optional(),
  netbox: netboxSchema.optional(),
  snmp: snmpSchema.optional(),
  query: querySchema.optional(),
  storage: storageSchema.optional(),
  web: webSchema.optional(),
  host: hostSchema.optional(),
  ...unsupported(
    'rule_files',
    'scrape_config_files',
    'alerting',
    'remote_read',
    'tracing',
    'otlp',
    'runtime',
  ),
});

export type RawScrapeConfig = z.output<typeof scrapeConfigSchema>;
export type RawRemoteWriteConfig = z.output<typeof remoteWriteSchema>;
export type RawGlobalConfig = z.output<typeof globalSchema>;
