// The `netbox:` section of the configuration file: where the store's inventory comes from, which devices become
// which monitoring intents (profiles), and what the appliance may ever contact. Like schema.ts this module holds
// the typed tree, the zod schema for the YAML as written, and the builder that applies the named defaults and
// reads the token file; load.ts calls buildNetboxConfig from its own build step with its file reader.

import { z } from 'zod';
import type { RelabelConfig } from '../model/relabel.ts';
import { parseDuration } from './duration.ts';

// ---------------------------------------------------------------------------------------------------------------
// The typed tree (resolved: defaults applied, durations in milliseconds, the token read from its file).
// ---------------------------------------------------------------------------------------------------------------

/** A Prometheus scrape of an exporter on the device. */
export interface PrometheusIntent {
  readonly port: number;
  readonly path: string;
  readonly scheme: 'http' | 'https';
  /** Milliseconds; 0 means the scrape job's (or global) default. */
  readonly interval: number;
  /** Milliseconds; 0 means the scrape job's (or global) default. */
  readonly timeout: number;
  readonly relabel_configs: readonly RelabelConfig[];
  readonly metric_relabel_configs: readonly RelabelConfig[];
}

/** An SNMP walk of the device by the SNMP collector (modules as in snmp_exporter's generator). */
export interface SnmpIntent {
  readonly port: number;
  readonly modules: readonly string[];
  /** Name of a credential in the appliance's local secret store; never the secret itself. */
  readonly auth: string;
  readonly interval: number;
  readonly timeout: number;
  readonly relabel_configs: readonly RelabelConfig[];
  readonly metric_relabel_configs: readonly RelabelConfig[];
}

/** A TCP connect to a port: the device is reachable. */
export interface ProbeIntent {
  readonly port: number;
  readonly interval: number;
  readonly timeout: number;
  readonly relabel_configs: readonly RelabelConfig[];
  readonly metric_relabel_configs: readonly RelabelConfig[];
}

/**
 * Which devices a profile takes. Every criterion that is set must hold: the role slug is one of `roles`, the
 * platform slug one of `platforms`, the device carries every tag slug in `tags`, and each custom field equals
 * the given value. A profile without criteria matches nothing (so a typo cannot monitor the whole store).
 */
export interface ProfileMatch {
  readonly roles: readonly string[];
  readonly platforms: readonly string[];
  readonly tags: readonly string[];
  readonly custom_fields: Readonly<Record<string, string | number | boolean>>;
}

/** A monitoring profile: devices it matches get each intent it defines. */
export interface NetboxProfile {
  /** Unique; also the job name of its Prometheus intent ("<name>-snmp", "<name>-probe" for the others). */
  readonly name: string;
  readonly match: ProfileMatch;
  readonly prometheus?: PrometheusIntent;
  readonly snmp?: SnmpIntent;
  readonly probe?: ProbeIntent;
}

export interface NetboxTLSConfig {
  /** PEM CA bundle (read from ca_file); absent means the system roots. */
  readonly ca?: string;
  readonly server_name?: string;
  readonly insecure_skip_verify: boolean;
}

export interface NetboxConfig {
  /** Base URL of NetBox, without /api (e.g. "https://netbox.example.com"). */
  readonly url: string;
  /** The API token (v1 or v2 "nbt_..."), read from token_file. A secret: never log or show it. */
  readonly token: string;
  /** The store: a site slug, or a numeric site id. */
  readonly site: string;
  /** Device statuses that are monitored; others are reported as not monitored. */
  readonly statuses: readonly string[];
  /** Tag slugs a device must all carry to be considered (NetBox ANDs repeated tag filters). */
  readonly tags: readonly string[];
  readonly tls_config: NetboxTLSConfig;
  /** Milliseconds between full reconciles (which catch deletions and config context changes). */
  readonly full_sync_interval: number;
  /** Milliseconds between incremental syncs. */
  readonly sync_interval: number;
  /** Milliseconds per request. */
  readonly timeout: number;
  readonly page_size: number;
  /** Requests per second to NetBox (it has no rate limiting of its own). */
  readonly rate_limit: number;
  /** Extra attempts per request after a retryable failure. */
  readonly retries: number;
  /** Bytes; a larger response body is refused. */
  readonly max_response_size: number;
  /** CIDRs targets must fall in. Link-local and cloud-metadata addresses are refused whatever this says. */
  readonly allowed_networks: readonly string[];
  /** Custom fields copied into `__meta_netbox_custom_field_<name>` labels. */
  readonly custom_field_labels: readonly string[];
  readonly profiles: readonly NetboxProfile[];
}

// ---------------------------------------------------------------------------------------------------------------
// Named defaults.
// ---------------------------------------------------------------------------------------------------------------

export const DEFAULT_NETBOX_STATUSES: readonly string[] = ['active'];
export const DEFAULT_NETBOX_FULL_SYNC_INTERVAL_MS = 60 * 60 * 1000;
export const DEFAULT_NETBOX_SYNC_INTERVAL_MS = 5 * 60 * 1000;
export const DEFAULT_NETBOX_TIMEOUT_MS = 30_000;
/** NetBox's MAX_PAGE_SIZE default is 1000; 500 keeps each page well under proxy timeouts. */
export const DEFAULT_NETBOX_PAGE_SIZE = 500;
export const MAX_NETBOX_PAGE_SIZE = 1000;
export const DEFAULT_NETBOX_RATE_LIMIT = 5;
export const DEFAULT_NETBOX_RETRIES = 3;
export const DEFAULT_NETBOX_MAX_RESPONSE_SIZE = 64 * 1024 * 1024;
/** Private ranges (RFC 1918), shared address space (RFC 6598) and IPv6 unique-local. Loopback only if listed. */
export const DEFAULT_ALLOWED_NETWORKS: readonly string[] = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  'fc00::/7',
];
export const DEFAULT_NODE_EXPORTER_PORT = 9100;
export const DEFAULT_SNMP_PORT = 161;
export const DEFAULT_SNMP_AUTH = 'public_v2';

function intentRelabel(): Pick<PrometheusIntent, 'relabel_configs' | 'metric_relabel_configs'> {
  return { relabel_configs: [], metric_relabel_configs: [] };
}
function snmpProfile(name: string, roles: string[], modules: string[]): NetboxProfile {
  return {
    name,
    match: { roles, platforms: [], tags: [], custom_fields: {} },
    snmp: {
      port: DEFAULT_SNMP_PORT,
      modules,
      auth: DEFAULT_SNMP_AUTH,
      interval: 0,
      timeout: 0,
      ...intentRelabel(),
    },
  };
}

/** The profiles used when the section has no `profiles` key: the usual devices of a store. */
/** The scrape job of a profile's intent: the profile's name for its Prometheus scrape, `<name>-snmp`, `<name>-probe`. */
export function profileJobName(profile: string, kind: 'prometheus' | 'snmp' | 'probe'): string {
  return kind === 'prometheus' ? profile : `${profile}-${kind}`;
}

/** Every job name a profile may create (whether or not it has that intent). */
export function profileJobNames(p: Pick<NetboxProfile, 'name'>): string[] {
  return [
    profileJobName(p.name, 'prometheus'),
    profileJobName(p.name, 'snmp'),
    profileJobName(p.name, 'probe'),
  ];
}

export function defaultProfiles(): NetboxProfile[] {
  return [
    {
      name: 'pos-terminal',
      match: { roles: ['pos-terminal'], platforms: [], tags: [], custom_fields: {} },
      prometheus: {
        port: DEFAULT_NODE_EXPORTER_PORT,
        path: '/metrics',
        scheme: 'http',
        interval: 0,
        timeout: 0,
        ...intentRelabel(),
      },
      probe: { port: DEFAULT_NODE_EXPORTER_PORT, interval: 0, timeout: 0, ...intentRelabel() },
    },
    snmpProfile('network', ['switch', 'router', 'access-point'], ['if_mib', 'system']),
    snmpProfile('printer', ['printer'], ['printer']),
    snmpProfile('ups', ['ups'], ['ups']),
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// The schema for the YAML as written.
// ---------------------------------------------------------------------------------------------------------------

const str = z.preprocess(
  (v) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : v),
  z.string(),
);
const bool = z.boolean();
const port = z
  .int({ error: 'expected a port number' })
  .min(1, { error: 'port must be 1-65535' })
  .max(65535, { error: 'port must be 1-65535' });
const duration = z.unknown().transform((v, ctx) => {
  try {
    if (typeof v === 'number') return parseDuration(String(v));
    if (typeof v !== 'string') throw new TypeError(`expected a duration such as "15s", got ${kindOf(v)}`);
    return parseDuration(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: e instanceof Error ? e.message : String(e) });
    return z.NEVER;
  }
});
const positiveDuration = duration.refine((ms) => ms > 0, { error: 'must be greater than 0' });
// schema.ts imports this module to mount the section, so this module must not import schema.ts at run time
// (an import cycle would meet an uninitialised const). The relabel rule list schema therefore comes in as an
// argument of netboxSchemaWith, and kindOf is repeated here.
function kindOf(v: unknown): string {
  if (v === undefined || v === null) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `a ${typeof v}`;
}
/** Slugs and names that end up in job names and request parameters: no spaces, slashes or controls. */
const SLUG_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const slug = str.refine((s) => SLUG_RE.test(s), {
  error: 'must be 1-100 letters, digits, "_", "." or "-", starting with a letter or digit',
});
const CF_NAME_RE = /^[a-z0-9_]{1,50}$/;
const cfName = z.string().refine((s) => CF_NAME_RE.test(s), {
  error: 'custom field names are lowercase letters, digits and "_" (at most 50)',
});

/** Parses "a.b.c.d/len" or "ipv6/len"; returns a message when it is not a CIDR. */
export function cidrProblem(cidr: string): string | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(cidr);
  const q = JSON.stringify(cidr);
  if (!m) return `${q} is not a CIDR such as 10.0.0.0/8`;
  const addr = m[1]!;
  const len = Number(m[2]);
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(addr);
  if (v4) {
    if (v4.slice(1).some((o) => Number(o) > 255)) return `${q} has an octet above 255`;
    if (len > 32) return `${q} has a prefix length above 32`;
    return undefined;
  }
  if (/^[0-9A-Fa-f:.]+$/.test(addr) && addr.includes(':') && URL.canParse(`http://[${addr}]/`)) {
    if (len > 128) return `${q} has a prefix length above 128`;
    return undefined;
  }
  return `${q} is not a CIDR such as 10.0.0.0/8`;
}
const cidr = str.superRefine((c, ctx) => {
  const p = cidrProblem(c);
  if (p !== undefined) ctx.addIssue({ code: 'custom', message: p });
});

/** The list schema of relabel rules (schema.ts's `relabelConfigs`, also `scrapeConfigSchema.shape.relabel_configs`). */
export type RelabelConfigsSchema = z.ZodType<RelabelConfig[]>;

/**
 * The `netbox:` section as written, given the relabel rule list schema of schema.ts, so that profiles check
 * relabel_configs exactly as scrape configs do. schema.ts mounts it as `netbox: netboxSchemaWith(relabelConfigs)`.
 */
export function netboxSchemaWith(relabelConfigs: RelabelConfigsSchema) {
  const common = {
    interval: positiveDuration.optional(),
    timeout: positiveDuration.optional(),
    relabel_configs: relabelConfigs.optional(),
    metric_relabel_configs: relabelConfigs.optional(),
  };
  const prometheusIntentSchema = z.strictObject({
    port: port.optional(),
    path: str.refine((p) => p.startsWith('/'), { error: 'must start with "/"' }).optional(),
    scheme: z.enum(['http', 'https']).optional(),
    ...common,
  });
  const snmpIntentSchema = z.strictObject({
    port: port.optional(),
    modules: z.array(slug).min(1, { error: 'name at least one module' }),
    auth: slug.optional(),
    ...common,
  });
  const probeIntentSchema = z.strictObject({ port, ...common });

  const profileSchema = z
    .strictObject({
      name: slug,
      match: z.strictObject({
        roles: z.array(slug).optional(),
        platforms: z.array(slug).optional(),
        tags: z.array(slug).optional(),
        custom_fields: z.record(cfName, z.union([z.string(), z.number(), z.boolean()])).optional(),
      }),
      prometheus: prometheusIntentSchema.optional(),
      snmp: snmpIntentSchema.optional(),
      probe: probeIntentSchema.optional(),
    })
    .superRefine((p, ctx) => {
      const m = p.match;
      const criteria =
        (m.roles?.length ?? 0) +
        (m.platforms?.length ?? 0) +
        (m.tags?.length ?? 0) +
        Object.keys(m.custom_fields ?? {}).length;
      if (criteria === 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['match'],
          message: 'a profile needs at least one of roles, platforms, tags or custom_fields',
        });
      }
      if (!p.prometheus && !p.snmp && !p.probe) {
        ctx.addIssue({
          code: 'custom',
          message: 'a profile needs at least one of prometheus, snmp or probe',
        });
      }
    });

  const netboxUrl = str.superRefine((u, ctx) => {
    let parsed: URL | undefined;
    try {
      parsed = new URL(u);
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      ctx.addIssue({ code: 'custom', message: `url ${JSON.stringify(u)} is not an http or https URL` });
    } else if (parsed.username || parsed.password) {
      ctx.addIssue({ code: 'custom', message: 'url must not carry credentials; use token_file' });
    } else if (parsed.search || parsed.hash) {
      ctx.addIssue({ code: 'custom', message: 'url must not carry a query or fragment' });
    }
  });

  const netboxSchema = z
    .strictObject({
      url: netboxUrl,
      token: str.optional(),
      token_file: str.optional(),
      site: slug,
      statuses: z.array(slug).optional(),
      tags: z.array(slug).optional(),
      tls_config: z
        .strictObject({
          ca_file: str.optional(),
          server_name: str.optional(),
          insecure_skip_verify: bool.optional(),
        })
        .optional(),
      full_sync_interval: positiveDuration.optional(),
      sync_interval: positiveDuration.optional(),
      timeout: positiveDuration.optional(),
      page_size: z
        .int({ error: 'expected a whole number' })
        .min(1, { error: 'must be at least 1' })
        .max(MAX_NETBOX_PAGE_SIZE, { error: `NetBox caps pages at ${MAX_NETBOX_PAGE_SIZE}` })
        .optional(),
      rate_limit: z.number().positive({ error: 'must be greater than 0' }).optional(),
      retries: z.int().min(0).max(10).optional(),
      max_response_size: z.int().positive().optional(),
      allowed_networks: z.array(cidr).optional(),
      custom_field_labels: z.array(cfName).optional(),
      profiles: z.array(profileSchema).optional(),
    })
    .superRefine((n, ctx) => {
      if (n.token && n.token_file) {
        ctx.addIssue({
          code: 'custom',
          path: ['token_file'],
          message: 'at most one of token and token_file may be set',
        });
      }
      if (!n.token && !n.token_file) {
        ctx.addIssue({
          code: 'custom',
          path: ['token_file'],
          message: 'set token_file (or token, for trials)',
        });
      }
      const seen = new Map<string, number>();
      (n.profiles ?? []).forEach((p, i) => {
        const first = seen.get(p.name);
        if (first === undefined) seen.set(p.name, i);
        else
          ctx.addIssue({
            code: 'custom',
            path: ['profiles', i, 'name'],
            message: `duplicate profile name ${JSON.stringify(p.name)} (first in profiles[${first}])`,
          });
      });
      if (n.sync_interval && n.full_sync_interval && n.sync_interval > n.full_sync_interval) {
        ctx.addIssue({
          code: 'custom',
          path: ['sync_interval'],
          message: 'sync_interval is greater than full_sync_interval',
        });
      }
    });
  return netboxSchema;
}

export type RawNetboxConfig = z.output<ReturnType<typeof netboxSchemaWith>>;

/** Reads a file named in the config (resolved by the caller against the config's directory); "" on failure. */
export type NetboxFileReader = (file: string, path: readonly (string | number)[], trim: boolean) => string;

function intentCommon(raw: {
  interval?: number | undefined;
  timeout?: number | undefined;
  relabel_configs?: RelabelConfig[] | undefined;
  metric_relabel_configs?: RelabelConfig[] | undefined;
}) {
  return {
    interval: raw.interval ?? 0,
    timeout: raw.timeout ?? 0,
    relabel_configs: raw.relabel_configs ?? [],
    metric_relabel_configs: raw.metric_relabel_configs ?? [],
  };
}

/**
 * Builds the typed section from a parsed one: applies the defaults and reads token_file and tls_config.ca_file
 * through `read` (paths reported relative to `at`, e.g. ['netbox']). It takes a partial section, as load.ts's
 * field-by-field parse gives when some fields failed (that tree is discarded, but building it must not throw).
 */
export function buildNetboxConfig(
  raw: Partial<RawNetboxConfig>,
  at: readonly (string | number)[],
  read: NetboxFileReader,
): NetboxConfig {
  const tls = raw.tls_config ?? {};
  const ca = tls.ca_file ? read(tls.ca_file, [...at, 'tls_config', 'ca_file'], false) : undefined;
  const token = raw.token_file ? read(raw.token_file, [...at, 'token_file'], true) : (raw.token ?? '');
  return {
    url: (raw.url ?? '').replace(/\/+$/, '').replace(/\/api$/, ''),
    token,
    site: raw.site ?? '',
    statuses: raw.statuses ?? DEFAULT_NETBOX_STATUSES,
    tags: raw.tags ?? [],
    tls_config: {
      ...(ca ? { ca } : {}),
      ...(tls.server_name ? { server_name: tls.server_name } : {}),
      insecure_skip_verify: tls.insecure_skip_verify ?? false,
    },
    full_sync_interval: raw.full_sync_interval ?? DEFAULT_NETBOX_FULL_SYNC_INTERVAL_MS,
    sync_interval: raw.sync_interval ?? DEFAULT_NETBOX_SYNC_INTERVAL_MS,
    timeout: raw.timeout ?? DEFAULT_NETBOX_TIMEOUT_MS,
    page_size: raw.page_size ?? DEFAULT_NETBOX_PAGE_SIZE,
    rate_limit: raw.rate_limit ?? DEFAULT_NETBOX_RATE_LIMIT,
    retries: raw.retries ?? DEFAULT_NETBOX_RETRIES,
    max_response_size: raw.max_response_size ?? DEFAULT_NETBOX_MAX_RESPONSE_SIZE,
    allowed_networks: raw.allowed_networks ?? DEFAULT_ALLOWED_NETWORKS,
    custom_field_labels: raw.custom_field_labels ?? [],
    profiles:
      raw.profiles?.map((p): NetboxProfile => {
        const out: NetboxProfile = {
          name: p.name,
          match: {
            roles: p.match.roles ?? [],
            platforms: p.match.platforms ?? [],
            tags: p.match.tags ?? [],
            custom_fields: p.match.custom_fields ?? {},
          },
          ...(p.prometheus && {
            prometheus: {
              port: p.prometheus.port ?? DEFAULT_NODE_EXPORTER_PORT,
              path: p.prometheus.path ?? '/metrics',
              scheme: p.prometheus.scheme ?? 'http',
              ...intentCommon(p.prometheus),
            },
          }),
          ...(p.snmp && {
            snmp: {
              port: p.snmp.port ?? DEFAULT_SNMP_PORT,
              modules: p.snmp.modules,
              auth: p.snmp.auth ?? DEFAULT_SNMP_AUTH,
              ...intentCommon(p.snmp),
            },
          }),
          ...(p.probe && { probe: { port: p.probe.port, ...intentCommon(p.probe) } }),
        };
        return out;
      }) ?? defaultProfiles(),
  };
}
