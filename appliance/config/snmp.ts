// The `snmp:` section of the configuration file: which snmp_exporter module files to load, the credentials
// (snmp_exporter 0.23+ `auths:` shape) and the collector's bounds. Like schema.ts this module holds the typed
// tree, the zod schema for the YAML as written, and the builder that applies defaults. The same auth schema
// validates `auths:` inside module files (appliance/snmp/module.ts), so both places accept exactly one shape.

import { z } from 'zod';
import { parseDuration } from './duration.ts';

// ---------------------------------------------------------------------------------------------------------------
// The typed tree.
// ---------------------------------------------------------------------------------------------------------------

export type SnmpVersion = 1 | 2 | 3;
export type SnmpSecurityLevel = 'noAuthNoPriv' | 'authNoPriv' | 'authPriv';
/** snmp_exporter's names; all of them map onto net-snmp's AuthProtocols. */
export type SnmpAuthProtocol = 'MD5' | 'SHA' | 'SHA224' | 'SHA256' | 'SHA384' | 'SHA512';
/**
 * snmp_exporter's names that net-snmp supports: AES is AES-128 (RFC 3826), AES256 is AES-256 with Blumenthal
 * key localisation and AES256C with Reeder (Cisco) key localisation. AES192 and AES192C are refused (net-snmp
 * has no AES-192).
 */
export type SnmpPrivProtocol = 'DES' | 'AES' | 'AES256' | 'AES256C';

/** One set of credentials, snmp_exporter's `auths.<name>` with its defaults applied. */
export interface SnmpAuth {
  readonly version: SnmpVersion;
  /** v1/v2c only. A wrong community gets no answer at all: it looks exactly like a timeout. */
  readonly community: string;
  readonly username: string;
  readonly security_level: SnmpSecurityLevel;
  /** The authentication passphrase (secret). */
  readonly password: string;
  readonly auth_protocol: SnmpAuthProtocol;
  readonly priv_protocol: SnmpPrivProtocol;
  /** The privacy passphrase (secret). */
  readonly priv_password: string;
  readonly context_name: string;
}

/** The whole `snmp:` section, resolved. */
export interface SnmpConfig {
  /** snmp_exporter module files (generator output), read by the config edge and parsed by appliance/snmp. */
  readonly module_files: readonly string[];
  readonly auths: Readonly<Record<string, SnmpAuth>>;
  /** Walks in flight across all devices. */
  readonly max_concurrent_walks: number;
  /** Walks in flight against one device (host:port); agents on small gear fall over when asked in parallel. */
  readonly max_concurrent_walks_per_device: number;
  /** Most PDUs one walk of one subtree may return before it fails: protects against runaway tables. */
  readonly walk_limit: number;
}

/** snmp_exporter's defaults (config.DefaultAuth). */
export const DEFAULT_SNMP_AUTH: SnmpAuth = Object.freeze({
  version: 2,
  community: 'public',
  username: '',
  security_level: 'noAuthNoPriv',
  password: '',
  auth_protocol: 'MD5',
  priv_protocol: 'DES',
  priv_password: '',
  context_name: '',
});

/** The auth snmp_exporter 0.23+ uses when a request names none. */
export const DEFAULT_SNMP_AUTH_NAME = 'public_v2';

export const DEFAULT_SNMP_MAX_CONCURRENT_WALKS = 16;
export const DEFAULT_SNMP_MAX_CONCURRENT_WALKS_PER_DEVICE = 1;
export const DEFAULT_SNMP_WALK_LIMIT = 100_000;

export function defaultSnmpConfig(): SnmpConfig {
  return {
    module_files: [],
    auths: { [DEFAULT_SNMP_AUTH_NAME]: DEFAULT_SNMP_AUTH },
    max_concurrent_walks: DEFAULT_SNMP_MAX_CONCURRENT_WALKS,
    max_concurrent_walks_per_device: DEFAULT_SNMP_MAX_CONCURRENT_WALKS_PER_DEVICE,
    walk_limit: DEFAULT_SNMP_WALK_LIMIT,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The schema for the YAML as written. Messages never quote secret values.
// ---------------------------------------------------------------------------------------------------------------

// Go's yaml reads `community: 1234` into a string field as written; so do we.
const str = z.preprocess((v) => (typeof v === 'number' ? String(v) : v), z.string());

/** A snmp_exporter `auths.<name>` entry (also `auth:` inside a 0.21 module). */
export const snmpAuthSchema = z
  .strictObject({
    version: z.union([z.literal(1), z.literal(2), z.literal(3)], { error: 'must be 1, 2 or 3' }).optional(),
    community: str.optional(),
    username: str.optional(),
    security_level: z.enum(['noAuthNoPriv', 'authNoPriv', 'authPriv']).optional(),
    password: str.optional(),
    auth_protocol: z.enum(['MD5', 'SHA', 'SHA224', 'SHA256', 'SHA384', 'SHA512']).optional(),
    priv_protocol: z
      .string()
      .optional()
      .superRefine((v, ctx) => {
        if (v === undefined || ['DES', 'AES', 'AES256', 'AES256C'].includes(v)) return;
        const why = v === 'AES192' || v === 'AES192C' ? ' (net-snmp has no AES-192)' : '';
        ctx.addIssue({
          code: 'custom',
          message: `unsupported priv_protocol${why}: use DES, AES, AES256 or AES256C`,
        });
      }),
    priv_password: str.optional(),
    context_name: str.optional(),
  })
  .superRefine((a, ctx) => {
    const level = a.security_level ?? 'noAuthNoPriv';
    if ((a.version ?? 2) !== 3) return;
    if (!a.username) ctx.addIssue({ code: 'custom', path: ['username'], message: 'required for version 3' });
    if (level !== 'noAuthNoPriv' && !a.password) {
      ctx.addIssue({ code: 'custom', path: ['password'], message: `required for security_level ${level}` });
    }
    if (level === 'authPriv' && !a.priv_password) {
      ctx.addIssue({
        code: 'custom',
        path: ['priv_password'],
        message: 'required for security_level authPriv',
      });
    }
  });

export type RawSnmpAuth = z.output<typeof snmpAuthSchema>;

const positiveInt = z.int({ error: 'expected a whole number' }).positive({ error: 'must be greater than 0' });

/** The `snmp:` section. */
export const snmpSchema = z.strictObject({
  module_files: z.array(z.string().min(1, { error: 'must not be empty' })).optional(),
  auths: z.record(z.string().min(1, { error: 'auth names must not be empty' }), snmpAuthSchema).optional(),
  max_concurrent_walks: positiveInt.max(1024, { error: 'must be at most 1024' }).optional(),
  max_concurrent_walks_per_device: positiveInt.max(64, { error: 'must be at most 64' }).optional(),
  walk_limit: positiveInt.max(10_000_000, { error: 'must be at most 10000000' }).optional(),
});

export type RawSnmpConfig = z.output<typeof snmpSchema>;

/** Applies snmp_exporter's defaults to one auth entry. */
export function resolveSnmpAuth(raw: RawSnmpAuth): SnmpAuth {
  return Object.freeze({
    version: raw.version ?? DEFAULT_SNMP_AUTH.version,
    community: raw.community ?? DEFAULT_SNMP_AUTH.community,
    username: raw.username ?? '',
    security_level: raw.security_level ?? DEFAULT_SNMP_AUTH.security_level,
    password: raw.password ?? '',
    auth_protocol: raw.auth_protocol ?? DEFAULT_SNMP_AUTH.auth_protocol,
    priv_protocol: (raw.priv_protocol ?? DEFAULT_SNMP_AUTH.priv_protocol) as SnmpPrivProtocol,
    priv_password: raw.priv_password ?? '',
    context_name: raw.context_name ?? '',
  });
}

/**
 * Builds the resolved section from the validated YAML (absent section: pass undefined). `public_v2` exists
 * unless the file defines its own, as in snmp_exporter 0.23+.
 */
export function buildSnmpConfig(raw: RawSnmpConfig | undefined): SnmpConfig {
  const d = defaultSnmpConfig();
  if (raw === undefined) return d;
  const auths: Record<string, SnmpAuth> = { ...d.auths };
  for (const [name, a] of Object.entries(raw.auths ?? {})) auths[name] = resolveSnmpAuth(a);
  return {
    module_files: raw.module_files ?? [],
    auths,
    max_concurrent_walks: raw.max_concurrent_walks ?? d.max_concurrent_walks,
    max_concurrent_walks_per_device: raw.max_concurrent_walks_per_device ?? d.max_concurrent_walks_per_device,
    walk_limit: raw.walk_limit ?? d.walk_limit,
  };
}

/** Parses a snmp_exporter timeout ("5s", "500ms") to milliseconds; exported for the module parser. */
export function parseSnmpTimeout(v: unknown): number {
  if (typeof v !== 'string') throw new TypeError('expected a duration such as "5s"');
  return parseDuration(v);
}
