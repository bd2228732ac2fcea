// kill -9 during ingestion: every round the child reported as committed must be there after a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { newMatcher } from '../../../appliance/model/matcher.ts';
import { fakeClock, openTsdb, tempDir } from './helpers.ts';

const T0 = Date.UTC(2026, 10, 25, 12);
const here = import.meta.dirname;

const CHILD = `
import { labelsFromRecord } from ${JSON.stringify(path.join(here, '../../../appliance/model/labels.ts'))};
import { fakeClock, openTsdb } from ${JSON.stringify(path.join(here, 'helpers.ts'))};
const clock = fakeClock(${T0});
const db = openTsdb(process.argv[2], clock);
db.start();
const series = Array.from({ length: 200 }, (_, k) => labelsFromRecord({ __name__: 'g', k: String(k) }));
const a = db.appender();
for (let i = 0; ; i++) {
  clock.set(${T0} + i * 15000);
  for (const l of series) a.append(0, l, clock.now(), i);
  a.commit();
  if (i % 50 === 0) db.maintain();
  process.stdout.write('committed ' + i + '\\n');
  if (i % 100 === 0) await new Promise((r) => setImmediate(r));
}
`;

test('kill -9 mid-ingestion loses no committed round', async () => {
  const dir = tempDir();
  const script = path.join(dir, 'child.ts');
  fs.writeFileSync(script, CHILD);
  const data = path.join(dir, 'data');
  const child = spawn(process.execPath, [script, data], { stdio: ['ignore', 'pipe', 'inherit'] });
  let last = -1;
  let buf = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) last = Number(l.split(' ')[1]);
      // Past several flushes and a window boundary, then kill without warning.
      if (last >= 1200 && !child.killed) {
        child.kill('SIGKILL');
        resolve();
      }
    });
    child.once('exit', (code) => (code !== null ? reject(new Error(`child exited ${code}`)) : resolve()));
  });
  await new Promise((r) => child.once('close', r));
  const db = openTsdb(data, fakeClock(T0 + 1300 * 15_000));
  try {
    assert.ok(db.stats().logReplayedSamples > 0, 'the head log was replayed');
    for (const k of ['0', '199']) {
      const s = db.querier().select([newMatcher('=', 'k', k)], 0, Number.MAX_SAFE_INTEGER);
      const it = s[0]!.iterator();
      let n = 0;
      while (it.next()) {
        assert.equal(it.t, T0 + n * 15_000);
        assert.equal(it.v, n);
        n++;
      }
      assert.ok(n >= last + 1, `series k=${k}: ${n} samples, child had committed ${last + 1} rounds`);
    }
  } finally {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
