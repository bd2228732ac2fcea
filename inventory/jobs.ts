// From inventory jobs to scrape jobs: each profile intent becomes one scrape job with Prometheus's settings,
// in the `{ sc, groups, kind }` shape the scrape manager's `apply(config, discovered)` takes (structurally its
// JobSpec; this stage does not import the scrape stage). Pure.

import { defaultScrapeConfig } from '../appliance/config/load.ts';
import type { GlobalConfig, ScrapeConfig } from '../appliance/config/schema.ts';
import type { TargetGroup } from '../appliance/model/target.ts';
import type { NetboxProfile } from '../appliance/config/netbox.ts';
import type { IntentKind, Inventory } from './profiles.ts';

/** How the scrape manager runs a job: an HTTP exposition, an SNMP walk, or a TCP reachability probe. */
export type DiscoveredKind = 'http' | 'snmp' | 'probe';

/** One discovered scrape job; assignable to the scrape manager's JobSpec. */
export interface DiscoveredJob {
  readonly sc: ScrapeConfig;
  readonly groups: readonly TargetGroup[];
  readonly kind: DiscoveredKind;
}

const KIND: Readonly<Record<IntentKind, DiscoveredKind>> = {
  prometheus: 'http',
  snmp: 'snmp',
  probe: 'probe',
};

/**
 * The scrape jobs of an inventory. Interval and timeout come from the profile's intent, else from `global`
 * (the timeout never above the interval); per-device overrides travel as `__scrape_interval__` /
 * `__scrape_timeout__` target labels. Limits are the global ones. A job with no targets is still returned,
 * so that its last targets are stopped (and their series marked stale) when the manager applies it.
 */
export function inventoryScrapeJobs(
  inv: Inventory,
  profiles: readonly NetboxProfile[],
  global: GlobalConfig,
): DiscoveredJob[] {
  return inv.jobs.map((job): DiscoveredJob => {
    const profile = profiles.find((p) => p.name === job.profile);
    const intent = profile?.[job.kind];
    const interval = intent?.interval || global.scrape_interval;
    const timeout = Math.min(intent?.timeout || global.scrape_timeout, interval);
    const prom = job.kind === 'prometheus' ? profile?.prometheus : undefined;
    // Everything else is what the config file gives a job that names only itself.
    const sc: ScrapeConfig = {
      ...defaultScrapeConfig(job.name, global),
      scrape_interval: interval,
      scrape_timeout: timeout,
      metrics_path: prom?.path ?? '/metrics',
      scheme: prom?.scheme ?? 'http',
      relabel_configs: job.relabel_configs,
      metric_relabel_configs: job.metric_relabel_configs,
      collector: KIND[job.kind],
    };
    return { sc, groups: job.groups, kind: KIND[job.kind] };
  });
}
