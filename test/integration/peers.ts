// Helpers for integration tests that run real peers (Debian packages, see scripts/install-test-peers.sh).
//
// Every server started here binds 127.0.0.1 on a port the OS picked, so tests can run in parallel and never
// listen on or talk to anything but loopback. Callers own the returned handles and must stop them in
// `after`/`t.after`, so processes die even when an assertion fails. As a last resort each child is also
// killed when the test process exits.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Directories searched in addition to $PATH, because daemons live in sbin and test PATHs often lack it. */
const EXTRA_BIN_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/**
 * Returns the absolute path of executable `name`. A missing peer is a failed test, never a skip, so this
 * throws with the command that installs it.
 */
export function requireBinary(name: string, pkg: string): string {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter((d) => d !== ''), ...EXTRA_BIN_DIRS];
  for (const dir of dirs) {
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // Not in this directory.
    }
  }
  throw new Error(
    `\`${name}\` not found: run \`bash scripts/install-test-peers.sh\` (Debian package ${pkg})`,
  );
}

/** Path of the Debian chromium browser (for playwright-core's executablePath). */
export function chromiumPath(): string {
  return requireBinary('chromium', 'chromium');
}

/**
 * Asks the OS for a free TCP port on 127.0.0.1. Another process may take it before the caller binds it; the
 * peer starters below retry in that case.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** A temporary directory; `remove()` deletes it with its contents and may be called more than once. */
export interface TempDir {
  readonly path: string;
  remove(): Promise<void>;
}

/**
 * Creates a temporary directory with mode 0755: peers that drop privileges (snmpsimd, mosquitto) must be
 * able to traverse it.
 */
export async function tempDir(prefix = 'storewatch-test-'): Promise<TempDir> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755);
  return { path: dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Polls `fn` every `intervalMs` until it returns a value other than undefined, null or false, and returns that
 * value. Errors thrown by `fn` count as "not yet"; on timeout the last one is reported.
 */
export async function waitFor<T>(
  fn: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why =
        lastError === undefined
          ? ''
          : `; last error: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)}`;
      throw new Error(`condition not met within ${timeoutMs} ms${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** How a child process ended. */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running child process started by {@link spawnProcess}. */
export interface ProcessHandle {
  readonly child: ChildProcess;
  /** Everything it wrote to stdout and stderr so far, interleaved, capped at the last 256 KiB. */
  output(): string;
  /** Resolves when it has exited. */
  readonly exited: Promise<ExitStatus>;
  /** True once it has exited. */
  hasExited(): boolean;
  /**
   * Sends `signal` (SIGTERM by default), waits up to `graceMs`, then SIGKILLs. Returns how it exited.
   * Safe to call more than once and after it exited on its own.
   */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<ExitStatus>;
}

const OUTPUT_CAP = 256 * 1024;

/** Starts `file` with `args`, capturing its output, and makes sure it is killed when the test process exits. */
export function spawnProcess(
  file: string,
  args: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): ProcessHandle {
  const child = spawn(file, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const append = (chunk: Buffer): void => {
    out += chunk.toString('utf8');
    if (out.length > OUTPUT_CAP) out = out.slice(out.length - OUTPUT_CAP);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);

  let done: ExitStatus | undefined;
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('error', (err) => {
      append(Buffer.from(`spawn error: ${err.message}\n`));
      if (child.pid === undefined) {
        done = { code: null, signal: null };
        process.removeListener('exit', killOnExit);
        resolve(done);
      }
    });
    child.once('close', (code, signal) => {
      done = { code, signal };
      process.removeListener('exit', killOnExit);
      resolve(done);
    });
  });

  return {
    child,
    output: () => out,
    exited,
    hasExited: () => done !== undefined,
    async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<ExitStatus> {
      if (done !== undefined) return done;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/**
 * Starts the appliance from source, `storewatch run`, with a config file, a loopback port and a data directory;
 * its working directory is the config file's.
 */
export function spawnStorewatch(o: { config: string; port: number; storage: string }): ProcessHandle {
  return spawnProcess(
    process.execPath,
    [
      path.resolve(import.meta.dirname, '..', '..', 'appliance', 'cli.ts'),
      'run',
      '--config',
      o.config,
      '--web.listen-address',
      `127.0.0.1:${o.port}`,
      '--storage.path',
      o.storage,
    ],
    { cwd: path.dirname(o.config) },
  );
}

/** A prometheus-node-exporter listening on 127.0.0.1. */
export interface NodeExporter {
  /** Base URL, e.g. http://127.0.0.1:40123 (metrics are at `${url}/metrics`). */
  readonly url: string;
  /** `127.0.0.1:PORT`, the form scrape configs use as a target. */
  readonly address: string;
  readonly port: number;
  /** Directory read by the textfile collector: `*.prom` files written here show up as series. */
  readonly textfileDir: string;
  readonly process: ProcessHandle;
  /** Stops the exporter and deletes its directory. */
  stop(): Promise<void>;
}

/**
 * Starts prometheus-node-exporter on a free loopback port and waits until /metrics answers. The textfile
 * collector starts with one known series, `storewatch_test_probe{source="textfile"} 1`.
 */
export async function startNodeExporter(): Promise<NodeExporter> {
  const bin = requireBinary('prometheus-node-exporter', 'prometheus-node-exporter');
  const dir = await tempDir('storewatch-node-exporter-');
  const textfileDir = path.join(dir.path, 'textfile');
  fs.mkdirSync(textfileDir);
  await writeFile(path.join(textfileDir, 'probe.prom'), 'storewatch_test_probe{source="textfile"} 1\n');

  let lastFailure = '';
  // A few attempts, because the free port may be taken between freePort() and the exporter's bind.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const proc = spawnProcess(bin, [
      `--web.listen-address=127.0.0.1:${port}`,
      `--collector.textfile.directory=${textfileDir}`,
      // No dbus in test environments: the systemd collector would log an error on every scrape.
      '--no-collector.systemd',
    ]);
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitFor(async () => {
        if (proc.hasExited()) throw new Error(`exited early: ${proc.output()}`);
        const res = await fetch(`${url}/metrics`);
        await res.arrayBuffer();
        return res.ok;
      }, 15_000);
    } catch (err) {
      await proc.stop('SIGKILL');
      lastFailure = `${String(err)}\n${proc.output()}`;
      continue;
    }
    return {
      url,
      address: `127.0.0.1:${port}`,
      port,
      textfileDir,
      process: proc,
      async stop() {
        await proc.stop();
        await dir.remove();
      },
    };
  }
  await dir.remove();
  throw new Error(`prometheus-node-exporter did not become ready: ${lastFailure}`);
}

/**
 * Lints Prometheus text exposition with `promtool check metrics`. Exit code 0 is clean, 3 means lint
 * warnings (missing HELP, bad names...), 1 a parse error.
 */
export async function promtoolCheckMetrics(text: string): Promise<{ code: number | null; output: string }> {
  const bin = requireBinary('promtool', 'prometheus');
  const child = spawn(bin, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
  const closed = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  // promtool may exit before reading everything (parse error): ignore the resulting EPIPE.
  child.stdin.on('error', () => undefined);
  child.stdin.end(text);
  const code = await closed;
  return { code, output };
}
