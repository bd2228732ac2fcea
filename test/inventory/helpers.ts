// Shared set-up for the inventory tests: a NetBox fixture on loopback, a client for it and a config section.

import type { NetboxConfig } from '../../appliance/config/netbox.ts';
import { defaultProfiles } from '../../appliance/config/netbox.ts';
import { NetBoxClient, TokenBucket, nodeTransport } from '../../inventory/client.ts';
import type { HttpTransport } from '../../inventory/client.ts';
import { NetboxFixture } from '../../scripts/netbox-fixture.ts';
import type { FixtureOptions } from '../../scripts/netbox-fixture.ts';

export const V1_TOKEN = '0123456789abcdef0123456789abcdef01234567';
export const V2_TOKEN = 'nbt_abcdefghijkl.0123456789abcdef0123456789abcdef01234567';

/** A config section for tests: loopback only, fast retries are set on the client instead. */
export function testConfig(over: Partial<NetboxConfig> = {}): NetboxConfig {
  return {
    url: 'http://127.0.0.1:1',
    token: V1_TOKEN,
    site: 'store-0042',
    statuses: ['active'],
    tags: [],
    tls_config: { insecure_skip_verify: false },
    full_sync_interval: 3_600_000,
    sync_interval: 300_000,
    timeout: 5_000,
    page_size: 100,
    rate_limit: 1000,
    retries: 2,
    max_response_size: 16 * 1024 * 1024,
    allowed_networks: ['127.0.0.0/8'],
    custom_field_labels: [],
    profiles: defaultProfiles(),
    ...over,
  };
}

export interface Bed {
  readonly fixture: NetboxFixture;
  readonly client: NetBoxClient;
  readonly transport: HttpTransport & { close(): void };
  close(): Promise<void>;
}

/** Starts a fixture (with a generated store of `devices` devices unless 0) and a client pointed at it. */
export async function startBed(
  o: {
    devices?: number;
    fixture?: FixtureOptions;
    token?: string;
    timeoutMs?: number;
    maxBytes?: number;
  } = {},
): Promise<Bed> {
  const fixture = new NetboxFixture({ v1Tokens: [V1_TOKEN], v2Tokens: [V2_TOKEN], ...o.fixture });
  fixture.clearDevices();
  if ((o.devices ?? 0) > 0) fixture.generateStore({ slug: 'store-0042', devices: o.devices ?? 0 });
  else fixture.addSite({ slug: 'store-0042', timeZone: 'Europe/Berlin', facility: 'F1' });
  const url = await fixture.start();
  const transport = nodeTransport({ insecure_skip_verify: false });
  const client = new NetBoxClient({
    url,
    token: o.token ?? V1_TOKEN,
    transport,
    timeoutMs: o.timeoutMs ?? 5_000,
    maxBytes: o.maxBytes ?? 16 * 1024 * 1024,
    retries: 2,
    minBackoffMs: 1,
    bucket: new TokenBucket({ rate: 10_000, burst: 10_000, now: Date.now, sleep: async () => {} }),
  });
  return {
    fixture,
    client,
    transport,
    async close() {
      transport.close();
      await fixture.close();
    },
  };
}
