// The embedded defaults: what an empty configuration file means. Prometheus's values where Prometheus has the key.

import { defaultSnmpConfig } from './snmp.ts';
import type { Config, TLSVersion } from './schema.ts';

export const DEFAULT_SCRAPE_INTERVAL_MS = 60_000;
export const DEFAULT_SCRAPE_TIMEOUT_MS = 10_000;
export const DEFAULT_METRICS_PATH = '/metrics';
export const DEFAULT_SCHEME = 'http';
export const DEFAULT_AUTHORIZATION_TYPE = 'Bearer';
export const DEFAULT_TLS_MIN_VERSION: TLSVersion = 'TLS12';
export const DEFAULT_STORAGE_PATH = 'data';
export const DEFAULT_RETENTION_TIME_MS = 15 * 24 * 60 * 60 * 1000;
export const DEFAULT_LISTEN_ADDRESS = '0.0.0.0:9782';
/** The job name of the appliance's own host metrics (the scrape manager uses it; config reserves it). */
export const HOST_JOB_NAME = 'host';
/** PromQL limits: Prometheus's timeout and lookback; max samples 5 M (Prometheus 50 M) for a 384 MB heap. */
export const DEFAULT_QUERY_MAX_SAMPLES = 5_000_000;
export const DEFAULT_QUERY_TIMEOUT_MS = 2 * 60 * 1000;
export const DEFAULT_QUERY_LOOKBACK_DELTA_MS = 5 * 60 * 1000;
/** Prometheus's remote_timeout default. */
export const DEFAULT_REMOTE_TIMEOUT_MS = 30_000;
export const DEFAULT_HOST_SCRAPE_INTERVAL_MS = 15_000;

/** Freezes a plain tree in place, so a shared Config cannot be changed behind its readers' backs. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** The configuration of an empty file: no scrape configs, host metrics every 15s, storage in data/, web on :9782. */
export function defaultConfig(): Config {
  return deepFreeze({
    global: {
      scrape_interval: DEFAULT_SCRAPE_INTERVAL_MS,
      scrape_timeout: DEFAULT_SCRAPE_TIMEOUT_MS,
      external_labels: {},
      sample_limit: 0,
      label_limit: 0,
      label_name_length_limit: 0,
      label_value_length_limit: 0,
      body_size_limit: 0,
      target_limit: 0,
    },
    scrape_configs: [],
    remote_write: [],
    snmp: { ...defaultSnmpConfig(), module_texts: [] },
    query: {
      max_samples: DEFAULT_QUERY_MAX_SAMPLES,
      timeout: DEFAULT_QUERY_TIMEOUT_MS,
      lookback_delta: DEFAULT_QUERY_LOOKBACK_DELTA_MS,
    },
    storage: {
      path: DEFAULT_STORAGE_PATH,
      retention: { time: DEFAULT_RETENTION_TIME_MS, size: 0, priorities: [] },
    },
    web: { listen_address: DEFAULT_LISTEN_ADDRESS },
    host: { enabled: true, scrape_interval: DEFAULT_HOST_SCRAPE_INTERVAL_MS },
  });
}
