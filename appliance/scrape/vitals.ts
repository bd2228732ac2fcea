// Host vitals for the status page, derived from the host collector's samples (no extra system calls).
import { getLabel, METRIC_NAME } from '../model/labels.ts';
import type { ScrapedSample } from './loop.ts';

/** The figures the page shows about the appliance's own host. */
export interface Vitals {
  readonly hostname: string;
  readonly uptimeSeconds: number;
  readonly cpuUsageRatio: number | null;
  readonly memoryTotalBytes: number;
  readonly memoryAvailableBytes: number;
  readonly filesystems: readonly { mountpoint: string; sizeBytes: number; availBytes: number }[];
  readonly temperatureCelsius: number | null;
}

/** Keeps the latest vitals; CPU usage needs two collections, so it is null after the first. */
export class VitalsTracker {
  private readonly hostname: string;
  private prevCpu: { idle: number; total: number } | null = null;
  private latest: Vitals | null = null;

  constructor(hostname: string) {
    this.hostname = hostname;
  }

  get(): Vitals | null {
    return this.latest;
  }

  observe(samples: readonly ScrapedSample[]): void {
    let idle = 0;
    let total = 0;
    let memTotal = 0;
    let memAvail = 0;
    let time = 0;
    let boot = 0;
    let temp: number | null = null;
    const fs = new Map<string, { mountpoint: string; sizeBytes: number; availBytes: number }>();
    for (const s of samples) {
      const name = getLabel(s.labels, METRIC_NAME);
      switch (name) {
        case 'node_cpu_seconds_total':
          total += s.value;
          if (getLabel(s.labels, 'mode') === 'idle') idle += s.value;
          break;
        case 'node_memory_MemTotal_bytes':
          memTotal = s.value;
          break;
        case 'node_memory_MemAvailable_bytes':
          memAvail = s.value;
          break;
        case 'node_time_seconds':
          time = s.value;
          break;
        case 'node_boot_time_seconds':
          boot = s.value;
          break;
        case 'node_hwmon_temp_celsius':
          if (temp === null || s.value > temp) temp = s.value;
          break;
        case 'node_filesystem_size_bytes':
        case 'node_filesystem_avail_bytes': {
          const mp = getLabel(s.labels, 'mountpoint');
          let e = fs.get(mp);
          if (!e) fs.set(mp, (e = { mountpoint: mp, sizeBytes: 0, availBytes: 0 }));
          if (name === 'node_filesystem_size_bytes') e.sizeBytes = s.value;
          else e.availBytes = s.value;
          break;
        }
      }
    }
    let cpu: number | null = null;
    if (this.prevCpu && total > this.prevCpu.total) {
      cpu = 1 - (idle - this.prevCpu.idle) / (total - this.prevCpu.total);
      cpu = Math.min(1, Math.max(0, cpu));
    }
    this.prevCpu = { idle, total };
    this.latest = {
      hostname: this.hostname,
      uptimeSeconds: time > 0 && boot > 0 ? time - boot : 0,
      cpuUsageRatio: cpu,
      memoryTotalBytes: memTotal,
      memoryAvailableBytes: memAvail,
      filesystems: [...fs.values()].sort((a, b) => a.mountpoint.localeCompare(b.mountpoint)),
      temperatureCelsius: temp,
    };
  }
}
