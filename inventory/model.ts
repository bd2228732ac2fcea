// NetBox objects as the inventory uses them, and the pure parsers that turn a NetBox 3.7-4.6 JSON row into them.
// Rows come from a remote system we do not control: every field is checked, strings are capped and stripped
// of control characters, unknown fields are ignored, and a row that cannot be used is an error value, never a
// throw. Version differences are absorbed here (3.x `device_role` vs 4.x `role`, nested vs brief shapes).

/** Longest string kept from NetBox; longer values are cut (labels and pages stay bounded). */
export const MAX_FIELD_LENGTH = 256;

export interface NbRef {
  readonly id: number;
  readonly slug: string;
  readonly name: string;
}

export interface NbTag {
  readonly slug: string;
  readonly name: string;
}

export interface NbDevice {
  readonly id: number;
  /** NetBox allows unnamed devices; `display` is always set. */
  readonly name: string | null;
  readonly display: string;
  readonly role?: NbRef;
  readonly platform?: NbRef;
  readonly deviceType?: NbRef;
  readonly tenant?: NbRef;
  readonly site?: NbRef;
  readonly location?: NbRef;
  readonly rack?: NbRef;
  readonly status: string;
  readonly tags: readonly NbTag[];
  readonly customFields: Readonly<Record<string, unknown>>;
  /** Primary IP without its prefix length ("10.1.2.3", "fd00::1"), preferring primary_ip then v4 then v6. */
  readonly primaryIp?: string;
  /** The device's local_context_data (merged last over config contexts). */
  readonly localContext: unknown;
  readonly lastUpdated: string;
}

export interface NbSite {
  readonly id: number;
  readonly slug: string;
  readonly name: string;
  readonly region?: NbRef;
  readonly group?: NbRef;
  readonly tenant?: NbRef;
  readonly timeZone: string;
  readonly facility: string;
  readonly lastUpdated: string;
}

/** A config context with its assignment dimensions as id lists (tags as slugs), as NetBox matches them. */
export interface NbConfigContext {
  readonly id: number;
  readonly name: string;
  readonly weight: number;
  readonly isActive: boolean;
  readonly regions: readonly number[];
  readonly siteGroups: readonly number[];
  readonly sites: readonly number[];
  readonly locations: readonly number[];
  readonly deviceTypes: readonly number[];
  readonly roles: readonly number[];
  readonly platforms: readonly number[];
  readonly tenantGroups: readonly number[];
  readonly tenants: readonly number[];
  readonly tags: readonly string[];
  /** Dimensions a device cannot match (clusters): a context assigned to any of them never applies to devices. */
  readonly clusterAssigned: boolean;
  readonly data: unknown;
  readonly lastUpdated: string;
}

export type Parsed<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

type Obj = Readonly<Record<string, unknown>>;
function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// C0 and C1 control characters and lone surrogates would corrupt logs and pages; they are replaced, not kept.
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/g;
const LONE_SURROGATE_RE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** A bounded, printable string from any JSON value; non-strings become '' (or their JSON for numbers/bools). */
export function cleanString(v: unknown, max = MAX_FIELD_LENGTH): string {
  let s: string;
  if (typeof v === 'string') s = v;
  else if (typeof v === 'number' || typeof v === 'boolean') s = String(v);
  else return '';
  if (s.length > max) s = s.slice(0, max);
  return s.replace(LONE_SURROGATE_RE, '\uFFFD').replace(CONTROL_RE, '\uFFFD');
}

function int(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

/** A nested/brief object reference; 3.7 and 4.x both carry id, name and (for most models) slug. */
export function parseRef(v: unknown): NbRef | undefined {
  if (!isObj(v)) return undefined;
  const id = int(v.id);
  if (id === undefined) return undefined;
  const name = cleanString(v.name) || cleanString(v.display);
  return { id, slug: cleanString(v.slug) || name, name };
}

/** Choice fields are {value, label} objects; very old servers and some plugins send the bare value. */
function choiceValue(v: unknown): string {
  if (isObj(v)) return cleanString(v.value);
  return cleanString(v);
}

/** "10.1.2.3/24" → "10.1.2.3"; undefined when the text is not an IP address. */
export function stripPrefix(address: string): string | undefined {
  const ip = address.split('/')[0] ?? '';
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) {
    return ip.split('.').every((o) => Number(o) <= 255) ? ip : undefined;
  }
  if (ip.includes(':') && /^[0-9A-Fa-f:.]+$/.test(ip) && URL.canParse(`http://[${ip}]/`))
    return ip.toLowerCase();
  return undefined;
}

function ipOf(v: unknown): string | undefined {
  if (!isObj(v) || typeof v.address !== 'string') return undefined;
  return stripPrefix(v.address.slice(0, 64));
}

function tagsOf(v: unknown): NbTag[] {
  if (!Array.isArray(v)) return [];
  const out: NbTag[] = [];
  for (const t of v.slice(0, 100)) {
    if (isObj(t)) {
      const slug = cleanString(t.slug);
      if (slug !== '') out.push({ slug, name: cleanString(t.name) || slug });
    } else if (typeof t === 'string' && t !== '') {
      out.push({ slug: cleanString(t), name: cleanString(t) });
    }
  }
  return out;
}

function opt<K extends string, V>(key: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: V };
}

/** Parses one device row (3.7 or 4.x, full, `exclude=config_context` or `fields=` shape). */
export function parseDevice(row: unknown): Parsed<NbDevice> {
  if (!isObj(row)) return { ok: false, error: 'device row is not an object' };
  const id = int(row.id);
  if (id === undefined) return { ok: false, error: 'device row has no integer id' };
  const name = typeof row.name === 'string' && row.name !== '' ? cleanString(row.name) : null;
  const primaryIp = ipOf(row.primary_ip) ?? ipOf(row.primary_ip4) ?? ipOf(row.primary_ip6);
  const cf = isObj(row.custom_fields) ? row.custom_fields : {};
  return {
    ok: true,
    value: {
      id,
      name,
      display: cleanString(row.display) || name || `device ${id}`,
      // NetBox 4.0 removed `device_role` from devices; 3.6-3.7 send both, older only `device_role`.
      ...opt('role', parseRef(row.role) ?? parseRef(row.device_role)),
      ...opt('platform', parseRef(row.platform)),
      ...opt('deviceType', parseRef(row.device_type)),
      ...opt('tenant', parseRef(row.tenant)),
      ...opt('site', parseRef(row.site)),
      ...opt('location', parseRef(row.location)),
      ...opt('rack', parseRef(row.rack)),
      status: choiceValue(row.status),
      tags: tagsOf(row.tags),
      customFields: cf,
      ...opt('primaryIp', primaryIp),
      localContext: row.local_context_data ?? null,
      lastUpdated: cleanString(row.last_updated, 64),
    },
  };
}

export function parseSite(row: unknown): Parsed<NbSite> {
  if (!isObj(row)) return { ok: false, error: 'site row is not an object' };
  const id = int(row.id);
  if (id === undefined) return { ok: false, error: 'site row has no integer id' };
  return {
    ok: true,
    value: {
      id,
      slug: cleanString(row.slug),
      name: cleanString(row.name),
      ...opt('region', parseRef(row.region)),
      ...opt('group', parseRef(row.group)),
      ...opt('tenant', parseRef(row.tenant)),
      timeZone: cleanString(row.time_zone),
      facility: cleanString(row.facility),
      lastUpdated: cleanString(row.last_updated, 64),
    },
  };
}

function ids(v: unknown): number[] {
  if (!Array.isArray(v)) return [];
  const out: number[] = [];
  for (const x of v) {
    const id = isObj(x) ? int(x.id) : int(x);
    if (id !== undefined) out.push(id);
  }
  return out;
}

export function parseConfigContext(row: unknown): Parsed<NbConfigContext> {
  if (!isObj(row)) return { ok: false, error: 'config context row is not an object' };
  const id = int(row.id);
  if (id === undefined) return { ok: false, error: 'config context row has no integer id' };
  const tags = Array.isArray(row.tags)
    ? row.tags.map((t) => (isObj(t) ? cleanString(t.slug) : cleanString(t))).filter((t) => t !== '')
    : [];
  return {
    ok: true,
    value: {
      id,
      name: cleanString(row.name),
      weight: typeof row.weight === 'number' && Number.isFinite(row.weight) ? row.weight : 1000,
      isActive: row.is_active !== false,
      regions: ids(row.regions),
      siteGroups: ids(row.site_groups),
      sites: ids(row.sites),
      locations: ids(row.locations),
      deviceTypes: ids(row.device_types),
      // Config contexts kept `roles` in 3.x and 4.x; very old servers called it `device_roles`.
      roles: ids(row.roles ?? row.device_roles),
      platforms: ids(row.platforms),
      tenantGroups: ids(row.tenant_groups),
      tenants: ids(row.tenants),
      tags,
      clusterAssigned:
        ids(row.clusters).length + ids(row.cluster_groups).length + ids(row.cluster_types).length > 0,
      data: row.data ?? null,
      lastUpdated: cleanString(row.last_updated, 64),
    },
  };
}

/**
 * Whether a config context applies to a device of `site`, by NetBox's rule: active, and every assigned
 * dimension is empty or matches. Region, site group and location match directly only (ancestors are not
 * fetched), and a context assigned to tenant groups is taken as not matching, because the device's tenant
 * group is not in the device list; both are documented limits.
 */
export function contextApplies(c: NbConfigContext, d: NbDevice, site: NbSite | undefined): boolean {
  if (!c.isActive || c.clusterAssigned) return false;
  const has = (list: readonly number[], id: number | undefined) =>
    list.length === 0 || (id !== undefined && list.includes(id));
  return (
    has(c.regions, site?.region?.id) &&
    has(c.siteGroups, site?.group?.id) &&
    has(c.sites, d.site?.id ?? site?.id) &&
    has(c.locations, d.location?.id) &&
    has(c.deviceTypes, d.deviceType?.id) &&
    has(c.roles, d.role?.id) &&
    has(c.platforms, d.platform?.id) &&
    c.tenantGroups.length === 0 &&
    has(c.tenants, d.tenant?.id) &&
    (c.tags.length === 0 || c.tags.some((t) => d.tags.some((dt) => dt.slug === t)))
  );
}

/** NetBox's deep merge: dicts merge recursively, lists and scalars replace. */
export function deepMerge(base: unknown, over: unknown): unknown {
  if (!isObj(base) || !isObj(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (k === '__proto__') continue;
    out[k] = Object.hasOwn(out, k) ? deepMerge(out[k], v) : v;
  }
  return out;
}

/** The device's rendered config context: applicable contexts by weight then name, local data last. */
export function renderContext(
  d: NbDevice,
  site: NbSite | undefined,
  contexts: readonly NbConfigContext[],
): unknown {
  const applicable = contexts
    .filter((c) => contextApplies(c, d, site))
    .sort((a, b) => a.weight - b.weight || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let out: unknown = {};
  for (const c of applicable) out = deepMerge(out, c.data);
  if (isObj(d.localContext)) out = deepMerge(out, d.localContext);
  return out;
}
