import { test } from 'node:test';
import assert from 'node:assert/strict';
import vm from 'node:vm';
import * as esbuild from 'esbuild';
import { escapeHtml, renderView, toHtml, ViewNameError } from '../../../appliance/web/view.ts';
import type { VElement, VNode, View } from '../../../appliance/web/view.ts';
import type { Overview } from '../../../appliance/web/status.ts';
import { destination, fakeStatus, HOSTILE, NEVER, target } from './fake-status.ts';

const NOW = Date.parse('2025-03-01T12:00:00Z');

function overview(): Overview {
  const f = fakeStatus(NOW);
  return {
    targets: f.targets(),
    storage: f.storage(),
    host: f.host(),
    remote: f.remote(),
    inventory: null,
    notScraped: [],
    graphs: [],
    build: f.build,
  };
}

/** The fake overview with destinations in every link state, so that every branch of the renderer runs. */
function richOverview(): Overview {
  return {
    ...overview(),
    remote: [
      destination(NOW),
      destination(NOW, {
        name: 'far',
        state: 'backing_off',
        sentThrough: NOW - 3 * 3_600_000,
        lastError: 'HTTP 500: down',
        lastErrorTime: NOW - 1000,
        samplesDropped: { too_old: 3, http_4xx: 0 },
      }),
      destination(NOW, { name: 'new', sentThrough: null, lastSuccess: null }),
      destination(NOW, { name: 'slow', state: 'throttled', sentThrough: NOW - 180_000 }),
      destination(NOW, { name: 'off', state: 'stopped', lastError: 'old', lastErrorTime: NOW - 86_400_000 }),
    ],
    inventory: {
      source: 'https://netbox.example.com, site s001 (API 4.6)',
      origin: 'cache',
      lastSuccessAt: null,
      lastError: { at: NOW - 120_000, message: 'HTTP 502 on page 3' },
      devices: 12,
      monitored: 10,
      targets: 14,
      notMonitored: [
        { device: 'till-9', reason: 'no primary IP' },
        { device: 'cam-1', reason: 'address 169.254.169.254 outside allowed networks' },
      ],
      recentChanges: [{ at: NOW - 3600_000, text: '+ till-8 [42] (monitored)' }],
    },
    notScraped: [{ job: 'network-snmp', address: '10.0.0.2:161', reason: 'no snmp collector' }],
    graphs: [
      {
        title: 'Targets up',
        unit: 'ratio',
        start: NOW - 4 * 1_800_000,
        stepMs: 1_800_000,
        rows: [
          { label: 'pos', values: [1, 1, 0.5, 0, null] },
          { label: 'node', values: [1, 1, 1, 1, 1] },
        ],
      },
      { title: 'Upstream lag', unit: 'seconds', start: NOW, stepMs: 60_000, rows: [] },
    ],
  };
}

function rawText(n: VNode): string {
  return typeof n === 'string' ? n : n.c.map(rawText).join(' ');
}

/** Visible text with whitespace collapsed, roughly as a browser shows it. */
function text(n: VNode): string {
  return rawText(n).replace(/\s+/g, ' ').trim();
}

function findAll(n: VNode, pred: (e: VElement) => boolean, out: VElement[] = []): VElement[] {
  if (typeof n !== 'string') {
    if (pred(n)) out.push(n);
    for (const c of n.c) findAll(c, pred, out);
  }
  return out;
}

function classOf(e: VElement): string {
  return e.a['class'] ?? '';
}

/** Evaluates a function's source text alone in an empty realm, as the browser script does. */
function isolated(source: string): (data: unknown, now: number) => unknown {
  return vm.runInNewContext(`(${source})`, {}) as (data: unknown, now: number) => unknown;
}

test('renderView is self-contained: its source runs alone in an empty context with the same result', () => {
  const data = richOverview();
  const direct = renderView(data, NOW);
  const alone = isolated(renderView.toString())(JSON.parse(JSON.stringify(data)), NOW);
  assert.equal(JSON.stringify(alone), JSON.stringify(direct));
});

// The first variant is how firmware/build-binary.ts bundles today; the others guard against future options.
for (const [minify, keepNames] of [
  [false, false],
  [true, false],
  [true, true],
]) {
  test(`renderView stays self-contained after esbuild bundling (minify=${minify}, keepNames=${keepNames})`, async () => {
    const out = await esbuild.build({
      entryPoints: [new URL('../../../appliance/web/view.ts', import.meta.url).pathname],
      bundle: true,
      format: 'cjs',
      platform: 'node',
      target: 'node24',
      minify,
      keepNames,
      write: false,
      logLevel: 'silent',
    });
    const code = out.outputFiles[0]!.text;
    const mod = { exports: {} as { renderView?: typeof renderView } };
    vm.runInNewContext(code, { module: mod, exports: mod.exports });
    const bundled = mod.exports.renderView;
    assert.equal(typeof bundled, 'function');
    const data = richOverview();
    const alone = isolated(bundled!.toString())(JSON.parse(JSON.stringify(data)), NOW);
    assert.equal(JSON.stringify(alone), JSON.stringify(renderView(data, NOW)));
  });
}

test('headline counts targets up and the state is bad when a target is down', () => {
  const v = renderView(overview(), NOW);
  assert.equal(v.state, 'bad');
  assert.match(v.title, /2 of 3 targets up/);
  assert.match(v.title, /store-0042-edge/);
  const h1 = findAll(v.body, (e) => e.t === 'h1');
  assert.equal(h1.length, 1);
  assert.equal(text(h1[0]!), '2 of 3 targets up');
  const problems = findAll(v.body, (e) => classOf(e) === 'p-bad').map(text);
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /^DOWN: pos pos-07\.store:9182 — Get .*context deadline exceeded$/);
});

test('down targets are listed first, then unknown, then up; each shows the full error text', () => {
  const data = overview();
  const longError = `first line ${'x'.repeat(400)}\nsecond line`;
  const targets = [
    ...data.targets,
    target({ job: 'aaa', instance: 'new:1', health: 'unknown' }),
    target({ job: 'zzz', instance: 'z:1', health: 'down', lastError: longError, lastScrape: NEVER }),
  ];
  const v = renderView({ ...data, targets }, NOW);
  const cards = findAll(v.body, (e) => e.t === 'li' && classOf(e).startsWith('target '));
  assert.deepEqual(
    cards.map((c) => classOf(c)),
    ['target down', 'target down', 'target unknown', 'target up', 'target up'],
  );
  const errs = findAll(v.body, (e) => classOf(e) === 't-err').map(rawText);
  assert.ok(
    errs.some((e) => e.includes(longError)),
    'full error text, not truncated, in the card',
  );
  // The banner line is one line and shortened.
  const banner = findAll(v.body, (e) => classOf(e) === 'p-bad').map(text);
  assert.ok(banner.every((b) => !b.includes('second line') && b.length < 200));
  assert.match(text(v.body), /never scraped/);
  assert.match(text(v.body), /1 target not scraped yet/);
});

test('all up and healthy storage gives state ok; paused ingestion gives bad with the reason', () => {
  const data = overview();
  const host = data.host!;
  const healthyHost = { ...host, filesystems: host.filesystems.filter((f) => f.mountpoint === '/') };
  const allUp = data.targets.filter((t) => t.health === 'up');
  const ok = renderView({ ...data, targets: allUp, host: healthyHost }, NOW);
  assert.equal(ok.state, 'ok');
  assert.equal(findAll(ok.body, (e) => e.t === 'ul' && classOf(e) === 'problems').length, 0);

  const paused = renderView(
    {
      ...data,
      targets: allUp,
      host: healthyHost,
      storage: { ...data.storage, ingestion: 'paused', ingestionError: 'disk full' },
    },
    NOW,
  );
  assert.equal(paused.state, 'bad');
  assert.match(text(paused.body), /disk full — ingestion paused/);
});

test('warnings: no targets, nearly full disk, hot host', () => {
  const data = overview();
  const v = renderView({ ...data, targets: [], host: { ...data.host!, temperatureCelsius: 91 } }, NOW);
  assert.equal(v.state, 'warn');
  const warns = findAll(v.body, (e) => classOf(e) === 'p-warn').map(text);
  assert.deepEqual(warns, [
    'No targets configured',
    'Disk /var/lib/storewatch 94% full',
    'Temperature high: 91 °C',
  ]);
  assert.match(v.title, /0 of 0 targets up/);
});

test('host vitals not collected yet and unlimited retention', () => {
  const data = overview();
  const v = renderView(
    { ...data, host: null, storage: { ...data.storage, retentionTimeMs: 0, retentionSizeBytes: 0 } },
    NOW,
  );
  const t = text(v.body);
  assert.match(t, /Host vitals not collected yet/);
  assert.match(t, /Retention unlimited/);
});

test('values are formatted without locale: bytes, counts, ages, retention', () => {
  const t = text(renderView(overview(), NOW).body);
  assert.match(t, /Database 704 MiB/); // 700 MiB database + 4 MiB log
  assert.match(t, /Series 12,345/);
  assert.match(t, /Samples written 98,765,432/);
  assert.match(t, /Retention 15d or 8\.0 GiB/);
  assert.match(t, /Oldest sample 14 d 0 h ago 2025-02-15 12:00:00 UTC/);
  assert.match(t, /scraped 4\.0 s ago/);
  assert.match(t, /took 34 ms/);
  assert.match(t, /Uptime 3 d 2 h/);
  assert.match(t, /38% of 8\.0 GiB/);
});

test('garbage numbers and dates render as "?" instead of throwing', () => {
  const data = overview();
  const v = renderView(
    {
      ...data,
      targets: [
        target({
          job: 'j',
          instance: 'i',
          health: 'up',
          lastScrape: 'not a date',
          lastScrapeDuration: NaN,
          lastSamples: Infinity,
        }),
        target({ job: 'j', instance: 'k', health: 'weird' as 'up', lastScrape: '2025-03-01T11:59:59Z' }),
      ],
      storage: {
        ...data.storage,
        databaseBytes: NaN,
        series: -Infinity,
        oldestTimestamp: 8.64e15 + 1,
        newestTimestamp: NOW + 3_600_000,
      },
      host: { ...data.host!, uptimeSeconds: -1, cpuUsageRatio: NaN, memoryTotalBytes: 0, filesystems: [] },
    },
    NOW,
  );
  const t = text(v.body);
  assert.match(t, /never scraped/);
  assert.match(t, /Database \?/);
  assert.match(t, /Series \?/);
  assert.match(t, /Uptime \?/);
  assert.match(t, /1 h 0 min in the future \(check clocks\)/);
  // An unknown health value is shown as unknown, never used as a raw class name.
  assert.ok(findAll(v.body, (e) => classOf(e) === 'target unknown').length === 1);
});

test('toHtml escapes text and attribute values; hostile values stay text', () => {
  const node: VElement = {
    t: 'div',
    a: { title: `"${HOSTILE}'` },
    c: [HOSTILE, { t: 'b', a: {}, c: ['&amp;'] }],
  };
  const html = toHtml(node);
  assert.equal(
    html,
    '<div title="&quot;&lt;img src=x onerror=alert(1)&gt;&#39;">&lt;img src=x onerror=alert(1)&gt;' +
      '<b>&amp;amp;</b></div>',
  );
  assert.equal(escapeHtml(`<>&"'`), '&lt;&gt;&amp;&quot;&#39;');
});

test('toHtml rejects tag and attribute names that are not plain names, and event handlers', () => {
  assert.throws(() => toHtml({ t: 'img src=x', a: {}, c: [] }), ViewNameError);
  assert.throws(() => toHtml({ t: 'div', a: { 'x"y': '' }, c: [] }), ViewNameError);
  assert.throws(() => toHtml({ t: 'div', a: { onclick: 'alert(1)' }, c: [] }), ViewNameError);
});

test('hostile values in every text field render escaped in the HTML', () => {
  const f = fakeStatus(NOW);
  const data: Overview = {
    targets: [
      target({
        job: HOSTILE,
        instance: HOSTILE,
        health: 'down',
        lastError: HOSTILE,
        scrapeUrl: HOSTILE,
        scrapePool: HOSTILE,
        scrapeInterval: HOSTILE,
        labels: { job: HOSTILE, instance: HOSTILE, [HOSTILE]: HOSTILE },
      }),
    ],
    storage: { ...f.storage(), path: HOSTILE, ingestion: 'paused', ingestionError: HOSTILE },
    host: {
      ...f.host()!,
      hostname: HOSTILE,
      filesystems: [{ mountpoint: HOSTILE, sizeBytes: 1, availBytes: 0 }],
    },
    remote: [
      destination(NOW, {
        name: HOSTILE,
        state: HOSTILE as 'idle',
        lastError: HOSTILE,
        lastErrorTime: NOW,
        samplesDropped: { [HOSTILE]: 1 },
      }),
    ],
    inventory: {
      source: HOSTILE,
      origin: 'netbox',
      lastSuccessAt: NOW,
      lastError: { at: NOW, message: HOSTILE },
      devices: 1,
      monitored: 0,
      targets: 0,
      notMonitored: [{ device: HOSTILE, reason: HOSTILE }],
      recentChanges: [{ at: NOW, text: HOSTILE }],
    },
    notScraped: [{ job: HOSTILE, address: HOSTILE, reason: HOSTILE }],
    graphs: [
      { title: HOSTILE, unit: 'count', start: NOW, stepMs: 1000, rows: [{ label: HOSTILE, values: [1] }] },
    ],
    build: { version: HOSTILE, revision: HOSTILE, nodeVersion: HOSTILE, startTime: HOSTILE },
  };
  const v: View = renderView(data, NOW);
  const html = toHtml(v.body);
  assert.doesNotMatch(html, /<img/i);
  assert.ok(html.split('&lt;img src=x onerror=alert(1)&gt;').length > 22);
});

/** The fake overview with every target up and healthy disks, so that only the destinations decide the state. */
function healthyOverview(): Overview {
  const data = overview();
  const host = data.host!;
  return {
    ...data,
    targets: data.targets.filter((t) => t.health === 'up'),
    host: { ...host, filesystems: host.filesystems.filter((f) => f.mountpoint === '/') },
  };
}

function upstream(v: View): VElement | undefined {
  return findAll(v.body, (e) => e.t === 'section' && text(e).startsWith('Upstream'))[0];
}

test('no destinations: no Upstream section; an up-to-date destination leaves the page ok', () => {
  const none = renderView({ ...healthyOverview(), remote: [] }, NOW);
  assert.equal(none.state, 'ok');
  assert.equal(upstream(none), undefined);
  assert.doesNotMatch(text(none.body), /Upstream/);

  const v = renderView(healthyOverview(), NOW);
  assert.equal(v.state, 'ok');
  const sec = upstream(v);
  assert.ok(sec);
  const t = text(sec);
  assert.match(t, /^Upstream 1 of 1 delivering DELIVERING central delivered 15 s ago/);
  assert.match(t, /Backlog 20 s behind through 2025-03-01 11:59:40 UTC/);
  assert.match(t, /Samples sent 1,234,567/);
  assert.match(t, /Data sent 44 MiB/);
  assert.match(t, /Retries 0/);
  assert.match(t, /Dropped none/);
  assert.match(t, /sender idle/);
  assert.doesNotMatch(t, /Last error/);
  assert.deepEqual(findAll(sec, (e) => e.t === 'li').map(classOf), ['remote ok']);
});

test('a destination retrying and hours behind turns the banner amber with its current error', () => {
  const behindMs = (3 * 60 + 12) * 60_000;
  const v = renderView(
    {
      ...healthyOverview(),
      remote: [
        destination(NOW, {
          state: 'backing_off',
          sentThrough: NOW - behindMs,
          lastSuccess: NOW - behindMs,
          lastError: `HTTP 500: ${'e'.repeat(300)}\nsecond line`,
          lastErrorTime: NOW - 60_000,
          retries: 4321,
          samplesDropped: { too_old: 5, http_4xx: 1200, zero: 0 },
        }),
      ],
    },
    NOW,
  );
  assert.equal(v.state, 'warn');
  assert.match(v.title, /^! /);
  const warns = findAll(v.body, (e) => classOf(e) === 'p-warn').map(text);
  assert.equal(warns.length, 1);
  assert.match(warns[0]!, /^Upstream central: 3 h 12 min behind — HTTP 500: e+…$/);
  assert.ok(warns[0]!.length < 200 && !warns[0]!.includes('second line'));
  const t = text(upstream(v)!);
  assert.match(t, /0 of 1 delivering RETRYING central delivered 3 h 12 min ago/);
  assert.match(t, /Backlog 3 h 12 min behind/);
  assert.match(t, /Retries 4,321/);
  assert.match(t, /Dropped http_4xx 1,200 · too_old 5 Last error/);
  assert.match(t, /sender backing off/);
  // The card shows the whole error with its age.
  const err = findAll(upstream(v)!, (e) => classOf(e) === 't-err');
  assert.equal(err.length, 1);
  assert.match(rawText(err[0]!), /^Last error, 1 min 0 s ago: {2}HTTP 500: e{300}\nsecond line$/);
  assert.deepEqual(findAll(upstream(v)!, (e) => e.t === 'li').map(classOf), ['remote warn']);
});

test('link states: catching up within 5 min is not a warning; more than 5 min behind is', () => {
  const at = (lagMs: number, state: 'sending' | 'throttled' = 'sending'): View =>
    renderView(
      { ...healthyOverview(), remote: [destination(NOW, { state, sentThrough: NOW - lagMs })] },
      NOW,
    );
  const badge = (v: View): string => text(findAll(upstream(v)!, (e) => classOf(e).startsWith('badge '))[0]!);

  assert.equal(badge(at(119_000)), 'DELIVERING');
  const catching = at(4 * 60_000, 'throttled');
  assert.equal(badge(catching), 'CATCHING UP');
  assert.equal(catching.state, 'ok');
  assert.match(text(catching.body), /sender throttled/);

  const late = at(6 * 60_000);
  assert.equal(badge(late), 'CATCHING UP');
  assert.equal(late.state, 'warn');
  assert.deepEqual(findAll(late.body, (e) => classOf(e) === 'p-warn').map(text), [
    'Upstream central: 6 min 0 s behind',
  ]);
});

test('never delivered, stopped, stale errors and garbage values', () => {
  const data = healthyOverview();
  const fresh = renderView(
    { ...data, remote: [destination(NOW, { sentThrough: null, lastSuccess: null })] },
    NOW,
  );
  assert.equal(fresh.state, 'ok');
  const ft = text(upstream(fresh)!);
  assert.match(ft, /NEVER DELIVERED central no delivery since start/);
  assert.match(ft, /Backlog nothing delivered yet/);
  assert.match(ft, /Last success none since start/);

  const failing = renderView(
    {
      ...data,
      remote: [
        destination(NOW, {
          state: 'backing_off',
          sentThrough: null,
          lastSuccess: null,
          lastError: 'connect ECONNREFUSED 10.0.0.1:9090',
          lastErrorTime: NOW - 2000,
        }),
        // An error older than the last success is history: shown muted, not in the banner.
        destination(NOW, {
          name: 'b',
          state: 'stopped',
          lastError: 'HTTP 503: busy',
          lastErrorTime: NOW - 3_600_000,
        }),
      ],
    },
    NOW,
  );
  assert.equal(failing.state, 'warn');
  assert.deepEqual(findAll(failing.body, (e) => classOf(e) === 'p-warn').map(text), [
    'Upstream central: retrying, nothing delivered yet — connect ECONNREFUSED 10.0.0.1:9090',
    'Upstream b: stopped',
  ]);
  assert.equal(findAll(failing.body, (e) => classOf(e) === 't-err old').length, 1);
  assert.match(text(upstream(failing)!), /Last error, 1 h 0 min ago: HTTP 503: busy/);

  const garbage = renderView(
    {
      ...data,
      remote: [
        destination(NOW, {
          state: 'exploded' as 'idle',
          sentThrough: NOW + 3_600_000,
          lastSuccess: NaN,
          samplesSent: NaN,
          bytesSent: -1,
          retries: Infinity,
        }),
      ],
    },
    NOW,
  );
  const gt = text(upstream(garbage)!);
  assert.match(gt, /Backlog 1 h 0 min ahead \(check clocks\)/);
  assert.match(gt, /Samples sent \?/);
  assert.match(gt, /Data sent \?/);
  assert.match(gt, /sender exploded/);
  // An unknown sender state never becomes a class name.
  for (const e of findAll(garbage.body, () => true)) assert.doesNotMatch(classOf(e), /exploded/);
});

test('the inventory: a failing sync and devices not monitored are warnings, each with its reason on the page', () => {
  const v = renderView(richOverview(), NOW);
  const all = text(v.body);
  assert.match(
    all,
    /NetBox sync failing since 2 min 0 s ago: HTTP 502 on page 3 — using the cached inventory/,
  );
  assert.match(all, /2 devices in NetBox not monitored/);
  assert.match(all, /till-9 — no primary IP/);
  assert.match(all, /network-snmp 10\.0\.0\.2:161 — no snmp collector/);
  assert.match(all, /10 of 12 devices monitored/);
  assert.notEqual(v.state, 'ok');
});

test('history graphs: one bar per step, coloured by health, with the time and value as a tooltip', () => {
  const v = renderView(richOverview(), NOW);
  const all = text(v.body);
  assert.match(all, /Last 24 hours/);
  assert.match(all, /Upstream lag No data yet\./);
  const bars = findAll(v.body, (e) => e.t === 'i');
  assert.equal(bars.length, 10);
  assert.deepEqual(
    bars.slice(0, 5).map((b) => classOf(b)),
    ['g-ok', 'g-ok', 'g-warn', 'g-bad', 'g-none'],
  );
  assert.match(bars[2]!.a['title'] ?? '', /^\d\d:\d\d 50% up$/);
});
