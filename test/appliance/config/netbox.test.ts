import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_ALLOWED_NETWORKS,
  DEFAULT_NETBOX_FULL_SYNC_INTERVAL_MS,
  DEFAULT_NETBOX_PAGE_SIZE,
  buildNetboxConfig,
  cidrProblem,
  defaultProfiles,
  netboxSchemaWith,
} from '../../../appliance/config/netbox.ts';
import { scrapeConfigSchema } from '../../../appliance/config/schema.ts';

// Mounted as schema.ts will mount it: with the scrape configs' own relabel rule list schema.
const netboxSchema = netboxSchemaWith(scrapeConfigSchema.shape.relabel_configs.unwrap());

function issues(raw: unknown): string[] {
  const r = netboxSchema.safeParse(raw);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}
const minimal = { url: 'https://netbox.example.com/', token_file: 'netbox.token', site: 'store-0042' };

describe('netboxSchema', () => {
  it('accepts a minimal section and a full one', () => {
    assert.deepEqual(issues(minimal), []);
    assert.deepEqual(
      issues({
        ...minimal,
        statuses: ['active', 'staged'],
        tags: ['monitored'],
        tls_config: { ca_file: 'ca.pem', server_name: 'netbox', insecure_skip_verify: false },
        full_sync_interval: '1h',
        sync_interval: '5m',
        timeout: '30s',
        page_size: 1000,
        rate_limit: 2.5,
        retries: 3,
        max_response_size: 1000000,
        allowed_networks: ['10.0.0.0/8', 'fd00::/8', '127.0.0.0/8'],
        custom_field_labels: ['lane', 'pos_vendor'],
        profiles: [
          {
            name: 'kiosk',
            match: { platforms: ['linux'], tags: ['kiosk'], custom_fields: { lane: 3 } },
            prometheus: {
              port: 9182,
              path: '/metrics',
              scheme: 'https',
              interval: '30s',
              relabel_configs: [{ action: 'labelmap', regex: '__meta_netbox_(.+)' }],
            },
            probe: { port: 22 },
          },
          { name: 'sw', match: { roles: ['switch'] }, snmp: { modules: ['if_mib'], auth: 'store-v3' } },
        ],
      }),
      [],
    );
  });

  it('rejects unknown keys, missing and conflicting credentials, bad URLs', () => {
    assert.match(issues({ ...minimal, password: 'x' }).join('\n'), /password/);
    assert.match(issues({ url: minimal.url, site: 's' }).join('\n'), /token_file: set token_file/);
    assert.match(
      issues({ ...minimal, token: 'x' }).join('\n'),
      /token_file: at most one of token and token_file/,
    );
    assert.match(issues({ ...minimal, url: 'ftp://x' }).join('\n'), /^url: .*not an http or https URL/m);
    assert.match(issues({ ...minimal, url: 'https://u:p@nb/' }).join('\n'), /must not carry credentials/);
    assert.match(issues({ ...minimal, site: 'a b' }).join('\n'), /^site: /m);
  });

  it('checks limits, durations and networks with paths', () => {
    assert.match(
      issues({ ...minimal, page_size: 5000 }).join('\n'),
      /^page_size: NetBox caps pages at 1000/m,
    );
    assert.match(issues({ ...minimal, sync_interval: 'soon' }).join('\n'), /^sync_interval: /m);
    assert.match(
      issues({ ...minimal, sync_interval: '2h', full_sync_interval: '1h' }).join('\n'),
      /sync_interval is greater than full_sync_interval/,
    );
    assert.match(
      issues({ ...minimal, allowed_networks: ['10.0.0.0/33'] }).join('\n'),
      /^allowed_networks.0: .*above 32/m,
    );
    assert.match(
      issues({ ...minimal, custom_field_labels: ['Bad-Name'] }).join('\n'),
      /^custom_field_labels.0: /m,
    );
  });

  it('checks profiles: criteria, intents, ports, duplicates and relabel rules', () => {
    const p = (o: object) => issues({ ...minimal, profiles: [o] }).join('\n');
    assert.match(
      p({ name: 'x', match: {}, probe: { port: 1 } }),
      /^profiles.0.match: a profile needs at least one/m,
    );
    assert.match(
      p({ name: 'x', match: { roles: ['r'] } }),
      /needs at least one of prometheus, snmp or probe/,
    );
    assert.match(
      p({ name: 'x', match: { roles: ['r'] }, probe: { port: 70000 } }),
      /^profiles.0.probe.port: /m,
    );
    assert.match(
      p({ name: 'x', match: { roles: ['r'] }, snmp: { modules: [] } }),
      /^profiles.0.snmp.modules: /m,
    );
    assert.match(
      p({ name: 'x', match: { roles: ['r'] }, prometheus: { relabel_configs: [{ action: 'hashmod' }] } }),
      /^profiles.0.prometheus.relabel_configs.0.target_label: /m,
    );
    assert.match(p({ name: 'x', match: { roles: ['r'] }, probe: { port: 1 }, extra: 1 }), /extra/);
    const dup = issues({
      ...minimal,
      profiles: [
        { name: 'a', match: { roles: ['r'] }, probe: { port: 1 } },
        { name: 'a', match: { roles: ['s'] }, probe: { port: 1 } },
      ],
    });
    assert.match(dup.join('\n'), /^profiles.1.name: duplicate profile name "a" \(first in profiles\[0\]\)/m);
  });
});

describe('buildNetboxConfig', () => {
  it('applies the named defaults and reads the token file, trimmed', () => {
    const reads: string[] = [];
    const raw = netboxSchema.parse(minimal);
    const c = buildNetboxConfig(raw, ['netbox'], (file, path, trim) => {
      reads.push(`${file}@${path.join('.')}:${trim}`);
      return trim ? 'secret-token' : '';
    });
    assert.deepEqual(reads, ['netbox.token@netbox.token_file:true']);
    assert.equal(c.token, 'secret-token');
    assert.equal(c.url, 'https://netbox.example.com');
    assert.equal(c.page_size, DEFAULT_NETBOX_PAGE_SIZE);
    assert.equal(c.full_sync_interval, DEFAULT_NETBOX_FULL_SYNC_INTERVAL_MS);
    assert.deepEqual(c.allowed_networks, DEFAULT_ALLOWED_NETWORKS);
    assert.deepEqual(c.profiles, defaultProfiles());
    assert.deepEqual(c.statuses, ['active']);
  });

  it('resolves profile defaults and reads the CA file untrimmed', () => {
    const raw = netboxSchema.parse({
      ...minimal,
      token_file: undefined,
      token: 'inline',
      url: 'https://nb.example/api/',
      tls_config: { ca_file: 'ca.pem' },
      profiles: [{ name: 'sw', match: { roles: ['switch'] }, snmp: { modules: ['if_mib'] }, prometheus: {} }],
    });
    const c = buildNetboxConfig(raw, ['netbox'], () => 'PEM\n');
    assert.equal(c.url, 'https://nb.example');
    assert.equal(c.token, 'inline');
    assert.equal(c.tls_config.ca, 'PEM\n');
    assert.deepEqual(c.profiles[0]!.snmp, {
      port: 161,
      modules: ['if_mib'],
      auth: 'public_v2',
      interval: 0,
      timeout: 0,
      relabel_configs: [],
      metric_relabel_configs: [],
    });
    assert.equal(c.profiles[0]!.prometheus!.port, 9100);
  });
});

describe('mounting in load.ts', () => {
  it('is a zod object whose fields parse one by one, and a partial section still builds', () => {
    const shape: Readonly<Record<string, { safeParse(v: unknown): { success: boolean } }>> =
      netboxSchema.shape;
    assert.equal(shape.url!.safeParse('https://nb.example').success, true);
    assert.equal(shape.page_size!.safeParse(5000).success, false);
    const c = buildNetboxConfig({ page_size: 10 }, ['netbox'], () => '');
    assert.equal(c.url, '');
    assert.equal(c.page_size, 10);
  });
});

describe('cidrProblem', () => {
  it('accepts IPv4 and IPv6 CIDRs and explains the rest', () => {
    for (const ok of ['10.0.0.0/8', '0.0.0.0/0', 'fc00::/7', '::1/128'])
      assert.equal(cidrProblem(ok), undefined, ok);
    for (const bad of ['10.0.0.0', '10.0.0.256/8', '10.0.0.0/33', 'fc00::/129', 'host/8', '1.2.3/8']) {
      assert.notEqual(cidrProblem(bad), undefined, bad);
    }
  });
});
