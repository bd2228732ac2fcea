// The inventory stage's public face: what main.ts, the CLI and the web page import. Everything else in
// inventory/ is internal to the stage.

export { MemoryInventoryStore, SqliteInventoryStore } from './cache.ts';
export type { CachedSnapshot, InventoryStore } from './cache.ts';
export { NetBoxClient, TokenBucket, authorizationHeader, nodeTransport } from './client.ts';
export type { HttpTransport, NetBoxError, NetBoxResult } from './client.ts';
export { diffInventories, formatDiff } from './diff.ts';
export type { DeviceChange, FieldChange, InventoryDiff } from './diff.ts';
export {
  NetboxDiscoverer,
  createNetboxDiscoverer,
  inventoryDiff,
  inventoryFromStore,
  inventoryShow,
  statusLine,
} from './discoverer.ts';
export type { CreateDiscovererOptions, Discoverer, DiscovererStatus, InventoryUpdate } from './discoverer.ts';
export { inventoryScrapeJobs } from './jobs.ts';
export type { DiscoveredJob, DiscoveredKind } from './jobs.ts';
export { AddressPolicy, buildInventory } from './profiles.ts';
export type {
  IntentKind,
  Inventory,
  InventoryJob,
  MonitoredDevice,
  NotMonitored,
  Snapshot,
  StoreLabels,
} from './profiles.ts';
