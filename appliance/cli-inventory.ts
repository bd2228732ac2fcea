// `storewatch inventory show|diff`: what the store's inventory makes the appliance monitor, through which profile
// and rule, what it does not monitor and why, and the recent changes. It reads the cached inventory beside the
// data (read-only, so it works while the appliance runs) and never asks NetBox itself.
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from './config/schema.ts';
import { openSqlite } from './native.ts';
import {
  inventoryDiff,
  inventoryFromStore,
  inventoryShow,
  SqliteInventoryStore,
} from '../inventory/index.ts';

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

/** Runs `inventory show` or `inventory diff`; returns the exit code. */
export function inventoryCommand(sub: string | undefined, config: Config, cacheDir: string, io: Io): number {
  if (sub !== 'show' && sub !== 'diff') {
    io.err('usage: storewatch inventory show|diff [--config FILE] [--storage.path DIR]\n');
    return 2;
  }
  if (!config.netbox) {
    io.err('no netbox section in the configuration: the inventory is the scrape_configs of the file\n');
    return 2;
  }
  const file = path.join(config.storage.path, 'inventory.db');
  if (!fs.existsSync(file)) {
    io.err(`${file}: no cached inventory yet (the appliance writes it after its first NetBox sync)\n`);
    return 1;
  }
  const db = openSqlite(file, { cacheDir, readonly: true });
  try {
    const store = new SqliteInventoryStore(db);
    if (sub === 'diff') {
      io.out(`${inventoryDiff(store.recentDiffs(20))}\n`);
      return 0;
    }
    const inv = inventoryFromStore(store, config.netbox);
    if (!inv) {
      io.err(`${file}: no cached inventory yet\n`);
      return 1;
    }
    io.out(`${inventoryShow(inv)}\n`);
    return 0;
  } finally {
    db.close();
  }
}
