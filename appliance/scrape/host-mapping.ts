// Pure mapping from the host readings (systeminformation's result objects, node:os CPU times, /proc/net/dev)
// to samples named like node_exporter's, so that existing node_exporter dashboards and alerts work on
// storewatch's host series unchanged. No I/O here: every function takes plain values and returns samples.
//
// Mapping (collector → family ← source field):
//
// | collector  | family                                        | labels                     | from                              |
// |------------|-----------------------------------------------|----------------------------|-----------------------------------|
// | cpu        | node_cpu_seconds_total (counter)              | cpu, mode                  | os.cpus()[i].times.* / 1000       |
// |            |   mode = user, nice, system, idle, irq        |                            |   (sys → mode="system")           |
// | loadavg    | node_load1, node_load5, node_load15           | —                          | os.loadavg()                      |
// | meminfo    | node_memory_MemTotal_bytes                    | —                          | si.mem().total                    |
// |            | node_memory_MemFree_bytes                     | —                          | si.mem().free                     |
// |            | node_memory_MemAvailable_bytes                | —                          | si.mem().available                |
// |            | node_memory_Buffers_bytes                     | —                          | si.mem().buffers                  |
// |            | node_memory_Cached_bytes                      | —                          | si.mem().cached                   |
// |            | node_memory_Slab_bytes                        | —                          | si.mem().slab                     |
// |            | node_memory_SReclaimable_bytes                | —                          | si.mem().reclaimable              |
// |            | node_memory_SwapTotal_bytes                   | —                          | si.mem().swaptotal                |
// |            | node_memory_SwapFree_bytes                    | —                          | si.mem().swapfree                 |
// |            | node_memory_Dirty_bytes                       | —                          | si.mem().dirty (when not null)    |
// |            | node_memory_Writeback_bytes                   | —                          | si.mem().writeback (when not null)|
// | filesystem | node_filesystem_size_bytes                    | device, fstype, mountpoint | si.fsSize()[i].size               |
// |            | node_filesystem_avail_bytes                   | device, fstype, mountpoint | si.fsSize()[i].available          |
// |            | node_filesystem_free_bytes                    | device, fstype, mountpoint | size - used (df's used = size-free)|
// |            | node_filesystem_readonly                      | device, fstype, mountpoint | si.fsSize()[i].rw (when known)    |
// | netdev     | node_network_receive_bytes_total (counter)    | device                     | rx_bytes                          |
// |            | node_network_transmit_bytes_total (counter)   | device                     | tx_bytes                          |
// |            | node_network_receive_errs_total (counter)     | device                     | rx_errors                         |
// |            | node_network_transmit_errs_total (counter)    | device                     | tx_errors                         |
// |            | node_network_receive_drop_total (counter)     | device                     | rx_dropped                        |
// |            | node_network_transmit_drop_total (counter)    | device                     | tx_dropped                        |
// |            | node_network_up                               | device                     | operstate === 'up'                |
// | hwmon      | node_hwmon_temp_celsius                       | chip="cpu", sensor="main"  | si.cpuTemperature().main          |
// |            |                                               | chip="cpu", sensor="coreN" | .cores[N]                         |
// |            |                                               | chip="acpi",sensor="socketN"| .socket[N]                       |
// |            |                                               | chip="pch", sensor="chipset"| .chipset                         |
// | time       | node_time_seconds                             | —                          | time.current / 1000               |
// |            | node_boot_time_seconds                        | —                          | time.current / 1000 - uptime      |
// | (every)    | node_scrape_collector_success                 | collector                  | 1 when the part succeeded         |
// |            | node_scrape_collector_duration_seconds        | collector                  | wall time of the part             |
//
// Differences from node_exporter worth knowing: node_cpu_seconds_total has no iowait, softirq, steal or guest
// modes (node:os does not report them); the hwmon chip/sensor labels are storewatch's own because
// systeminformation reports a summary (package, cores, ACPI, PCH) rather than the raw hwmon chips.
import type { Systeminformation } from 'systeminformation';
import type { Labels } from '../model/labels.ts';
import { getLabel, labelsFromRecord, labelsKey, METRIC_NAME } from '../model/labels.ts';

/**
 * One sample of the host collector. Structurally the same as the exposition parser's ParsedSample (the two
 * will be unified); `labels` includes `__name__` and is sorted. The timestamp is left to the scrape loop.
 */
export interface HostSample {
  readonly labels: Labels;
  readonly value: number;
  readonly timestamp?: number;
}

/** HELP/TYPE metadata of one metric family, as the scrape stores it for exposition parsers too. */
export interface HostMetricMetadata {
  readonly type: 'counter' | 'gauge';
  readonly help: string;
  readonly unit: string;
}

/** CPU times as node:os's `cpus()` reports them: cumulative milliseconds per mode since boot. */
export interface CpuTimesInput {
  readonly times: {
    readonly user: number;
    readonly nice: number;
    readonly sys: number;
    readonly idle: number;
    readonly irq: number;
  };
}

/** The fields of systeminformation's `networkStats()` entries that the mapping reads. */
export type NetworkCountersInput = Pick<
  Systeminformation.NetworkStatsData,
  'iface' | 'operstate' | 'rx_bytes' | 'rx_dropped' | 'rx_errors' | 'tx_bytes' | 'tx_dropped' | 'tx_errors'
>;

/** The clock readings of the host: wall time in ms since the epoch and seconds since boot. */
export type HostTimeInput = Pick<Systeminformation.TimeData, 'current' | 'uptime'>;

/** Thrown when a source returned something that is not the shape the mapping expects at all. */
export class HostDataError extends Error {
  override readonly name = 'HostDataError';
}

/**
 * The most entries taken from one list (CPUs, filesystems, interfaces, temperature cores). A host with more
 * (a container host with thousands of veth interfaces, or a corrupt reading) gets the first ones only, so one
 * scrape can never produce an unbounded number of series.
 */
export const MAX_ENTRIES_PER_LIST = 1024;

/**
 * node_exporter's default `--collector.filesystem.fs-types-exclude`: pseudo and read-only image filesystems
 * whose sizes mean nothing for capacity alerts.
 */
export const FS_TYPES_EXCLUDE =
  /^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs)$/;

/** node_exporter's default `--collector.filesystem.mount-points-exclude` (kernel and container internals). */
export const MOUNT_POINTS_EXCLUDE =
  /^\/(dev|proc|run\/credentials\/.+|sys|var\/lib\/docker\/.+|var\/lib\/containers\/storage\/.+)($|\/)/;

function counter(help: string): HostMetricMetadata {
  return { type: 'counter', help, unit: '' };
}
function gauge(help: string): HostMetricMetadata {
  return { type: 'gauge', help, unit: '' };
}

// A frozen record rather than a Map so that the module holds no mutable state; hostMetadata() builds Maps.
const FAMILIES: Readonly<Record<string, HostMetricMetadata>> = Object.freeze({
  node_cpu_seconds_total: counter('Seconds the CPUs spent in each mode.'),
  node_load1: gauge('1m load average.'),
  node_load5: gauge('5m load average.'),
  node_load15: gauge('15m load average.'),
  node_memory_MemTotal_bytes: gauge('Total usable memory in bytes (MemTotal).'),
  node_memory_MemFree_bytes: gauge('Unused memory in bytes (MemFree).'),
  node_memory_MemAvailable_bytes: gauge(
    'Memory available for new work without swapping, in bytes (MemAvailable).',
  ),
  node_memory_Buffers_bytes: gauge('Memory used by block device buffers in bytes (Buffers).'),
  node_memory_Cached_bytes: gauge('Memory used by the page cache in bytes (Cached).'),
  node_memory_Slab_bytes: gauge('Memory used by kernel slab caches in bytes (Slab).'),
  node_memory_SReclaimable_bytes: gauge('Reclaimable part of the slab caches in bytes (SReclaimable).'),
  node_memory_SwapTotal_bytes: gauge('Total swap space in bytes (SwapTotal).'),
  node_memory_SwapFree_bytes: gauge('Unused swap space in bytes (SwapFree).'),
  node_memory_Dirty_bytes: gauge('Memory waiting to be written back to disk in bytes (Dirty).'),
  node_memory_Writeback_bytes: gauge('Memory being written back to disk in bytes (Writeback).'),
  node_filesystem_size_bytes: gauge('Filesystem size in bytes.'),
  node_filesystem_avail_bytes: gauge('Filesystem space available to non-root users in bytes.'),
  node_filesystem_free_bytes: gauge('Filesystem free space in bytes.'),
  node_filesystem_readonly: gauge('Filesystem read-only status (1 = mounted read-only).'),
  node_network_receive_bytes_total: counter('Network device statistic receive_bytes.'),
  node_network_transmit_bytes_total: counter('Network device statistic transmit_bytes.'),
  node_network_receive_errs_total: counter('Network device statistic receive_errs.'),
  node_network_transmit_errs_total: counter('Network device statistic transmit_errs.'),
  node_network_receive_drop_total: counter('Network device statistic receive_drop.'),
  node_network_transmit_drop_total: counter('Network device statistic transmit_drop.'),
  node_network_up: gauge("Value is 1 if the network device's operstate is 'up', 0 otherwise."),
  node_hwmon_temp_celsius: gauge('Hardware monitor for temperature (input).'),
  node_time_seconds: gauge('System time in seconds since epoch (1970).'),
  node_boot_time_seconds: gauge('Node boot time, in unixtime.'),
  node_scrape_collector_success: gauge('storewatch host collector: whether a collector succeeded.'),
  node_scrape_collector_duration_seconds: gauge('storewatch host collector: duration of a collector scrape.'),
});

/** HELP/TYPE of every family the host collector can produce. */
export function allHostMetadata(): Map<string, HostMetricMetadata> {
  return new Map(Object.entries(FAMILIES));
}

/** The metadata of the families that occur in `samples` (only those), in first-occurrence order. */
export function hostMetadata(samples: readonly HostSample[]): Map<string, HostMetricMetadata> {
  const out = new Map<string, HostMetricMetadata>();
  for (const s of samples) {
    const name = getLabel(s.labels, METRIC_NAME);
    const meta = FAMILIES[name];
    if (meta !== undefined && !out.has(name)) out.set(name, meta);
  }
  return out;
}

// ---- value guards --------------------------------------------------------------------------------------
// Readings come from the OS through a third-party library, so every field is checked at run time even
// though the types promise numbers: a NaN, a string or a negative byte count becomes "no sample", never a
// wrong sample.

/** A finite number, or undefined. */
function finite(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** A finite, non-negative number (sizes, counters), or undefined. */
function nonNegative(v: unknown): number | undefined {
  const n = finite(v);
  return n !== undefined && n >= 0 ? n : undefined;
}

/** A non-empty string, or undefined (an empty label value would silently drop the label). */
function name(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Accumulates samples, dropping invalid values and duplicate label sets (first one wins). */
class SampleList {
  readonly samples: HostSample[] = [];
  private readonly seen = new Set<string>();

  add(metric: string, labels: Readonly<Record<string, string>>, value: number | undefined): void {
    if (value === undefined) return;
    const set = labelsFromRecord({ ...labels, [METRIC_NAME]: metric });
    const key = labelsKey(set);
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.samples.push({ labels: set, value });
  }
}

function list(v: unknown, what: string): readonly unknown[] {
  if (!Array.isArray(v)) throw new HostDataError(`${what}: expected an array`);
  return v.length > MAX_ENTRIES_PER_LIST ? v.slice(0, MAX_ENTRIES_PER_LIST) : v;
}

function record(v: unknown, what: string): Record<string, unknown> {
  if (!isRecord(v)) throw new HostDataError(`${what}: expected an object`);
  return v;
}

// ---- collectors ----------------------------------------------------------------------------------------

const CPU_MODES: readonly (readonly [keyof CpuTimesInput['times'], string])[] = [
  ['user', 'user'],
  ['nice', 'nice'],
  ['sys', 'system'],
  ['idle', 'idle'],
  ['irq', 'irq'],
];

/**
 * node_cpu_seconds_total from node:os CPU times. node:os reports milliseconds (libuv reads /proc/stat and
 * multiplies the USER_HZ ticks by 1000/USER_HZ), so seconds are ms / 1000. The cpu label is the position in
 * the list, as node_exporter numbers `cpuN` lines.
 */
export function mapCpuTimes(cpus: readonly CpuTimesInput[]): HostSample[] {
  const out = new SampleList();
  list(cpus, 'cpu times').forEach((cpu, i) => {
    if (!isRecord(cpu) || !isRecord(cpu.times)) return;
    const times = cpu.times;
    for (const [field, mode] of CPU_MODES) {
      const ms = nonNegative(times[field]);
      out.add('node_cpu_seconds_total', { cpu: String(i), mode }, ms === undefined ? undefined : ms / 1000);
    }
  });
  return out.samples;
}

/** node_load1/5/15 from the three load averages (node:os's `loadavg()`). */
export function mapLoadAverage(loads: readonly number[]): HostSample[] {
  const l = list(loads, 'load average');
  const out = new SampleList();
  out.add('node_load1', {}, nonNegative(l[0]));
  out.add('node_load5', {}, nonNegative(l[1]));
  out.add('node_load15', {}, nonNegative(l[2]));
  return out.samples;
}

const MEM_FIELDS: readonly (readonly [keyof Systeminformation.MemData, string])[] = [
  ['total', 'node_memory_MemTotal_bytes'],
  ['free', 'node_memory_MemFree_bytes'],
  ['available', 'node_memory_MemAvailable_bytes'],
  ['buffers', 'node_memory_Buffers_bytes'],
  ['cached', 'node_memory_Cached_bytes'],
  ['slab', 'node_memory_Slab_bytes'],
  ['reclaimable', 'node_memory_SReclaimable_bytes'],
  ['swaptotal', 'node_memory_SwapTotal_bytes'],
  ['swapfree', 'node_memory_SwapFree_bytes'],
  ['dirty', 'node_memory_Dirty_bytes'],
  ['writeback', 'node_memory_Writeback_bytes'],
];

/** node_memory_*_bytes from systeminformation's `mem()` (already in bytes; it reads /proc/meminfo in kB × 1024). */
export function mapMemory(mem: Systeminformation.MemData): HostSample[] {
  const m = record(mem, 'memory');
  const out = new SampleList();
  for (const [field, metric] of MEM_FIELDS) out.add(metric, {}, nonNegative(m[field]));
  return out.samples;
}

/**
 * node_filesystem_* from systeminformation's `fsSize()` (df -kPT, already in bytes), without the pseudo
 * filesystems and mount points node_exporter excludes by default.
 */
export function mapFilesystems(filesystems: readonly Systeminformation.FsSizeData[]): HostSample[] {
  const out = new SampleList();
  for (const entry of list(filesystems, 'filesystems')) {
    if (!isRecord(entry)) continue;
    const device = name(entry.fs);
    const fstype = name(entry.type);
    const mountpoint = name(entry.mount);
    if (device === undefined || fstype === undefined || mountpoint === undefined) continue;
    if (FS_TYPES_EXCLUDE.test(fstype) || MOUNT_POINTS_EXCLUDE.test(mountpoint)) continue;
    const labels = { device, fstype, mountpoint };
    const size = nonNegative(entry.size);
    const used = nonNegative(entry.used);
    out.add('node_filesystem_size_bytes', labels, size);
    out.add('node_filesystem_avail_bytes', labels, nonNegative(entry.available));
    // df's "used" is size minus free blocks (reserved blocks included in free), so free = size - used.
    out.add(
      'node_filesystem_free_bytes',
      labels,
      size !== undefined && used !== undefined && used <= size ? size - used : undefined,
    );
    out.add('node_filesystem_readonly', labels, entry.rw === true ? 0 : entry.rw === false ? 1 : undefined);
  }
  return out.samples;
}

const NET_FIELDS: readonly (readonly [keyof NetworkCountersInput, string])[] = [
  ['rx_bytes', 'node_network_receive_bytes_total'],
  ['tx_bytes', 'node_network_transmit_bytes_total'],
  ['rx_errors', 'node_network_receive_errs_total'],
  ['tx_errors', 'node_network_transmit_errs_total'],
  ['rx_dropped', 'node_network_receive_drop_total'],
  ['tx_dropped', 'node_network_transmit_drop_total'],
];

/** node_network_* from network interface statistics (systeminformation's `networkStats()` shape). */
export function mapNetworkStats(stats: readonly NetworkCountersInput[]): HostSample[] {
  const out = new SampleList();
  for (const entry of list(stats, 'network stats')) {
    if (!isRecord(entry)) continue;
    const device = name(entry.iface);
    if (device === undefined) continue;
    for (const [field, metric] of NET_FIELDS) out.add(metric, { device }, nonNegative(entry[field]));
    if (typeof entry.operstate === 'string') {
      out.add('node_network_up', { device }, entry.operstate === 'up' ? 1 : 0);
    }
  }
  return out.samples;
}

/**
 * A temperature in °C, or undefined when absent: systeminformation uses null (Linux) or -1 (other systems)
 * for "no sensor", and anything below absolute zero is a broken reading.
 */
function celsius(v: unknown): number | undefined {
  const n = finite(v);
  return n === undefined || n === -1 || n < -273.15 ? undefined : n;
}

/**
 * node_hwmon_temp_celsius from systeminformation's `cpuTemperature()`. A host without sensors yields no
 * samples, which is not an error. `max` is left out: it is the maximum of the others.
 */
export function mapTemperature(temp: Systeminformation.CpuTemperatureData): HostSample[] {
  const t = record(temp, 'temperature');
  const out = new SampleList();
  const metric = 'node_hwmon_temp_celsius';
  out.add(metric, { chip: 'cpu', sensor: 'main' }, celsius(t.main));
  if (Array.isArray(t.cores)) {
    list(t.cores, 'temperature cores').forEach((v, i) => {
      out.add(metric, { chip: 'cpu', sensor: `core${i}` }, celsius(v));
    });
  }
  if (Array.isArray(t.socket)) {
    list(t.socket, 'temperature sockets').forEach((v, i) => {
      out.add(metric, { chip: 'acpi', sensor: `socket${i}` }, celsius(v));
    });
  }
  out.add(metric, { chip: 'pch', sensor: 'chipset' }, celsius(t.chipset));
  return out.samples;
}

/**
 * node_time_seconds and node_boot_time_seconds. The boot time is derived (now - uptime), so it jitters by
 * the uptime clock's resolution; node_exporter's is a whole second from /proc/stat. A reboot alert on
 * `changes(node_boot_time_seconds[..])` must not fire on jitter, so the value is rounded to a whole second and
 * the previous value is kept while the new one is within a second of it (pass the previous result back in).
 */
export function mapTime(time: HostTimeInput, previousBootTime?: number): HostSample[] {
  const t = record(time, 'time');
  const out = new SampleList();
  const currentMs = finite(t.current);
  const uptime = nonNegative(t.uptime);
  const now = currentMs !== undefined && currentMs > 0 ? currentMs / 1000 : undefined;
  out.add('node_time_seconds', {}, now);
  if (now !== undefined && uptime !== undefined && uptime <= now) {
    const boot = Math.round(now - uptime);
    const stable =
      previousBootTime !== undefined && Math.abs(boot - previousBootTime) <= 1 ? previousBootTime : boot;
    out.add('node_boot_time_seconds', {}, stable);
  }
  return out.samples;
}

/** node_scrape_collector_success and node_scrape_collector_duration_seconds for one collector. */
export function mapCollectorStatus(
  collector: string,
  success: boolean,
  durationSeconds: number,
): HostSample[] {
  const out = new SampleList();
  out.add('node_scrape_collector_success', { collector }, success ? 1 : 0);
  out.add('node_scrape_collector_duration_seconds', { collector }, nonNegative(durationSeconds));
  return out.samples;
}

// ---- /proc/net/dev -------------------------------------------------------------------------------------

/** One interface's counters from /proc/net/dev. */
export interface NetDevCounters {
  readonly iface: string;
  readonly rx_bytes: number;
  readonly rx_errors: number;
  readonly rx_dropped: number;
  readonly tx_bytes: number;
  readonly tx_errors: number;
  readonly tx_dropped: number;
}

/**
 * Parses Linux's /proc/net/dev. Each data line is `iface: ` followed by 8 receive and 8 transmit columns
 * (bytes packets errs drop fifo frame compressed multicast | bytes packets errs drop fifo colls carrier
 * compressed). Header lines and malformed lines are skipped; at most {@link MAX_ENTRIES_PER_LIST} rows.
 * This is the cheap path: systeminformation's networkStats spawns a shell and seven `cat`s per interface.
 */
export function parseProcNetDev(text: string): NetDevCounters[] {
  const out: NetDevCounters[] = [];
  for (const line of text.split('\n')) {
    if (out.length >= MAX_ENTRIES_PER_LIST) break;
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const iface = line.slice(0, colon).trim();
    // Kernel interface names are at most 15 bytes and never contain ':', '/' or whitespace; the header
    // lines ("Inter-|   Receive ...") contain no ':' and are skipped above.
    if (iface === '' || iface === '.' || iface === '..' || /[\s/|]/.test(iface)) continue;
    const cols = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    if (cols.length < 16 || !cols.every((c) => /^\d+$/.test(c))) continue;
    const n = cols.map(Number);
    out.push({
      iface,
      rx_bytes: n[0]!,
      rx_errors: n[2]!,
      rx_dropped: n[3]!,
      tx_bytes: n[8]!,
      tx_errors: n[10]!,
      tx_dropped: n[11]!,
    });
  }
  return out;
}
