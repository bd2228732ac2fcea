// `npm run demo` keeps working: the simulated store comes up, storewatch monitors it from the fixture NetBox,
// the broken terminals are down with their reasons, and Ctrl-C stops everything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { freePort, waitFor } from '../integration/peers.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

test('npm run demo: a simulated store monitored from NetBox, stopped cleanly by SIGINT', async () => {
  const port = await freePort();
  const child = spawn(
    path.join(ROOT, 'node_modules', '.bin', 'node'),
    [path.join(ROOT, 'scripts', 'demo.ts'), '--port', String(port)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    type T = { scrapePool: string; health: string; lastError: string };
    const targets = await waitFor(async () => {
      const r = await fetch(`http://127.0.0.1:${port}/api/v1/targets`);
      const all = ((await r.json()) as { data: { activeTargets: T[] } }).data.activeTargets;
      const pos = all.filter((t) => t.scrapePool === 'pos-terminal');
      return pos.length === 6 && pos.every((t) => t.health !== 'unknown') ? all : null;
    }, 60_000).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${out}`);
    });
    const pos = targets.filter((t) => t.scrapePool === 'pos-terminal');
    assert.equal(pos.filter((t) => t.health === 'up').length, 4);
    assert.ok(pos.some((t) => /500/.test(t.lastError)));
    assert.ok(pos.some((t) => /ECONNREFUSED/.test(t.lastError)));
    const page = await (await fetch(`http://127.0.0.1:${port}/`)).text();
    assert.match(page, /store-0042/);
  } finally {
    child.kill('SIGINT');
  }
  assert.equal(await exited, 0, out);
});
