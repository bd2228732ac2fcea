// The host collector: metrics of the machine storewatch runs on, named like node_exporter's (see the table in
// host-mapping.ts). Each part (cpu, memory, filesystems, ...) is read and mapped independently; a part that
// fails or hangs is reported as node_scrape_collector_success{collector="..."} 0 and the others still count.
import { readFile } from 'node:fs/promises';
import { cpus, loadavg, uptime } from 'node:os';
import { join } from 'node:path';
import { cpuTemperature, fsSize, mem, networkStats } from 'systeminformation';
import type { Systeminformation } from 'systeminformation';
import { getLabel, METRIC_NAME } from '../model/labels.ts';
import type {
  CpuTimesInput,
  HostMetricMetadata,
  HostSample,
  HostTimeInput,
  NetworkCountersInput,
} from './host-mapping.ts';
import {
  hostMetadata,
  mapCollectorStatus,
  mapCpuTimes,
  mapFilesystems,
  mapLoadAverage,
  mapMemory,
  mapNetworkStats,
  mapTemperature,
  mapTime,
  parseProcNetDev,
} from './host-mapping.ts';

export type { HostMetricMetadata, HostSample } from './host-mapping.ts';

/**
 * Where the host readings come from. Each method returns one fresh reading (never a delta against an
 * earlier call) or rejects; it may take a while (some spawn processes) but must not depend on being called
 * at any particular rate. The collector never calls a method again while its previous call is still pending.
 *
 * The default ({@link systemInformationSource}) uses systeminformation where its call is cheap enough and
 * node:os or /proc where systeminformation's is not (see the notes there); tests pass recorded objects.
 */
export interface HostSource {
  /** Cumulative per-CPU times in milliseconds since boot, in CPU order (node:os `cpus()`). */
  cpuTimes(): Promise<readonly CpuTimesInput[]>;
  /** The 1, 5 and 15 minute load averages (node:os `loadavg()`). */
  loadAverage(): Promise<readonly number[]>;
  /** Memory in bytes (systeminformation `mem()`). */
  mem(): Promise<Systeminformation.MemData>;
  /** Mounted filesystems, sizes in bytes (systeminformation `fsSize()`). */
  fsSize(): Promise<readonly Systeminformation.FsSizeData[]>;
  /** Cumulative counters of every network interface (the shape of systeminformation `networkStats()`). */
  networkStats(): Promise<readonly NetworkCountersInput[]>;
  /** Temperatures in °C, null or -1 where there is no sensor (systeminformation `cpuTemperature()`). */
  cpuTemperature(): Promise<Systeminformation.CpuTemperatureData>;
  /** Wall time (ms since the epoch) and uptime (s), the two fields of systeminformation `time()` used. */
  time(): Promise<HostTimeInput>;
}

/** Runs `f` and turns a synchronous throw into a rejection, so a source method always returns a promise. */
function lazily<T>(f: () => T): Promise<T> {
  return new Promise((resolve) => resolve(f()));
}

/**
 * The real host. Measured choices (systeminformation 5.33, Linux):
 * - CPU: `si.currentLoad()` is not usable for a counter: its rawLoad* fields are deltas since its previous
 *   call (kept in module state), its first call sleeps 500 ms, and each call runs `cat /proc/stat | grep`
 *   through a shell. node:os `cpus()` gives the cumulative times directly, in-process.
 * - Time: `si.time()` runs `date` and `ls` through execSync (blocking the event loop, ~60 ms) for time-zone
 *   fields we do not need; `current` and `uptime` are just Date.now() and os.uptime(), used here directly.
 * - Network: `si.networkStats('*')` lists interfaces (`ip`, `nmcli`, ...) and then spawns a shell with seven
 *   `cat`s per interface; on Linux one read of /proc/net/dev (plus operstate from sysfs) gives the same
 *   counters. Other systems fall back to systeminformation.
 * - Memory (`si.mem()`) reads /proc/meminfo in-process. Filesystems (`si.fsSize()`) spawn `cat /proc/mounts`
 *   (execSync) and `df`; temperature (`si.cpuTemperature()`) spawns a few shells that `cat` sysfs (and
 *   `sensors` when nothing is found). Both are kept: a handful of short processes per scrape.
 */
export function systemInformationSource(): HostSource {
  const linux = process.platform === 'linux';
  return {
    cpuTimes: () => lazily(() => cpus()),
    loadAverage: () => lazily(() => loadavg()),
    mem: () => mem(),
    fsSize: () => fsSize(),
    networkStats: () => (linux ? readLinuxNetworkStats() : networkStats('*')),
    cpuTemperature: () => cpuTemperature(),
    time: () => lazily(() => ({ current: Date.now(), uptime: uptime() })),
  };
}

/** Where {@link readLinuxNetworkStats} reads; tests point it at fixture files. */
export interface LinuxNetPaths {
  readonly procNetDev: string;
  readonly sysClassNet: string;
}

const LINUX_NET_PATHS: LinuxNetPaths = { procNetDev: '/proc/net/dev', sysClassNet: '/sys/class/net' };

/**
 * Network counters from /proc/net/dev, with each interface's operstate from sysfs ('unknown' when it cannot
 * be read). Interface names come from the kernel and are checked by the parser to be single path segments.
 */
export async function readLinuxNetworkStats(
  paths: LinuxNetPaths = LINUX_NET_PATHS,
): Promise<NetworkCountersInput[]> {
  const rows = parseProcNetDev(await readFile(paths.procNetDev, 'utf8'));
  return Promise.all(
    rows.map(async (row) => {
      let operstate = 'unknown';
      try {
        operstate = (await readFile(join(paths.sysClassNet, row.iface, 'operstate'), 'utf8')).trim();
      } catch {
        // No sysfs entry (a race with an interface going away, or no /sys): the counters still count.
      }
      return { ...row, operstate };
    }),
  );
}

/** Thrown (and reported to onError) when a part is skipped because its previous call still runs. */
export class HostCollectorBusyError extends Error {
  override readonly name = 'HostCollectorBusyError';
}

export interface HostCollectorOptions {
  readonly source: HostSource;
  /** A monotonic clock in milliseconds for the collector durations; performance.now() by default. */
  readonly now?: () => number;
  /** Told about every failed part, e.g. to log it; an exception thrown here is ignored. */
  readonly onError?: (collector: string, error: unknown) => void;
}

/** One collection: samples without timestamps (the scrape loop assigns them) and their families' metadata. */
export interface HostCollection {
  readonly samples: HostSample[];
  readonly metadata: Map<string, HostMetricMetadata>;
}

interface Part {
  readonly name: string;
  readonly run: () => Promise<HostSample[]>;
}

/** Settles like `p`, or rejects with the signal's reason as soon as the signal aborts. */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    // Passing resolve/reject straight through keeps p's rejection reason as it is.
    void p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Collects the host metrics. Contract of {@link HostCollector.collect}:
 * - It never rejects. Every part runs concurrently; a part that throws, returns garbage, or is still running
 *   when `signal` aborts contributes no samples and node_scrape_collector_success{collector} 0. Every part,
 *   failed or not, gets node_scrape_collector_success and node_scrape_collector_duration_seconds.
 * - The signal is the scrape deadline: on abort, collect resolves at once with what has finished. A part whose
 *   call is still pending from an earlier collection (a `df` hanging on a dead network mount, say) is not
 *   called again but reported as failed, so hung calls never pile up.
 * - Parts: cpu, loadavg, meminfo, filesystem, netdev, hwmon, time (node_exporter's collector names).
 */
export class HostCollector {
  private readonly source: HostSource;
  private readonly now: () => number;
  private readonly onError: ((collector: string, error: unknown) => void) | undefined;
  private readonly inFlight = new Set<string>();
  private lastBootTime: number | undefined;

  constructor(opts: HostCollectorOptions) {
    this.source = opts.source;
    this.now = opts.now ?? (() => performance.now());
    this.onError = opts.onError;
  }

  async collect(signal: AbortSignal): Promise<HostCollection> {
    const s = this.source;
    const parts: Part[] = [
      { name: 'cpu', run: async () => mapCpuTimes(await s.cpuTimes()) },
      { name: 'loadavg', run: async () => mapLoadAverage(await s.loadAverage()) },
      { name: 'meminfo', run: async () => mapMemory(await s.mem()) },
      { name: 'filesystem', run: async () => mapFilesystems(await s.fsSize()) },
      { name: 'netdev', run: async () => mapNetworkStats(await s.networkStats()) },
      { name: 'hwmon', run: async () => mapTemperature(await s.cpuTemperature()) },
      { name: 'time', run: async () => this.mapTimeStable(await s.time()) },
    ];
    const results = await Promise.all(parts.map((p) => this.runPart(p, signal)));
    const samples: HostSample[] = [];
    for (const r of results) samples.push(...r.samples);
    for (const r of results) samples.push(...r.status);
    return { samples, metadata: hostMetadata(samples) };
  }

  private mapTimeStable(time: HostTimeInput): HostSample[] {
    const samples = mapTime(time, this.lastBootTime);
    const boot = samples.find((x) => getLabel(x.labels, METRIC_NAME) === 'node_boot_time_seconds');
    if (boot !== undefined) this.lastBootTime = boot.value;
    return samples;
  }

  private async runPart(
    part: Part,
    signal: AbortSignal,
  ): Promise<{ samples: HostSample[]; status: HostSample[] }> {
    const start = this.now();
    let samples: HostSample[] = [];
    let ok = false;
    try {
      if (this.inFlight.has(part.name)) {
        throw new HostCollectorBusyError(`${part.name}: the previous call has not finished`);
      }
      signal.throwIfAborted();
      this.inFlight.add(part.name);
      const call = part.run();
      const done = (): void => {
        this.inFlight.delete(part.name);
      };
      call.then(done, done);
      samples = await untilAborted(call, signal);
      ok = true;
    } catch (error) {
      this.report(part.name, error);
    }
    const seconds = (this.now() - start) / 1000;
    return { samples, status: mapCollectorStatus(part.name, ok, seconds) };
  }

  private report(collector: string, error: unknown): void {
    try {
      this.onError?.(collector, error);
    } catch {
      // A failing logger must not turn one failed part into a failed collection.
    }
  }
}
