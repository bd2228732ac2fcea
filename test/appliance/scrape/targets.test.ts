import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, staticTargetGroups } from '../../../appliance/config/load.ts';
import { labelsToRecord } from '../../../appliance/model/labels.ts';
import { buildTargets } from '../../../appliance/scrape/targets.ts';

function job(yaml: string) {
  const cfg = loadConfig(yaml, { baseDir: '/', readFile: () => '' });
  const sc = cfg.scrape_configs[0]!;
  return buildTargets(sc, staticTargetGroups(sc));
}

test('targets get job, instance, URL with params; __ labels are dropped', () => {
  const { targets } = job(`scrape_configs:
  - job_name: snmp
    metrics_path: /snmp
    params: {module: [if_mib]}
    static_configs: [{targets: ['10.0.0.1:161'], labels: {site: s001}}]
`);
  assert.equal(targets.length, 1);
  assert.equal(targets[0]!.url, 'http://10.0.0.1:161/snmp?module=if_mib');
  assert.deepEqual(labelsToRecord(targets[0]!.labels), {
    instance: '10.0.0.1:161',
    job: 'snmp',
    site: 's001',
  });
});

test('relabel_configs: the snmp_exporter pattern rewrites address and params; keep/drop decide which targets exist', () => {
  const { targets, dropped } = job(`scrape_configs:
  - job_name: snmp
    metrics_path: /snmp
    static_configs: [{targets: ['10.0.0.1:161', '10.0.0.2:161', '10.9.9.9:161']}]
    relabel_configs:
      - {source_labels: [__address__], regex: '10\\.9\\..*', action: drop}
      - {source_labels: [__address__], target_label: __param_target}
      - {source_labels: [__param_target], target_label: instance}
      - {target_label: __address__, replacement: '127.0.0.1:9116'}
`);
  assert.deepEqual(
    targets.map((t) => [t.url, labelsToRecord(t.labels).instance]),
    [
      ['http://127.0.0.1:9116/snmp?target=10.0.0.1%3A161', '10.0.0.1:161'],
      ['http://127.0.0.1:9116/snmp?target=10.0.0.2%3A161', '10.0.0.2:161'],
    ],
  );
  assert.equal(dropped.length, 1);
  assert.equal(dropped[0]!.reason, 'dropped by relabel_configs');
});

test('relabel rules are validated like Prometheus validates them', () => {
  assert.throws(
    () =>
      job(`scrape_configs:
  - job_name: j
    relabel_configs:
      - {source_labels: [a], action: replace}
      - {action: hashmod, target_label: h}
      - {regex: '(', action: labeldrop}
      - {action: frobnicate}
`),
    (err: unknown) => {
      const msg = String(
        (err as { issues?: unknown }).issues ? JSON.stringify((err as { issues: unknown }).issues) : err,
      );
      return (
        msg.includes("requires 'target_label' value") &&
        msg.includes('non-zero modulus') &&
        msg.includes('invalid regular expression') &&
        msg.includes('relabel_configs[3].action')
      );
    },
  );
});

test('__scrape_interval__ and __scrape_timeout__ from discovery or relabelling set the target timing (Prometheus)', () => {
  const { targets, dropped } = job(`scrape_configs:
  - job_name: pos
    scrape_interval: 30s
    static_configs:
      - {targets: ['127.0.0.1:1'], labels: {slow: 'yes'}}
      - {targets: ['127.0.0.1:2']}
      - {targets: ['127.0.0.1:3'], labels: {bad: 'timeout'}}
      - {targets: ['127.0.0.1:4'], labels: {bad: 'interval'}}
    relabel_configs:
      - {source_labels: [slow], regex: 'yes', target_label: __scrape_interval__, replacement: 1m}
      - {source_labels: [slow], regex: 'yes', target_label: __scrape_timeout__, replacement: 20s}
      - {source_labels: [bad], regex: timeout, target_label: __scrape_interval__, replacement: 10s}
      - {source_labels: [bad], regex: timeout, target_label: __scrape_timeout__, replacement: 20s}
      - {source_labels: [bad], regex: interval, target_label: __scrape_interval__, replacement: soon}
`);
  assert.deepEqual(
    targets.map((t) => [t.url, t.intervalMs, t.timeoutMs]),
    [
      ['http://127.0.0.1:1/metrics', 60_000, 20_000],
      ['http://127.0.0.1:2/metrics', 30_000, 10_000],
    ],
  );
  assert.deepEqual(
    dropped.map((d) => d.reason),
    ['__scrape_timeout__ 20s is greater than __scrape_interval__ 10s', 'invalid __scrape_interval__ "soon"'],
  );
});
