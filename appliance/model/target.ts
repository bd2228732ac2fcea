// Target groups: what discovery hands to scraping. This module is a leaf: it imports nothing.

/**
 * A group of targets sharing labels, in Prometheus's discovery shape. Each target is a label record that
 * holds at least `__address__`; group labels apply to every target unless the target sets them itself.
 */
export interface TargetGroup {
  /** Identifies the group within its provider, so that a later update replaces it. */
  readonly source: string;
  readonly targets: readonly Readonly<Record<string, string>>[];
  readonly labels: Readonly<Record<string, string>>;
}

/** Address and scheme labels that discovery and relabelling use, as in Prometheus. */
export const ADDRESS_LABEL = '__address__';
export const SCHEME_LABEL = '__scheme__';
export const METRICS_PATH_LABEL = '__metrics_path__';
export const SCRAPE_INTERVAL_LABEL = '__scrape_interval__';
export const SCRAPE_TIMEOUT_LABEL = '__scrape_timeout__';
export const PARAM_LABEL_PREFIX = '__param_';
export const JOB_LABEL = 'job';
export const INSTANCE_LABEL = 'instance';
