import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { diffInventories, formatDiff, isEmptyDiff } from '../../inventory/diff.ts';
import type { Inventory } from '../../inventory/profiles.ts';

const store = { site: 's', site_name: 'S', region: '', tenant: '', time_zone: '', facility: '' };
function inv(
  devices: { id: number; name: string; ip?: string; port?: number; reason?: string }[],
): Inventory {
  const monitored = devices.filter((d) => d.ip !== undefined);
  return {
    store,
    jobs: [
      {
        name: 'pos-terminal',
        profile: 'pos-terminal',
        kind: 'prometheus',
        relabel_configs: [],
        metric_relabel_configs: [],
        groups: monitored.map((d) => ({
          source: `netbox/${d.id}`,
          targets: [{ __address__: `${d.ip}:${d.port ?? 9100}`, __meta_netbox_device: d.name }],
          labels: {},
        })),
      },
    ],
    monitored: monitored.map((d) => ({
      id: d.id,
      device: d.name,
      address: d.ip!,
      profile: 'pos-terminal',
      rule: 'role=pos-terminal',
      jobs: ['pos-terminal'],
    })),
    notMonitored: devices
      .filter((d) => d.ip === undefined)
      .map((d) => ({ id: d.id, device: d.name, reason: d.reason ?? 'no primary IP' })),
  };
}

describe('diffInventories', () => {
  it('lists added, removed and changed devices with the changed fields', () => {
    const a = inv([
      { id: 1, name: 'pos-1', ip: '127.0.0.1' },
      { id: 2, name: 'pos-2', ip: '127.0.0.2' },
      { id: 3, name: 'pos-3' },
    ]);
    const b = inv([
      { id: 1, name: 'pos-1', ip: '127.0.0.1', port: 9200 },
      { id: 3, name: 'pos-3', ip: '127.0.0.3' },
      { id: 4, name: 'pos-4', ip: '127.0.0.4' },
    ]);
    const d = diffInventories(a, b, 1000);
    assert.deepEqual(d.added, [{ id: 4, device: 'pos-4', state: 'monitored by pos-terminal' }]);
    assert.deepEqual(d.removed, [{ id: 2, device: 'pos-2', state: 'monitored by pos-terminal' }]);
    assert.deepEqual(d.changed.find((c) => c.id === 1)!.fields, [
      { field: 'pos-terminal/__address__', from: '127.0.0.1:9100', to: '127.0.0.1:9200' },
    ]);
    const three = d.changed.find((c) => c.id === 3)!.fields.map((f) => f.field);
    assert.ok(three.includes('state') && three.includes('reason') && three.includes('address'));
    const text = formatDiff(d);
    assert.match(text, /\+ pos-4 \[4\]/);
    assert.match(text, /- pos-2 \[2\]/);
    assert.match(text, /~ pos-1 \[1\] pos-terminal\/__address__: "127.0.0.1:9100" -> "127.0.0.1:9200"/);
  });

  it('is empty between equal inventories and all-added from nothing', () => {
    const a = inv([{ id: 1, name: 'pos-1', ip: '127.0.0.1' }]);
    assert.ok(isEmptyDiff(diffInventories(a, inv([{ id: 1, name: 'pos-1', ip: '127.0.0.1' }]), 0)));
    const first = diffInventories(undefined, a, 0);
    assert.equal(first.added.length, 1);
    assert.ok(!isEmptyDiff(first));
    assert.match(formatDiff(diffInventories(a, a, 0)), /no change/);
    const many = inv(Array.from({ length: 30 }, (_, i) => ({ id: i, name: `pos-${i}`, ip: `127.0.0.${i}` })));
    const text = formatDiff(diffInventories(undefined, many, 0), 10);
    assert.equal(text.split('\n').length, 12);
    assert.match(text, /… and 20 more lines$/);
  });
});
