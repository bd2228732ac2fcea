// What changed between two inventories, device by device and field by field, for the log, the page and
// `storewatch inventory diff`. Pure.

import type { Inventory } from './profiles.ts';

export interface FieldChange {
  readonly field: string;
  readonly from: string;
  readonly to: string;
}

export interface DeviceChange {
  readonly id: number;
  readonly device: string;
  readonly fields: readonly FieldChange[];
}

export interface DeviceEntry {
  readonly id: number;
  readonly device: string;
  /** "monitored by <profile>" or "not monitored: <reason>". */
  readonly state: string;
}

export interface InventoryDiff {
  /** Milliseconds since the epoch. */
  readonly at: number;
  readonly added: readonly DeviceEntry[];
  readonly removed: readonly DeviceEntry[];
  readonly changed: readonly DeviceChange[];
}

type Flat = { device: string; state: string; fields: Map<string, string> };

/** Each device of an inventory as a flat field map: its state, profile, address and every target label per job. */
function flatten(inv: Inventory | undefined): Map<number, Flat> {
  const out = new Map<number, Flat>();
  if (!inv) return out;
  for (const m of inv.monitored) {
    const fields = new Map<string, string>([
      ['state', 'monitored'],
      ['profile', m.profile],
      ['rule', m.rule],
      ['address', m.address],
      ['jobs', m.jobs.join(',')],
    ]);
    out.set(m.id, { device: m.device, state: `monitored by ${m.profile}`, fields });
  }
  for (const n of inv.notMonitored) {
    const fields = new Map<string, string>([
      ['state', 'not monitored'],
      ['reason', n.reason],
    ]);
    out.set(n.id, { device: n.device, state: `not monitored: ${n.reason}`, fields });
  }
  for (const job of inv.jobs) {
    for (const g of job.groups) {
      const id = Number(g.source.slice(g.source.lastIndexOf('/') + 1));
      const f = out.get(id);
      if (!f) continue;
      for (const t of g.targets) {
        for (const [k, v] of Object.entries(t)) {
          if (k === '__meta_netbox_profile') continue;
          f.fields.set(`${job.name}/${k}`, v);
        }
      }
    }
  }
  return out;
}

/** The difference from `before` (undefined: nothing known yet) to `after`. */
export function diffInventories(before: Inventory | undefined, after: Inventory, at: number): InventoryDiff {
  const a = flatten(before);
  const b = flatten(after);
  const added: DeviceEntry[] = [];
  const removed: DeviceEntry[] = [];
  const changed: DeviceChange[] = [];
  for (const [id, fb] of b) {
    const fa = a.get(id);
    if (!fa) {
      added.push({ id, device: fb.device, state: fb.state });
      continue;
    }
    const fields: FieldChange[] = [];
    if (fa.device !== fb.device) fields.push({ field: 'device', from: fa.device, to: fb.device });
    const names = new Set([...fa.fields.keys(), ...fb.fields.keys()]);
    for (const name of [...names].sort()) {
      const from = fa.fields.get(name) ?? '';
      const to = fb.fields.get(name) ?? '';
      if (from !== to) fields.push({ field: name, from, to });
    }
    if (fields.length > 0) changed.push({ id, device: fb.device, fields });
  }
  for (const [id, fa] of a) if (!b.has(id)) removed.push({ id, device: fa.device, state: fa.state });
  const byId = (x: { id: number }, y: { id: number }) => x.id - y.id;
  return { at, added: added.sort(byId), removed: removed.sort(byId), changed: changed.sort(byId) };
}

export function isEmptyDiff(d: InventoryDiff): boolean {
  return d.added.length === 0 && d.removed.length === 0 && d.changed.length === 0;
}

/**
 * One diff as text lines: "+ device (state)", "- device (state)", "~ device: field from → to". With `maxLines`,
 * lines beyond it are summed up in a last line (the first sync of a big store adds thousands of devices).
 */
export function formatDiff(d: InventoryDiff, maxLines = Infinity): string {
  const lines = [`inventory change at ${new Date(d.at).toISOString()}:`];
  for (const x of d.added) lines.push(`+ ${x.device} [${x.id}] (${x.state})`);
  for (const x of d.removed) lines.push(`- ${x.device} [${x.id}] (${x.state})`);
  for (const c of d.changed) {
    for (const f of c.fields) {
      lines.push(`~ ${c.device} [${c.id}] ${f.field}: ${JSON.stringify(f.from)} -> ${JSON.stringify(f.to)}`);
    }
  }
  if (isEmptyDiff(d)) lines.push('  (no change)');
  if (lines.length - 1 > maxLines) {
    const more = lines.length - 1 - maxLines;
    return [...lines.slice(0, maxLines + 1), `  … and ${more} more lines`].join('\n');
  }
  return lines.join('\n');
}
