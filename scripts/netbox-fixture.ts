// A NetBox stand-in on loopback for tests, benchmarks and the demo. It serves 4.x-shaped responses built from
// genuine NetBox 4.6.8 rows (test/testdata/netbox/api), or 3.7-shaped ones, with NetBox's pagination (absolute
// `next` URLs, limit capped at the max page size), the filters storewatch uses (unknown filters ignored, bad
// values answered 400 as NetBox does), v1/v2 token auth with NetBox's 403 bodies, the API-Version header, error
// injection and a mutation API.
//
// Addresses: every private address it serves is rewritten into 127.0.0.0/8 (10.a.b.c → 127.a.b.c,
// 172.16-31.b.c → 127.(16-31).b.c, 192.168.b.c → 127.168.b.c), so a test pointed at it with allowed_networks
// [127.0.0.0/8] can never send a packet to a real private network.
//
// Run standalone: `node scripts/netbox-fixture.ts [--devices 2500] [--version 4.6] [--port 0]`.

import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const TESTDATA = join(import.meta.dirname, '..', 'test', 'testdata', 'netbox', 'api');

type Json = Record<string, unknown>;

export type FixtureVersion = '3.7' | '4.0' | '4.4' | '4.6';

/** An injected failure; `path` matches the request path prefix, `page` the 1-based page of a list. */
export interface Injection {
  readonly mode:
    'status500' | 'bad-gateway' | 'html' | 'invalid-json' | 'forbidden' | 'timeout' | 'truncate' | 'oversize';
  readonly path?: string;
  readonly page?: number;
  /** How many matching requests fail; default 1. */
  times?: number;
}

export interface FixtureOptions {
  readonly version?: FixtureVersion;
  /** Accepted v1 tokens (40 chars in NetBox; any string here). */
  readonly v1Tokens?: readonly string[];
  /** Accepted v2 tokens ("nbt_<key>.<secret>"); honoured by 4.5+ only. */
  readonly v2Tokens?: readonly string[];
  /** NetBox's MAX_PAGE_SIZE. */
  readonly maxPageSize?: number;
  /** Base for `next` links, to act like NetBox behind a proxy that reports the wrong host. Default: our own. */
  readonly linkBase?: string;
  /** Serve HTTPS with this key and certificate (PEM) instead of HTTP. */
  readonly tls?: { readonly key: string; readonly cert: string };
  /** Rewrite private addresses into 127/8 (default true). */
  readonly rewriteAddresses?: boolean;
}

export interface GenerateStoreOptions {
  readonly slug: string;
  readonly name?: string;
  readonly devices: number;
  /** Second octet of the store's 10.x network (so 10.<net>.y.z, served as 127.<net>.y.z). */
  readonly net?: number;
  readonly timeZone?: string;
  readonly facility?: string;
}

export interface FixtureRequest {
  readonly path: string;
  readonly query: string;
  readonly authorization: string | undefined;
}

/** 10.a.b.c → 127.a.b.c; 172.16-31.b.c → 127.(16-31).b.c; 192.168.b.c → 127.168.b.c; others unchanged. */
export function rewriteAddress(address: string): string {
  const [ip, len] = address.split('/');
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip ?? '');
  if (!m) return address;
  const [a, b, c, d] = [Number(m[1]), Number(m[2]), m[3], m[4]];
  let out: string | undefined;
  if (a === 10) out = `127.${b}.${c}.${d}`;
  else if (a === 172 && b >= 16 && b <= 31) out = `127.${b}.${c}.${d}`;
  else if (a === 192 && b === 168) out = `127.168.${c}.${d}`;
  if (out === undefined) return address;
  return len === undefined ? out : `${out}/${len}`;
}

function load(name: string): Json[] {
  const j = JSON.parse(readFileSync(join(TESTDATA, name), 'utf8')) as { results: Json[] };
  return j.results;
}

/** The fields of a nested (brief) device role or platform in a 4.x device, as NetBox serialises them. */
const BRIEF_ROLE_FIELDS: readonly string[] = [
  'id',
  'url',
  'display',
  'name',
  'slug',
  'description',
  'device_count',
  'virtualmachine_count',
  '_depth',
];

const STATUS_LABELS: Readonly<Record<string, string>> = {
  offline: 'Offline',
  active: 'Active',
  planned: 'Planned',
  staged: 'Staged',
  failed: 'Failed',
  inventory: 'Inventory',
  decommissioning: 'Decommissioning',
};

function versionAtLeast(v: string, want: string): boolean {
  const [a = 0, b = 0] = v.split('.').map(Number);
  const [c = 0, d = 0] = want.split('.').map(Number);
  return a > c || (a === c && b >= d);
}

function pick(o: Json, keys: readonly string[]): Json {
  const out: Json = {};
  for (const k of keys) if (k in o) out[k] = o[k];
  return out;
}

export class NetboxFixture {
  readonly version: FixtureVersion;
  private readonly opts: FixtureOptions;
  private server: http.Server | https.Server | undefined;
  private base = '';
  readonly devices = new Map<number, Json>();
  readonly sites = new Map<number, Json>();
  readonly contexts = new Map<number, Json>();
  readonly roles = new Map<string, Json>();
  readonly platforms = new Map<string, Json>();
  readonly tags = new Map<string, Json>();
  private readonly regions = new Map<number, Json>();
  private nextId = 100_000;
  private clockMs = Date.parse('2026-01-01T00:00:00Z');
  private readonly injections: Injection[] = [];
  /** Every request received, in order. */
  readonly requests: FixtureRequest[] = [];
  private readonly hung = new Set<http.ServerResponse>();
  /** The first genuine reference device: generated devices copy every field they do not set from it. */
  private readonly deviceTemplate: Json;

  constructor(opts: FixtureOptions = {}) {
    this.opts = opts;
    this.version = opts.version ?? '4.6';
    this.seedReference();
    this.deviceTemplate = structuredClone([...this.devices.values()][0]!);
  }

  /** A strictly increasing timestamp, as NetBox's last_updated (microsecond ISO text). */
  tick(): string {
    this.clockMs += 1000;
    return new Date(this.clockMs).toISOString().replace('Z', '000Z');
  }

  private url(kind: string, id: number): string {
    return `http://netbox.example.com/api/${kind}/${id}/`;
  }

  private seedReference(): void {
    for (const r of load('device-roles.json')) this.roles.set(String(r.slug), r);
    for (const p of load('platforms.json')) this.platforms.set(String(p.slug), p);
    for (const t of load('tags.json')) this.tags.set(String(t.slug), t);
    for (const s of load('sites.json')) {
      this.sites.set(Number(s.id), s);
      const region = s.region as Json | null;
      if (region) this.regions.set(Number(region.id), region);
    }
    for (const d of load('devices-exclude-config-context.json')) this.devices.set(Number(d.id), d);
    for (const c of load('config-contexts.json')) this.contexts.set(Number(c.id), c);
  }

  /** Removes every device (the reference devices included), for tests that want only their own. */
  clearDevices(): void {
    this.devices.clear();
  }

  private ensureRole(slug: string): Json {
    let r = this.roles.get(slug);
    if (!r) {
      const id = this.nextId++;
      const name = slug;
      r = {
        id,
        url: this.url('dcim/device-roles', id),
        display_url: `http://netbox.example.com/dcim/device-roles/${id}/`,
        display: name,
        name,
        slug,
        color: '9e9e9e',
        vm_role: false,
        config_template: null,
        parent: null,
        description: '',
        tags: [],
        custom_fields: {},
        created: this.tick(),
        last_updated: this.tick(),
        device_count: 0,
        virtualmachine_count: 0,
        owner: null,
        comments: '',
        _depth: 0,
      };
      this.roles.set(slug, r);
    }
    return r;
  }

  private ensurePlatform(slug: string): Json {
    let p = this.platforms.get(slug);
    if (!p) {
      const id = this.nextId++;
      const template = [...this.platforms.values()][0] ?? {};
      p = {
        ...template,
        id,
        url: this.url('dcim/platforms', id),
        display_url: `http://netbox.example.com/dcim/platforms/${id}/`,
        display: slug,
        name: slug,
        slug,
        manufacturer: null,
        created: this.tick(),
        last_updated: this.tick(),
        device_count: 0,
        virtualmachine_count: 0,
        _depth: 0,
      };
      this.platforms.set(slug, p);
    }
    return p;
  }

  ensureTag(slug: string): Json {
    let t = this.tags.get(slug);
    if (!t) {
      const id = this.nextId++;
      t = {
        ...([...this.tags.values()][0] ?? {}),
        id,
        url: this.url('extras/tags', id),
        display_url: `http://netbox.example.com/extras/tags/${id}/`,
        display: slug,
        name: slug,
        slug,
        color: '9e9e9e',
        description: '',
        created: this.tick(),
        last_updated: this.tick(),
        tagged_items: 0,
      };
      this.tags.set(slug, t);
    }
    return t;
  }

  /** Adds a site (a store) shaped like the reference sites; returns its id. */
  addSite(o: {
    slug: string;
    name?: string;
    timeZone?: string;
    facility?: string;
    regionId?: number;
  }): number {
    const template = [...this.sites.values()].find((s) => s.region !== null) ?? [...this.sites.values()][0]!;
    const id = this.nextId++;
    const region =
      o.regionId === undefined ? template.region : (this.regions.get(o.regionId) ?? template.region);
    const site: Json = {
      ...template,
      id,
      url: this.url('dcim/sites', id),
      display_url: `http://netbox.example.com/dcim/sites/${id}/`,
      display: o.name ?? o.slug,
      name: o.name ?? o.slug,
      slug: o.slug,
      region,
      facility: o.facility ?? '',
      time_zone: o.timeZone ?? null,
      tags: [],
      created: this.tick(),
      last_updated: this.tick(),
    };
    this.sites.set(id, site);
    return id;
  }

  siteBySlug(slug: string): Json | undefined {
    return [...this.sites.values()].find((s) => s.slug === slug);
  }

  private brief(o: Json | undefined | null, keys: readonly string[]): Json | null {
    return o ? pick(o, keys) : null;
  }

  /**
   * Adds a device from a few facts; every other field is copied from a genuine reference device. `ip` is the
   * address NetBox would hold (e.g. "10.42.0.7/24"); it is served rewritten. Returns the id.
   */
  addDevice(o: {
    name: string | null;
    site: string;
    role: string;
    platform?: string;
    status?: string;
    ip?: string;
    tags?: readonly string[];
    customFields?: Json;
    localContext?: unknown;
    id?: number;
  }): number {
    const template = structuredClone(this.deviceTemplate);
    const id = o.id ?? this.nextId++;
    const site = this.siteBySlug(o.site);
    if (!site) throw new Error(`fixture: no site ${o.site}`);
    const status = o.status ?? 'active';
    const ip = o.ip
      ? {
          id: this.nextId++,
          url: this.url('ipam/ip-addresses', id),
          display: o.ip,
          family: o.ip.includes(':') ? { value: 6, label: 'IPv6' } : { value: 4, label: 'IPv4' },
          address: o.ip,
          nat_inside: null,
          nat_outside: [],
          description: '',
        }
      : null;
    const v6 = ip !== null && o.ip!.includes(':');
    const now = this.tick();
    const d: Json = {
      ...template,
      id,
      url: this.url('dcim/devices', id),
      display_url: `http://netbox.example.com/dcim/devices/${id}/`,
      display: o.name ?? `${String((template.device_type as Json).display)} (${id})`,
      name: o.name,
      role: this.brief(this.ensureRole(o.role), BRIEF_ROLE_FIELDS),
      platform: o.platform ? this.brief(this.ensurePlatform(o.platform), BRIEF_ROLE_FIELDS) : null,
      site: this.brief(site, ['id', 'url', 'display', 'name', 'slug', 'description']),
      location: null,
      rack: null,
      position: null,
      face: null,
      status: { value: status, label: STATUS_LABELS[status] ?? status },
      primary_ip: ip,
      primary_ip4: v6 ? null : ip,
      primary_ip6: v6 ? ip : null,
      tags: (o.tags ?? []).map((t) =>
        pick(this.ensureTag(t), ['id', 'url', 'display_url', 'display', 'name', 'slug', 'color']),
      ),
      custom_fields: o.customFields ?? {},
      local_context_data: o.localContext ?? null,
      created: now,
      last_updated: now,
    };
    this.devices.set(id, d);
    return id;
  }

  /** Changes fields of a device (raw NetBox field names) and bumps last_updated, as an edit in NetBox does. */
  updateDevice(id: number, patch: Json, opts: { touch?: boolean } = {}): void {
    const d = this.devices.get(id);
    if (!d) throw new Error(`fixture: no device ${id}`);
    Object.assign(d, patch);
    if (opts.touch !== false) d.last_updated = this.tick();
  }

  /** Sets a device's primary IPv4 (as NetBox holds it, e.g. "10.0.0.9/24"); like NetBox, last_updated is kept. */
  setPrimaryIp(id: number, address: string): void {
    const d = this.devices.get(id);
    if (!d) throw new Error(`fixture: no device ${id}`);
    const ip = {
      id: this.nextId++,
      url: this.url('ipam/ip-addresses', id),
      display: address,
      family: { value: 4, label: 'IPv4' },
      address,
      nat_inside: null,
      nat_outside: [],
      description: '',
    };
    d.primary_ip = ip;
    d.primary_ip4 = ip;
  }

  deleteDevice(id: number): void {
    this.devices.delete(id);
  }

  /** Adds a config context; dimension lists hold ids (tags: slugs). Its data is served as is. */
  addConfigContext(o: {
    name: string;
    weight?: number;
    data: unknown;
    sites?: readonly number[];
    roles?: readonly number[];
    platforms?: readonly number[];
    tags?: readonly string[];
    isActive?: boolean;
  }): number {
    const id = this.nextId++;
    // NetBox renders assigned objects in full (the schema's Site, DeviceRole, Platform).
    const ref = (rows: Iterable<Json>, ids: readonly number[] | undefined) => {
      const all = [...rows];
      return (ids ?? []).map((x) => {
        const row = all.find((r) => r.id === x);
        if (!row) throw new Error(`fixture: no object ${x} to assign`);
        return structuredClone(row);
      });
    };
    const now = this.tick();
    this.contexts.set(id, {
      id,
      url: this.url('extras/config-contexts', id),
      display_url: `http://netbox.example.com/extras/config-contexts/${id}/`,
      display: o.name,
      name: o.name,
      weight: o.weight ?? 1000,
      profile: null,
      description: '',
      is_active: o.isActive ?? true,
      regions: [],
      site_groups: [],
      sites: ref(this.sites.values(), o.sites),
      locations: [],
      device_types: [],
      roles: ref(this.roles.values(), o.roles),
      platforms: ref(this.platforms.values(), o.platforms),
      cluster_types: [],
      cluster_groups: [],
      clusters: [],
      tenant_groups: [],
      tenants: [],
      owner: null,
      tags: [...(o.tags ?? [])],
      data_path: '',
      data_synced: null,
      data: o.data,
      created: now,
      last_updated: now,
    });
    return id;
  }

  updateConfigContext(id: number, data: unknown): void {
    const c = this.contexts.get(id);
    if (!c) throw new Error(`fixture: no config context ${id}`);
    c.data = data;
    c.last_updated = this.tick();
  }

  deleteConfigContext(id: number): void {
    this.contexts.delete(id);
  }

  roleId(slug: string): number {
    return Number(this.ensureRole(slug).id);
  }

  /**
   * A store of `devices` devices with a realistic role mix: mostly POS terminals, plus switches, routers,
   * access points, printers and UPSs, and a few NetBox lists but storewatch cannot monitor (an unknown role,
   * no primary IP). Deterministic. Returns the site id.
   */
  generateStore(o: GenerateStoreOptions): number {
    const siteId = this.addSite({
      slug: o.slug,
      name: o.name ?? o.slug,
      timeZone: o.timeZone ?? 'Europe/Berlin',
      facility: o.facility ?? 'F1',
    });
    const net = o.net ?? 42;
    const mix: readonly [string, string | undefined][] = [
      ['pos-terminal', 'linux'],
      ['pos-terminal', 'linux'],
      ['pos-terminal', 'linux'],
      ['pos-terminal', 'linux'],
      ['pos-terminal', 'linux'],
      ['pos-terminal', 'linux'],
      ['switch', 'cisco-ios'],
      ['access-point', undefined],
      ['printer', undefined],
      ['ups', undefined],
      ['router', 'cisco-ios'],
      ['pdu', undefined],
    ];
    for (let i = 0; i < o.devices; i++) {
      const [role, platform] = mix[i % mix.length]!;
      const host = i + 1;
      const noIp = i % 97 === 96;
      this.addDevice({
        name: `${o.slug}-${role}-${String(host).padStart(4, '0')}`,
        site: o.slug,
        role,
        ...(platform ? { platform } : {}),
        ...(noIp ? {} : { ip: `10.${net}.${Math.floor(host / 250)}.${(host % 250) + 1}/16` }),
        tags: i % 10 === 0 ? ['lane-1'] : [],
        customFields: { lane: (i % 20) + 1 },
      });
    }
    return siteId;
  }

  /** Queues a failure for the next matching request(s). */
  inject(i: Injection): void {
    this.injections.push({ ...i, times: i.times ?? 1 });
  }

  clearInjections(): void {
    this.injections.length = 0;
  }

  /** Starts listening on 127.0.0.1 (port 0 unless given); resolves with the base URL (no /api). */
  async start(port = 0): Promise<string> {
    const tls = this.opts.tls;
    const server = tls
      ? https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => this.handle(req, res))
      : http.createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 1000;
    this.server = server;
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const a = server.address() as AddressInfo;
    this.base = `${tls ? 'https' : 'http'}://127.0.0.1:${a.port}`;
    return this.base;
  }

  get baseUrl(): string {
    return this.base;
  }

  async close(): Promise<void> {
    for (const r of this.hung) r.destroy();
    this.hung.clear();
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  // -------------------------------------------------------------------------------------------------------------
  // Serving.
  // -------------------------------------------------------------------------------------------------------------

  private send(res: http.ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(text),
      'API-Version': this.version,
      'X-Request-ID': '00000000-0000-4000-8000-000000000000',
      Vary: 'HX-Request, Accept-Language, Cookie, origin',
    });
    res.end(text);
  }

  /** NetBox's token check: keyword Token/Bearer, version from the value's "nbt_" prefix. */
  private authProblem(header: string | undefined): string | undefined {
    const m = /^(\S+)\s+(\S+)$/.exec(header ?? '');
    const kw = m?.[1]?.toLowerCase();
    const modern = versionAtLeast(this.version, '4.5');
    const keywords = modern ? ['token', 'bearer'] : ['token'];
    if (!m || !kw || !keywords.includes(kw)) return 'Authentication credentials were not provided.';
    const value = m[2]!;
    if (modern && value.startsWith('nbt_')) {
      return (this.opts.v2Tokens ?? []).includes(value) ? undefined : 'Invalid v2 token';
    }
    if ((this.opts.v1Tokens ?? []).includes(value)) return undefined;
    return modern ? 'Invalid v1 token' : 'Invalid token';
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fixture');
    const q = url.searchParams;
    this.requests.push({ path: url.pathname, query: url.search, authorization: req.headers.authorization });
    const isList = url.pathname.endsWith('/') && !/\/\d+\/$/.test(url.pathname);
    const page = this.pageOf(q);
    const inj = this.injections.find(
      (i) =>
        (i.times ?? 1) > 0 &&
        (i.path === undefined || url.pathname.startsWith(i.path)) &&
        (i.page === undefined || (isList && i.page === page)),
    );
    if (inj) {
      inj.times = (inj.times ?? 1) - 1;
      if (this.injectFailure(inj, res)) return;
    }
    if (req.method !== 'GET') return this.send(res, 405, { detail: `Method "${req.method}" not allowed.` });
    const accept = req.headers.accept ?? '';
    const pinned = /version=([\d.]+)/.exec(accept);
    if (pinned && pinned[1] !== this.version)
      return this.send(res, 406, { detail: 'Invalid version in "Accept" header.' });
    const auth = this.authProblem(req.headers.authorization);
    if (auth !== undefined) return this.send(res, 403, { detail: auth });

    const linkBase = this.opts.linkBase ?? this.base;
    const p = url.pathname;
    if (p === '/api/status/') return this.send(res, 200, this.statusBody());
    if (p === '/api/authentication-check/' && versionAtLeast(this.version, '4.5')) {
      return this.send(
        res,
        200,
        JSON.parse(readFileSync(join(TESTDATA, 'authentication-check.json'), 'utf8')),
      );
    }
    if (p === '/api/dcim/devices/') return this.listDevices(q, res, linkBase);
    const detail = /^\/api\/dcim\/devices\/(\d+)\/$/.exec(p);
    if (detail) {
      const d = this.devices.get(Number(detail[1]));
      if (!d) return this.send(res, 404, { detail: 'No Device matches the given query.' });
      return this.send(res, 200, this.renderDevice(d, q));
    }
    if (p === '/api/dcim/sites/') return this.listSites(q, res, linkBase);
    if (p === '/api/extras/config-contexts/') return this.listContexts(q, res, linkBase);
    if (p === '/api/extras/tags/') return this.paginate([...this.tags.values()], q, res, linkBase, p);
    return this.send(res, 404, { detail: 'Not found.' });
  }

  private pageOf(q: URLSearchParams): number {
    const limit = this.limitOf(q);
    const offset = Number(q.get('offset') ?? 0) || 0;
    return Math.floor(offset / limit) + 1;
  }

  private limitOf(q: URLSearchParams): number {
    const max = this.opts.maxPageSize ?? 1000;
    const raw = q.get('limit');
    if (raw === null) return 50;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) return 50;
    return n === 0 || n > max ? max : n;
  }

  /** Sends the injected failure; returns false when the request should proceed (never). */
  private injectFailure(i: Injection, res: http.ServerResponse): boolean {
    switch (i.mode) {
      case 'status500':
        this.send(res, 500, {
          error: 'relation does not exist',
          exception: 'ProgrammingError',
          netbox_version: '4.6.8',
          python_version: '3.12.3',
        });
        return true;
      case 'bad-gateway':
        res.writeHead(502, { 'Content-Type': 'text/html' });
        res.end('<html><body><h1>502 Bad Gateway</h1></body></html>');
        return true;
      case 'html':
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end('<!DOCTYPE html><html><head><title>Home | NetBox</title></head><body>login</body></html>');
        return true;
      case 'invalid-json':
        res.writeHead(200, { 'Content-Type': 'application/json', 'API-Version': this.version });
        res.end('{"count": 3, "next": null, "results": [{"id": 1,');
        return true;
      case 'forbidden':
        this.send(res, 403, { detail: 'You do not have permission to perform this action.' });
        return true;
      case 'timeout':
        // Never answer: the client's timeout must fire. The socket is closed when the fixture closes.
        this.hung.add(res);
        return true;
      case 'truncate': {
        const body = JSON.stringify({
          count: 1,
          next: null,
          previous: null,
          results: [{ id: 1, name: 'x' }],
        });
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length + 100 });
        res.write(body.slice(0, 20));
        setImmediate(() => res.destroy());
        return true;
      }
      case 'oversize': {
        res.writeHead(200, { 'Content-Type': 'application/json', 'API-Version': this.version });
        const chunk = Buffer.alloc(1 << 16, 0x20);
        let sent = 0;
        const pump = () => {
          while (sent < 256 * 1024 * 1024) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        res.on('close', () => (sent = Infinity));
        pump();
        return true;
      }
    }
  }

  private statusBody(): Json {
    const s = JSON.parse(readFileSync(join(TESTDATA, 'status.json'), 'utf8')) as Json;
    const full = this.version === '3.7' ? '3.7.8' : `${this.version}.8`;
    s['netbox-version'] = full;
    s['netbox-full-version'] = full;
    return s;
  }

  private paginate(
    rows: readonly Json[],
    q: URLSearchParams,
    res: http.ServerResponse,
    linkBase: string,
    path: string,
  ): void {
    const limit = this.limitOf(q);
    const offset = Math.max(0, Number(q.get('offset') ?? 0) || 0);
    const slice = rows.slice(offset, offset + limit);
    const link = (off: number) => {
      const u = new URL(path, linkBase);
      const nq = new URLSearchParams(q);
      nq.set('limit', String(limit));
      if (off > 0) nq.set('offset', String(off));
      else nq.delete('offset');
      nq.sort();
      u.search = nq.toString();
      return u.toString();
    };
    this.send(res, 200, {
      count: rows.length,
      next: offset + limit < rows.length ? link(offset + limit) : null,
      previous: offset > 0 ? link(Math.max(0, offset - limit)) : null,
      results: slice,
    });
  }

  private timeFilters(rows: Json[], q: URLSearchParams): Json[] | string {
    let out = rows;
    for (const [op, cmp] of [
      ['gte', (a: number, b: number) => a >= b],
      ['gt', (a: number, b: number) => a > b],
      ['lte', (a: number, b: number) => a <= b],
      ['lt', (a: number, b: number) => a < b],
    ] as const) {
      const v = q.get(`last_updated__${op}`);
      if (v === null) continue;
      const t = Date.parse(v);
      if (Number.isNaN(t)) return `last_updated__${op}`;
      out = out.filter((r) => cmp(Date.parse(String(r.last_updated)), t));
    }
    return out;
  }

  private choiceError(field: string, value: string): Json {
    return { [field]: [`Select a valid choice. ${value} is not one of the available choices.`] };
  }

  private listDevices(q: URLSearchParams, res: http.ServerResponse, linkBase: string): void {
    let rows = [...this.devices.values()];
    const sites = q.getAll('site');
    if (sites.length > 0) {
      for (const s of sites) if (!this.siteBySlug(s)) return this.send(res, 400, this.choiceError('site', s));
      rows = rows.filter((d) => sites.includes(String((d.site as Json).slug)));
    }
    const siteIds = q.getAll('site_id');
    if (siteIds.length > 0) {
      for (const s of siteIds)
        if (!this.sites.has(Number(s))) return this.send(res, 400, this.choiceError('site_id', s));
      rows = rows.filter((d) => siteIds.includes(String((d.site as Json).id)));
    }
    const statuses = q.getAll('status');
    if (statuses.length > 0) {
      for (const s of statuses)
        if (!(s in STATUS_LABELS)) return this.send(res, 400, this.choiceError('status', s));
      rows = rows.filter((d) => statuses.includes(String((d.status as Json).value)));
    }
    // Repeated `tag` filters are ANDed in NetBox, unlike every other filter.
    for (const t of q.getAll('tag')) {
      if (!this.tags.has(t)) return this.send(res, 400, this.choiceError('tag', t));
      rows = rows.filter((d) => (d.tags as Json[]).some((x) => x.slug === t));
    }
    // 4.0 removed the device_role filter from devices; a 3.7 server still takes it. Unknown filters are ignored.
    const roleKeys = this.version === '3.7' ? ['role', 'device_role'] : ['role'];
    for (const key of roleKeys) {
      const roles = q.getAll(key);
      if (roles.length === 0) continue;
      for (const r of roles) if (!this.roles.has(r)) return this.send(res, 400, this.choiceError(key, r));
      rows = rows.filter((d) => roles.includes(String((d.role as Json | null)?.slug)));
    }
    const timed = this.timeFilters(rows, q);
    if (typeof timed === 'string') return this.send(res, 400, { [timed]: ['Enter a valid date/time.'] });
    rows = timed;
    const ordering = q.get('ordering');
    if (ordering === 'name') rows.sort((a, b) => String(a.name).localeCompare(String(b.name)));
    else rows.sort((a, b) => Number(a.id) - Number(b.id));
    const rendered = rows.map((d) => this.renderDevice(d, q));
    this.paginate(rendered, q, res, linkBase, '/api/dcim/devices/');
  }

  /** The device as this version serves it: addresses rewritten, config context rendered unless excluded. */
  private renderDevice(d: Json, q: URLSearchParams): Json {
    let out: Json = { ...d };
    if (this.opts.rewriteAddresses !== false) {
      for (const k of ['primary_ip', 'primary_ip4', 'primary_ip6', 'oob_ip']) {
        const ip = out[k] as Json | null | undefined;
        if (ip && typeof ip.address === 'string') {
          const address = rewriteAddress(ip.address);
          out[k] = { ...ip, address, display: address };
        }
      }
    }
    const exclude = (q.get('exclude') ?? '').split(',');
    if (!exclude.includes('config_context')) out.config_context = this.renderContext(d);
    if (this.version === '3.7') {
      // 3.x: `device_role` (this fixture sends only that, as NetBox <= 3.5 did, the harder case for readers),
      // no display_url, no owner; `fields=` is not known and ignored.
      out.device_role = out.role;
      delete out.role;
      delete out.display_url;
      delete out.owner;
      return out;
    }
    const fields = q.get('fields');
    if (fields) out = pick(out, fields.split(','));
    return out;
  }

  /** NetBox's rendering: applicable active contexts by weight then name, deep-merged, local data last. */
  private renderContext(d: Json): Json {
    const ids = (list: unknown) => (list as Json[]).map((x) => Number(x.id));
    const siteId = Number((d.site as Json).id);
    const roleId = Number((d.role as Json | null)?.id ?? -1);
    const platformId = Number((d.platform as Json | null)?.id ?? -1);
    const tagSlugs = (d.tags as Json[]).map((t) => String(t.slug));
    const applicable = [...this.contexts.values()]
      .filter((c) => {
        if (c.is_active === false) return false;
        const s = ids(c.sites);
        const r = ids(c.roles);
        const p = ids(c.platforms);
        const t = c.tags as string[];
        return (
          (s.length === 0 || s.includes(siteId)) &&
          (r.length === 0 || r.includes(roleId)) &&
          (p.length === 0 || p.includes(platformId)) &&
          (t.length === 0 || t.some((x) => tagSlugs.includes(x)))
        );
      })
      .sort((a, b) => Number(a.weight) - Number(b.weight) || String(a.name).localeCompare(String(b.name)));
    const merge = (a: unknown, b: unknown): unknown => {
      if (
        typeof a !== 'object' ||
        a === null ||
        Array.isArray(a) ||
        typeof b !== 'object' ||
        b === null ||
        Array.isArray(b)
      )
        return b;
      const o: Json = { ...(a as Json) };
      for (const [k, v] of Object.entries(b as Json)) o[k] = k in o ? merge(o[k], v) : v;
      return o;
    };
    let out: unknown = {};
    for (const c of applicable) out = merge(out, c.data);
    if (d.local_context_data) out = merge(out, d.local_context_data);
    return out as Json;
  }

  private listSites(q: URLSearchParams, res: http.ServerResponse, linkBase: string): void {
    let rows = [...this.sites.values()];
    const slugs = q.getAll('slug');
    if (slugs.length > 0) rows = rows.filter((s) => slugs.includes(String(s.slug)));
    const ids = q.getAll('id');
    if (ids.length > 0) rows = rows.filter((s) => ids.includes(String(s.id)));
    rows.sort((a, b) => Number(a.id) - Number(b.id));
    const out =
      this.version === '3.7' ? rows.map((s) => ({ ...s, display_url: undefined, owner: undefined })) : rows;
    this.paginate(
      out.map((s) => JSON.parse(JSON.stringify(s)) as Json),
      q,
      res,
      linkBase,
      '/api/dcim/sites/',
    );
  }

  private listContexts(q: URLSearchParams, res: http.ServerResponse, linkBase: string): void {
    const timed = this.timeFilters([...this.contexts.values()], q);
    if (typeof timed === 'string') return this.send(res, 400, { [timed]: ['Enter a valid date/time.'] });
    timed.sort((a, b) => Number(a.id) - Number(b.id));
    this.paginate(timed, q, res, linkBase, '/api/extras/config-contexts/');
  }
}

/** Starts a fixture; the caller closes it. */
export async function startNetboxFixture(opts: FixtureOptions = {}): Promise<NetboxFixture> {
  const f = new NetboxFixture(opts);
  await f.start();
  return f;
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const arg = (name: string, def: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? (args[i + 1] ?? def) : def;
  };
  const token = arg('token', '0123456789abcdef0123456789abcdef01234567');
  const f = new NetboxFixture({ version: arg('version', '4.6') as FixtureVersion, v1Tokens: [token] });
  f.generateStore({ slug: arg('site', 'store-0042'), devices: Number(arg('devices', '60')) });
  const url = await f.start(Number(arg('port', '0')));
  process.stdout.write(`NetBox fixture at ${url} (site store-0042, token ${token.slice(0, 4)}…)\n`);
}
