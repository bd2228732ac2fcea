// Relabelling with Prometheus's semantics; cases follow model/relabel/relabel_test.go.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labelsFromRecord, labelsToRecord } from '../../../appliance/model/labels.ts';
import type { RelabelConfig } from '../../../appliance/model/relabel.ts';
import { compileRelabel, RELABEL_DEFAULTS, relabel, RelabelError } from '../../../appliance/model/relabel.ts';

function rule(r: Partial<RelabelConfig>): RelabelConfig {
  return { source_labels: [], modulus: 0, target_label: '', ...RELABEL_DEFAULTS, ...r };
}

function run(input: Record<string, string>, rules: Partial<RelabelConfig>[]): Record<string, string> | null {
  const out = relabel(
    labelsFromRecord(input),
    rules.map((r) => compileRelabel(rule(r))),
  );
  return out === null ? null : labelsToRecord(out);
}

test('replace: groups, ${n}, named groups, $$, unmatched groups and invalid targets', () => {
  assert.deepEqual(
    run({ a: 'foo', b: 'bar' }, [
      { source_labels: ['a', 'b'], regex: 'f(.*);(.*)r', target_label: 'c', replacement: 'ch${1}-ch${2}' },
    ]),
    {
      a: 'foo',
      b: 'bar',
      c: 'choo-chba',
    },
  );
  assert.deepEqual(
    run({ a: 'foo' }, [{ source_labels: ['a'], regex: '(?<x>f)oo', target_label: 'c', replacement: '$x$$' }]),
    {
      a: 'foo',
      c: 'f$',
    },
  );
  // No match: nothing changes. An invalid target name after expansion: nothing changes.
  assert.deepEqual(run({ a: 'foo' }, [{ source_labels: ['a'], regex: 'x', target_label: 'c' }]), {
    a: 'foo',
  });
  assert.deepEqual(run({ a: 'foo' }, [{ source_labels: ['a'], target_label: '${1}-bad' }]), { a: 'foo' });
  // Target names can come from the match; an empty result deletes the label.
  assert.deepEqual(
    run({ a: 'some-name' }, [
      { source_labels: ['a'], regex: 'some-(.*)', target_label: '${1}', replacement: 'x' },
    ]),
    {
      a: 'some-name',
      name: 'x',
    },
  );
  assert.deepEqual(
    run({ a: 'foo', b: 'x' }, [{ source_labels: ['c'], target_label: 'b', replacement: '$1' }]),
    { a: 'foo' },
  );
  // Go's $1x means the group named "1x", which does not exist: empty.
  assert.deepEqual(run({ a: 'foo' }, [{ source_labels: ['a'], target_label: 'b', replacement: '$1x' }]), {
    a: 'foo',
  });
});

test('keep, drop, keepequal, dropequal', () => {
  assert.equal(run({ a: 'foo' }, [{ source_labels: ['a'], regex: 'f.*', action: 'drop' }]), null);
  assert.deepEqual(
    run({ a: 'foo' }, [{ source_labels: ['a'], regex: 'f', action: 'drop' }]),
    { a: 'foo' },
    'anchored',
  );
  assert.equal(run({ a: 'foo' }, [{ source_labels: ['a'], regex: 'bar', action: 'keep' }]), null);
  assert.deepEqual(run({ a: 'foo' }, [{ source_labels: ['a'], regex: 'foo', action: 'keep' }]), { a: 'foo' });
  assert.equal(
    run({ a: 'x', b: 'x' }, [{ source_labels: ['a'], target_label: 'b', action: 'dropequal' }]),
    null,
  );
  assert.equal(
    run({ a: 'x', b: 'y' }, [{ source_labels: ['a'], target_label: 'b', action: 'keepequal' }]),
    null,
  );
  assert.deepEqual(
    run({ a: 'x', b: 'x' }, [{ source_labels: ['a'], target_label: 'b', action: 'keepequal' }]),
    { a: 'x', b: 'x' },
  );
});

test('labelmap, labeldrop, labelkeep, lowercase, uppercase', () => {
  assert.deepEqual(
    run({ __meta_netbox_site: 's001', __meta_netbox_role: 'pos', a: '1' }, [
      { regex: '__meta_netbox_(.+)', action: 'labelmap', replacement: 'nb_$1' },
    ]),
    { __meta_netbox_role: 'pos', __meta_netbox_site: 's001', a: '1', nb_role: 'pos', nb_site: 's001' },
  );
  assert.deepEqual(run({ a: '1', ab: '2', b: '3' }, [{ regex: 'a.*', action: 'labeldrop' }]), { b: '3' });
  assert.deepEqual(run({ a: '1', ab: '2', b: '3' }, [{ regex: 'a.*', action: 'labelkeep' }]), {
    a: '1',
    ab: '2',
  });
  assert.deepEqual(run({ a: 'FoO' }, [{ source_labels: ['a'], target_label: 'l', action: 'lowercase' }]), {
    a: 'FoO',
    l: 'foo',
  });
  assert.deepEqual(run({ a: 'FoO' }, [{ source_labels: ['a'], target_label: 'u', action: 'uppercase' }]), {
    a: 'FoO',
    u: 'FOO',
  });
});

test('hashmod and chained replaces match the cases in Prometheus relabel tests', () => {
  // model/relabel/relabel_test.go: "baz" mod 1000 = 976, "foo\nbar" mod 1000 = 734.
  assert.equal(
    run({ c: 'baz' }, [{ source_labels: ['c'], target_label: 'd', modulus: 1000, action: 'hashmod' }])!.d,
    '976',
  );
  assert.equal(
    run({ a: 'foo\nbar' }, [{ source_labels: ['a'], target_label: 'b', modulus: 1000, action: 'hashmod' }])!
      .b,
    '734',
  );
  assert.deepEqual(
    run({ a: 'foo', b: 'bar', c: 'baz' }, [
      { source_labels: ['a', 'b'], regex: 'f(.*);(.*)r', target_label: 'a', replacement: 'b${1}${2}m' },
      { source_labels: ['c', 'a'], regex: '(b).*b(.*)ba(.*)', target_label: 'd', replacement: '$1$2$2$3' },
    ]),
    { a: 'boobam', b: 'bar', c: 'baz', d: 'boooom' },
  );
});

test('bad regular expressions are typed errors', () => {
  assert.throws(() => compileRelabel(rule({ regex: '(' })), RelabelError);
});

test('replacement templates follow Go Regexp.Expand: a ${...} that is not a name stays literal', async () => {
  const { expand } = await import('../../../appliance/model/relabel.ts');
  const m = /^(?<host>[^:]+):(\d+)$/.exec('pos-1:9100')!;
  assert.equal(expand('${host}-$2', m), 'pos-1-9100');
  assert.equal(expand('${a-b}x', m), '${a-b}x');
  assert.equal(expand('$$1 ${unclosed', m), '$1 ${unclosed');
  assert.equal(expand('$9 ${nope}.', m), ' .');
});
