import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  copyRemote,
  readOverview,
  redactCredentials,
  sanitizeTarget,
} from '../../../appliance/web/redact.ts';
import type { RemoteStatus, TargetStatus } from '../../../appliance/web/status.ts';
import { destination, fakeStatus, target } from './fake-status.ts';

test('redactCredentials hides user:pass@ and user@ in URLs', () => {
  const cases: [string, string][] = [
    ['http://user:secret@10.0.0.5:9100/metrics', 'http://xxxxx@10.0.0.5:9100/metrics'],
    ['https://token@host/x?y=1', 'https://xxxxx@host/x?y=1'],
    // A raw "@" inside the password: everything up to the last "@" of the authority goes.
    ['http://u:p@ss@host:1/m', 'http://xxxxx@host:1/m'],
    ['Get "http://a:b@h:1/metrics": dial tcp: refused', 'Get "http://xxxxx@h:1/metrics": dial tcp: refused'],
    ['two http://a:b@h1/ and https://c:d@h2/', 'two http://xxxxx@h1/ and https://xxxxx@h2/'],
  ];
  for (const [input, want] of cases) assert.equal(redactCredentials(input), want, input);
});

test('redactCredentials leaves text without credentials alone', () => {
  for (const s of [
    'http://10.0.0.5:9100/metrics',
    'http://host/path@not-userinfo',
    'http://host/?q=a@b',
    'mailto ops@example.invalid',
    '',
    'plain text',
  ]) {
    assert.equal(redactCredentials(s), s);
  }
});

test('sanitizeTarget keeps only the documented fields and redacts every string', () => {
  const leaky = {
    ...target({ job: 'pos', instance: 'p1:9182', health: 'down' }),
    scrapeUrl: 'http://admin:hunter2@p1:9182/metrics',
    globalUrl: 'http://admin:hunter2@p1:9182/metrics',
    lastError: 'Get "http://admin:hunter2@p1:9182/metrics": EOF',
    discoveredLabels: { __address__: 'p1:9182', __meta_url: 'http://admin:hunter2@p1' },
    authorization: 'Bearer hunter2',
    basicAuth: { username: 'admin', password: 'hunter2' },
  } as TargetStatus;
  const clean = sanitizeTarget(leaky);
  assert.doesNotMatch(JSON.stringify(clean), /hunter2|Bearer/);
  assert.deepEqual(Object.keys(clean).sort(), [
    'discoveredLabels',
    'globalUrl',
    'health',
    'labels',
    'lastError',
    'lastSamples',
    'lastScrape',
    'lastScrapeDuration',
    'scrapeInterval',
    'scrapePool',
    'scrapeTimeout',
    'scrapeUrl',
  ]);
  assert.equal(clean.scrapeUrl, 'http://xxxxx@p1:9182/metrics');
});

test('readOverview copies a snapshot and lets a throwing source throw', () => {
  const f = fakeStatus(Date.now());
  const o = readOverview(f);
  assert.equal(o.targets.length, 3);
  assert.notEqual(o.storage, f.storageStatus);
  assert.deepEqual(o.storage, f.storageStatus);
  f.fail = new Error('tsdb closed');
  assert.throws(() => readOverview(f), /tsdb closed/);
});

test('copyRemote copies the counters, redacts name and error, and keeps odd drop reasons as plain keys', () => {
  const leaky = {
    ...destination(1000, { name: 'http://u:hunter2@c/w', lastError: 'HTTP 401: http://u:hunter2@c/w' }),
    samplesDropped: JSON.parse('{"__proto__": 3, "too_old": "4"}') as Record<string, number>,
    requests: 5,
  } as RemoteStatus;
  const clean = copyRemote(leaky);
  assert.doesNotMatch(JSON.stringify(clean), /hunter2/);
  assert.equal(clean.name, 'http://xxxxx@c/w');
  assert.equal('requests' in clean, false);
  assert.deepEqual(Object.keys(clean.samplesDropped), ['__proto__', 'too_old']);
  assert.equal(clean.samplesDropped['too_old'], 4);
  assert.equal(Object.getPrototypeOf(clean.samplesDropped), Object.prototype);
  assert.notEqual(clean.samplesDropped, leaky.samplesDropped);
});
