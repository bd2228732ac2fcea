import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConfigError,
  formatIssues,
  loadConfig,
  scrapeConfigFingerprint,
  staticTargetGroups,
} from '../../../appliance/config/load.ts';
import type { ConfigIssue, LoadOptions } from '../../../appliance/config/load.ts';
import { defaultConfig } from '../../../appliance/config/defaults.ts';
import type { Config } from '../../../appliance/config/schema.ts';

const SECRET = 'hunter2-s3cr3t';
const BASE = '/etc/storewatch';

/** An in-memory file system for the injected reader; it records what was read. */
function files(contents: Record<string, string> = {}): LoadOptions & { reads: string[] } {
  const reads: string[] = [];
  return {
    baseDir: BASE,
    reads,
    readFile: (path) => {
      reads.push(path);
      const text = contents[path];
      if (text === undefined) {
        throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), {
          code: 'ENOENT',
        });
      }
      return text;
    },
  };
}

function load(text: string, opts: LoadOptions = files()): Config {
  return loadConfig(text, opts);
}

function issuesOf(text: string, opts: LoadOptions = files()): ConfigIssue[] {
  try {
    loadConfig(text, opts);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return [...e.issues];
  }
  assert.fail('expected a ConfigError');
}

/** The one issue at `path`, whose message must match. */
function expectIssue(issues: readonly ConfigIssue[], path: string, message: RegExp): ConfigIssue {
  const at = issues.filter((i) => i.path === path);
  assert.equal(at.length, 1, `expected one issue at ${path}, got:\n${formatIssues(issues)}`);
  assert.match(at[0]!.message, message);
  return at[0]!;
}

const BRIEF_EXAMPLE = `
global:
  scrape_interval: 1m
  scrape_timeout: 10s
  external_labels: {store: s001}
scrape_configs:
  - job_name: pos
    scrape_interval: 15s
    scrape_timeout: 10s
    metrics_path: /metrics
    scheme: http
    params: {module: [if_mib]}
    honor_labels: false
    honor_timestamps: true
    track_timestamps_staleness: false
    sample_limit: 0
    label_limit: 0
    label_name_length_limit: 0
    label_value_length_limit: 0
    body_size_limit: 0
    target_limit: 0
    follow_redirects: true
    enable_http2: true
    basic_auth: {username: u, password: p}
    static_configs:
      - targets: ['127.0.0.1:9100']
        labels: {role: pos}
storage:
  path: data
  retention:
    time: 15d
    size: 0
web:
  listen_address: 0.0.0.0:9782
host:
  enabled: true
  scrape_interval: 15s
`;

describe('loadConfig: valid files', () => {
  it('loads the documented example into the typed tree', () => {
    const c = load(BRIEF_EXAMPLE);
    assert.deepEqual(c.global.external_labels, { store: 's001' });
    assert.equal(c.global.scrape_interval, 60_000);
    const pos = c.scrape_configs[0]!;
    assert.equal(pos.job_name, 'pos');
    assert.equal(pos.scrape_interval, 15_000);
    assert.equal(pos.scrape_timeout, 10_000);
    assert.deepEqual(pos.params, { module: ['if_mib'] });
    assert.deepEqual(pos.http_client_config.basic_auth, { username: 'u', password: 'p' });
    assert.equal(pos.http_client_config.authorization, undefined);
    assert.deepEqual(pos.static_configs, [{ targets: ['127.0.0.1:9100'], labels: { role: 'pos' } }]);
    assert.equal(c.storage.retention.time, 15 * 86_400_000);
    assert.equal(c.host.scrape_interval, 15_000);
  });

  it('treats an empty file, a comment-only file and an empty document as the defaults', () => {
    for (const text of ['', '\n\n', '# nothing here\n', '---\n', '--- # c\n...\n']) {
      assert.deepEqual(load(text), defaultConfig(), JSON.stringify(text));
    }
  });

  it('applies every default to a minimal job', () => {
    const c = load('scrape_configs:\n  - job_name: j\n');
    assert.deepEqual(c.scrape_configs[0], {
      job_name: 'j',
      scrape_interval: 60_000,
      scrape_timeout: 10_000,
      metrics_path: '/metrics',
      scheme: 'http',
      params: {},
      honor_labels: false,
      honor_timestamps: true,
      track_timestamps_staleness: false,
      sample_limit: 0,
      label_limit: 0,
      label_name_length_limit: 0,
      label_value_length_limit: 0,
      body_size_limit: 0,
      target_limit: 0,
      http_client_config: {
        tls_config: { insecure_skip_verify: false, min_version: 'TLS12' },
        follow_redirects: true,
        enable_http2: true,
      },
      static_configs: [],
      relabel_configs: [],
      metric_relabel_configs: [],
      collector: 'http',
    });
    assert.deepEqual({ ...c, scrape_configs: [] }, defaultConfig());
  });

  it('inherits interval, timeout and limits from global as Prometheus does', () => {
    const c = load(`
global:
  scrape_interval: 30s
  scrape_timeout: 20s
  sample_limit: 500
  body_size_limit: 10MB
scrape_configs:
  - job_name: inherit
  - job_name: short
    scrape_interval: 5s
  - job_name: own
    scrape_interval: 1m
    scrape_timeout: 45s
    sample_limit: 7
    body_size_limit: 1KiB
  - job_name: zero
    scrape_interval: 0
    sample_limit: 0
`);
    const [inherit, short, own, zero] = c.scrape_configs;
    assert.deepEqual(
      [inherit!.scrape_interval, inherit!.scrape_timeout, inherit!.sample_limit],
      [30_000, 20_000, 500],
    );
    assert.equal(inherit!.body_size_limit, 10 * 1024 * 1024);
    // The default timeout is min(global timeout, interval), so a short interval never gets a longer timeout.
    assert.deepEqual([short!.scrape_interval, short!.scrape_timeout], [5_000, 5_000]);
    assert.deepEqual([own!.scrape_timeout, own!.sample_limit, own!.body_size_limit], [45_000, 7, 1024]);
    // As in Prometheus, 0 means "unset": the global value applies.
    assert.deepEqual([zero!.scrape_interval, zero!.sample_limit], [30_000, 500]);
  });

  it('caps the global default timeout at a short global interval', () => {
    const c = load('global: {scrape_interval: 5s}\n');
    assert.deepEqual([c.global.scrape_interval, c.global.scrape_timeout], [5_000, 5_000]);
  });

  it('treats empty YAML values as unset', () => {
    const c = load('global:\nscrape_configs:\nstorage:\n  retention:\nweb:\nhost:\n');
    assert.deepEqual(c, defaultConfig());
    const j = load('scrape_configs:\n  - job_name: j\n    static_configs:\n      - targets:\n');
    assert.deepEqual(j.scrape_configs[0]!.static_configs, [{ targets: [], labels: {} }]);
  });

  it('keeps label values as written, like yaml.v2 does for string fields', () => {
    const c = load(`
global:
  external_labels: {store: 0042, rack: 3, ratio: 1.10, flag: true, hex: 0x1F, big: 1e3}
scrape_configs:
  - job_name: 2024
    params: {n: [5, '6']}
`);
    assert.deepEqual(c.global.external_labels, {
      store: '0042',
      rack: '3',
      ratio: '1.10',
      flag: 'true',
      hex: '0x1F',
      big: '1e3',
    });
    assert.equal(c.scrape_configs[0]!.job_name, '2024');
    assert.deepEqual(c.scrape_configs[0]!.params, { n: ['5', '6'] });
  });

  it('reads secret files through the injected reader, relative to the config directory, trimmed', () => {
    const fs = files({
      [`${BASE}/secrets/pw`]: `${SECRET}\n`,
      '/run/token': `  tok-${SECRET}\r\n`,
      [`${BASE}/user`]: 'alice\n',
    });
    const c = load(
      `
scrape_configs:
  - job_name: a
    basic_auth: {username_file: user, password_file: secrets/pw}
  - job_name: b
    authorization: {credentials_file: /run/token}
  - job_name: c
    authorization: {type: Token, credentials: inline}
`,
      fs,
    );
    assert.deepEqual(c.scrape_configs[0]!.http_client_config.basic_auth, {
      username: 'alice',
      password: SECRET,
    });
    assert.deepEqual(c.scrape_configs[1]!.http_client_config.authorization, {
      type: 'Bearer',
      credentials: `tok-${SECRET}`,
    });
    assert.deepEqual(c.scrape_configs[2]!.http_client_config.authorization, {
      type: 'Token',
      credentials: 'inline',
    });
    assert.deepEqual(fs.reads.sort(), ['/etc/storewatch/secrets/pw', '/etc/storewatch/user', '/run/token']);
  });

  it('reads TLS files into PEM text untouched and accepts inline PEM', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const fs = files({
      [`${BASE}/ca.pem`]: pem,
      [`${BASE}/tls/c.pem`]: pem,
      [`${BASE}/tls/k.pem`]: `${pem}\n`,
    });
    const c = load(
      `
scrape_configs:
  - job_name: files
    scheme: https
    tls_config: {ca_file: ca.pem, cert_file: tls/c.pem, key_file: tls/k.pem, server_name: pos.local,
                 insecure_skip_verify: true, min_version: TLS13}
  - job_name: inline
    scheme: https
    tls_config:
      ca: |
        -----BEGIN CERTIFICATE-----
        MIIB
        -----END CERTIFICATE-----
      max_version: TLS12
`,
      fs,
    );
    assert.deepEqual(c.scrape_configs[0]!.http_client_config.tls_config, {
      ca: pem,
      cert: pem,
      key: `${pem}\n`,
      server_name: 'pos.local',
      insecure_skip_verify: true,
      min_version: 'TLS13',
    });
    assert.deepEqual(c.scrape_configs[1]!.http_client_config.tls_config, {
      ca: pem,
      insecure_skip_verify: false,
      min_version: 'TLS12',
      max_version: 'TLS12',
    });
  });

  it('accepts enable_http2 and follow_redirects as given', () => {
    const c = load('scrape_configs:\n  - {job_name: j, enable_http2: false, follow_redirects: false}\n');
    assert.equal(c.scrape_configs[0]!.http_client_config.enable_http2, false);
    assert.equal(c.scrape_configs[0]!.http_client_config.follow_redirects, false);
  });

  it('accepts listen addresses with empty, named and IPv6 hosts', () => {
    for (const a of [':9782', 'localhost:80', '[::]:9782', '127.0.0.1:0']) {
      assert.equal(load(`web: {listen_address: '${a}'}\n`).web.listen_address, a);
    }
  });

  it('supports anchors and merge keys', () => {
    const c = load(`
scrape_configs:
  - &base
    job_name: a
    scrape_interval: 20s
    static_configs: [{targets: ['a:1']}]
  - <<: *base
    job_name: b
`);
    assert.deepEqual(
      c.scrape_configs.map((s) => [s.job_name, s.scrape_interval, s.static_configs[0]?.targets[0]]),
      [
        ['a', 20_000, 'a:1'],
        ['b', 20_000, 'a:1'],
      ],
    );
  });

  it('returns a deeply frozen tree', () => {
    const c = load(BRIEF_EXAMPLE);
    assert.ok(Object.isFrozen(c));
    assert.ok(Object.isFrozen(c.scrape_configs[0]!.static_configs[0]!.labels));
    assert.throws(() => {
      (c.global as { scrape_interval: number }).scrape_interval = 1;
    }, TypeError);
    assert.ok(Object.isFrozen(defaultConfig().storage.retention));
  });

  it('gives the static targets as discovery target groups', () => {
    const c = load(
      "scrape_configs:\n  - job_name: j\n    static_configs:\n      - {targets: ['a:1', 'b:2'], labels: {x: y}}\n",
    );
    assert.deepEqual(staticTargetGroups(c.scrape_configs[0]!), [
      { source: '0', targets: [{ __address__: 'a:1' }, { __address__: 'b:2' }], labels: { x: 'y' } },
    ]);
  });
});

describe('loadConfig: mistakes', () => {
  it('names unknown keys at every level', () => {
    const issues = issuesOf(`
scrape_config: []
global: {scrape_intervall: 1m}
scrape_configs:
  - job_name: j
    metric_path: /m
    basic_auth: {user: u}
    tls_config: {ca_fil: x}
    static_configs: [{targets: ['a:1'], label: {}}]
storage: {retention: {days: 3}}
web: {port: 1}
host: {interval: 1s}
`);
    expectIssue(issues, 'scrape_config', /^unknown key "scrape_config"$/);
    expectIssue(issues, 'global.scrape_intervall', /unknown key "scrape_intervall"/);
    expectIssue(issues, 'scrape_configs[0].metric_path', /unknown key/);
    expectIssue(issues, 'scrape_configs[0].basic_auth.user', /unknown key/);
    expectIssue(issues, 'scrape_configs[0].tls_config.ca_fil', /unknown key/);
    expectIssue(issues, 'scrape_configs[0].static_configs[0].label', /unknown key/);
    expectIssue(issues, 'storage.retention.days', /unknown key/);
    expectIssue(issues, 'web.port', /unknown key/);
    expectIssue(issues, 'host.interval', /unknown key/);
    assert.equal(issues.length, 9);
  });

  it('reads remote_write with Prometheus defaults and checks each entry', () => {
    const cfg = loadConfig(
      `remote_write:
  - url: https://mimir.example/api/v1/push
    headers: {X-Scope-OrgID: store-001}
    basic_auth: {username: u, password: p}
    queue_config: {max_samples_per_send: 500, sample_age_limit: 2h, max_shards: 4}
  - url: http://127.0.0.1:9090/api/v1/write
    name: local
`,
      { baseDir: '/', readFile: () => '' },
    );
    const [a, b] = cfg.remote_write;
    assert.equal(a!.url, 'https://mimir.example/api/v1/push');
    assert.match(a!.name, /^[0-9a-f]{6}$/);
    assert.equal(a!.remote_timeout, 30_000);
    assert.deepEqual(a!.headers, { 'X-Scope-OrgID': 'store-001' });
    assert.equal(a!.http_client_config.basic_auth?.password, 'p');
    assert.equal(a!.queue_config.max_samples_per_send, 500);
    assert.equal(a!.queue_config.sample_age_limit, 2 * 3600_000);
    assert.equal(a!.queue_config.batch_send_deadline, 5_000);
    assert.equal(a!.queue_config.retry_on_http_429, false);
    assert.equal(b!.name, 'local');
    const issues = issuesOf(`remote_write:
  - url: ftp://x
  - url: http://a
    name: same
  - url: http://b
    name: same
    protobuf_message: io.prometheus.write.v3
    queue_config: {max_samples_per_send: 0}
`);
    expectIssue(issues, 'remote_write[0].url', /not an http or https URL/);
    expectIssue(issues, 'remote_write[2].name', /duplicate remote write name "same"/);
    expectIssue(issues, 'remote_write[2].queue_config.max_samples_per_send', /greater than 0/);
    expectIssue(issues, 'remote_write[2].protobuf_message', /io.prometheus.write.v2.Request/);
    const sf = loadConfig(
      `remote_write:
  - url: http://a
    store_and_forward: {catch_up: live-first, backfill_windows: ['22:00-06:00', '12:30-13:00'], bandwidth_limit: 256KB}
`,
      { baseDir: '/', readFile: () => '' },
    ).remote_write[0]!.store_and_forward;
    assert.deepEqual(sf, {
      bandwidth_limit: 262144,
      catch_up: 'live-first',
      backfill_windows: [
        { start: 1320, end: 360 },
        { start: 750, end: 780 },
      ],
    });
    const bad = issuesOf(`remote_write:
  - url: http://a
    store_and_forward: {catch_up: newest, backfill_windows: ['25:00-01:00', '10:00-10:00'], priorities: []}
`);
    expectIssue(bad, 'remote_write[0].store_and_forward.catch_up', /oldest-first|live-first/);
    expectIssue(bad, 'remote_write[0].store_and_forward.backfill_windows[0]', /HH:MM-HH:MM/);
    expectIssue(bad, 'remote_write[0].store_and_forward.backfill_windows[1]', /HH:MM-HH:MM/);
    expectIssue(bad, 'remote_write[0].store_and_forward.priorities', /unknown key/);
    const ret = loadConfig(
      `storage:
  retention:
    size: 1GB
    priorities:
      - {match: {__name__: 'if.*'}, priority: 0}
      - {match: {job: pos}, priority: 10}
`,
      { baseDir: '/', readFile: () => '' },
    ).storage.retention;
    assert.deepEqual(ret.priorities, [
      { match: { __name__: 'if.*' }, priority: 0 },
      { match: { job: 'pos' }, priority: 10 },
    ]);
    const badRe = issuesOf(`storage: {retention: {priorities: [{match: {a: '('}, priority: -1}]}}`);
    expectIssue(badRe, 'storage.retention.priorities[0].match.a', /invalid regular expression/);
    expectIssue(badRe, 'storage.retention.priorities[0].priority', /negative/);
  });

  it('rejects Prometheus features not built yet, even with empty values', () => {
    const issues = issuesOf(`
global:
  evaluation_interval: 15s
rule_files: [a.yml]
alerting: {}
remote_write: [{url: 'http://x', metadata_config: {}}]
storage: {tsdb: {out_of_order_time_window: 1h}}
scrape_configs:
  - job_name: j
    file_sd_configs: [{files: [a.json]}]
    kubernetes_sd_configs: []
    made_up_sd_configs: []
    proxy_url: http://proxy:3128
    oauth2: {client_id: x}
    bearer_token: x
    bearer_token_file: x
    scrape_protocols: [PrometheusText0.0.4]
    native_histogram_bucket_limit: 10
    tls_config: {ca_ref: x}
`);
    for (const path of [
      'global.evaluation_interval',
      'rule_files',
      'alerting',
      'remote_write[0].metadata_config',
      'storage.tsdb',
      'scrape_configs[0].file_sd_configs',
      'scrape_configs[0].kubernetes_sd_configs',
      'scrape_configs[0].made_up_sd_configs',
      'scrape_configs[0].proxy_url',
      'scrape_configs[0].oauth2',
      'scrape_configs[0].bearer_token',
      'scrape_configs[0].bearer_token_file',
      'scrape_configs[0].scrape_protocols',
      'scrape_configs[0].native_histogram_bucket_limit',
      'scrape_configs[0].tls_config.ca_ref',
    ]) {
      expectIssue(issues, path, /^not supported yet$/);
    }
    assert.equal(issues.length, 15);
  });

  it('names the path of wrong types', () => {
    const issues = issuesOf(`
global: [1]
scrape_configs:
  job_name: j
storage: {path: [data]}
web: {listen_address: 9782}
host: {enabled: yes}
`);
    expectIssue(issues, 'global', /expected a mapping, got a list/);
    expectIssue(issues, 'scrape_configs', /expected a list, got a mapping/);
    expectIssue(issues, 'storage.path', /expected a string, got a list/);
    expectIssue(issues, 'web.listen_address', /not host:port/);
    expectIssue(issues, 'host.enabled', /expected true or false, got a string/);
  });

  it('names bad fields inside a scrape config', () => {
    const issues = issuesOf(`
scrape_configs:
  - scrape_interval: fast
  - job_name: ''
    scheme: ftp
    metrics_path: metrics
    sample_limit: -1
    label_limit: 1.5
    target_limit: 99999999999999999999
    body_size_limit: 10XB
    honor_labels: 'true'
    params: {module: if_mib}
    static_configs: {targets: []}
`);
    expectIssue(issues, 'scrape_configs[0].job_name', /^required$/);
    expectIssue(issues, 'scrape_configs[0].scrape_interval', /not a valid duration string: "fast"/);
    expectIssue(issues, 'scrape_configs[1].job_name', /must not be empty/);
    expectIssue(issues, 'scrape_configs[1].scheme', /"http"\|"https"/);
    expectIssue(issues, 'scrape_configs[1].metrics_path', /must start with "\/"/);
    expectIssue(issues, 'scrape_configs[1].sample_limit', /must not be negative/);
    expectIssue(issues, 'scrape_configs[1].label_limit', /whole number/);
    expectIssue(issues, 'scrape_configs[1].target_limit', /whole number/);
    expectIssue(issues, 'scrape_configs[1].body_size_limit', /unknown unit "XB"/);
    expectIssue(issues, 'scrape_configs[1].honor_labels', /expected true or false, got a string/);
    expectIssue(issues, 'scrape_configs[1].params.module', /expected a list/);
    expectIssue(issues, 'scrape_configs[1].static_configs', /expected a list/);
  });

  it('rejects durations and sizes that are not Prometheus notation', () => {
    const issues = issuesOf(`
global: {scrape_interval: 15, scrape_timeout: 1.5s}
storage: {retention: {time: 2 weeks, size: 2}}
host: {scrape_interval: 0}
`);
    expectIssue(issues, 'global.scrape_interval', /"15" \(missing unit/);
    expectIssue(issues, 'global.scrape_timeout', /not a valid duration string: "1.5s"/);
    expectIssue(issues, 'storage.retention.time', /"2 weeks"/);
    // A bare YAML number is bytes, like Go's Base2Bytes; 2 is valid, so only a string can fail here.
    assert.equal(
      issues.some((i) => i.path === 'storage.retention.size'),
      false,
    );
    expectIssue(issues, 'host.scrape_interval', /greater than 0/);
  });

  it('rejects a scrape timeout longer than the interval, also when the interval is inherited', () => {
    const issues = issuesOf(`
global: {scrape_interval: 10s, scrape_timeout: 15s}
scrape_configs:
  - {job_name: a, scrape_interval: 15s, scrape_timeout: 20s}
  - {job_name: b, scrape_timeout: 11s}
  - {job_name: c, scrape_interval: 30s}
  - {job_name: d, scrape_interval: 15s, scrape_timeout: 15s}
`);
    expectIssue(issues, 'global.scrape_timeout', /scrape_timeout 15s is greater than scrape_interval 10s/);
    expectIssue(issues, 'scrape_configs[0].scrape_timeout', /20s is greater than scrape_interval 15s/);
    expectIssue(issues, 'scrape_configs[1].scrape_timeout', /11s is greater than scrape_interval 10s/);
    assert.equal(issues.length, 3);
  });

  it('reserves job_name "host" for the host metrics unless they are disabled', () => {
    const issues = issuesOf('scrape_configs:\n  - job_name: host\n');
    expectIssue(issues, 'scrape_configs[0].job_name', /reserved for the appliance's own host metrics/);
    const cfg = loadConfig('host: {enabled: false}\nscrape_configs:\n  - job_name: host\n', {
      baseDir: '/',
      readFile: () => '',
    });
    assert.equal(cfg.scrape_configs[0]!.job_name, 'host');
  });

  it('rejects duplicate job names, pointing at the first', () => {
    const issues = issuesOf(
      'scrape_configs:\n  - job_name: a\n  - job_name: b\n  - job_name: a\n  - job_name: a\n',
    );
    expectIssue(
      issues,
      'scrape_configs[2].job_name',
      /duplicate job_name "a" \(first in scrape_configs\[0\]\)/,
    );
    expectIssue(issues, 'scrape_configs[3].job_name', /duplicate job_name "a"/);
    assert.equal(issues.length, 2);
  });

  it('rejects bad targets with the reason', () => {
    const issues = issuesOf(`
scrape_configs:
  - job_name: j
    static_configs:
      - targets: ['http://pos:9100', 'pos:9100/metrics', 'pos', '', 'pos:99999', '::1:9100', ~, [a]]
`);
    const at = (i: number) => `scrape_configs[0].static_configs[0].targets[${i}]`;
    expectIssue(issues, at(0), /must not include a scheme/);
    expectIssue(issues, at(1), /must not include a path/);
    expectIssue(issues, at(2), /not host:port/);
    expectIssue(issues, at(3), /must not be empty/);
    expectIssue(issues, at(4), /outside 1-65535/);
    expectIssue(issues, at(5), /brackets/);
    expectIssue(issues, at(6), /expected a string, got nothing/);
    expectIssue(issues, at(7), /expected a string, got a list/);
  });

  it('rejects bad and reserved label names in labels and external_labels', () => {
    const issues = issuesOf(`
global: {external_labels: {'a-b': x, __tenant: y, ok: z}}
scrape_configs:
  - job_name: j
    static_configs: [{targets: ['a:1'], labels: {'1x': v, __address__: 'b:2', 'sp ace': v, good: [v]}}]
`);
    expectIssue(issues, 'global.external_labels["a-b"]', /invalid label name "a-b"/);
    expectIssue(issues, 'global.external_labels.__tenant', /reserved/);
    const labels = 'scrape_configs[0].static_configs[0].labels';
    expectIssue(issues, `${labels}["1x"]`, /invalid label name/);
    expectIssue(issues, `${labels}.__address__`, /reserved/);
    expectIssue(issues, `${labels}["sp ace"]`, /invalid label name/);
    expectIssue(issues, `${labels}.good`, /expected a string, got a list/);
    assert.equal(issues.length, 6);
  });

  it('rejects conflicting and misused authentication settings', () => {
    const fs = files();
    const issues = issuesOf(
      `
scrape_configs:
  - job_name: a
    basic_auth: {username: u, username_file: f, password: p, password_file: f}
  - job_name: b
    authorization: {type: basic, credentials: c, credentials_file: f}
  - job_name: c
    basic_auth: {username: u, password: p}
    authorization: {credentials: c}
  - job_name: d
    tls_config: {ca: x, ca_file: y, cert: c, min_version: TLS13, max_version: TLS12, version: 1}
`,
      fs,
    );
    expectIssue(
      issues,
      'scrape_configs[0].basic_auth.username_file',
      /at most one of username and username_file/,
    );
    expectIssue(
      issues,
      'scrape_configs[0].basic_auth.password_file',
      /at most one of password and password_file/,
    );
    expectIssue(issues, 'scrape_configs[1].authorization.credentials_file', /at most one of credentials/);
    expectIssue(issues, 'scrape_configs[1].authorization.type', /use basic_auth/);
    expectIssue(issues, 'scrape_configs[2].authorization', /at most one of basic_auth and authorization/);
    expectIssue(issues, 'scrape_configs[3].tls_config.ca_file', /at most one of ca and ca_file/);
    expectIssue(issues, 'scrape_configs[3].tls_config', /needs a key/);
    expectIssue(issues, 'scrape_configs[3].tls_config.max_version', /lower than min_version/);
    expectIssue(issues, 'scrape_configs[3].tls_config.version', /unknown key/);
    // Conflicting settings are refused before any file is touched.
    assert.deepEqual(fs.reads, []);
  });

  it('names a missing or unreadable secret file without printing secrets', () => {
    const fs: LoadOptions = {
      baseDir: BASE,
      readFile: (path) => {
        if (path.endsWith('denied')) throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
        // A careless reader whose message quotes the file: only the code may reach the user.
        if (path.endsWith('chatty')) throw new Error(`could not parse ${SECRET}`);
        throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      },
    };
    const issues = issuesOf(
      `
scrape_configs:
  - job_name: a
    basic_auth: {username: u, password_file: pw/missing}
  - job_name: b
    authorization: {credentials_file: /abs/denied}
  - job_name: c
    authorization: {credentials_file: chatty}
  - job_name: d
    tls_config: {ca_file: ca.pem, cert_file: c.pem, key_file: k.pem}
`,
      fs,
    );
    expectIssue(
      issues,
      'scrape_configs[0].basic_auth.password_file',
      /cannot read "\/etc\/storewatch\/pw\/missing": no such file/,
    );
    expectIssue(
      issues,
      'scrape_configs[1].authorization.credentials_file',
      /"\/abs\/denied": permission denied/,
    );
    expectIssue(
      issues,
      'scrape_configs[2].authorization.credentials_file',
      /"\/etc\/storewatch\/chatty": read failed/,
    );
    expectIssue(issues, 'scrape_configs[3].tls_config.ca_file', /ca\.pem/);
    expectIssue(issues, 'scrape_configs[3].tls_config.cert_file', /c\.pem/);
    expectIssue(issues, 'scrape_configs[3].tls_config.key_file', /k\.pem/);
    assert.ok(!formatIssues(issues).includes(SECRET));
  });

  it('never prints secret values, whatever is wrong around them', () => {
    const texts = [
      // Wrong types and conflicts next to inline secrets.
      `scrape_configs:\n  - job_name: j\n    basic_auth: {username: ${SECRET}, password: ${SECRET}, password_file: x}\n`,
      `scrape_configs:\n  - job_name: j\n    basic_auth: {password: [${SECRET}]}\n`,
      `scrape_configs:\n  - job_name: j\n    basic_auth: ${SECRET}\n`,
      `scrape_configs:\n  - job_name: j\n    authorization: {type: Basic, credentials: ${SECRET}}\n`,
      `scrape_configs:\n  - job_name: j\n    authorization: {credentials: {x: ${SECRET}}}\n`,
      `scrape_configs:\n  - job_name: j\n    tls_config: {key: ${SECRET}}\n`,
      `scrape_configs:\n  - job_name: j\n    bearer_token: ${SECRET}\n`,
      // Syntax errors on the line that holds the secret.
      `scrape_configs:\n  - job_name: j\n    basic_auth: {password: "${SECRET}\n`,
      `scrape_configs:\n  - job_name: j\n    basic_auth:\n      password: ${SECRET}: x\n`,
      `a: b\n]${SECRET}\n`,
      `}${SECRET}\n`,
      `basic_auth:\n  password: |x\n    ${SECRET}\n`,
    ];
    for (const text of texts) {
      let error: unknown;
      try {
        loadConfig(text, files({ [`${BASE}/x`]: SECRET }));
      } catch (e) {
        error = e;
      }
      assert.ok(error instanceof ConfigError, text);
      assert.ok(
        !error.message.includes(SECRET),
        `secret in message for ${JSON.stringify(text)}:\n${error.message}`,
      );
      assert.ok(!JSON.stringify(error.issues).includes(SECRET), text);
    }
  });

  it('reports YAML syntax errors with line and column', () => {
    const issues = issuesOf('global:\n  scrape_interval: 1m\n    scrape_timeout: 10s\n');
    assert.ok(issues.length >= 1);
    assert.equal(issues[0]!.path, '');
    assert.match(issues[0]!.message, /^YAML syntax error: .+ \(line 2, column \d+\)$/);
    const dup = issuesOf('global: {}\nweb: {}\nglobal: {}\n');
    assert.match(dup[0]!.message, /Map keys must be unique \(line 3, column 1\)/);
    const tab = issuesOf('global:\n\tscrape_interval: 1m\n');
    assert.match(tab[0]!.message, /line 2/);
  });

  it('rejects a document that is not a mapping', () => {
    assert.match(issuesOf('- job_name: a\n')[0]!.message, /must be a YAML mapping, got a list/);
    assert.match(issuesOf('just text\n')[0]!.message, /must be a YAML mapping, got a string/);
    assert.match(issuesOf('42\n')[0]!.message, /must be a YAML mapping, got a number/);
  });

  it('rejects more than one YAML document', () => {
    const issues = issuesOf('global: {}\n---\nweb: {}\n');
    assert.equal(issues.length, 1);
    assert.match(issues[0]!.message, /more than one YAML document/);
    assert.equal(issues[0]!.line, 2);
    assert.match(issuesOf('global: {}\n---\n')[0]!.message, /more than one YAML document/);
  });

  it('survives hostile YAML: alias bombs, unresolved aliases, __proto__, odd tags', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]',
      'e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]',
      'f: [*e, *e, *e, *e, *e, *e, *e, *e, *e]',
    ].join('\n');
    assert.ok(issuesOf(bomb).length >= 1);
    assert.match(issuesOf('global: *nowhere\n')[0]!.message, /alias/i);
    const proto = issuesOf('__proto__: {polluted: true}\nglobal: {external_labels: {__proto__: x}}\n');
    expectIssue(proto, '__proto__', /unknown key/);
    expectIssue(proto, 'global.external_labels.__proto__', /not allowed/);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.ok(issuesOf('global: !!binary aGVsbG8=\n').length >= 1);
    assert.ok(issuesOf('global: !custom {a: 1}\n').length >= 1);
  });

  it('fails cleanly on every truncation of a valid file', () => {
    // Each prefix either loads (YAML is forgiving) or gives a ConfigError; nothing else may escape.
    for (let n = 0; n <= BRIEF_EXAMPLE.length; n++) {
      try {
        loadConfig(BRIEF_EXAMPLE.slice(0, n), files());
      } catch (e) {
        assert.ok(e instanceof ConfigError, `prefix of ${n} chars threw ${String(e)}`);
        assert.ok(e.issues.length > 0);
      }
    }
  });

  it('fails cleanly on garbage', () => {
    const garbage = [
      '\u0000\u0001\u0002',
      '{{{{',
      ']]]',
      '"',
      "'",
      '!!!',
      '&&',
      '*',
      '%YAML 9.9\n---\na: 1',
      '\ufeff- x',
    ];
    let state = 12345;
    for (let i = 0; i < 50; i++) {
      let s = '';
      for (let j = 0; j < 40; j++) {
        state = (state * 1103515245 + 12345) % 2 ** 31;
        s += String.fromCharCode(state % 128);
      }
      garbage.push(s);
    }
    for (const text of garbage) {
      try {
        loadConfig(text, files());
      } catch (e) {
        assert.ok(e instanceof ConfigError, `${JSON.stringify(text)} threw ${String(e)}`);
      }
    }
  });

  it('lists every issue of a file with many mistakes at once, in file order, with lines', () => {
    const text = `global:
  scrape_interval: 1x
  evaluation_interval: 15s
  external_labels: {__x: a}
rule_files: []
bogus: 1
scrape_configs:
  - job_name: pos
    scrape_interval: 15s
    scrape_timeout: 20s
    proxy_url: http://proxy
    basic_auth: {username: u, password: ${SECRET}, password_file: pw}
  - job_name: pos
    scheme: ftp
    body_size_limit: 10XB
    static_configs: [{targets: ['http://a:1'], labels: {a-b: c}}]
  - job_name: files
    authorization: {credentials_file: missing}
storage: {retention: {time: forever}}
web: {listen_address: nope}
host: {scrape_interval: 0}
`;
    const issues = issuesOf(text);
    const expected: [string, number][] = [
      ['global.scrape_interval', 2],
      ['global.evaluation_interval', 3],
      ['global.external_labels.__x', 4],
      ['rule_files', 5],
      ['bogus', 6],
      ['scrape_configs[0].scrape_timeout', 10],
      ['scrape_configs[0].proxy_url', 11],
      ['scrape_configs[0].basic_auth.password_file', 12],
      ['scrape_configs[1].job_name', 13],
      ['scrape_configs[1].scheme', 14],
      ['scrape_configs[1].body_size_limit', 15],
      ['scrape_configs[1].static_configs[0].targets[0]', 16],
      ['scrape_configs[1].static_configs[0].labels["a-b"]', 16],
      ['scrape_configs[2].authorization.credentials_file', 18],
      ['storage.retention.time', 19],
      ['web.listen_address', 20],
      ['host.scrape_interval', 21],
    ];
    assert.deepEqual(
      issues.map((i) => [i.path, i.line]),
      expected,
      formatIssues(issues),
    );
    assert.ok(!formatIssues(issues).includes(SECRET));
  });
});

describe('formatIssues and ConfigError', () => {
  it('prints one line per issue, or an OK summary', () => {
    assert.equal(formatIssues([]), 'OK: configuration is valid');
    assert.equal(
      formatIssues([
        { path: 'scrape_configs[1].scrape_timeout', message: 'too long', line: 12 },
        { path: '', message: 'YAML syntax error: x (line 1, column 2)' },
      ]),
      'scrape_configs[1].scrape_timeout: too long (line 12)\nYAML syntax error: x (line 1, column 2)',
    );
  });

  it('is a typed error carrying the issues', () => {
    let error: unknown;
    try {
      loadConfig('bogus: 1\n', files());
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof ConfigError);
    assert.ok(error instanceof Error);
    assert.equal(error.name, 'ConfigError');
    assert.deepEqual(error.issues, [{ path: 'bogus', message: 'unknown key "bogus"', line: 1 }]);
    assert.match(error.message, /bogus: unknown key "bogus" \(line 1\)/);
  });
});

describe('scrapeConfigFingerprint', () => {
  const job = (extra: string) =>
    `scrape_configs:\n  - job_name: j\n    static_configs: [{targets: ['a:1']}]\n${extra}`;
  const fp = (text: string, opts?: LoadOptions) =>
    scrapeConfigFingerprint(load(text, opts).scrape_configs[0]!);

  it('is stable across loads and key order', () => {
    const a = fp('scrape_configs:\n  - {job_name: j, scrape_interval: 15s, params: {a: [x], b: [y]}}\n');
    const b = fp('scrape_configs:\n  - {params: {b: [y], a: [x]}, scrape_interval: 15s, job_name: j}\n');
    assert.equal(a, b);
    assert.match(a, /^[0-9a-f]{16}$/);
  });

  it('changes with any setting, including inherited ones and secret file contents', () => {
    const base = fp(job(''));
    assert.notEqual(fp(job('    scrape_interval: 15s\n')), base);
    assert.notEqual(fp(job('    honor_labels: true\n')), base);
    assert.notEqual(fp(`global: {sample_limit: 5}\n${job('')}`), base);
    assert.notEqual(fp(job("    static_configs: [{targets: ['a:2']}]\n").replace(/.*a:1.*\n/, '')), base);
    const withFile = (secret: string) =>
      fp(job('    authorization: {credentials_file: tok}\n'), files({ [`${BASE}/tok`]: secret }));
    assert.notEqual(withFile('one'), withFile('two'));
    assert.ok(!withFile(SECRET).includes(SECRET));
  });
});

describe('loadConfig: SNMP jobs, module files and references', () => {
  const MODULES = `
edge_sys:
  walk: [1.3.6.1.2.1.1.5]
  metrics:
    - {name: sysName, oid: 1.3.6.1.2.1.1.5, type: DisplayString, help: name}
`;

  it('reads module files relative to the config and checks every module and auth a job or profile names', () => {
    const opts = files({ [`${BASE}/snmp.yml`]: MODULES });
    const cfg = load(
      `snmp:
  module_files: [snmp.yml]
  auths: {store_v3: {version: 3, username: u, security_level: authPriv, password: p4ssw0rd1, auth_protocol: SHA, priv_protocol: AES, priv_password: p4ssw0rd2}}
scrape_configs:
  - job_name: sw
    collector: snmp
    params: {module: ['if_mib,edge_sys'], auth: [store_v3]}
    static_configs: [{targets: ['127.0.0.1:161']}]
`,
      opts,
    );
    assert.equal(cfg.scrape_configs[0]!.collector, 'snmp');
    assert.deepEqual(cfg.snmp.module_texts, [{ path: 'snmp.yml', text: MODULES }]);
    assert.deepEqual(opts.reads, [`${BASE}/snmp.yml`]);
  });

  it('names unknown modules and auths, unreadable module files, and never prints an SNMP secret', () => {
    const msgs = issuesOf(
      `snmp:
  module_files: [missing.yml]
  auths: {v3: {version: 3, username: u, security_level: authNoPriv, password: ${SECRET}, auth_protocol: SHA}}
scrape_configs:
  - job_name: sw
    collector: snmp
    params: {module: [if_mib, nope], auth: [nobody]}
netbox:
  url: https://netbox.example.com
  token: t
  site: s1
  profiles:
    - {name: net, match: {roles: [switch]}, snmp: {modules: [ghost], auth: v3}}
`,
    ).map((i) => `${i.path}: ${i.message}`);
    assert.ok(
      msgs.some((m) => /^snmp\.module_files\[0\]: cannot read/.test(m)),
      msgs.join('\n'),
    );
    assert.ok(
      msgs.some((m) => m === 'scrape_configs[0].params.module: unknown SNMP module "nope"'),
      msgs.join('\n'),
    );
    assert.ok(
      msgs.some((m) => /scrape_configs\[0\]\.params\.auth: unknown SNMP auth "nobody"/.test(m)),
      msgs.join('\n'),
    );
    assert.ok(
      msgs.some((m) => m === 'netbox.profiles[0].snmp.modules: unknown SNMP module "ghost"'),
      msgs.join('\n'),
    );
    assert.ok(!msgs.join('\n').includes(SECRET));
  });

  it('a broken module file is reported with the file and the place inside it', () => {
    const msgs = issuesOf(
      `snmp: {module_files: [bad.yml]}\n`,
      files({ [`${BASE}/bad.yml`]: 'm: {walk: 7}\n' }),
    );
    assert.equal(msgs.length, 1);
    assert.equal(msgs[0]!.path, 'snmp.module_files');
    assert.match(msgs[0]!.message, /bad\.yml/);
  });
});
