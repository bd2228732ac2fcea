import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Systeminformation } from 'systeminformation';
import type { Labels } from '../../../appliance/model/labels.ts';
import {
  getLabel,
  labelsFromRecord,
  labelsKey,
  labelsToRecord,
  METRIC_NAME,
} from '../../../appliance/model/labels.ts';
import type {
  CpuTimesInput,
  HostSample,
  NetworkCountersInput,
} from '../../../appliance/scrape/host-mapping.ts';
import {
  allHostMetadata,
  FS_TYPES_EXCLUDE,
  HostDataError,
  MAX_ENTRIES_PER_LIST,
  mapCpuTimes,
  mapFilesystems,
  mapLoadAverage,
  mapMemory,
  mapNetworkStats,
  mapTemperature,
  mapTime,
  parseProcNetDev,
} from '../../../appliance/scrape/host-mapping.ts';
import type { HostSource } from '../../../appliance/scrape/host.ts';
import {
  HostCollector,
  HostCollectorBusyError,
  readLinuxNetworkStats,
  systemInformationSource,
} from '../../../appliance/scrape/host.ts';

// ---- fixtures: readings recorded from an Intel N100 mini-PC (values shortened) ----------------------------

const CPUS: CpuTimesInput[] = [
  { times: { user: 1_234_560, nice: 1_000, sys: 345_670, idle: 98_765_430, irq: 0 } },
  { times: { user: 1_100_000, nice: 0, sys: 300_000, idle: 99_000_000, irq: 10 } },
  { times: { user: 990_000, nice: 20, sys: 280_000, idle: 99_100_000, irq: 0 } },
  { times: { user: 1_050_000, nice: 0, sys: 290_000, idle: 99_050_000, irq: 0 } },
];

const MEM: Systeminformation.MemData = {
  total: 16_467_156_992,
  free: 9_123_456_000,
  used: 7_343_700_992,
  active: 3_000_000_000,
  available: 13_467_156_992,
  buffcache: 4_000_000_000,
  buffers: 250_000_000,
  cached: 3_500_000_000,
  slab: 250_000_000,
  reclaimable: 180_000_000,
  swaptotal: 4_294_963_200,
  swapused: 0,
  swapfree: 4_294_963_200,
  writeback: 0,
  dirty: 1_097_728,
};

const FS: Systeminformation.FsSizeData[] = [
  {
    fs: '/dev/nvme0n1p2',
    type: 'ext4',
    size: 250_375_106_560,
    used: 24_474_673_152,
    available: 213_117_939_712,
    use: 10.3,
    mount: '/',
    rw: true,
  },
  {
    fs: '/dev/nvme0n1p1',
    type: 'vfat',
    size: 535_805_952,
    used: 6_369_280,
    available: 529_436_672,
    use: 1.19,
    mount: '/boot/efi',
    rw: false,
  },
  {
    fs: 'tmpfs',
    type: 'tmpfs',
    size: 1_646_714_880,
    used: 2_000_000,
    available: 1_644_714_880,
    use: 0.1,
    mount: '/run',
    rw: null,
  },
  {
    fs: 'overlay',
    type: 'overlay',
    size: 1,
    used: 0,
    available: 1,
    use: 0,
    mount: '/var/lib/docker/overlay2/ab/merged',
    rw: true,
  },
  {
    fs: '/dev/loop3',
    type: 'squashfs',
    size: 1,
    used: 1,
    available: 0,
    use: 100,
    mount: '/snap/core22/1380',
    rw: false,
  },
  {
    fs: '/dev/sdb1',
    type: 'ext4',
    size: 1,
    used: 0,
    available: 1,
    use: 0,
    mount: '/var/lib/docker/volumes/x',
    rw: true,
  },
  { fs: 'proc', type: 'proc', size: 0, used: 0, available: 0, use: 0, mount: '/proc', rw: true },
];

const NET: NetworkCountersInput[] = [
  {
    iface: 'lo',
    operstate: 'unknown',
    rx_bytes: 3193,
    rx_dropped: 0,
    rx_errors: 0,
    tx_bytes: 3193,
    tx_dropped: 0,
    tx_errors: 0,
  },
  {
    iface: 'enp1s0',
    operstate: 'up',
    rx_bytes: 361_925_459,
    rx_dropped: 12,
    rx_errors: 3,
    tx_bytes: 664_757,
    tx_dropped: 1,
    tx_errors: 2,
  },
  {
    iface: 'wlp2s0',
    operstate: 'down',
    rx_bytes: 0,
    rx_dropped: 0,
    rx_errors: 0,
    tx_bytes: 0,
    tx_dropped: 0,
    tx_errors: 0,
  },
];

const TEMP: Systeminformation.CpuTemperatureData = {
  main: 45,
  cores: [44, 46, 43, 45],
  max: 46,
  socket: [27.8],
  chipset: 51.5,
};

/** The readings systeminformation gives when a host has no sensors (Linux: null, elsewhere: -1). */
const NO_TEMP = {
  main: null,
  cores: [],
  max: null,
  socket: [],
  chipset: null,
} as unknown as Systeminformation.CpuTemperatureData;

const NOW_MS = 1_795_629_715_745;
const TIME = { current: NOW_MS, uptime: 430.29 };

function fakeSource(overrides: Partial<HostSource> = {}): HostSource {
  return {
    cpuTimes: () => Promise.resolve(CPUS),
    loadAverage: () => Promise.resolve([0.47, 0.25, 0.11]),
    mem: () => Promise.resolve(MEM),
    fsSize: () => Promise.resolve(FS),
    networkStats: () => Promise.resolve(NET),
    cpuTemperature: () => Promise.resolve(TEMP),
    time: () => Promise.resolve(TIME),
    ...overrides,
  };
}

// ---- helpers ------------------------------------------------------------------------------------------

function nameOf(s: HostSample): string {
  return getLabel(s.labels, METRIC_NAME);
}

/** The value of the one sample with this name and exactly these other labels, or undefined. */
function value(
  samples: readonly HostSample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const want = labelsKey(labelsFromRecord({ ...labels, [METRIC_NAME]: name }));
  const hits = samples.filter((s) => labelsKey(s.labels) === want);
  assert.ok(hits.length <= 1, `duplicate series ${name}`);
  return hits[0]?.value;
}

function names(samples: readonly HostSample[]): Set<string> {
  return new Set(samples.map(nameOf));
}

function assertSortedUnique(labels: Labels): void {
  for (let i = 1; i < labels.length; i++)
    assert.ok(labels[i - 1]!.name < labels[i]!.name, 'labels sorted and unique');
  for (const l of labels) assert.notEqual(l.value, '');
}

const ALL_COLLECTORS = ['cpu', 'loadavg', 'meminfo', 'filesystem', 'netdev', 'hwmon', 'time'];

// ---- pure mapping -------------------------------------------------------------------------------------

void describe('mapCpuTimes', () => {
  void it('converts cumulative milliseconds to seconds per cpu and mode', () => {
    const s = mapCpuTimes(CPUS);
    assert.equal(s.length, 4 * 5);
    assert.equal(value(s, 'node_cpu_seconds_total', { cpu: '0', mode: 'user' }), 1234.56);
    assert.equal(value(s, 'node_cpu_seconds_total', { cpu: '0', mode: 'system' }), 345.67);
    assert.equal(value(s, 'node_cpu_seconds_total', { cpu: '0', mode: 'idle' }), 98765.43);
    assert.equal(value(s, 'node_cpu_seconds_total', { cpu: '1', mode: 'irq' }), 0.01);
    assert.equal(value(s, 'node_cpu_seconds_total', { cpu: '2', mode: 'nice' }), 0.02);
    assert.equal(value(s, 'node_cpu_seconds_total', { cpu: '3', mode: 'sys' }), undefined);
    for (const x of s) assertSortedUnique(x.labels);
  });

  void it('drops NaN, negative, infinite and non-number times and malformed entries', () => {
    const hostile = [
      { times: { user: Number.NaN, nice: -5, sys: Infinity, idle: '100' as unknown as number, irq: 7 } },
      null,
      { times: null },
      'cpu',
      {},
    ] as unknown as CpuTimesInput[];
    const s = mapCpuTimes(hostile);
    assert.deepEqual(
      s.map((x) => [labelsToRecord(x.labels), x.value]),
      [[{ __name__: 'node_cpu_seconds_total', cpu: '0', mode: 'irq' }, 0.007]],
    );
  });

  void it('caps an absurdly large list and rejects a non-array', () => {
    const many = Array.from({ length: 100_000 }, () => CPUS[0]!);
    assert.equal(mapCpuTimes(many).length, MAX_ENTRIES_PER_LIST * 5);
    assert.throws(() => mapCpuTimes({ length: 3 } as unknown as CpuTimesInput[]), HostDataError);
  });
});

void describe('mapLoadAverage', () => {
  void it('maps the three averages and skips bad ones', () => {
    const s = mapLoadAverage([0.47, 0.25, 0.11]);
    assert.deepEqual(
      s.map((x) => [nameOf(x), x.value]),
      [
        ['node_load1', 0.47],
        ['node_load5', 0.25],
        ['node_load15', 0.11],
      ],
    );
    assert.deepEqual(mapLoadAverage([Number.NaN, -1]).length, 0);
    assert.deepEqual(mapLoadAverage([]).length, 0);
  });
});

void describe('mapMemory', () => {
  void it('maps bytes to node_exporter meminfo names', () => {
    const s = mapMemory(MEM);
    assert.equal(value(s, 'node_memory_MemTotal_bytes'), MEM.total);
    assert.equal(value(s, 'node_memory_MemFree_bytes'), MEM.free);
    assert.equal(value(s, 'node_memory_MemAvailable_bytes'), MEM.available);
    assert.equal(value(s, 'node_memory_Buffers_bytes'), MEM.buffers);
    assert.equal(value(s, 'node_memory_Cached_bytes'), MEM.cached);
    assert.equal(value(s, 'node_memory_SReclaimable_bytes'), MEM.reclaimable);
    assert.equal(value(s, 'node_memory_SwapTotal_bytes'), MEM.swaptotal);
    assert.equal(value(s, 'node_memory_SwapFree_bytes'), MEM.swapfree);
    assert.equal(value(s, 'node_memory_Dirty_bytes'), MEM.dirty);
    for (const n of names(s)) assert.match(n, /^node_memory_[A-Za-z]+_bytes$/);
  });

  void it('omits null, missing, negative and NaN fields; rejects a non-object', () => {
    const s = mapMemory({
      total: 1024,
      free: -1,
      available: Number.NaN,
      dirty: null,
    } as unknown as Systeminformation.MemData);
    assert.deepEqual(
      s.map((x) => [nameOf(x), x.value]),
      [['node_memory_MemTotal_bytes', 1024]],
    );
    assert.throws(() => mapMemory(null as unknown as Systeminformation.MemData), HostDataError);
    assert.throws(() => mapMemory([] as unknown as Systeminformation.MemData), HostDataError);
  });
});

void describe('mapFilesystems', () => {
  void it('keeps real filesystems with device/fstype/mountpoint labels and computes free', () => {
    const s = mapFilesystems(FS);
    const root = { device: '/dev/nvme0n1p2', fstype: 'ext4', mountpoint: '/' };
    assert.equal(value(s, 'node_filesystem_size_bytes', root), 250_375_106_560);
    assert.equal(value(s, 'node_filesystem_avail_bytes', root), 213_117_939_712);
    assert.equal(value(s, 'node_filesystem_free_bytes', root), 250_375_106_560 - 24_474_673_152);
    assert.equal(value(s, 'node_filesystem_readonly', root), 0);
    const efi = { device: '/dev/nvme0n1p1', fstype: 'vfat', mountpoint: '/boot/efi' };
    assert.equal(value(s, 'node_filesystem_readonly', efi), 1);
    // tmpfs is not in node_exporter's exclude list; its rw state is unknown, so no readonly series.
    const run = { device: 'tmpfs', fstype: 'tmpfs', mountpoint: '/run' };
    assert.equal(value(s, 'node_filesystem_size_bytes', run), 1_646_714_880);
    assert.equal(value(s, 'node_filesystem_readonly', run), undefined);
  });

  void it('excludes pseudo filesystem types and container/kernel mount points like node_exporter', () => {
    const mounts = new Set(mapFilesystems(FS).map((x) => getLabel(x.labels, 'mountpoint')));
    assert.deepEqual([...mounts].sort(), ['/', '/boot/efi', '/run']);
    for (const t of ['overlay', 'squashfs', 'proc', 'sysfs', 'cgroup', 'cgroup2', 'tracefs', 'devtmpfs']) {
      assert.ok(FS_TYPES_EXCLUDE.test(t), t);
    }
    for (const t of ['ext4', 'xfs', 'vfat', 'tmpfs', 'btrfs', 'overlayfs2', 'cgroup3'])
      assert.ok(!FS_TYPES_EXCLUDE.test(t), t);
  });

  void it('skips entries with missing names and bad sizes, and duplicate label sets', () => {
    const hostile = [
      { fs: '', type: 'ext4', size: 1, used: 0, available: 1, mount: '/a' },
      { fs: '/dev/x', type: 'ext4', size: 100, used: 200, available: -3, mount: '/b', rw: 'yes' },
      { fs: '/dev/y', type: 'ext4', size: 10, used: 1, available: 9, mount: '/c', rw: true },
      { fs: '/dev/y', type: 'ext4', size: 99, used: 1, available: 9, mount: '/c', rw: true },
      null,
      42,
    ] as unknown as Systeminformation.FsSizeData[];
    const s = mapFilesystems(hostile);
    // /b: size is kept, avail is negative (dropped), used > size (free dropped), rw not boolean (dropped).
    assert.deepEqual(s.filter((x) => getLabel(x.labels, 'mountpoint') === '/b').map(nameOf), [
      'node_filesystem_size_bytes',
    ]);
    assert.equal(
      value(s, 'node_filesystem_size_bytes', { device: '/dev/y', fstype: 'ext4', mountpoint: '/c' }),
      10,
    );
    assert.ok(!s.some((x) => getLabel(x.labels, 'mountpoint') === '/a'));
  });
});

void describe('mapNetworkStats', () => {
  void it('maps counters to _total families with a device label and operstate to node_network_up', () => {
    const s = mapNetworkStats(NET);
    const eth = { device: 'enp1s0' };
    assert.equal(value(s, 'node_network_receive_bytes_total', eth), 361_925_459);
    assert.equal(value(s, 'node_network_transmit_bytes_total', eth), 664_757);
    assert.equal(value(s, 'node_network_receive_errs_total', eth), 3);
    assert.equal(value(s, 'node_network_transmit_errs_total', eth), 2);
    assert.equal(value(s, 'node_network_receive_drop_total', eth), 12);
    assert.equal(value(s, 'node_network_transmit_drop_total', eth), 1);
    assert.equal(value(s, 'node_network_up', eth), 1);
    assert.equal(value(s, 'node_network_up', { device: 'lo' }), 0);
    assert.equal(value(s, 'node_network_up', { device: 'wlp2s0' }), 0);
    for (const n of names(s)) if (n !== 'node_network_up') assert.match(n, /_total$/);
  });

  void it('skips nameless interfaces, bad counters, duplicates and caps the list', () => {
    const hostile = [
      { iface: '', rx_bytes: 1 },
      { iface: 'eth0', rx_bytes: -1, tx_bytes: Number.NaN, rx_errors: 5 },
      { iface: 'eth0', rx_errors: 99 },
      { iface: 7, rx_bytes: 1 },
    ] as unknown as NetworkCountersInput[];
    const s = mapNetworkStats(hostile);
    assert.deepEqual(
      s.map((x) => [nameOf(x), getLabel(x.labels, 'device'), x.value]),
      [['node_network_receive_errs_total', 'eth0', 5]],
    );
    const many = Array.from({ length: 5000 }, (_, i) => ({ ...NET[1]!, iface: `veth${i}` }));
    assert.equal(mapNetworkStats(many).length, MAX_ENTRIES_PER_LIST * 7);
  });
});

void describe('mapTemperature', () => {
  void it('maps the summary sensors to node_hwmon_temp_celsius', () => {
    const s = mapTemperature(TEMP);
    assert.equal(value(s, 'node_hwmon_temp_celsius', { chip: 'cpu', sensor: 'main' }), 45);
    assert.equal(value(s, 'node_hwmon_temp_celsius', { chip: 'cpu', sensor: 'core1' }), 46);
    assert.equal(value(s, 'node_hwmon_temp_celsius', { chip: 'acpi', sensor: 'socket0' }), 27.8);
    assert.equal(value(s, 'node_hwmon_temp_celsius', { chip: 'pch', sensor: 'chipset' }), 51.5);
    assert.equal(s.length, 1 + 4 + 1 + 1);
  });

  void it('yields nothing for a host without sensors (null or -1) and for broken readings', () => {
    assert.equal(mapTemperature(NO_TEMP).length, 0);
    const minusOne = { main: -1, cores: [-1, -1], max: -1 } as Systeminformation.CpuTemperatureData;
    assert.equal(mapTemperature(minusOne).length, 0);
    const broken = {
      main: Number.NaN,
      cores: 'hot',
      max: -500,
      socket: null,
      chipset: -300,
    } as unknown as Systeminformation.CpuTemperatureData;
    assert.equal(mapTemperature(broken).length, 0);
    const huge = {
      main: 40,
      cores: new Array<number>(1_000_000).fill(50),
      max: 50,
    } as Systeminformation.CpuTemperatureData;
    assert.equal(mapTemperature(huge).length, 1 + MAX_ENTRIES_PER_LIST);
  });
});

void describe('mapTime', () => {
  void it('gives wall time and whole-second boot time', () => {
    const s = mapTime(TIME);
    assert.equal(value(s, 'node_time_seconds'), NOW_MS / 1000);
    assert.equal(value(s, 'node_boot_time_seconds'), Math.round(NOW_MS / 1000 - 430.29));
  });

  void it('keeps the previous boot time against jitter but follows a real change (reboot)', () => {
    const first = value(mapTime({ current: 1_000_000_000_499, uptime: 100 }), 'node_boot_time_seconds')!;
    assert.equal(first, 999_999_900);
    // 20 ms later the uptime clock has advanced by 10 ms: the derived boot time rounds the other way.
    const jitter = mapTime({ current: 1_000_000_000_519, uptime: 100.01 }, first);
    assert.equal(value(jitter, 'node_boot_time_seconds'), first);
    const reboot = mapTime({ current: 1_000_000_100_000, uptime: 5 }, first);
    assert.equal(value(reboot, 'node_boot_time_seconds'), 1_000_000_095);
  });

  void it('omits nonsense: NaN time, negative or future-boot uptime', () => {
    assert.equal(mapTime({ current: Number.NaN, uptime: 5 }).length, 0);
    assert.deepEqual(mapTime({ current: NOW_MS, uptime: -5 }).map(nameOf), ['node_time_seconds']);
    assert.deepEqual(mapTime({ current: 1000, uptime: 1e12 }).map(nameOf), ['node_time_seconds']);
  });
});

void describe('parseProcNetDev', () => {
  const PROC_NET_DEV = [
    'Inter-|   Receive                                                |  Transmit',
    ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
    '    lo:    4144      39    0    0    0     0          0         0     4144      39    0    0    0     0       0          0',
    '  eth0: 361925459   11086    4    5    0     0          0         0   664757    6372    6    7    0     0       0          0',
    'wlan0:12345 1 0 0 0 0 0 0 678 2 0 0 0 0 0 0',
    '',
  ].join('\n');

  void it('reads the byte, error and drop columns of every interface', () => {
    assert.deepEqual(parseProcNetDev(PROC_NET_DEV), [
      {
        iface: 'lo',
        rx_bytes: 4144,
        rx_errors: 0,
        rx_dropped: 0,
        tx_bytes: 4144,
        tx_errors: 0,
        tx_dropped: 0,
      },
      {
        iface: 'eth0',
        rx_bytes: 361925459,
        rx_errors: 4,
        rx_dropped: 5,
        tx_bytes: 664757,
        tx_errors: 6,
        tx_dropped: 7,
      },
      {
        iface: 'wlan0',
        rx_bytes: 12345,
        rx_errors: 0,
        rx_dropped: 0,
        tx_bytes: 678,
        tx_errors: 0,
        tx_dropped: 0,
      },
    ]);
  });

  void it('skips truncated, garbage and path-like lines and caps the row count', () => {
    const garbage = [
      '  eth1: 1 2 3', // truncated
      '  eth2: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 -16', // negative
      '  eth3: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 x', // not a number
      '../x: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16', // would escape /sys/class/net
      '..: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16',
      ': 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16',
      '\u0000\uffff garbage',
    ].join('\n');
    assert.deepEqual(parseProcNetDev(garbage), []);
    assert.deepEqual(parseProcNetDev(''), []);
    const line = (i: number): string => `v${i}: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16`;
    const huge = Array.from({ length: 10_000 }, (_, i) => line(i)).join('\n');
    assert.equal(parseProcNetDev(huge).length, MAX_ENTRIES_PER_LIST);
  });
});

void describe('readLinuxNetworkStats', () => {
  void it('joins /proc/net/dev counters with the sysfs operstate, unknown when missing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'storewatch-host-'));
    try {
      await writeFile(
        join(dir, 'dev'),
        'Inter-| x\n face | y\n  eth0: 10 1 2 3 0 0 0 0 20 1 4 5 0 0 0 0\n  lo: 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n',
      );
      await mkdir(join(dir, 'net', 'eth0'), { recursive: true });
      await writeFile(join(dir, 'net', 'eth0', 'operstate'), 'up\n');
      const stats = await readLinuxNetworkStats({
        procNetDev: join(dir, 'dev'),
        sysClassNet: join(dir, 'net'),
      });
      assert.deepEqual(
        stats.map((s) => [s.iface, s.operstate, s.rx_bytes, s.tx_dropped]),
        [
          ['eth0', 'up', 10, 5],
          ['lo', 'unknown', 1, 0],
        ],
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  void it('rejects when /proc/net/dev cannot be read', async () => {
    await assert.rejects(
      readLinuxNetworkStats({ procNetDev: '/nonexistent/storewatch/dev', sysClassNet: '/nonexistent' }),
    );
  });
});

// ---- collector ----------------------------------------------------------------------------------------

void describe('HostCollector', () => {
  void it('collects every part with success=1, sorted labels, no duplicates and metadata for each family', async () => {
    const c = new HostCollector({ source: fakeSource() });
    const { samples, metadata } = await c.collect(new AbortController().signal);
    for (const col of ALL_COLLECTORS) {
      assert.equal(value(samples, 'node_scrape_collector_success', { collector: col }), 1, col);
      const d = value(samples, 'node_scrape_collector_duration_seconds', { collector: col });
      assert.ok(d !== undefined && d >= 0 && Number.isFinite(d), col);
    }
    const keys = new Set<string>();
    for (const s of samples) {
      assertSortedUnique(s.labels);
      assert.equal(s.timestamp, undefined);
      const k = labelsKey(s.labels);
      assert.ok(!keys.has(k), `duplicate ${k}`);
      keys.add(k);
    }
    assert.deepEqual([...metadata.keys()].sort(), [...names(samples)].sort());
    for (const [name, meta] of metadata) {
      assert.ok(meta.help.length > 0, name);
      assert.equal(meta.unit, '');
      assert.equal(
        meta.type === 'counter',
        name.endsWith('_total'),
        `${name}: counters and only counters end in _total`,
      );
    }
    assert.equal(metadata.get('node_cpu_seconds_total')?.type, 'counter');
    assert.equal(metadata.get('node_memory_MemTotal_bytes')?.type, 'gauge');
    assert.equal(value(samples, 'node_memory_MemAvailable_bytes'), MEM.available);
    assert.equal(value(samples, 'node_load5'), 0.25);
    assert.equal(value(samples, 'node_hwmon_temp_celsius', { chip: 'cpu', sensor: 'main' }), 45);
  });

  void it('isolates a failing part: no samples from it, success=0 for it, the others intact', async () => {
    const errors: [string, unknown][] = [];
    const c = new HostCollector({
      source: fakeSource({ fsSize: () => Promise.reject(new Error('df: /mnt/nfs: Stale file handle')) }),
      onError: (col, e) => errors.push([col, e]),
    });
    const { samples, metadata } = await c.collect(new AbortController().signal);
    assert.equal(value(samples, 'node_scrape_collector_success', { collector: 'filesystem' }), 0);
    assert.ok(
      value(samples, 'node_scrape_collector_duration_seconds', { collector: 'filesystem' }) !== undefined,
    );
    assert.ok(![...names(samples)].some((n) => n.startsWith('node_filesystem_')));
    assert.ok(!metadata.has('node_filesystem_size_bytes'));
    for (const col of ALL_COLLECTORS.filter((x) => x !== 'filesystem')) {
      assert.equal(value(samples, 'node_scrape_collector_success', { collector: col }), 1, col);
    }
    assert.equal(value(samples, 'node_cpu_seconds_total', { cpu: '0', mode: 'idle' }), 98765.43);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]![0], 'filesystem');
  });

  void it('treats a synchronous throw and a garbage reading as failures of that part only', async () => {
    const c = new HostCollector({
      source: fakeSource({
        mem: () => {
          throw new Error('boom');
        },
        networkStats: () => Promise.resolve('not a list' as unknown as NetworkCountersInput[]),
      }),
      onError: () => {
        throw new Error('a broken logger');
      },
    });
    const { samples } = await c.collect(new AbortController().signal);
    assert.equal(value(samples, 'node_scrape_collector_success', { collector: 'meminfo' }), 0);
    assert.equal(value(samples, 'node_scrape_collector_success', { collector: 'netdev' }), 0);
    assert.equal(value(samples, 'node_scrape_collector_success', { collector: 'cpu' }), 1);
  });

  void it('reports a host without temperature sensors as success with no temperature series', async () => {
    const c = new HostCollector({ source: fakeSource({ cpuTemperature: () => Promise.resolve(NO_TEMP) }) });
    const { samples, metadata } = await c.collect(new AbortController().signal);
    assert.equal(value(samples, 'node_scrape_collector_success', { collector: 'hwmon' }), 1);
    assert.ok(!names(samples).has('node_hwmon_temp_celsius'));
    assert.ok(!metadata.has('node_hwmon_temp_celsius'));
  });

  void it('returns only the status series when every part fails', async () => {
    const fail = (): Promise<never> => Promise.reject(new Error('no'));
    const c = new HostCollector({
      source: {
        cpuTimes: fail,
        loadAverage: fail,
        mem: fail,
        fsSize: fail,
        networkStats: fail,
        cpuTemperature: fail,
        time: fail,
      },
    });
    const { samples, metadata } = await c.collect(new AbortController().signal);
    assert.deepEqual(
      names(samples),
      new Set(['node_scrape_collector_success', 'node_scrape_collector_duration_seconds']),
    );
    assert.equal(samples.length, ALL_COLLECTORS.length * 2);
    for (const col of ALL_COLLECTORS)
      assert.equal(value(samples, 'node_scrape_collector_success', { collector: col }), 0);
    assert.equal(metadata.size, 2);
  });

  void it('gives up on a hung part when the signal aborts and does not call it again while it hangs', async () => {
    let calls = 0;
    let release: (v: NetworkCountersInput[]) => void = () => undefined;
    const hung = new Promise<NetworkCountersInput[]>((resolve) => {
      release = resolve;
    });
    const errors: unknown[] = [];
    const c = new HostCollector({
      source: fakeSource({
        networkStats: () => {
          calls++;
          return calls === 1 ? hung : Promise.resolve(NET);
        },
      }),
      onError: (_col, e) => errors.push(e),
    });
    const ac = new AbortController();
    const pending = c.collect(ac.signal);
    await new Promise((r) => setImmediate(r));
    ac.abort(new Error('scrape timeout'));
    const first = await pending;
    assert.equal(value(first.samples, 'node_scrape_collector_success', { collector: 'netdev' }), 0);
    assert.equal(value(first.samples, 'node_scrape_collector_success', { collector: 'cpu' }), 1);
    assert.ok(value(first.samples, 'node_memory_MemTotal_bytes') !== undefined);

    const second = await c.collect(new AbortController().signal);
    assert.equal(calls, 1, 'not called again while the first call hangs');
    assert.equal(value(second.samples, 'node_scrape_collector_success', { collector: 'netdev' }), 0);
    assert.ok(errors.some((e) => e instanceof HostCollectorBusyError));

    release(NET);
    await new Promise((r) => setImmediate(r));
    const third = await c.collect(new AbortController().signal);
    assert.equal(calls, 2);
    assert.equal(value(third.samples, 'node_scrape_collector_success', { collector: 'netdev' }), 1);
  });

  void it('does not call the source at all with an already aborted signal', async () => {
    let called = false;
    const mark =
      <T>(v: T) =>
      (): Promise<T> => {
        called = true;
        return Promise.resolve(v);
      };
    const c = new HostCollector({
      source: {
        cpuTimes: mark(CPUS),
        loadAverage: mark([1, 1, 1]),
        mem: mark(MEM),
        fsSize: mark(FS),
        networkStats: mark(NET),
        cpuTemperature: mark(TEMP),
        time: mark(TIME),
      },
    });
    const { samples } = await c.collect(AbortSignal.abort());
    assert.equal(called, false);
    for (const col of ALL_COLLECTORS)
      assert.equal(value(samples, 'node_scrape_collector_success', { collector: col }), 0);
  });

  void it('keeps the boot time stable across collections', async () => {
    let t = { current: 1_000_000_000_499, uptime: 100 };
    const c = new HostCollector({ source: fakeSource({ time: () => Promise.resolve(t) }) });
    const a = await c.collect(new AbortController().signal);
    t = { current: 1_000_000_000_519, uptime: 100.01 };
    const b = await c.collect(new AbortController().signal);
    assert.equal(value(a.samples, 'node_boot_time_seconds'), 999_999_900);
    assert.equal(value(b.samples, 'node_boot_time_seconds'), 999_999_900);
  });

  void it('declares metadata for every family it can produce, with _total exactly on counters', () => {
    for (const [name, meta] of allHostMetadata()) {
      assert.equal(meta.type === 'counter', name.endsWith('_total'), name);
      assert.match(name, /^node_[a-zA-Z0-9_]+$/);
    }
  });
});

// ---- the real host (this machine) ---------------------------------------------------------------------

void describe('systemInformationSource on this machine', () => {
  void it('yields sane cpu, memory, load and time series', async () => {
    const errors: string[] = [];
    const c = new HostCollector({ source: systemInformationSource(), onError: (col) => errors.push(col) });
    const { samples, metadata } = await c.collect(AbortSignal.timeout(30_000));
    for (const col of ['cpu', 'loadavg', 'meminfo', 'time']) {
      assert.equal(
        value(samples, 'node_scrape_collector_success', { collector: col }),
        1,
        `${col} (${errors.join()})`,
      );
    }
    const idle = samples.filter(
      (s) => nameOf(s) === 'node_cpu_seconds_total' && getLabel(s.labels, 'mode') === 'idle',
    );
    assert.ok(idle.length >= 1);
    for (const s of idle) assert.ok(s.value >= 0 && Number.isFinite(s.value));
    const total = value(samples, 'node_memory_MemTotal_bytes');
    const avail = value(samples, 'node_memory_MemAvailable_bytes');
    assert.ok(total !== undefined && total > 0);
    assert.ok(avail !== undefined && avail >= 0 && avail <= total);
    const now = value(samples, 'node_time_seconds')!;
    const boot = value(samples, 'node_boot_time_seconds')!;
    assert.ok(Math.abs(now - Date.now() / 1000) < 3600);
    assert.ok(boot > 0 && boot <= now);
    assert.ok(value(samples, 'node_load1')! >= 0);
    for (const name of names(samples)) assert.ok(metadata.has(name), name);
  });
});
