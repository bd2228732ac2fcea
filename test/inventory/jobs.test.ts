import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultConfig } from '../../appliance/config/defaults.ts';
import { defaultProfiles } from '../../appliance/config/netbox.ts';
import { labelsToRecord } from '../../appliance/model/labels.ts';
import type { JobSpec } from '../../appliance/scrape/manager.ts';
import { buildTargets } from '../../appliance/scrape/targets.ts';
import { inventoryScrapeJobs } from '../../inventory/jobs.ts';
import { buildInventory } from '../../inventory/profiles.ts';
import type { NbDevice } from '../../inventory/model.ts';
import { testConfig } from './helpers.ts';

function dev(id: number, role: string, ip: string): NbDevice {
  return {
    id,
    name: `${role}-${id}`,
    display: `${role}-${id}`,
    role: { id: role.length, slug: role, name: role },
    status: 'active',
    tags: [],
    customFields: {},
    primaryIp: ip,
    localContext: null,
    lastUpdated: '',
  };
}

describe('inventoryScrapeJobs', () => {
  it('turns profile intents into scrape jobs the scrape stage builds targets from', () => {
    const cfg = testConfig();
    const inv = buildInventory(
      {
        site: { id: 1, slug: 'store-0042', name: 'S', timeZone: '', facility: '', lastUpdated: '' },
        devices: [dev(1, 'pos-terminal', '127.42.0.2'), dev(2, 'switch', '127.42.0.3')],
        contexts: [],
        apiVersion: '4.6',
        fullSyncAt: 0,
        deviceWatermark: '',
        contextWatermark: '',
      },
      cfg,
    );
    const global = defaultConfig().global;
    const jobs = inventoryScrapeJobs(inv, cfg.profiles, global);
    // Assignable to the scrape manager's JobSpec (checked by the type checker).
    const specs: readonly JobSpec[] = jobs;
    const byName = new Map(specs.map((j) => [j.sc.job_name, j] as const));
    assert.deepEqual([...byName.keys()].sort(), ['network-snmp', 'pos-terminal', 'pos-terminal-probe']);
    assert.deepEqual([...byName.values()].map((j) => j.kind).sort(), ['http', 'probe', 'snmp']);
    const url = (job: string) => {
      const j = byName.get(job)!;
      const { targets, dropped } = buildTargets(j.sc, j.groups, j.kind);
      assert.equal(dropped.length, 0);
      return { url: targets[0]!.url, labels: labelsToRecord(targets[0]!.labels) };
    };
    const pos = url('pos-terminal');
    assert.equal(pos.url, 'http://127.42.0.2:9100/metrics');
    // NetBox's device and role become target labels by default; the rest stays in __meta_netbox_* for relabelling.
    assert.deepEqual(pos.labels, {
      device: 'pos-terminal-1',
      instance: '127.42.0.2:9100',
      job: 'pos-terminal',
      role: 'pos-terminal',
    });
    assert.equal(url('pos-terminal-probe').url, 'tcp://127.42.0.2:9100');
    const snmp = new URL(url('network-snmp').url);
    assert.equal(`${snmp.protocol}//${snmp.host}`, 'snmp://127.42.0.3:161');
    assert.equal(snmp.searchParams.get('module'), 'if_mib,system');
    assert.equal(snmp.searchParams.get('auth'), 'public_v2');
    assert.equal(byName.get('pos-terminal')!.sc.scrape_interval, global.scrape_interval);
    assert.ok(byName.get('pos-terminal')!.sc.scrape_timeout <= global.scrape_interval);
  });

  it('takes interval and timeout from the profile intent', () => {
    const profiles = defaultProfiles().map((p) =>
      p.name === 'pos-terminal'
        ? { ...p, prometheus: { ...p.prometheus!, interval: 30_000, timeout: 60_000 } }
        : p,
    );
    const cfg = testConfig({ profiles });
    const inv = buildInventory(
      {
        site: { id: 1, slug: 's', name: 'S', timeZone: '', facility: '', lastUpdated: '' },
        devices: [dev(1, 'pos-terminal', '127.0.0.2')],
        contexts: [],
        apiVersion: '',
        fullSyncAt: 0,
        deviceWatermark: '',
        contextWatermark: '',
      },
      cfg,
    );
    const job = inventoryScrapeJobs(inv, profiles, defaultConfig().global).find(
      (j) => j.sc.job_name === 'pos-terminal',
    )!;
    assert.equal(job.sc.scrape_interval, 30_000);
    assert.equal(job.sc.scrape_timeout, 30_000);
  });
});
