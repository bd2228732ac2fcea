// The status page in a real headless Chromium (Debian package, driven by playwright-core): server-side
// rendering, escaping of hostile values, the refresh script, and that the page talks to nothing but its own
// server. A missing browser fails the test with the install command; it is never skipped.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it, test } from 'node:test';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createWebApp, startWebServer } from '../../appliance/web/server.ts';
import type { WebServer } from '../../appliance/web/server.ts';
import { destination, fakeStatus, HOSTILE, recordingLogger, target } from '../appliance/web/fake-status.ts';
import type { FakeStatus } from '../appliance/web/fake-status.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const HOSTILE_2 = '"><script>alert(2)</script>';
/** Generous: the page refreshes every 300 ms here; this only bounds a hang. */
const WAIT_MS = 15_000;

const MISSING_CHROMIUM = 'chromium not found: run `bash scripts/install-test-peers.sh`';

// A test of its own, so that a missing browser shows up as one plain failure with the fix, not only as a
// failed hook with cancelled tests.
test('chromium is installed', () => {
  assert.ok(fs.existsSync(CHROMIUM), MISSING_CHROMIUM);
});

describe('status page in headless Chromium', () => {
  let fake: FakeStatus;
  let server: WebServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let base: string;
  const requests: string[] = [];
  const dialogs: string[] = [];
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];

  before(async () => {
    if (!fs.existsSync(CHROMIUM)) assert.fail(MISSING_CHROMIUM);
    fake = fakeStatus(Date.now());
    const app = createWebApp({
      status: fake,
      metrics: () => Promise.resolve(''),
      logger: recordingLogger(),
      refreshIntervalMs: 300,
    });
    server = await startWebServer(app, '127.0.0.1:0');
    base = `http://127.0.0.1:${server.port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.on('request', (r) => requests.push(r.url()));
    page = await context.newPage();
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  // Browser-side code is passed as strings: the project's TypeScript has no DOM library.
  const inPage = async (expression: string): Promise<string> => String(await page.evaluate(expression));
  const bodyText = (): Promise<string> => inPage('document.body.innerText');
  // A locator wait, not waitForFunction: the page's CSP (rightly) forbids the eval that the latter uses.
  const waitForText = (text: string): Promise<void> =>
    page.locator('body', { hasText: text }).waitFor({ timeout: WAIT_MS });
  const bannerColour = (): Promise<string> =>
    inPage("getComputedStyle(document.querySelector('header.banner')).backgroundColor");

  it('shows the targets with up/down, the error text and a red banner', async () => {
    await page.goto(`${base}/`);
    const text = await bodyText();
    assert.match(text, /2 of 3 targets up/);
    assert.match(text, /\bDOWN\b/);
    assert.match(text, /\bUP\b/);
    assert.match(text, /pos-07\.store:9182/);
    assert.match(text, /Error: Get "http:\/\/pos-07\.store:9182\/metrics": context deadline exceeded/);
    assert.match(text, /store-0042-edge/);
    assert.match(text, /Ingestion OK/);
    assert.match(text, /Upstream\s+1 of 1 delivering/);
    assert.match(text, /DELIVERING\s+central/);
    assert.equal(await bannerColour(), 'rgb(176, 0, 32)');
    assert.match(await page.title(), /^✖ 2 of 3 targets up/);
  });

  it('renders the hostile label as text: no element, no dialog', async () => {
    assert.ok((await bodyText()).includes(`evil=${HOSTILE}`));
    assert.equal(await page.locator('img').count(), 0);
    assert.equal(await page.locator('script').count(), 1);
    assert.deepEqual(dialogs, []);
  });

  it('refreshes the DOM in place when the source changes', async () => {
    // A full reload would drop this marker; the refresh must replace only the content.
    await inPage('window.storewatchMarker = 42');
    fake.targetList = [
      ...fake.targetList.map((t) => ({ ...t, health: 'up' as const, lastError: '' })),
      target({
        job: 'pos',
        instance: HOSTILE_2,
        health: 'up',
        lastScrape: new Date().toISOString(),
        labels: { job: 'pos', instance: HOSTILE_2, evil2: HOSTILE },
      }),
    ];
    fake.hostVitals = {
      ...fake.hostVitals!,
      filesystems: fake.hostVitals!.filesystems.map((f) => ({ ...f, availBytes: f.sizeBytes / 2 })),
    };
    await waitForText('4 of 4 targets up');
    const text = await bodyText();
    assert.doesNotMatch(text, /\bDOWN\b/);
    assert.ok(text.includes(HOSTILE_2), 'hostile instance shown as text by the script');
    assert.ok(text.includes(`evil2=${HOSTILE}`));
    assert.equal(await inPage('window.storewatchMarker'), '42');
    assert.equal(await bannerColour(), 'rgb(10, 107, 46)');
    assert.match(await page.title(), /^✔ 4 of 4 targets up/);
    assert.equal(await page.locator('img').count(), 0);
    assert.equal(await page.locator('script').count(), 1);
    assert.deepEqual(dialogs, []);
  });

  it('shows paused ingestion after a refresh', async () => {
    fake.storageStatus = { ...fake.storageStatus, ingestion: 'paused', ingestionError: 'disk full' };
    await waitForText('disk full — ingestion paused');
    assert.equal(await bannerColour(), 'rgb(176, 0, 32)');
  });

  it('shows a destination that fell behind and turns the banner amber, with its error as text', async () => {
    const now = Date.now();
    fake.remoteList = [
      destination(now, {
        state: 'backing_off',
        // The page's clock is the Date header (whole seconds); 30 s keeps the minute from tipping over.
        sentThrough: now - (3 * 60 + 12) * 60_000 - 30_000,
        lastSuccess: now - (3 * 60 + 12) * 60_000,
        lastError: `HTTP 500: ${HOSTILE}`,
        lastErrorTime: now - 2_000,
        retries: 17,
        samplesDropped: { too_old: 42 },
      }),
    ];
    fake.storageStatus = { ...fake.storageStatus, ingestion: 'ok', ingestionError: '' };
    await waitForText('RETRYING');
    const text = await bodyText();
    assert.match(text, /Upstream central: 3 h 12 min behind — HTTP 500: <img src=x onerror=alert\(1\)>/);
    assert.match(text, /3 h 12 min behind/);
    assert.match(text, /too_old 42/);
    assert.equal(await bannerColour(), 'rgb(143, 71, 0)');
    assert.match(await page.title(), /^! 4 of 4 targets up/);
    assert.equal(await page.locator('img').count(), 0);
    assert.deepEqual(dialogs, []);
  });

  it('says so when the server fails, and recovers', async () => {
    fake.fail = new Error('tsdb closed');
    await page.waitForSelector('#conn:not([hidden])', { timeout: WAIT_MS });
    assert.match((await page.textContent('#conn')) ?? '', /Cannot reach storewatch \(HTTP 500\)/);
    // The last good data stays visible.
    assert.match(await bodyText(), /4 of 4 targets up/);
    fake.fail = null;
    await page.waitForSelector('#conn[hidden]', { state: 'attached', timeout: WAIT_MS });
  });

  it('works without JavaScript (server-rendered)', async () => {
    const noJs = await browser.newContext({ javaScriptEnabled: false });
    noJs.on('request', (r) => requests.push(r.url()));
    try {
      const p = await noJs.newPage();
      await p.goto(`${base}/`);
      const visible = await p.locator('body').innerText();
      assert.match(visible, /4 of 4 targets up/);
      assert.ok(visible.includes(HOSTILE_2));
    } finally {
      await noJs.close();
    }
  });

  it('looks right on a laptop and a phone (screenshots for a human)', async (t) => {
    fake.targetList = fake.targetList.map((x) =>
      x.labels['job'] === 'pos' && x.labels['instance'] === 'pos-07.store:9182'
        ? {
            ...x,
            health: 'down' as const,
            lastError:
              'Get "http://pos-07.store:9182/metrics": dial tcp 10.20.0.57:9182: connect: no route to host',
          }
        : x,
    );
    fake.storageStatus = { ...fake.storageStatus, ingestion: 'ok', ingestionError: '' };
    await waitForText('3 of 4 targets up');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'storewatch-status-page-'));
    const laptop = path.join(dir, 'laptop.png');
    const phone = path.join(dir, 'phone.png');
    await page.screenshot({ path: laptop, fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: phone, fullPage: true });
    for (const file of [laptop, phone]) assert.ok(fs.statSync(file).size > 10_000, file);
    t.diagnostic(`screenshots: ${laptop} ${phone}`);
  });

  it('made no request to any host but 127.0.0.1, and had no script or CSP errors', () => {
    assert.ok(requests.length > 3, `saw ${requests.length} requests`);
    const foreign = requests.filter((u) => new URL(u).hostname !== '127.0.0.1');
    assert.deepEqual(foreign, []);
    assert.deepEqual(pageErrors, []);
    // The 500s provoked above log "Failed to load resource"; anything else (e.g. a CSP violation) is a bug.
    assert.deepEqual(
      consoleErrors.filter((m) => !m.startsWith('Failed to load resource')),
      [],
    );
    assert.deepEqual(dialogs, []);
  });
});
