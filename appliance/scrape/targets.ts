// From target groups to scrape targets, following Prometheus's scrape.PopulateLabels: group and target
// labels are merged, the job's settings become `__` labels, and after relabelling the
// `__` labels are dropped and `instance` defaults to the address.
import type { ScrapeConfig } from '../config/schema.ts';
import { formatDuration, parseDuration } from '../config/duration.ts';
import type { Labels } from '../model/labels.ts';
import { LabelsBuilder } from '../model/labels.ts';
import { compileRelabel, relabel } from '../model/relabel.ts';
import type { TargetGroup } from '../model/target.ts';
import {
  ADDRESS_LABEL,
  INSTANCE_LABEL,
  JOB_LABEL,
  METRICS_PATH_LABEL,
  PARAM_LABEL_PREFIX,
  SCHEME_LABEL,
  SCRAPE_INTERVAL_LABEL,
  SCRAPE_TIMEOUT_LABEL,
} from '../model/target.ts';

/** One thing to scrape, with its labels before and after the `__` labels are dropped. */
export interface Target {
  /** Labels as discovered plus the job's settings (what Prometheus shows as discoveredLabels). */
  readonly discoveredLabels: Labels;
  /** The labels attached to every series of the target. */
  readonly labels: Labels;
  readonly url: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

/** A target that could not be built (for example an empty address); shown as dropped, never scraped. */
export interface DroppedTarget {
  readonly discoveredLabels: Labels;
  readonly reason: string;
}

/**
 * How a target is scraped: `http` fetches an exposition, `snmp` walks the device with the modules named by the
 * `module` parameter, `probe` only opens a TCP connection, `self` reads the appliance's own metrics. The target's
 * URL says which (`snmp://`, `tcp://`, `internal://self`).
 */
export type ScrapeKind = 'http' | 'snmp' | 'probe' | 'self';

export function buildTargets(
  sc: ScrapeConfig,
  groups: readonly TargetGroup[],
  kind: ScrapeKind = 'http',
): { targets: Target[]; dropped: DroppedTarget[] } {
  const targets: Target[] = [];
  const dropped: DroppedTarget[] = [];
  const rules = sc.relabel_configs.map(compileRelabel);
  for (const g of groups) {
    for (const t of g.targets) {
      let b = new LabelsBuilder();
      for (const [k, v] of Object.entries(g.labels)) b.set(k, v);
      for (const [k, v] of Object.entries(t)) b.set(k, v);
      // The job's settings, unless discovery set them (as Prometheus does).
      const defaults: [string, string][] = [
        [JOB_LABEL, sc.job_name],
        [SCRAPE_INTERVAL_LABEL, formatDuration(sc.scrape_interval)],
        [SCRAPE_TIMEOUT_LABEL, formatDuration(sc.scrape_timeout)],
        [METRICS_PATH_LABEL, sc.metrics_path],
        [SCHEME_LABEL, sc.scheme],
      ];
      for (const [k, v] of defaults) if (!b.has(k)) b.set(k, v);
      for (const [name, values] of Object.entries(sc.params)) {
        const first = values[0];
        if (first !== undefined && !b.has(PARAM_LABEL_PREFIX + name)) b.set(PARAM_LABEL_PREFIX + name, first);
      }
      const discovered = b.labels();
      const relabelled = relabel(discovered, rules);
      if (relabelled === null) {
        dropped.push({ discoveredLabels: discovered, reason: 'dropped by relabel_configs' });
        continue;
      }
      b = new LabelsBuilder(relabelled);
      const address = b.get(ADDRESS_LABEL);
      if (address === '') {
        dropped.push({ discoveredLabels: discovered, reason: 'no address' });
        continue;
      }
      // Interval and timeout may come from discovery or relabelling (NetBox config context overrides), as in
      // Prometheus; a value that is not a valid duration, or a timeout above the interval, drops the target.
      const timing = targetTiming(b.get(SCRAPE_INTERVAL_LABEL), b.get(SCRAPE_TIMEOUT_LABEL));
      if (typeof timing === 'string') {
        dropped.push({ discoveredLabels: discovered, reason: timing });
        continue;
      }
      const url = targetUrl(b, sc.params, kind);
      const final = new LabelsBuilder();
      for (const name of b.names()) if (!name.startsWith('__')) final.set(name, b.get(name));
      if (!final.has(INSTANCE_LABEL)) final.set(INSTANCE_LABEL, address);
      targets.push({
        discoveredLabels: discovered,
        labels: final.labels(),
        url,
        intervalMs: timing.intervalMs,
        timeoutMs: timing.timeoutMs,
      });
    }
  }
  return { targets, dropped };
}

function targetTiming(interval: string, timeout: string): { intervalMs: number; timeoutMs: number } | string {
  let intervalMs: number;
  let timeoutMs: number;
  try {
    intervalMs = parseDuration(interval);
  } catch {
    return `invalid ${SCRAPE_INTERVAL_LABEL} ${JSON.stringify(interval.slice(0, 40))}`;
  }
  try {
    timeoutMs = parseDuration(timeout);
  } catch {
    return `invalid ${SCRAPE_TIMEOUT_LABEL} ${JSON.stringify(timeout.slice(0, 40))}`;
  }
  if (intervalMs <= 0) return `${SCRAPE_INTERVAL_LABEL} must be above zero`;
  if (timeoutMs <= 0) return `${SCRAPE_TIMEOUT_LABEL} must be above zero`;
  if (timeoutMs > intervalMs) {
    return `${SCRAPE_TIMEOUT_LABEL} ${formatDuration(timeoutMs)} is greater than ${SCRAPE_INTERVAL_LABEL} ${formatDuration(intervalMs)}`;
  }
  return { intervalMs, timeoutMs };
}

function targetUrl(
  b: LabelsBuilder,
  params: Readonly<Record<string, readonly string[]>>,
  kind: ScrapeKind,
): string {
  const q = new URLSearchParams();
  for (const [name, values] of Object.entries(params)) {
    // A __param_ label overrides the first value of the parameter, as in Prometheus.
    const override = b.get(PARAM_LABEL_PREFIX + name);
    values.forEach((v, i) => q.append(name, i === 0 && override !== '' ? override : v));
  }
  for (const name of b.names()) {
    if (!name.startsWith(PARAM_LABEL_PREFIX)) continue;
    const p = name.slice(PARAM_LABEL_PREFIX.length);
    if (!(p in params)) q.append(p, b.get(name));
  }
  const query = q.toString();
  if (kind === 'probe') return `tcp://${b.get(ADDRESS_LABEL)}`;
  if (kind === 'self') return 'internal://self';
  if (kind === 'snmp') return `snmp://${b.get(ADDRESS_LABEL)}${query ? `?${query}` : ''}`;
  const path = b.get(METRICS_PATH_LABEL) || '/metrics';
  return `${b.get(SCHEME_LABEL) || 'http'}://${b.get(ADDRESS_LABEL)}${path}${query ? `?${query}` : ''}`;
}
