import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  configSchema,
  kindOf,
  labelNameProblem,
  scrapeConfigSchema,
  targetProblem,
} from '../../../appliance/config/schema.ts';

describe('targetProblem', () => {
  it('accepts host:port with names, IPv4 and bracketed IPv6', () => {
    for (const t of [
      '127.0.0.1:9100',
      'pos-01.store.local:9100',
      'pos_01:1',
      '[::1]:9100',
      '[fe80::1]:65535',
    ]) {
      assert.equal(targetProblem(t), undefined, t);
    }
  });

  it('explains each kind of bad target', () => {
    assert.match(targetProblem('')!, /must not be empty/);
    assert.match(targetProblem('http://a:9100')!, /scheme/);
    assert.match(targetProblem('https://a:9100/metrics')!, /scheme/);
    assert.match(targetProblem('a:9100/metrics')!, /path/);
    assert.match(targetProblem('a')!, /not host:port/);
    assert.match(targetProblem(':9100')!, /not host:port/);
    assert.match(targetProblem('::1:9100')!, /brackets/);
    assert.match(targetProblem('a:')!, /not host:port/);
    assert.match(targetProblem('a:0')!, /outside 1-65535/);
    assert.match(targetProblem('a:65536')!, /outside 1-65535/);
    assert.match(targetProblem('a b:1')!, /not host:port/);
    assert.match(targetProblem('a:1\n')!, /not host:port/);
  });
});

describe('labelNameProblem', () => {
  it('accepts Prometheus label names', () => {
    for (const n of ['a', '_a', 'store', 'Store_01', '_']) assert.equal(labelNameProblem(n), undefined, n);
  });

  it('rejects bad syntax and reserved names', () => {
    for (const n of ['', '1a', 'a-b', 'a.b', 'é', 'a b'])
      assert.match(labelNameProblem(n)!, /invalid label name/, n);
    for (const n of ['__name__', '__x', '__']) assert.match(labelNameProblem(n)!, /reserved/, n);
  });
});

describe('schema', () => {
  it('names YAML kinds without printing values', () => {
    assert.equal(kindOf(null), 'nothing');
    assert.equal(kindOf([1]), 'a list');
    assert.equal(kindOf({ a: 1 }), 'a mapping');
    assert.equal(kindOf('hunter2'), 'a string');
  });

  it('reports an unsupported key even when its YAML value is empty', () => {
    const r = scrapeConfigSchema.safeParse({ job_name: 'a', proxy_url: undefined });
    assert.equal(r.success, false);
    assert.deepEqual(
      r.error?.issues.map((i) => [i.path, i.message]),
      [[['proxy_url'], 'not supported yet']],
    );
  });

  it('accepts an absent optional section', () => {
    assert.equal(configSchema.safeParse({}).success, true);
  });
});
