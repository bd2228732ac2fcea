// Builds the single executable with firmware/build-binary.ts and runs it the way an appliance does: no node
// on PATH, an empty environment, started from an unrelated directory.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  freePort,
  spawnProcess,
  startNodeExporter,
  tempDir,
  waitFor,
  type NodeExporter,
  type ProcessHandle,
  type TempDir,
} from './peers.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const BUILD_SCRIPT = path.join(ROOT, 'firmware', 'build-binary.ts');
const VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;
/** What an appliance's service manager gives the process: a minimal PATH without node, nothing else. */
const BARE_ENV = { PATH: '/bin' };

/** Builds `entry` into `<dir>/storewatch` with the real build script and returns the executable's path. */
async function build(dir: string, entry?: string): Promise<string> {
  const out = path.join(dir, 'storewatch');
  const args = [BUILD_SCRIPT, '--out', out, '--build-dir', path.join(dir, 'build')];
  if (entry !== undefined) args.push('--entry', entry);
  try {
    await promisify(execFile)(process.execPath, args, { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(`build failed: ${String(err)}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
  return out;
}

/** Runs the executable to completion with the bare environment. */
async function runToEnd(
  bin: string,
  args: string[],
  cwd: string,
): Promise<{ code: number | null; output: string; proc: ProcessHandle }> {
  const proc = spawnProcess(bin, args, { cwd, env: BARE_ENV });
  const timer = setTimeout(() => void proc.stop('SIGKILL'), 30_000);
  try {
    const { code } = await proc.exited;
    return { code, output: proc.output(), proc };
  } finally {
    clearTimeout(timer);
  }
}

void describe('single executable: embedded SQLite addon', () => {
  let dir: TempDir;
  let bin = '';

  before(async () => {
    dir = await tempDir('storewatch-sea-');
    // A probe entry outside the source tree that only uses appliance/native.ts, so this part does not depend
    // on the CLI. It also prints the version the build injects.
    const entry = path.join(dir.path, 'probe.ts');
    const native = JSON.stringify(path.join(ROOT, 'appliance', 'native.ts'));
    fs.writeFileSync(
      entry,
      `import { openSqlite } from ${native};
const [dbFile, cacheDir] = process.argv.slice(2);
const db = openSqlite(dbFile!, { cacheDir: cacheDir! });
db.exec('CREATE TABLE IF NOT EXISTS t (x)');
db.prepare('INSERT INTO t VALUES (?)').run(process.pid);
const row = db.prepare('SELECT count(*) AS n, sqlite_version() AS v FROM t').get();
db.close();
console.log(JSON.stringify({ row, version: process.env.STOREWATCH_BUILD_VERSION ?? null }));
`,
    );
    bin = await build(dir.path, entry);
  });
  after(async () => {
    await dir.remove();
  });

  void it('runs without node, from another directory, and extracts the addon once for concurrent starts', async () => {
    const work = path.join(dir.path, 'work');
    const cache = path.join(dir.path, 'cache');
    fs.mkdirSync(work);
    const runs = await Promise.all(
      [1, 2, 3].map((i) => runToEnd(bin, [path.join(work, `db${i}.sqlite`), cache], work)),
    );
    for (const run of runs) {
      assert.equal(run.code, 0, run.output);
      const line = run.output.trim().split('\n').at(-1) ?? '';
      const parsed = JSON.parse(line) as { row: { n: number; v: string }; version: string | null };
      assert.equal(parsed.row.n, 1);
      assert.match(parsed.row.v, /^3\.\d+\.\d+$/);
      assert.equal(parsed.version, VERSION);
    }
    const sub = fs.readdirSync(cache);
    assert.equal(sub.length, 1, `one hash-named directory expected, got ${sub.join(', ')}`);
    assert.match(sub[0]!, /^addon-[0-9a-f]{16}$/);
    assert.deepEqual(fs.readdirSync(path.join(cache, sub[0]!)), ['better_sqlite3.node']);

    // A second start reuses the extracted addon.
    const again = await runToEnd(bin, [path.join(work, 'db1.sqlite'), cache], work);
    assert.equal(again.code, 0, again.output);
    assert.match(again.output, /"n":2/);
  });

  void it('fails with a clear error when the cache directory cannot be created', async () => {
    const blocker = path.join(dir.path, 'not-a-dir');
    fs.writeFileSync(blocker, 'x');
    const run = await runToEnd(bin, [path.join(dir.path, 'x.sqlite'), path.join(blocker, 'cache')], dir.path);
    assert.notEqual(run.code, 0);
    assert.match(run.output, /cannot extract native addon/);
  });
});

// The CLI contract (appliance/cli.ts). Until the CLI exists, the build in `before` fails and so do these tests.
void describe('single executable: storewatch CLI', () => {
  let dir: TempDir;
  let bin = '';
  let exporter: NodeExporter | undefined;
  let server: ProcessHandle | undefined;

  before(async () => {
    dir = await tempDir('storewatch-cli-');
    bin = await build(dir.path);
  });
  after(async () => {
    await server?.stop('SIGKILL');
    await exporter?.stop();
    await dir.remove();
  });

  void it('--version prints the package version', async () => {
    const run = await runToEnd(bin, ['--version'], dir.path);
    assert.equal(run.code, 0, run.output);
    assert.ok(
      run.output.split('\n').some((l) => l.includes(VERSION)),
      `no line contains ${VERSION}: ${run.output}`,
    );
  });

  void it('--help exits 0 and names the commands', async () => {
    const run = await runToEnd(bin, ['--help'], dir.path);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /\brun\b/);
    assert.match(run.output, /\bcheck-config\b/);
  });

  void it('check-config accepts a valid file and rejects broken ones with exit 2, naming the file', async () => {
    const good = path.join(dir.path, 'good.yml');
    fs.writeFileSync(
      good,
      'global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: ["127.0.0.1:9100"]\n',
    );
    const ok = await runToEnd(bin, ['check-config', good], dir.path);
    assert.equal(ok.code, 0, ok.output);

    const broken = {
      'syntax.yml': 'scrape_configs:\n  - job_name: [unclosed\n\t: :\n',
      'schema.yml': 'global:\n  scrape_interval: banana\nscrape_configs: 7\n',
    };
    for (const [name, text] of Object.entries(broken)) {
      const file = path.join(dir.path, name);
      fs.writeFileSync(file, text);
      const run = await runToEnd(bin, ['check-config', file], dir.path);
      assert.equal(run.code, 2, `${name}: ${run.output}`);
      assert.ok(run.output.includes(file), `${name}: output does not name ${file}: ${run.output}`);
    }
  });

  void it('run scrapes a real node_exporter, serves targets and its own metrics, and exits 0 on SIGTERM', async () => {
    exporter = await startNodeExporter();
    const port = await freePort();
    const storage = path.join(dir.path, 'data');
    const cwd = path.join(dir.path, 'elsewhere');
    fs.mkdirSync(storage);
    fs.mkdirSync(cwd);
    const config = path.join(dir.path, 'storewatch.yml');
    fs.writeFileSync(
      config,
      [
        'global:',
        '  scrape_interval: 1s',
        '  scrape_timeout: 1s',
        'scrape_configs:',
        '  - job_name: node',
        '    static_configs:',
        `      - targets: ["${exporter.address}"]`,
        '',
      ].join('\n'),
    );
    const base = `http://127.0.0.1:${port}`;
    server = spawnProcess(
      bin,
      ['run', '--config', config, '--web.listen-address', `127.0.0.1:${port}`, '--storage.path', storage],
      { cwd, env: BARE_ENV },
    );
    const running = server;

    interface Target {
      health?: string;
      labels?: Record<string, string>;
      lastError?: string;
    }
    await waitFor(async () => {
      if (running.hasExited()) throw new Error(`storewatch exited: ${running.output()}`);
      const res = await fetch(`${base}/api/v1/targets`);
      const body = (await res.json()) as { data?: { activeTargets?: Target[] } };
      const node = body.data?.activeTargets?.find((t) => t.labels?.job === 'node');
      if (node?.health !== 'up') throw new Error(`node target not up yet: ${JSON.stringify(node)}`);
      return true;
    }, 30_000).catch((err: unknown) => {
      throw new Error(`${String(err)}\nstorewatch output:\n${running.output()}`);
    });

    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /^storewatch_\w+/m);

    const status = await running.stop('SIGTERM', 15_000);
    assert.deepEqual(status, { code: 0, signal: null }, running.output());
  });
});
