// The status page's content as a small element tree. One renderer serves both sides: the server turns the tree
// into HTML (so the page works without JavaScript), and the browser script rebuilds the DOM from the same tree
// with createElement/textContent when it refreshes. Sharing one function keeps the two from drifting apart.

import type { Overview, RemoteStatus, TargetStatus } from './status.ts';

/** Text (always rendered as text, never as markup) or an element. */
export type VNode = string | VElement;

/** An element: tag and attribute names come from this module's code only, never from data. */
export interface VElement {
  readonly t: string;
  readonly a: Readonly<Record<string, string>>;
  readonly c: readonly VNode[];
}

/** Overall state of the store: drives the banner colour and the title prefix. */
export type PageState = 'ok' | 'warn' | 'bad';

export interface View {
  readonly title: string;
  readonly state: PageState;
  /** Root element, `<div id="app">`; the browser script replaces it as a whole on refresh. */
  readonly body: VElement;
}

/**
 * Builds the page content from an overview, with ages computed against `nowMs` (the server's clock, so that a
 * technician's laptop with a wrong clock still sees correct ages).
 *
 * This function's source text is also shipped to the browser (see page.ts), so it must stay self-contained:
 * no references to anything outside its body (imports, module constants, other functions), and only syntax that
 * both Node and current browsers run. Types are fine: they are stripped. test/appliance/web/view.test.ts checks
 * that it runs alone in an empty context, also after bundling and minifying with esbuild.
 */
export function renderView(data: Overview, nowMs: number): View {
  type Child = VNode | null | false | undefined;
  // Helpers are object methods, not `const f = () => ...`: esbuild's keepNames wraps the latter in a call to a
  // module-level __name helper, which would not exist in the browser. `this: void` marks them as free functions.
  const lib = {
    h(this: void, t: string, a: Record<string, string> | null, ...kids: Child[]): VElement {
      const c: VNode[] = [];
      for (const k of kids) if (k !== null && k !== false && k !== undefined) c.push(k);
      return { t, a: a ?? {}, c };
    },
    cls(this: void, name: string): Record<string, string> {
      return { class: name };
    },
    // Formatting is deliberately locale-independent so that server and browser render identical text.
    num(this: void, n: number): string {
      return Number.isFinite(n) ? String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',') : '?';
    },
    bytes(this: void, n: number): string {
      if (!Number.isFinite(n) || n < 0) return '?';
      const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
      let v = n;
      let i = 0;
      while (v >= 1024 && i < units.length - 1) {
        v /= 1024;
        i++;
      }
      const unit = units[i] ?? 'B';
      return i === 0 ? `${Math.round(v)} B` : `${v < 10 ? v.toFixed(1) : String(Math.round(v))} ${unit}`;
    },
    dur(this: void, s: number): string {
      if (!Number.isFinite(s) || s < 0) return '?';
      if (s < 1) return `${Math.round(s * 1000)} ms`;
      if (s < 10) return `${s.toFixed(1)} s`;
      if (s < 60) return `${Math.floor(s)} s`;
      const m = Math.floor(s / 60);
      if (m < 60) return `${m} min ${Math.floor(s % 60)} s`;
      const hr = Math.floor(m / 60);
      if (hr < 24) return `${hr} h ${m % 60} min`;
      return `${Math.floor(hr / 24)} d ${hr % 24} h`;
    },
    // Prometheus-style duration for configured retention, e.g. "15d", "1d12h".
    promDur(this: void, ms: number): string {
      let rest = Math.round(ms);
      let out = '';
      const units: [string, number][] = [
        ['d', 86400000],
        ['h', 3600000],
        ['m', 60000],
        ['s', 1000],
        ['ms', 1],
      ];
      for (const [unit, size] of units) {
        if (rest >= size) {
          out += `${Math.floor(rest / size)}${unit}`;
          rest %= size;
        }
      }
      return out || '0s';
    },
    stamp(this: void, ms: number): string {
      const d = new Date(ms);
      return Number.isNaN(d.getTime()) ? '?' : `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
    },
    ago(this: void, ms: number): string {
      const s = (nowMs - ms) / 1000;
      if (!Number.isFinite(s)) return '?';
      if (s < -5) return `${dur(-s)} in the future (check clocks)`;
      return s < 1 ? 'just now' : `${dur(s)} ago`;
    },
    pct(this: void, ratio: number): string {
      return Number.isFinite(ratio) ? `${Math.round(ratio * 100)}%` : '?';
    },
    bar(this: void, ratio: number, high: boolean): VElement {
      const p = Number.isFinite(ratio) ? Math.min(100, Math.max(0, Math.round(ratio * 100))) : 0;
      return h('div', cls(high ? 'bar high' : 'bar'), h('span', { style: `width:${p}%` }));
    },
    cmp(this: void, a: string, b: string): number {
      return a < b ? -1 : a > b ? 1 : 0;
    },
    oneLine(this: void, s: string, max: number): string {
      const first = s.split('\n')[0] ?? '';
      return first.length > max ? `${first.slice(0, max - 1)}…` : first;
    },
    job(this: void, t: TargetStatus): string {
      return t.labels['job'] ?? t.scrapePool;
    },
    inst(this: void, t: TargetStatus): string {
      return t.labels['instance'] ?? t.scrapeUrl;
    },
    health(this: void, t: TargetStatus): string {
      return t.health === 'up' || t.health === 'down' ? t.health : 'unknown';
    },
    kv(this: void, k: string, v: Child, c?: string): VElement {
      return h('div', cls(c ? `kv ${c}` : 'kv'), h('dt', null, k), h('dd', null, v));
    },
    // How far a destination's delivered data trails the page's clock, in ms; null when nothing was delivered.
    lagMs(this: void, r: RemoteStatus): number | null {
      return r.sentThrough === null ? null : nowMs - r.sentThrough;
    },
    // The link state a technician reads; the raw sender state is shown beside it. Unknown states read as idle.
    link(this: void, r: RemoteStatus): 'retrying' | 'stopped' | 'never' | 'catching' | 'delivering' {
      if (r.state === 'backing_off') return 'retrying';
      if (r.state === 'stopped') return 'stopped';
      const lag = lagMs(r);
      if (lag === null) return 'never';
      return lag > 2 * 60_000 ? 'catching' : 'delivering';
    },
    // The last error still describes the link only if no request succeeded after it.
    errorIsCurrent(this: void, r: RemoteStatus): boolean {
      return r.lastError !== '' && (r.lastSuccess === null || (r.lastErrorTime ?? 0) >= r.lastSuccess);
    },
    behind(this: void, ms: number): string {
      if (ms < -5000) return `${dur(-ms / 1000)} ahead (check clocks)`;
      return `${dur(Math.max(0, ms) / 1000)} behind`;
    },
  };
  const {
    h,
    cls,
    num,
    bytes,
    dur,
    promDur,
    stamp,
    ago,
    pct,
    bar,
    cmp,
    oneLine,
    job,
    inst,
    health,
    kv,
    lagMs,
    link,
    errorIsCurrent,
    behind,
  } = lib;

  const rank: Record<string, number> = { down: 0, unknown: 1, up: 2 };
  const targets = [...data.targets].sort(
    (x, y) =>
      (rank[health(x)] ?? 1) - (rank[health(y)] ?? 1) ||
      cmp(job(x), job(y)) ||
      cmp(inst(x), inst(y)) ||
      cmp(x.scrapeUrl, y.scrapeUrl),
  );
  const upCount = targets.filter((t) => health(t) === 'up').length;
  const down = targets.filter((t) => health(t) === 'down');
  const unknownCount = targets.length - upCount - down.length;
  const st = data.storage;
  const host = data.host;

  // Problems, most urgent first: what a technician must see within seconds.
  const bad: string[] = [];
  const warn: string[] = [];
  const maxListed = 6;
  for (const t of down.slice(0, maxListed)) {
    bad.push(`DOWN: ${job(t)} ${inst(t)} — ${oneLine(t.lastError, 120) || 'no error text'}`);
  }
  if (down.length > maxListed) bad.push(`… and ${down.length - maxListed} more targets down`);
  if (st.ingestion === 'paused') bad.push(`${st.ingestionError || 'unknown error'} — ingestion paused`);
  if (targets.length === 0) warn.push('No targets configured');
  if (unknownCount > 0) warn.push(`${unknownCount} target${unknownCount === 1 ? '' : 's'} not scraped yet`);
  if (host) {
    for (const fs of host.filesystems) {
      const used = fs.sizeBytes > 0 ? 1 - fs.availBytes / fs.sizeBytes : 0;
      if (used >= 0.9) warn.push(`Disk ${fs.mountpoint} ${pct(used)} full`);
    }
    if (host.memoryTotalBytes > 0 && host.memoryAvailableBytes / host.memoryTotalBytes < 0.05) {
      warn.push('Memory almost exhausted');
    }
    if (host.temperatureCelsius !== null && host.temperatureCelsius >= 85) {
      warn.push(`Temperature high: ${Math.round(host.temperatureCelsius)} °C`);
    }
  }
  // Store-and-forward keeps the data on disk during an outage, so a slow or failing upstream is a warning, not
  // a problem: nothing is lost yet, but central dashboards are stale.
  const remotes = data.remote;
  for (const r of remotes) {
    const lk = link(r);
    const lag = lagMs(r);
    const far = lag !== null && lag > 5 * 60_000;
    if (!far && lk !== 'retrying' && lk !== 'stopped') continue;
    const what = far
      ? behind(lag)
      : lk === 'stopped'
        ? 'stopped'
        : lag === null
          ? 'retrying, nothing delivered yet'
          : 'retrying';
    const why = errorIsCurrent(r) ? ` — ${oneLine(r.lastError, 120)}` : '';
    warn.push(`Upstream ${r.name}: ${what}${why}`);
  }
  // A failing inventory sync keeps the last good inventory, so it is a warning: monitoring goes on unchanged.
  const inv = data.inventory;
  if (inv !== null) {
    if (inv.lastError !== null) {
      const using =
        inv.lastSuccessAt !== null
          ? `using the inventory of ${ago(inv.lastSuccessAt)}`
          : inv.origin === 'cache'
            ? 'using the cached inventory'
            : 'no inventory yet';
      warn.push(
        `NetBox sync failing since ${ago(inv.lastError.at)}: ${oneLine(inv.lastError.message, 100)} — ${using}`,
      );
    }
    if (inv.notMonitored.length > 0) {
      warn.push(
        `${inv.notMonitored.length} device${inv.notMonitored.length === 1 ? '' : 's'} in NetBox not monitored`,
      );
    }
  }
  const state: PageState = bad.length > 0 ? 'bad' : warn.length > 0 ? 'warn' : 'ok';
  const stateWord = state === 'bad' ? 'PROBLEM' : state === 'warn' ? 'CHECK' : 'ALL OK';
  const stateMark = state === 'bad' ? '✖' : state === 'warn' ? '!' : '✔';
  const headline = `${upCount} of ${targets.length} targets up`;
  const hostname = host?.hostname ?? '';

  // Per-job tallies, so a store with 30 POS terminals reads as "pos 28/30" at a glance.
  const jobs = new Map<string, { up: number; total: number; down: number }>();
  for (const t of targets) {
    const j = jobs.get(job(t)) ?? { up: 0, total: 0, down: 0 };
    j.total++;
    if (health(t) === 'up') j.up++;
    if (health(t) === 'down') j.down++;
    jobs.set(job(t), j);
  }
  const jobChips = [...jobs.keys()].sort(cmp).map((name) => {
    const j = jobs.get(name) ?? { up: 0, total: 0, down: 0 };
    const c = j.down > 0 ? 'chip bad' : j.up < j.total ? 'chip warn' : 'chip ok';
    return h('span', cls(c), `${name} ${j.up}/${j.total}`);
  });

  const banner = h(
    'header',
    cls(`banner ${state}`),
    h(
      'div',
      cls('wrap'),
      h(
        'div',
        cls('headline'),
        h('span', cls('mark'), stateMark),
        h('h1', null, headline),
        h('span', cls('word'), stateWord),
      ),
      jobChips.length > 0 ? h('div', cls('jobs'), ...jobChips) : null,
      bad.length + warn.length > 0
        ? h(
            'ul',
            cls('problems'),
            ...bad.map((p) => h('li', cls('p-bad'), p)),
            ...warn.map((p) => h('li', cls('p-warn'), p)),
          )
        : null,
      h(
        'div',
        cls('where'),
        [hostname, `storewatch ${data.build.version}`, `updated ${stamp(nowMs).slice(11)}`]
          .filter((s) => s !== '')
          .join(' · '),
      ),
    ),
  );

  const cards = {
    target(this: void, t: TargetStatus): VElement {
      const hl = health(t);
      const last = Date.parse(t.lastScrape);
      const never = !Number.isFinite(last) || last <= 0;
      const extra = Object.keys(t.labels)
        .filter((k) => k !== 'job' && k !== 'instance')
        .sort(cmp)
        .map((k) => h('span', cls('label'), `${k}=${t.labels[k] ?? ''}`));
      return h(
        'li',
        cls(`target ${hl}`),
        h(
          'div',
          cls('t-head'),
          h('span', cls(`badge ${hl}`), hl.toUpperCase()),
          h('span', cls('t-job'), job(t)),
          h('span', cls('t-inst'), inst(t)),
          h('span', cls('t-age'), never ? 'never scraped' : `scraped ${ago(last)}`),
        ),
        h(
          'div',
          cls('t-meta'),
          h('span', null, 'took ', h('b', null, never ? '–' : dur(t.lastScrapeDuration))),
          h('span', null, h('b', null, never ? '–' : num(t.lastSamples)), ' samples'),
          h('span', null, 'every ', h('b', null, t.scrapeInterval), ` (timeout ${t.scrapeTimeout})`),
          t.scrapePool !== job(t) ? h('span', null, `pool ${t.scrapePool}`) : null,
        ),
        t.lastError !== '' ? h('div', cls('t-err'), h('b', null, 'Error: '), t.lastError) : null,
        extra.length > 0 ? h('div', cls('t-labels'), ...extra) : null,
        h('div', cls('t-url'), t.scrapeUrl),
      );
    },
  };

  const linkWords: Record<string, string> = {
    delivering: 'delivering',
    catching: 'catching up',
    retrying: 'retrying',
    stopped: 'stopped',
    never: 'never delivered',
  };
  const linkClass: Record<string, string> = {
    delivering: 'ok',
    catching: 'warn',
    retrying: 'warn',
    stopped: 'warn',
    never: 'unknown',
  };
  const remoteCards = {
    card(this: void, r: RemoteStatus): VElement {
      const lk = link(r);
      const c = linkClass[lk] ?? 'unknown';
      const lag = lagMs(r);
      const drops = Object.keys(r.samplesDropped)
        .filter((k) => (r.samplesDropped[k] ?? 0) !== 0)
        .sort(cmp)
        .map((k) => `${k} ${num(r.samplesDropped[k] ?? 0)}`);
      return h(
        'li',
        cls(`remote ${c}`),
        h(
          'div',
          cls('t-head'),
          h('span', cls(`badge ${c}`), (linkWords[lk] ?? lk).toUpperCase()),
          h('span', cls('t-job'), r.name),
          h(
            'span',
            cls('t-age'),
            r.lastSuccess === null ? 'no delivery since start' : `delivered ${ago(r.lastSuccess)}`,
          ),
        ),
        h(
          'dl',
          cls('grid r-grid'),
          kv(
            'Backlog',
            lag === null
              ? 'nothing delivered yet'
              : h('span', null, behind(lag), h('small', null, `through ${stamp(r.sentThrough ?? NaN)}`)),
          ),
          kv(
            'Last success',
            r.lastSuccess === null
              ? 'none since start'
              : h('span', null, ago(r.lastSuccess), h('small', null, stamp(r.lastSuccess))),
          ),
          kv(
            'Queued',
            r.backlogSamples === null
              ? 'unknown'
              : h(
                  'span',
                  null,
                  `≈ ${num(r.backlogSamples)} samples`,
                  h('small', null, `${bytes(r.backlogBytes ?? 0)} stored`),
                ),
          ),
          kv(
            'Draining',
            h(
              'span',
              null,
              `${num(Math.round(r.drainRate))}/s`,
              h(
                'small',
                null,
                r.etaSeconds === null ? 'no catch-up running' : `caught up in ≈ ${dur(r.etaSeconds)}`,
              ),
            ),
          ),
          kv('Samples sent', num(r.samplesSent)),
          kv('Data sent', bytes(r.bytesSent)),
          kv('Retries', num(r.retries)),
          kv('Dropped', drops.length > 0 ? drops.join(' · ') : 'none'),
        ),
        r.lastError !== ''
          ? h(
              'div',
              cls(errorIsCurrent(r) ? 't-err' : 't-err old'),
              h(
                'b',
                null,
                r.lastErrorTime === null ? 'Last error: ' : `Last error, ${ago(r.lastErrorTime)}: `,
              ),
              r.lastError,
            )
          : null,
        h('div', cls('t-meta'), `sender ${String(r.state).replaceAll('_', ' ')}`),
      );
    },
  };
  const delivering = remotes.filter((r) => link(r) === 'delivering').length;
  const upstreamSection =
    remotes.length > 0
      ? h(
          'section',
          cls('card'),
          h('h2', null, 'Upstream', h('span', cls('sub'), `${delivering} of ${remotes.length} delivering`)),
          h('ul', cls('remotes'), ...remotes.map((r) => remoteCards.card(r))),
        )
      : null;

  const hostSection = h(
    'section',
    cls('card'),
    h('h2', null, 'This appliance', hostname !== '' ? h('span', cls('sub'), hostname) : null),
    host === null
      ? h('p', cls('muted'), 'Host vitals not collected yet.')
      : h(
          'div',
          null,
          h(
            'dl',
            cls('grid'),
            kv('Uptime', dur(host.uptimeSeconds)),
            kv('CPU', host.cpuUsageRatio === null ? 'measuring…' : pct(host.cpuUsageRatio)),
            kv(
              'Memory used',
              host.memoryTotalBytes > 0
                ? h(
                    'span',
                    null,
                    `${pct(1 - host.memoryAvailableBytes / host.memoryTotalBytes)} of ${bytes(host.memoryTotalBytes)}`,
                    bar(
                      1 - host.memoryAvailableBytes / host.memoryTotalBytes,
                      host.memoryAvailableBytes / host.memoryTotalBytes < 0.05,
                    ),
                  )
                : '?',
            ),
            kv(
              'Temperature',
              host.temperatureCelsius === null ? 'not reported' : `${Math.round(host.temperatureCelsius)} °C`,
              host.temperatureCelsius !== null && host.temperatureCelsius >= 85 ? 'hot' : undefined,
            ),
          ),
          host.filesystems.length > 0 ? h('h3', null, 'Filesystems') : null,
          ...host.filesystems.map((fs) => {
            const used = fs.sizeBytes > 0 ? 1 - fs.availBytes / fs.sizeBytes : 0;
            return h(
              'div',
              cls('fs'),
              h(
                'div',
                cls('fs-line'),
                h('span', cls('fs-mount'), fs.mountpoint),
                h('span', null, `${pct(used)} used · ${bytes(fs.availBytes)} free of ${bytes(fs.sizeBytes)}`),
              ),
              bar(used, used >= 0.9),
            );
          }),
        ),
  );

  const paused = st.ingestion === 'paused';
  const retention = [
    st.retentionTimeMs > 0 ? promDur(st.retentionTimeMs) : '',
    st.retentionSizeBytes > 0 ? bytes(st.retentionSizeBytes) : '',
  ].filter((s) => s !== '');
  const storageSection = h(
    'section',
    cls('card'),
    h('h2', null, 'Storage'),
    h(
      'div',
      cls(paused ? 'ingest paused' : 'ingest ok'),
      paused ? `${st.ingestionError || 'unknown error'} — ingestion paused` : 'Ingestion OK',
    ),
    h(
      'dl',
      cls('grid'),
      kv('Database', `${bytes(st.databaseBytes + st.logBytes)}`),
      kv('Series', num(st.series)),
      kv('Chunks', num(st.chunks)),
      kv('Samples written', num(st.samplesAppended)),
      kv(
        'Oldest sample',
        st.oldestTimestamp === null
          ? 'none'
          : h('span', null, ago(st.oldestTimestamp), h('small', null, stamp(st.oldestTimestamp))),
      ),
      kv(
        'Newest sample',
        st.newestTimestamp === null
          ? 'none'
          : h('span', null, ago(st.newestTimestamp), h('small', null, stamp(st.newestTimestamp))),
      ),
      kv('Retention', retention.length > 0 ? retention.join(' or ') : 'unlimited'),
      kv('Write-ahead log', bytes(st.logBytes)),
    ),
    h('div', cls('path'), st.path),
  );

  const maxRows = 50;
  const notScraped = data.notScraped;
  const inventorySection =
    inv !== null || notScraped.length > 0
      ? h(
          'section',
          cls('card'),
          h(
            'h2',
            null,
            'Inventory',
            inv !== null
              ? h('span', cls('sub'), `${num(inv.monitored)} of ${num(inv.devices)} devices monitored`)
              : null,
          ),
          inv !== null
            ? h(
                'dl',
                cls('grid'),
                kv('Source', inv.source),
                kv(
                  'Last sync',
                  inv.lastSuccessAt === null
                    ? inv.origin === 'cache'
                      ? 'not since start (cached inventory)'
                      : 'never'
                    : ago(inv.lastSuccessAt),
                  inv.lastError !== null ? 'hot' : undefined,
                ),
                kv('Targets', num(inv.targets)),
              )
            : null,
          inv !== null && inv.lastError !== null
            ? h(
                'div',
                cls('t-err'),
                h('b', null, `Sync error, ${ago(inv.lastError.at)}: `),
                inv.lastError.message,
              )
            : null,
          inv !== null && inv.notMonitored.length > 0 ? h('h3', null, 'Not monitored') : null,
          inv !== null && inv.notMonitored.length > 0
            ? h(
                'ul',
                cls('plain'),
                ...inv.notMonitored
                  .slice(0, maxRows)
                  .map((n) => h('li', null, h('b', null, n.device), ` — ${n.reason}`)),
                inv.notMonitored.length > maxRows
                  ? h('li', null, `… and ${inv.notMonitored.length - maxRows} more`)
                  : null,
              )
            : null,
          notScraped.length > 0 ? h('h3', null, 'Targets not scraped') : null,
          notScraped.length > 0
            ? h(
                'ul',
                cls('plain'),
                ...notScraped
                  .slice(0, maxRows)
                  .map((n) => h('li', null, h('b', null, `${n.job} ${n.address}`), ` — ${n.reason}`)),
                notScraped.length > maxRows
                  ? h('li', null, `… and ${notScraped.length - maxRows} more`)
                  : null,
              )
            : null,
          inv !== null && inv.recentChanges.length > 0 ? h('h3', null, 'Recent changes') : null,
          ...(inv !== null ? inv.recentChanges.slice(0, 5) : []).map((c) =>
            h('div', null, h('small', null, ago(c.at)), h('pre', cls('changes'), c.text)),
          ),
        )
      : null;

  // History: one strip of bars per series, newest on the right; a bar's height and colour read at a glance.
  const graphSection =
    data.graphs.length > 0
      ? h(
          'section',
          cls('card'),
          h('h2', null, 'Last 24 hours'),
          ...data.graphs.map((g) => {
            const max = Math.max(1e-9, ...g.rows.flatMap((r) => r.values.map((v) => (v === null ? 0 : v))));
            return h(
              'div',
              cls('graph'),
              h('h3', null, g.title),
              g.rows.length === 0 ? h('p', cls('muted'), 'No data yet.') : null,
              ...g.rows.map((r) =>
                h(
                  'div',
                  cls('g-row'),
                  h('span', cls('g-label'), r.label),
                  h(
                    'span',
                    cls('g-bars'),
                    ...r.values.map((v, i) => {
                      const at = stamp(g.start + i * g.stepMs).slice(11, 16);
                      if (v === null) return h('i', { class: 'g-none', title: `${at} no data` });
                      const ratio = g.unit === 'ratio' ? v : v / max;
                      const c =
                        g.unit === 'ratio' ? (v >= 0.999 ? 'g-ok' : v > 0 ? 'g-warn' : 'g-bad') : 'g-val';
                      const p = Math.max(4, Math.min(100, Math.round(ratio * 100)));
                      const shown =
                        g.unit === 'ratio'
                          ? `${Math.round(v * 100)}% up`
                          : g.unit === 'seconds'
                            ? dur(v)
                            : num(v);
                      return h('i', { class: c, style: `height:${p}%`, title: `${at} ${shown}` });
                    }),
                  ),
                ),
              ),
            );
          }),
        )
      : null;

  const b = data.build;
  const body = h(
    'div',
    { id: 'app' },
    banner,
    h(
      'div',
      cls('wrap'),
      h(
        'section',
        cls('card'),
        h('h2', null, 'Targets', h('span', cls('sub'), headline)),
        targets.length === 0
          ? h('p', cls('muted'), 'No targets configured.')
          : h('ul', cls('targets'), ...targets.map((t) => cards.target(t))),
      ),
      upstreamSection,
      graphSection,
      inventorySection,
      h('div', cls('cols'), hostSection, storageSection),
      h(
        'footer',
        null,
        `storewatch ${b.version}${b.revision ? ` (${b.revision.slice(0, 12)})` : ''} · Node ${b.nodeVersion}` +
          ` · started ${Number.isFinite(Date.parse(b.startTime)) ? stamp(Date.parse(b.startTime)) : b.startTime}`,
      ),
    ),
  );
  const title = `${stateMark} ${headline}${hostname ? ` — ${hostname}` : ''} — storewatch`;
  return { title, state, body };
}

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML element content and double- or single-quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch] ?? ch);
}

/** Thrown when a tree holds a tag or attribute name that is not a plain lowercase name (a programming error). */
export class ViewNameError extends Error {
  override readonly name = 'ViewNameError';
}

const NAME = /^[a-z][a-z0-9-]*$/;

/** Serialises a tree to HTML. All text and attribute values are escaped; names are checked. */
export function toHtml(node: VNode): string {
  if (typeof node === 'string') return escapeHtml(node);
  if (!NAME.test(node.t)) throw new ViewNameError(`bad tag name ${JSON.stringify(node.t)}`);
  let out = `<${node.t}`;
  for (const [k, v] of Object.entries(node.a)) {
    if (!NAME.test(k) || k.startsWith('on'))
      throw new ViewNameError(`bad attribute name ${JSON.stringify(k)}`);
    out += ` ${k}="${escapeHtml(v)}"`;
  }
  out += '>';
  for (const c of node.c) out += toHtml(c);
  return `${out}</${node.t}>`;
}
