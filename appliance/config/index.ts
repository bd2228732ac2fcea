// The configuration room's public face: load the file once at the edge, hand the read-only tree around.

export {
  ConfigError,
  formatIssues,
  loadConfig,
  scrapeConfigFingerprint,
  staticTargetGroups,
} from './load.ts';
export type { ConfigIssue, LoadOptions } from './load.ts';
export { defaultConfig } from './defaults.ts';
export { formatDuration, parseByteSize, parseDuration } from './duration.ts';
export type {
  Authorization,
  BasicAuth,
  Config,
  GlobalConfig,
  HostConfig,
  HTTPClientConfig,
  ScrapeConfig,
  StaticConfig,
  StorageConfig,
  TLSConfig,
  TLSVersion,
  WebConfig,
} from './schema.ts';
