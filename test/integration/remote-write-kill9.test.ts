// A kill -9 of the real appliance while it catches up on a backlog: after the restart it resumes from the
// cursor and the step progress its shards saved, so the receiver gets every stored sample and sees again only
// what was in flight when the process died (at most one batch per shard), not the whole step.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { decodeWriteRequestV1, snappyDecompress } from '../../appliance/remote/wire.ts';
import type { ProcessHandle, TempDir } from './peers.ts';
import { freePort, spawnStorewatch, tempDir, waitFor } from './peers.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const SERIES = 100;
const SHARDS = 2;
const BATCH = 200;
const KILL_AT_REQUEST = 20;

let dir: TempDir;
let server: http.Server;
let sw: ProcessHandle | undefined;

/** How often the receiver got each (series, timestamp) of the imported backlog, and with which value. */
const seen = new Map<string, { n: number; v: number }>();
let requests = 0;
let onRequest: (n: number) => 'answer' | 'hold' = () => 'answer';

function startStorewatch(port: number): ProcessHandle {
  return spawnStorewatch({
    config: path.join(dir.path, 'storewatch.yml'),
    port,
    storage: path.join(dir.path, 'data'),
  });
}

before(async () => {
  dir = await tempDir();
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      // Our strict decoder: a malformed request fails the test rather than being silently accepted.
      const decoded = decodeWriteRequestV1(snappyDecompress(Buffer.concat(chunks), 64 << 20));
      for (const x of decoded.series) {
        const k = x.labels.find((l) => l.name === 'k')?.value;
        if (k === undefined) continue;
        for (const smp of x.samples) {
          const key = `${k}@${smp.t}`;
          const e = seen.get(key);
          if (e) e.n++;
          else seen.set(key, { n: 1, v: new Float64Array(new BigUint64Array([smp.bits]).buffer)[0]! });
        }
      }
      if (onRequest(++requests) === 'hold') return; // data received, never acknowledged
      res.writeHead(204);
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  fs.writeFileSync(
    path.join(dir.path, 'storewatch.yml'),
    `global: {scrape_interval: 5s, scrape_timeout: 4s}
scrape_configs: []
host: {enabled: false}
remote_write:
  - url: http://127.0.0.1:${port}/api/v1/write
    name: central
    remote_timeout: 30s
    queue_config: {max_shards: ${SHARDS}, max_samples_per_send: ${BATCH}, batch_send_deadline: 200ms}
`,
  );
});

after(async () => {
  await sw?.stop('SIGKILL');
  server?.closeAllConnections();
  server?.close();
  await dir?.remove();
});

test('kill -9 while catching up: nothing lost, only the batches in flight sent twice', async () => {
  // An hour of backlog, 100 series at 15 s: 24,000 samples, 10-minute steps of 4,000 samples (20 requests).
  const end = Math.floor(Date.now() / 15_000) * 15_000 - 5 * 60_000;
  const start = end - 3600_000;
  const lines = ['# TYPE backlog_value gauge'];
  const expected = new Map<string, number>();
  for (let k = 0; k < SERIES; k++) {
    for (let t = start, i = 0; t < end; t += 15_000, i++) {
      lines.push(`backlog_value{k="${k}"} ${k * 1000 + i} ${t / 1000}`);
      expected.set(`${k}@${t}`, k * 1000 + i);
    }
  }
  lines.push('# EOF', '');
  const file = path.join(dir.path, 'backlog.om');
  fs.writeFileSync(file, lines.join('\n'));
  execFileSync(process.execPath, [
    path.join(ROOT, 'appliance', 'cli.ts'),
    'tsdb',
    'import',
    '--storage.path',
    path.join(dir.path, 'data'),
    file,
  ]);

  // The receiver kills the appliance when request 20 arrives, before answering it: whatever the other shard
  // had in flight, or had answered without the appliance hearing, is what may be sent twice.
  let killed: Promise<unknown> | null = null;
  onRequest = (n) => {
    if (n < KILL_AT_REQUEST) return 'answer';
    killed ??= sw!.stop('SIGKILL');
    return 'hold';
  };
  sw = startStorewatch(await freePort());
  const dying = await waitFor(() => killed, 60_000);
  await dying;
  assert.equal(sw.hasExited(), true);
  const beforeRestart = seen.size;
  assert.ok(beforeRestart < expected.size, 'the kill came before the backlog was delivered');

  onRequest = () => 'answer';
  sw = startStorewatch(await freePort());
  await waitFor(() => seen.size >= expected.size, 120_000).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}; got ${seen.size} of ${expected.size}\n${sw!.output()}`);
  });
  await sw.stop('SIGTERM');

  let twice = 0;
  for (const [key, v] of expected) {
    const got = seen.get(key);
    assert.ok(got, `${key} delivered`);
    assert.equal(got.v, v, `${key} value`);
    if (got.n > 1) twice++;
  }
  // Each shard may have had one batch in flight when the process died.
  assert.ok(twice <= SHARDS * BATCH, `${twice} samples sent twice (bound ${SHARDS * BATCH})`);
});
