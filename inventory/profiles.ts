// From NetBox devices to monitoring targets: pick each device's profile, apply its `storewatch` config context
// override, refuse addresses outside the allowed networks, and label every target with `__meta_netbox_*` so that
// relabel_configs can shape it the Prometheus way. Pure: the same snapshot and config give the same inventory.

import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { NetboxConfig, NetboxProfile } from '../appliance/config/netbox.ts';
import { profileJobName } from '../appliance/config/netbox.ts';
import { formatDuration, parseDuration } from '../appliance/config/duration.ts';
import type { RelabelConfig } from '../appliance/model/relabel.ts';
import {
  ADDRESS_LABEL,
  METRICS_PATH_LABEL,
  PARAM_LABEL_PREFIX,
  SCHEME_LABEL,
  SCRAPE_INTERVAL_LABEL,
  SCRAPE_TIMEOUT_LABEL,
  type TargetGroup,
} from '../appliance/model/target.ts';
import { cleanString, renderContext } from './model.ts';
import type { NbConfigContext, NbDevice, NbSite } from './model.ts';

export type IntentKind = 'prometheus' | 'snmp' | 'probe';

/** One job the scrape manager should run: a profile's intent over the devices that profile matched. */
export interface InventoryJob {
  /** "<profile>" for Prometheus scrapes, "<profile>-snmp" and "<profile>-probe" for the others. */
  readonly name: string;
  readonly profile: string;
  readonly kind: IntentKind;
  readonly relabel_configs: readonly RelabelConfig[];
  readonly metric_relabel_configs: readonly RelabelConfig[];
  /** One group per device (source "netbox/<id>"), so a changed device replaces only its own group. */
  readonly groups: readonly TargetGroup[];
}

/** A device that is monitored, and why (for `inventory show` and the page). */
export interface MonitoredDevice {
  readonly id: number;
  readonly device: string;
  readonly address: string;
  readonly profile: string;
  /** How the profile was chosen, e.g. "role=pos-terminal" or "config context storewatch.profile". */
  readonly rule: string;
  readonly jobs: readonly string[];
}

/** A device NetBox lists for the store that is not monitored, with the reason in words. */
export interface NotMonitored {
  readonly id: number;
  readonly device: string;
  readonly reason: string;
}

/** The store's labels from its NetBox site. */
export interface StoreLabels {
  readonly site: string;
  readonly site_name: string;
  readonly region: string;
  readonly tenant: string;
  readonly time_zone: string;
  readonly facility: string;
}

export interface Inventory {
  readonly store: StoreLabels;
  readonly jobs: readonly InventoryJob[];
  readonly monitored: readonly MonitoredDevice[];
  readonly notMonitored: readonly NotMonitored[];
}

/** What a sync fetched from NetBox: the raw material of an inventory, and what the cache keeps. */
export interface Snapshot {
  readonly site: NbSite;
  readonly devices: readonly NbDevice[];
  readonly contexts: readonly NbConfigContext[];
  /** "3.7", "4.6", ... from the API-Version header ('' when absent). */
  readonly apiVersion: string;
  /** Milliseconds since the epoch of the last successful full sync. */
  readonly fullSyncAt: number;
  /** Largest device last_updated seen: the next incremental sync asks for rows at or after it. */
  readonly deviceWatermark: string;
  /** Largest config context last_updated seen. */
  readonly contextWatermark: string;
}

// Never targets, whatever allowed_networks says: link-local (where cloud metadata services live), the
// metadata addresses themselves, unspecified, multicast and broadcast.
const FORBIDDEN: readonly [string, number, 'ipv4' | 'ipv6'][] = [
  ['169.254.0.0', 16, 'ipv4'],
  ['0.0.0.0', 8, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'],
  ['255.255.255.255', 32, 'ipv4'],
  ['fe80::', 10, 'ipv6'],
  ['fd00:ec2::254', 128, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
  ['::', 128, 'ipv6'],
];

/** Decides which addresses may be contacted: inside an allowed CIDR and outside the forbidden ranges. */
export class AddressPolicy {
  private readonly allowed = new BlockList();
  private readonly forbidden = new BlockList();

  constructor(allowedCidrs: readonly string[]) {
    for (const c of allowedCidrs) {
      const [net, len] = c.split('/');
      if (net === undefined || len === undefined) continue;
      const family = isIPv4(net) ? 'ipv4' : isIPv6(net) ? 'ipv6' : undefined;
      if (family) this.allowed.addSubnet(net, Number(len), family);
    }
    for (const [net, len, family] of FORBIDDEN) this.forbidden.addSubnet(net, len, family);
  }

  /** Undefined when `ip` may be contacted, else why not. */
  problem(ip: string): string | undefined {
    // An IPv4-mapped IPv6 address is the IPv4 address: judge it as such so ::ffff:169.254.169.254 is caught.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
    const addr = mapped ? mapped[1]! : ip;
    const family = isIPv4(addr) ? 'ipv4' : isIPv6(addr) ? 'ipv6' : undefined;
    if (family === undefined) return `${JSON.stringify(ip)} is not an IP address`;
    if (this.forbidden.check(addr, family))
      return `address ${addr} is link-local, metadata or otherwise never allowed`;
    if (!this.allowed.check(addr, family)) return `address ${addr} is outside netbox.allowed_networks`;
    return undefined;
  }
}

/** "host:port" with IPv6 hosts in brackets. */
export function hostPort(ip: string, port: number): string {
  return `${ip.includes(':') ? `[${ip}]` : ip}:${port}`;
}

/** A custom field name as a label name part: invalid characters become "_", as Prometheus SD does. */
export function labelSafe(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(s) ? `_${s}` : s;
}

/** A custom field value as label text: strings as is, other JSON as compact JSON, all bounded. */
function cfText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return cleanString(v);
  let json: string;
  try {
    json = JSON.stringify(v) ?? '';
  } catch {
    json = '';
  }
  return cleanString(json);
}

function profileRule(p: NetboxProfile, d: NbDevice): string | undefined {
  const m = p.match;
  const parts: string[] = [];
  if (m.roles.length > 0) {
    if (!d.role || !m.roles.includes(d.role.slug)) return undefined;
    parts.push(`role=${d.role.slug}`);
  }
  if (m.platforms.length > 0) {
    if (!d.platform || !m.platforms.includes(d.platform.slug)) return undefined;
    parts.push(`platform=${d.platform.slug}`);
  }
  for (const t of m.tags) {
    if (!d.tags.some((x) => x.slug === t)) return undefined;
    parts.push(`tag=${t}`);
  }
  for (const [k, want] of Object.entries(m.custom_fields)) {
    if (d.customFields[k] !== want) return undefined;
    parts.push(`cf_${k}=${String(want)}`);
  }
  return parts.length === 0 ? undefined : parts.join(',');
}

/** The parsed `storewatch` key of a device's config context. */
export interface Override {
  readonly disabled: boolean;
  readonly profile?: string;
  readonly port?: number;
  readonly path?: string;
  readonly scheme?: 'http' | 'https';
  readonly interval?: number;
  readonly timeout?: number;
  readonly snmp_modules?: readonly string[];
  readonly credential?: string;
  readonly probe_port?: number;
  readonly snmp_port?: number;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const OVERRIDE_KEYS = new Set([
  'disabled',
  'profile',
  'port',
  'path',
  'scheme',
  'interval',
  'timeout',
  'snmp_module',
  'snmp_modules',
  'credential',
  'probe_port',
  'snmp_port',
]);

/**
 * Reads the `storewatch` key of a rendered config context. An invalid value is an error (the device is then
 * reported, not monitored with a guess); unknown keys are errors too, so a typo does not pass silently.
 */
export function parseOverride(ctx: unknown): { ok: true; value: Override } | { ok: false; error: string } {
  const sw =
    typeof ctx === 'object' && ctx !== null ? (ctx as Record<string, unknown>).storewatch : undefined;
  if (sw === undefined || sw === null) return { ok: true, value: { disabled: false } };
  if (typeof sw !== 'object' || Array.isArray(sw)) return { ok: false, error: 'storewatch is not a mapping' };
  const o = sw as Record<string, unknown>;
  const bad = (k: string, why: string) => ({ ok: false as const, error: `storewatch.${k} ${why}` });
  for (const k of Object.keys(o))
    if (!OVERRIDE_KEYS.has(k)) return bad(cleanString(k, 40), 'is not a known key');
  const out: { -readonly [K in keyof Override]: Override[K] } = { disabled: false };
  if (o.disabled !== undefined) {
    if (typeof o.disabled !== 'boolean') return bad('disabled', 'must be true or false');
    out.disabled = o.disabled;
  }
  const portOf = (k: string): number | undefined | false => {
    const v = o[k];
    if (v === undefined) return undefined;
    return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535 ? v : false;
  };
  for (const k of ['port', 'probe_port', 'snmp_port'] as const) {
    const p = portOf(k);
    if (p === false) return bad(k, 'must be a port number 1-65535');
    if (p !== undefined) out[k] = p;
  }
  if (o.profile !== undefined) {
    if (typeof o.profile !== 'string' || !NAME_RE.test(o.profile))
      return bad('profile', 'is not a profile name');
    out.profile = o.profile;
  }
  if (o.path !== undefined) {
    if (typeof o.path !== 'string' || !/^\/[\x21-\x7e]{0,200}$/.test(o.path))
      return bad('path', 'must be a path starting with "/"');
    out.path = o.path;
  }
  if (o.scheme !== undefined) {
    if (o.scheme !== 'http' && o.scheme !== 'https') return bad('scheme', 'must be http or https');
    out.scheme = o.scheme;
  }
  for (const k of ['interval', 'timeout'] as const) {
    const v = o[k];
    if (v === undefined) continue;
    let ms: number | undefined;
    try {
      ms = typeof v === 'string' && v.length < 20 ? parseDuration(v) : undefined;
    } catch {
      ms = undefined;
    }
    if (ms === undefined || ms <= 0) return bad(k, 'must be a duration such as "30s"');
    out[k] = ms;
  }
  const modules = o.snmp_modules ?? o.snmp_module;
  if (modules !== undefined) {
    const list = typeof modules === 'string' ? [modules] : modules;
    if (
      !Array.isArray(list) ||
      list.length === 0 ||
      list.length > 20 ||
      !list.every((m) => typeof m === 'string' && NAME_RE.test(m))
    ) {
      return bad('snmp_modules', 'must be a module name or a list of them');
    }
    out.snmp_modules = list as string[];
  }
  if (o.credential !== undefined) {
    if (typeof o.credential !== 'string' || !NAME_RE.test(o.credential))
      return bad('credential', 'must be a credential name');
    out.credential = o.credential;
  }
  return { ok: true, value: out };
}

export function storeLabels(site: NbSite): StoreLabels {
  return {
    site: site.slug,
    site_name: site.name,
    region: site.region?.slug ?? '',
    tenant: site.tenant?.slug ?? '',
    time_zone: site.timeZone,
    facility: site.facility,
  };
}

/** `__meta_netbox_*` labels of a device (empty values are left out, as relabelling drops them anyway). */
export function deviceMetaLabels(
  d: NbDevice,
  site: NbSite,
  customFields: readonly string[],
): Record<string, string> {
  const l: Record<string, string> = {
    __meta_netbox_id: String(d.id),
    __meta_netbox_device: d.name ?? d.display,
    __meta_netbox_display: d.display,
    __meta_netbox_status: d.status,
    __meta_netbox_site: d.site?.slug ?? site.slug,
    __meta_netbox_site_name: d.site?.name ?? site.name,
    __meta_netbox_region: site.region?.slug ?? '',
    __meta_netbox_role: d.role?.slug ?? '',
    __meta_netbox_platform: d.platform?.slug ?? '',
    __meta_netbox_device_type: d.deviceType?.slug ?? '',
    __meta_netbox_tenant: d.tenant?.slug ?? '',
    __meta_netbox_rack: d.rack?.name ?? '',
    __meta_netbox_location: d.location?.slug ?? '',
    __meta_netbox_primary_ip: d.primaryIp ?? '',
    // Prometheus SDs join lists with leading and trailing commas, so `.*,name,.*` matches one element.
    __meta_netbox_tags: d.tags.length ? `,${d.tags.map((t) => t.name).join(',')},` : '',
    __meta_netbox_tag_slugs: d.tags.length ? `,${d.tags.map((t) => t.slug).join(',')},` : '',
  };
  for (const name of customFields) {
    l[`__meta_netbox_custom_field_${labelSafe(name)}`] = cfText(d.customFields[name]);
  }
  for (const k of Object.keys(l)) if (l[k] === '') delete l[k];
  return l;
}

/**
 * The labels every series of a device carries without any relabelling: what a store dashboard groups by
 * (device, role, platform, rack, location) and the configured custom fields under their own names. The store
 * itself (site) is the same for every series here, so it belongs in global.external_labels. Profiles'
 * relabel_configs can still rename or drop any of these (labeldrop), and build others from `__meta_netbox_*`.
 */
export function deviceTargetLabels(
  meta: Readonly<Record<string, string>>,
  customFields: readonly string[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['device', 'role', 'platform', 'rack', 'location']) {
    const v = meta[`__meta_netbox_${name}`];
    if (v !== undefined && v !== '') out[name] = v;
  }
  for (const name of customFields) {
    const safe = labelSafe(name);
    const v = meta[`__meta_netbox_custom_field_${safe}`];
    if (v !== undefined && v !== '') out[safe] = v;
  }
  return out;
}

/** The inventory a snapshot gives under a configuration. */
export function buildInventory(snap: Snapshot, cfg: NetboxConfig): Inventory {
  const policy = new AddressPolicy(cfg.allowed_networks);
  const notMonitored: NotMonitored[] = [];
  const monitored: MonitoredDevice[] = [];
  const jobs = new Map<string, { job: Omit<InventoryJob, 'groups'>; groups: TargetGroup[] }>();
  const byIp = new Map<string, NbDevice[]>();
  for (const d of snap.devices) {
    if (d.primaryIp === undefined) continue;
    const list = byIp.get(d.primaryIp) ?? [];
    list.push(d);
    byIp.set(d.primaryIp, list);
  }
  const devices = [...snap.devices].sort((a, b) => a.id - b.id);
  for (const d of devices) {
    const name = d.name ?? d.display;
    const skip = (reason: string) => notMonitored.push({ id: d.id, device: name, reason });
    if (!cfg.statuses.includes(d.status)) {
      skip(`status ${d.status || 'unknown'} (monitored: ${cfg.statuses.join(', ')})`);
      continue;
    }
    if (!cfg.tags.every((t) => d.tags.some((x) => x.slug === t))) {
      skip(`lacks tag(s) ${cfg.tags.join(', ')}`);
      continue;
    }
    const ov = parseOverride(renderContext(d, snap.site, snap.contexts));
    if (!ov.ok) {
      skip(`invalid config context: ${ov.error}`);
      continue;
    }
    const o = ov.value;
    if (o.disabled) {
      skip('disabled by config context (storewatch.disabled)');
      continue;
    }
    let profile: NetboxProfile | undefined;
    let rule = '';
    if (o.profile !== undefined) {
      profile = cfg.profiles.find((p) => p.name === o.profile);
      rule = 'config context storewatch.profile';
      if (!profile) {
        skip(`config context names unknown profile ${JSON.stringify(o.profile)}`);
        continue;
      }
    } else {
      for (const p of cfg.profiles) {
        const r = profileRule(p, d);
        if (r !== undefined) {
          profile = p;
          rule = r;
          break;
        }
      }
    }
    if (!profile) {
      skip(`no profile matches (role ${d.role?.slug ?? 'none'}, platform ${d.platform?.slug ?? 'none'})`);
      continue;
    }
    if (d.primaryIp === undefined) {
      skip('no primary IP');
      continue;
    }
    const sharing = (byIp.get(d.primaryIp) ?? []).filter((x) => x.id !== d.id);
    if (sharing.length > 0) {
      skip(
        `duplicate primary IP ${d.primaryIp} (also on ${sharing.map((x) => x.name ?? x.display).join(', ')})`,
      );
      continue;
    }
    const problem = policy.problem(d.primaryIp);
    if (problem !== undefined) {
      skip(`refused: ${problem}`);
      continue;
    }
    const meta = deviceMetaLabels(d, snap.site, cfg.custom_field_labels);
    meta.__meta_netbox_profile = profile.name;
    const jobNames: string[] = [];
    const add = (
      kind: IntentKind,
      intent: { relabel_configs: readonly RelabelConfig[]; metric_relabel_configs: readonly RelabelConfig[] },
      port: number,
      settings: Record<string, string>,
    ) => {
      const jobName = profileJobName(profile.name, kind);
      let j = jobs.get(jobName);
      if (!j) {
        j = {
          job: {
            name: jobName,
            profile: profile.name,
            kind,
            relabel_configs: intent.relabel_configs,
            metric_relabel_configs: intent.metric_relabel_configs,
          },
          groups: [],
        };
        jobs.set(jobName, j);
      }
      j.groups.push({
        source: `netbox/${d.id}`,
        targets: [{ [ADDRESS_LABEL]: hostPort(d.primaryIp!, port), ...meta, ...settings }],
        labels: deviceTargetLabels(meta, cfg.custom_field_labels),
      });
      jobNames.push(jobName);
    };
    const timing = (interval: number, timeout: number): Record<string, string> => {
      const s: Record<string, string> = {};
      const i = o.interval ?? interval;
      const t = o.timeout ?? timeout;
      if (i > 0) s[SCRAPE_INTERVAL_LABEL] = formatDuration(i);
      if (t > 0) s[SCRAPE_TIMEOUT_LABEL] = formatDuration(i > 0 ? Math.min(t, i) : t);
      return s;
    };
    if (profile.prometheus) {
      const p = profile.prometheus;
      add('prometheus', p, o.port ?? p.port, {
        [METRICS_PATH_LABEL]: o.path ?? p.path,
        [SCHEME_LABEL]: o.scheme ?? p.scheme,
        ...timing(p.interval, p.timeout),
      });
    }
    if (profile.snmp) {
      const s = profile.snmp;
      // `port` is the device's one port when its profile only walks SNMP; snmp_port says it explicitly.
      add('snmp', s, o.snmp_port ?? (profile.prometheus ? undefined : o.port) ?? s.port, {
        [`${PARAM_LABEL_PREFIX}module`]: (o.snmp_modules ?? s.modules).join(','),
        [`${PARAM_LABEL_PREFIX}auth`]: o.credential ?? s.auth,
        ...timing(s.interval, s.timeout),
      });
    }
    if (profile.probe) {
      const p = profile.probe;
      add('probe', p, o.probe_port ?? p.port, timing(p.interval, p.timeout));
    }
    monitored.push({
      id: d.id,
      device: name,
      address: d.primaryIp,
      profile: profile.name,
      rule,
      jobs: jobNames,
    });
  }
  return {
    store: storeLabels(snap.site),
    jobs: [...jobs.values()]
      .map(({ job, groups }) => ({ ...job, groups }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    monitored,
    notMonitored,
  };
}
