// The status page document: inline CSS, the server-rendered view, and a small inline script that refreshes the
// view from /api/v1/status/overview. Everything is inline because stores are often offline: the page must not
// load any font, stylesheet, script or image from anywhere.

import { createHash } from 'node:crypto';
import type { Overview } from './status.ts';
import { escapeHtml, renderView, toHtml } from './view.ts';

// High contrast, system fonts only, one column on phones and two columns for the vitals on laptops.
const CSS = `
:root{--bg:#eef0f3;--card:#fff;--ink:#0d0f12;--muted:#454b54;--line:#c9ced6;
--bad:#b00020;--bad-bg:#fdecee;--ok:#0a6b2e;--ok-bg:#e6f4ea;--warn:#8f4700;--warn-bg:#fff2dd;--unk:#4b5260}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);
font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans","Helvetica Neue",Arial,sans-serif}
.wrap{max-width:1120px;margin:0 auto;padding:0 14px}
.banner{color:#fff;padding:14px 0 12px;margin-bottom:16px}
.banner.ok{background:var(--ok)}.banner.bad{background:var(--bad)}.banner.warn{background:var(--warn)}
.headline{display:flex;align-items:center;gap:12px;flex-wrap:wrap}
.headline h1{margin:0;font-size:2rem;line-height:1.15;font-weight:800}
.mark{display:inline-flex;align-items:center;justify-content:center;width:2.6rem;height:2.6rem;border-radius:50%;
background:#fff;font-size:1.6rem;font-weight:900}
.ok .mark{color:var(--ok)}.bad .mark{color:var(--bad)}.warn .mark{color:var(--warn)}
.word{margin-left:auto;font-weight:800;letter-spacing:.08em;border:2px solid #fff;border-radius:6px;padding:2px 10px}
.jobs{display:flex;flex-wrap:wrap;gap:6px;margin-top:10px}
.chip{font-weight:700;border-radius:999px;padding:2px 10px;background:#fff;font-size:.9rem}
.chip.ok{color:var(--ok)}.chip.bad{color:#fff;background:#5c0011;box-shadow:inset 0 0 0 2px #fff}
.chip.warn{color:var(--warn)}
.problems{margin:10px 0 0;padding:0;list-style:none;font-weight:600}
ul.plain{margin:4px 0;padding-left:1.1rem}
.g-row{display:flex;align-items:flex-end;gap:8px;margin:3px 0}
.g-label{flex:0 0 9rem;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;font-size:.9rem}
.g-bars{flex:1;display:flex;align-items:flex-end;gap:1px;height:2rem;border-bottom:1px solid var(--line)}
.g-bars i{flex:1;min-width:2px;display:block}
.g-ok{background:var(--ok)}.g-warn{background:var(--warn)}.g-bad{background:var(--bad);height:100%!important}
.g-val{background:var(--unk)}.g-none{background:transparent;height:100%;outline:1px dashed var(--line)}
pre.changes{margin:2px 0 8px;white-space:pre-wrap;overflow-wrap:anywhere;font-size:.85rem}
.problems li{padding:5px 10px;margin-top:4px;border-radius:4px;background:rgba(0,0,0,.3);overflow-wrap:anywhere;
border-left:6px solid #fff}
.problems li.p-warn{border-left-color:#ffc266;background:rgba(0,0,0,.22)}
.where{margin-top:8px;font-size:.9rem;opacity:.95}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 16px;margin-bottom:16px}
h2{margin:0 0 10px;font-size:1.25rem;display:flex;gap:10px;align-items:baseline;flex-wrap:wrap}
h2 .sub{font-size:.95rem;font-weight:600;color:var(--muted)}
h3{font-size:1rem;margin:14px 0 6px}
.targets{list-style:none;margin:0;padding:0}
.target{border:1px solid var(--line);border-left:8px solid var(--unk);border-radius:6px;padding:8px 12px;margin-top:8px}
.target.up{border-left-color:var(--ok)}
.target.down{border-left-color:var(--bad);background:var(--bad-bg);border-color:#e7a3ad}
.target.unknown{border-left-color:var(--unk);background:#f3f4f6}
.t-head{display:flex;flex-wrap:wrap;align-items:baseline;gap:4px 10px}
.badge{font-weight:800;font-size:.85rem;letter-spacing:.05em;color:#fff;border-radius:4px;padding:1px 8px;
min-width:5.6em;text-align:center}
.badge.up{background:var(--ok)}.badge.down{background:var(--bad)}.badge.unknown{background:var(--unk)}
.t-job{font-weight:800;font-size:1.1rem}
.t-inst{font-weight:600;overflow-wrap:anywhere}
.t-age{margin-left:auto;color:var(--muted);font-size:.95rem}
.t-meta{display:flex;flex-wrap:wrap;gap:2px 16px;color:var(--muted);font-size:.92rem;margin-top:2px}
.t-meta b{color:var(--ink)}
.t-err{margin-top:6px;padding:6px 10px;background:#fff;border:1px solid var(--bad);border-radius:4px;color:#7a0016;
font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:.88rem;white-space:pre-wrap;
overflow-wrap:anywhere}
.t-err b{font-family:system-ui,"DejaVu Sans",sans-serif}
.remotes{list-style:none;margin:0;padding:0}
.remote{border:1px solid var(--line);border-left:8px solid var(--unk);border-radius:6px;padding:8px 12px;margin-top:8px}
.remote.ok{border-left-color:var(--ok)}
.remote.warn{border-left-color:var(--warn);background:var(--warn-bg);border-color:#e8c48f}
.remote.unknown{background:#f3f4f6}
.badge.ok{background:var(--ok)}.badge.warn{background:var(--warn)}
.grid.r-grid{margin-top:8px;grid-template-columns:repeat(auto-fill,minmax(124px,1fr))}
.remote.warn .t-err{border-color:var(--warn);color:#6b3500}
.remote .t-err.old{border-color:var(--line);color:var(--muted)}
.t-labels{display:flex;flex-wrap:wrap;gap:4px;margin-top:6px}
.label{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.8rem;background:#e4e7ec;border-radius:4px;
padding:0 6px;overflow-wrap:anywhere}
.t-url,.path{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.8rem;color:var(--muted);
margin-top:4px;overflow-wrap:anywhere}
.cols{display:grid;grid-template-columns:1fr;gap:0 16px}
@media (min-width:860px){.cols{grid-template-columns:1fr 1fr}}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px 16px;margin:0}
.kv dt{font-size:.8rem;font-weight:700;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.kv dd{margin:0;font-size:1.1rem;font-weight:700}
.kv dd small{display:block;font-size:.78rem;font-weight:400;color:var(--muted)}
.kv.hot dd{color:var(--bad)}
.bar{height:8px;background:#dde1e7;border-radius:4px;overflow:hidden;margin-top:4px}
.bar span{display:block;height:100%;background:#2f5fb3}
.bar.high span{background:var(--bad)}
.fs{margin-top:8px}
.fs-line{display:flex;flex-wrap:wrap;justify-content:space-between;gap:0 10px;font-size:.92rem}
.fs-mount{font-weight:700;font-family:ui-monospace,"DejaVu Sans Mono",monospace;overflow-wrap:anywhere}
.ingest{font-weight:800;border-radius:6px;padding:6px 10px;margin-bottom:12px}
.ingest.ok{background:var(--ok-bg);color:var(--ok)}
.ingest.paused{background:var(--bad);color:#fff}
.muted{color:var(--muted)}
footer{color:var(--muted);font-size:.85rem;padding:4px 0 24px;overflow-wrap:anywhere}
.conn{position:sticky;top:0;z-index:1;background:#000;color:#fff;font-weight:700;padding:8px 14px;text-align:center}
.conn[hidden]{display:none}
@media (max-width:520px){.headline h1{font-size:1.55rem}.word{margin-left:0}.t-age{margin-left:0;width:100%}}
`;

/**
 * The browser side. It rebuilds `#app` from the shared renderer's element tree with createElement and
 * textContent only (never innerHTML), so data can never become markup. Ages are computed against the server's
 * Date header, not the browser's clock. On a failed refresh it keeps the last data and says so on top.
 */
export function clientScript(refreshMs: number): string {
  return `"use strict";(() => {
const renderView = ${renderView.toString()};
const build = (n) => {
  if (typeof n === "string") return document.createTextNode(n);
  const e = document.createElement(n.t);
  for (const k of Object.keys(n.a)) e.setAttribute(k, n.a[k]);
  for (const c of n.c) e.appendChild(build(c));
  return e;
};
const conn = document.getElementById("conn");
let lastOk = Date.now();
let busy = false;
const refresh = async () => {
  if (busy) return;
  busy = true;
  try {
    const r = await fetch("api/v1/status/overview", { cache: "no-store", headers: { Accept: "application/json" } });
    if (!r.ok) throw new Error("HTTP " + r.status);
    const j = await r.json();
    if (!j || j.status !== "success" || !j.data) throw new Error("unexpected answer");
    const serverNow = Date.parse(r.headers.get("Date") || "");
    const view = renderView(j.data, Number.isFinite(serverNow) ? serverNow : Date.now());
    const old = document.getElementById("app");
    if (old) old.replaceWith(build(view.body));
    document.title = view.title;
    lastOk = Date.now();
    conn.hidden = true;
    conn.textContent = "";
  } catch (e) {
    const age = Math.round((Date.now() - lastOk) / 1000);
    conn.textContent = "Cannot reach storewatch (" + ((e && e.message) || String(e)) + "): data below is " + age + " s old";
    conn.hidden = false;
  } finally {
    busy = false;
  }
};
setInterval(() => { void refresh(); }, ${String(Math.max(1000, Math.floor(refreshMs)))});
})();`;
}

/** Thrown when the generated page script could not be inlined safely (a programming error in view.ts). */
export class ClientScriptError extends Error {
  override readonly name = 'ClientScriptError';
}

/** The page script and the Content-Security-Policy that allows exactly that script (by hash) and nothing else. */
export interface PageAssets {
  readonly script: string;
  readonly contentSecurityPolicy: string;
}

/** Builds the script and its CSP once per app; both are constant for a refresh interval. */
export function pageAssets(refreshMs: number): PageAssets {
  const script = clientScript(refreshMs);
  // The script is inlined in <script>: a closing tag or comment opener inside would break out of it.
  if (/<\/script|<!--/i.test(script))
    throw new ClientScriptError('client script contains a sequence that ends <script>');
  const hash = createHash('sha256').update(script, 'utf8').digest('base64');
  const contentSecurityPolicy = [
    "default-src 'none'",
    `script-src 'sha256-${hash}'`,
    "style-src 'unsafe-inline'",
    "connect-src 'self'",
    "img-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { script, contentSecurityPolicy };
}

/** Renders the whole HTML document. Every data value goes through the escaping serialiser in view.ts. */
export function renderPage(data: Overview, nowMs: number, assets: PageAssets): string {
  const view = renderView(data, nowMs);
  return (
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    '<meta name="color-scheme" content="light">' +
    `<title>${escapeHtml(view.title)}</title>` +
    // Without JavaScript the page still updates, by a plain reload every 30 s.
    '<noscript><meta http-equiv="refresh" content="30"></noscript>' +
    `<style>${CSS}</style></head>` +
    `<body><div id="conn" class="conn" role="status" hidden></div>${toHtml(view.body)}` +
    `<script>${assets.script}</script></body></html>\n`
  );
}
