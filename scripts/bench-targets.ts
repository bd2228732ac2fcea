// Shared by the appliance-level benchmarks (bench-appliance.ts, bench-remote.ts): finding Debian peers, free
// loopback ports, readiness polling, and node_exporter-like targets built from one real node_exporter body.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/** The path of a Debian peer's binary, or an error naming the install script. */
export function which(bin: string): string {
  for (const dir of ['/usr/bin', '/usr/sbin', '/bin', '/usr/local/bin']) {
    const p = path.join(dir, bin);
    if (fs.existsSync(p)) return p;
  }
  throw new Error(`${bin} not found: run bash scripts/install-test-peers.sh`);
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Polls `url` until it answers 2xx; `alive` (when given) aborts the wait if the peer died. */
export async function waitUp(url: string, ms: number, alive?: () => string | null): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const dead = alive?.();
    if (dead) throw new Error(dead);
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      if (r.ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > end) throw new Error(`${url} not ready`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** One real node_exporter body (started on loopback and stopped again), the template of every target. */
export async function realNodeExporterBody(): Promise<string> {
  const port = await freePort();
  const p = spawn(
    which('prometheus-node-exporter'),
    [`--web.listen-address=127.0.0.1:${port}`, '--no-collector.systemd'],
    {
      stdio: 'ignore',
    },
  );
  try {
    await waitUp(`http://127.0.0.1:${port}/metrics`, 15_000);
    return await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  } finally {
    p.kill('SIGKILL');
  }
}

/** One sample line of a target: the series text, its current value, and whether it is a counter. */
export interface TargetLine {
  readonly head: string;
  value: number;
  readonly counter: boolean;
}

/** Replicates the template's sample lines (label replica="rN") until a target has `count` series. */
export function targetLines(body: string, count: number): TargetLine[] {
  const samples = body.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  const replicas = Math.max(1, Math.ceil(count / samples.length));
  const out: TargetLine[] = [];
  for (let r = 0; r < replicas && out.length < count; r++) {
    for (const l of samples) {
      if (out.length >= count) break;
      const sp = l.lastIndexOf(' ');
      const series = l.slice(0, sp);
      const value = Number(l.slice(sp + 1));
      const brace = series.indexOf('{');
      const head =
        brace < 0
          ? `${series}{replica="r${r}"}`
          : `${series.slice(0, brace + 1)}replica="r${r}",${series.slice(brace + 1)}`;
      out.push({ head, value: Number.isFinite(value) ? value : 0, counter: /_total\{/.test(head) });
    }
  }
  return out;
}

/** The next body of a target: counters grow by small steps, a tenth of gauges move a little. */
export function renderTarget(lines: TargetLine[]): string {
  let s = '';
  for (const l of lines) {
    if (l.counter) l.value += Math.floor(Math.random() * 100);
    else if (Math.random() < 0.1) l.value = Math.round(l.value * (1 + (Math.random() - 0.5) / 50));
    s += `${l.head} ${l.value}\n`;
  }
  return s;
}

/** CPU seconds and peak RSS (VmHWM) of a process, from /proc. */
export function procStat(pid: number): { cpuSec: number; hwmMB: number; writeBytes: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(f[11]) + Number(f[12]);
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  let writeBytes = 0;
  try {
    writeBytes = Number(/write_bytes:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? 0);
  } catch {
    // /proc/<pid>/io needs the same user or root.
  }
  // USER_HZ is 100 on Linux.
  return { cpuSec: ticks / 100, hwmMB: hwm / 1024, writeBytes };
}
