import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { labelsToRecord } from '../../../appliance/model/labels.ts';
import {
  ParseError,
  SCRAPE_ACCEPT_HEADER,
  formatFromContentType,
  parseExposition,
} from '../../../appliance/scrape/textparse.ts';
import type { ParsedSample, ParseResult } from '../../../appliance/scrape/textparse.ts';

type Format = 'text' | 'openmetrics';

/** A sample as a compact, comparable tuple: [labels as a record, value, timestamp]. */
function flat(s: ParsedSample): [Record<string, string>, number, number | undefined] {
  return [labelsToRecord(s.labels), s.value, s.timestamp];
}

function samplesOf(result: ParseResult): [Record<string, string>, number, number | undefined][] {
  return result.samples.map(flat);
}

/** Asserts that parsing fails with a ParseError on the given line whose message matches the pattern. */
function assertParseError(body: string | Uint8Array, format: Format, line: number, pattern: RegExp): void {
  assert.throws(
    () => parseExposition(body, format),
    (err: unknown) => {
      assert.ok(err instanceof ParseError, `expected a ParseError, got ${String(err)}`);
      assert.equal(err.name, 'ParseError');
      assert.equal(err.line, line, `wrong line for: ${err.message}`);
      assert.match(err.message, pattern);
      return true;
    },
  );
}

/** Labels must be sorted by name with unique names, as labels.ts requires. */
function assertCanonical(result: ParseResult): void {
  for (const s of result.samples) {
    for (let k = 1; k < s.labels.length; k++) {
      // The message is built only on failure: these label sets can be huge.
      if (!(s.labels[k - 1]!.name < s.labels[k]!.name)) assert.fail(`labels not sorted/unique at ${k}`);
    }
    for (const l of s.labels) if (l.value === '') assert.fail(`empty value for ${l.name}`);
  }
}

const NODE_EXPORTER_TEXT = `# HELP go_gc_duration_seconds A summary of the pause duration of garbage collection cycles.
# TYPE go_gc_duration_seconds summary
go_gc_duration_seconds{quantile="0"} 2.3541e-05
go_gc_duration_seconds{quantile="0.25"} 3.9174e-05
go_gc_duration_seconds{quantile="1"} 0.000412209
go_gc_duration_seconds_sum 0.071946587
go_gc_duration_seconds_count 1296
# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.
# TYPE node_cpu_seconds_total counter
node_cpu_seconds_total{cpu="0",mode="idle"} 363514.48
node_cpu_seconds_total{cpu="0",mode="iowait"} 131.02
# HELP node_filesystem_avail_bytes Filesystem space available to non-root users in bytes.
# TYPE node_filesystem_avail_bytes gauge
node_filesystem_avail_bytes{device="/dev/sda1",fstype="ext4",mountpoint="/"} 1.9586363392e+10

# Some free-form comment that must be ignored.
# HELP node_disk_io_time_seconds_bucket A histogram, for the test.
# TYPE node_http_request_duration_seconds histogram
node_http_request_duration_seconds_bucket{handler="/metrics",le="0.005"} 12
node_http_request_duration_seconds_bucket{handler="/metrics",le="1"} 30
node_http_request_duration_seconds_bucket{handler="/metrics",le="10"} 31
node_http_request_duration_seconds_bucket{handler="/metrics",le="+Inf"} 31
node_http_request_duration_seconds_sum{handler="/metrics"} 2.5
node_http_request_duration_seconds_count{handler="/metrics"} 31
# HELP node_uname_info Labeled system information as provided by the uname system call.
# TYPE node_uname_info gauge
node_uname_info{domainname="(none)",machine="x86_64",nodename="store-0042",release="6.1.0-18-amd64",sysname="Linux",version="#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)"} 1
node_time_seconds 1.71e9 1712000000000
`;

describe('parseExposition, text format 0.0.4', () => {
  it('parses a node_exporter excerpt with metadata, summaries and histograms', () => {
    const result = parseExposition(NODE_EXPORTER_TEXT, 'text');
    assert.equal(result.format, 'text');
    assertCanonical(result);
    assert.deepEqual(samplesOf(result), [
      [{ __name__: 'go_gc_duration_seconds', quantile: '0.0' }, 2.3541e-5, undefined],
      [{ __name__: 'go_gc_duration_seconds', quantile: '0.25' }, 3.9174e-5, undefined],
      [{ __name__: 'go_gc_duration_seconds', quantile: '1.0' }, 0.000412209, undefined],
      [{ __name__: 'go_gc_duration_seconds_sum' }, 0.071946587, undefined],
      [{ __name__: 'go_gc_duration_seconds_count' }, 1296, undefined],
      [{ __name__: 'node_cpu_seconds_total', cpu: '0', mode: 'idle' }, 363514.48, undefined],
      [{ __name__: 'node_cpu_seconds_total', cpu: '0', mode: 'iowait' }, 131.02, undefined],
      [
        { __name__: 'node_filesystem_avail_bytes', device: '/dev/sda1', fstype: 'ext4', mountpoint: '/' },
        19586363392,
        undefined,
      ],
      [
        { __name__: 'node_http_request_duration_seconds_bucket', handler: '/metrics', le: '0.005' },
        12,
        undefined,
      ],
      [
        { __name__: 'node_http_request_duration_seconds_bucket', handler: '/metrics', le: '1.0' },
        30,
        undefined,
      ],
      [
        { __name__: 'node_http_request_duration_seconds_bucket', handler: '/metrics', le: '10.0' },
        31,
        undefined,
      ],
      [
        { __name__: 'node_http_request_duration_seconds_bucket', handler: '/metrics', le: '+Inf' },
        31,
        undefined,
      ],
      [{ __name__: 'node_http_request_duration_seconds_sum', handler: '/metrics' }, 2.5, undefined],
      [{ __name__: 'node_http_request_duration_seconds_count', handler: '/metrics' }, 31, undefined],
      [
        {
          __name__: 'node_uname_info',
          domainname: '(none)',
          machine: 'x86_64',
          nodename: 'store-0042',
          release: '6.1.0-18-amd64',
          sysname: 'Linux',
          version: '#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)',
        },
        1,
        undefined,
      ],
      [{ __name__: 'node_time_seconds' }, 1.71e9, 1712000000000],
    ]);
    assert.deepEqual(result.metadata.get('go_gc_duration_seconds'), {
      type: 'summary',
      help: 'A summary of the pause duration of garbage collection cycles.',
      unit: '',
    });
    assert.equal(result.metadata.get('node_cpu_seconds_total')?.type, 'counter');
    assert.equal(result.metadata.get('node_filesystem_avail_bytes')?.type, 'gauge');
    assert.equal(result.metadata.get('node_http_request_duration_seconds')?.type, 'histogram');
    // HELP without TYPE still creates an entry, with the text format's default type.
    assert.deepEqual(result.metadata.get('node_disk_io_time_seconds_bucket'), {
      type: 'untyped',
      help: 'A histogram, for the test.',
      unit: '',
    });
    assert.equal(result.metadata.size, 6);
  });

  it('normalises le and quantile only under a histogram or summary TYPE', () => {
    const body = [
      '# TYPE h histogram',
      'h_bucket{le="1e6"} 1',
      'h_bucket{le="100000"} 1',
      'h_bucket{le="0.00001"} 1',
      'h_bucket{le="-2"} 1',
      'h_bucket{le="not-a-number"} 1',
      '# TYPE s summary',
      's{quantile="0.990"} 1',
      '# TYPE c counter',
      'c{le="1",quantile="1"} 1',
    ].join('\n');
    const le = parseExposition(body, 'text').samples.map((s) => labelsToRecord(s.labels));
    assert.deepEqual(
      le.map((r) => r.le ?? r.quantile),
      ['1e+06', '100000.0', '1e-05', '-2.0', 'not-a-number', '0.99', '1'],
    );
    assert.equal(le[6]!.quantile, '1');
  });

  it('unescapes label values and help text like Prometheus', () => {
    const body =
      '# HELP m Help with \\\\ backslash, \\n newline and \\" kept quote.\n' +
      'm{a="quote \\" here",b="back\\\\slash",c="new\\nline",d="tab \\t stays",e="\\\\n"} 1\n';
    const result = parseExposition(body, 'text');
    assert.deepEqual(labelsToRecord(result.samples[0]!.labels), {
      __name__: 'm',
      a: 'quote " here',
      b: 'back\\slash',
      c: 'new\nline',
      d: 'tab \\t stays',
      e: '\\n',
    });
    assert.equal(result.metadata.get('m')?.help, 'Help with \\ backslash, \n newline and \\" kept quote.');
  });

  it('follows the text format whitespace and comma rules', () => {
    const body = [
      '  \tindented 1',
      'spaced { a = "1" , b = "2" , } 2',
      'nocomma{a="1" b="2"} 3',
      'glued{a="1"}4',
      'tabbed\t5\t\t123\t',
      'trailing{a="x",} 6  ',
      'empty{} 7',
      '',
      '   ',
      '#',
      '#HELP not_metadata because there is no blank after the hash',
      '# TYPEnot metadata either',
    ].join('\n');
    assert.deepEqual(samplesOf(parseExposition(body, 'text')), [
      [{ __name__: 'indented' }, 1, undefined],
      [{ __name__: 'spaced', a: '1', b: '2' }, 2, undefined],
      [{ __name__: 'nocomma', a: '1', b: '2' }, 3, undefined],
      [{ __name__: 'glued', a: '1' }, 4, undefined],
      [{ __name__: 'tabbed' }, 5, 123],
      [{ __name__: 'trailing', a: 'x' }, 6, undefined],
      [{ __name__: 'empty' }, 7, undefined],
    ]);
  });

  it('takes metadata text as the rest of the line minus its first character', () => {
    const result = parseExposition('# HELP a\n# HELP b \n# HELP c  two spaces\n#\tHELP\td\ttabbed\n', 'text');
    assert.equal(result.metadata.get('a')?.help, '');
    assert.equal(result.metadata.get('b')?.help, '');
    assert.equal(result.metadata.get('c')?.help, ' two spaces');
    assert.equal(result.metadata.get('d')?.help, 'tabbed');
    assertParseError('# TYPE x  counter\n', 'text', 1, /invalid metric type " counter"/);
  });

  it('accepts the quoted-name form for UTF-8 metric and label names', () => {
    const body =
      '# TYPE "my.metric" gauge\n' +
      '{"my.metric", "label.with.dots"="v", plain="p"} 1\n' +
      '{plain="q", "my.metric"} 2\n' +
      '{"esc\\"aped"} 3\n';
    const result = parseExposition(body, 'text');
    assertCanonical(result);
    assert.deepEqual(samplesOf(result), [
      [{ __name__: 'my.metric', 'label.with.dots': 'v', plain: 'p' }, 1, undefined],
      [{ __name__: 'my.metric', plain: 'q' }, 2, undefined],
      [{ __name__: 'esc"aped' }, 3, undefined],
    ]);
    assert.equal(result.metadata.get('my.metric')?.type, 'gauge');
  });

  it('sorts labels that arrive unsorted and drops empty values', () => {
    const result = parseExposition('m{zeta="z",Alpha="A",mid="",beta="b"} 1\n', 'text');
    assert.deepEqual(
      result.samples[0]!.labels.map((l) => l.name),
      ['Alpha', '__name__', 'beta', 'zeta'],
    );
    assertCanonical(result);
  });

  it('parses values with Go ParseFloat rules', () => {
    const cases: [string, number][] = [
      ['0', 0],
      ['-0', -0],
      ['42', 42],
      ['+7', 7],
      ['1e3', 1000],
      ['1E-3', 0.001],
      ['-1.5e+2', -150],
      ['.5', 0.5],
      ['5.', 5],
      ['007', 7],
      ['0.1', 0.1],
      ['123456789012345678', 123456789012345678],
      ['1.7976931348623157e308', 1.7976931348623157e308],
      ['4.9e-324', 5e-324],
      ['1e-400', 0],
      ['0.30000000000000004', 0.30000000000000004],
      ['+Inf', Infinity],
      ['Inf', Infinity],
      ['inf', Infinity],
      ['-Inf', -Infinity],
      ['-infinity', -Infinity],
      ['INFINITY', Infinity],
    ];
    const body = cases.map(([v], k) => `v${k} ${v}`).join('\n');
    const values = parseExposition(body, 'text').samples.map((s) => s.value);
    assert.equal(values.length, cases.length);
    cases.forEach(([text, expected], k) =>
      assert.ok(Object.is(values[k], expected), `${text} -> ${values[k]}`),
    );
    for (const nan of ['NaN', 'nan', 'nAn']) {
      assert.ok(Number.isNaN(parseExposition(`n ${nan}`, 'text').samples[0]!.value));
    }
  });

  it('rejects values Prometheus rejects', () => {
    for (const bad of [
      '1.2.3',
      'abc',
      'true',
      '0x1p3',
      '0x10',
      '1_000',
      '+nan',
      '-NaN',
      '1e',
      '1e+',
      '.',
      '-',
      'infin',
      '1e400',
      '--1',
      '1,5',
    ]) {
      assertParseError(`first 1\nbad ${bad}\n`, 'text', 2, /invalid value/);
    }
  });

  it('parses int64 millisecond timestamps', () => {
    const result = parseExposition('a 1 0\nb 1 1712000000123\nc 1 9223372036854775807\nd 1 0001\n', 'text');
    assert.deepEqual(
      result.samples.map((s) => s.timestamp),
      [0, 1712000000123, 9223372036854775807, 1],
    );
  });

  it('decodes UTF-8 bytes, including multi-byte label values', () => {
    const bytes = new TextEncoder().encode('# HELP m Größe in €\nm{store="Zürich 🏪"} 1\n');
    const result = parseExposition(bytes, 'text');
    assert.equal(labelsToRecord(result.samples[0]!.labels).store, 'Zürich 🏪');
    assert.equal(result.metadata.get('m')?.help, 'Größe in €');
  });

  it('accepts raw newlines inside label values, as Prometheus does, and keeps counting lines', () => {
    const body = 'm{a="two\nlines"} 1\nok 2\nbroken\n';
    assertParseError(body, 'text', 4, /expected a value/);
    assert.equal(labelsToRecord(parseExposition('m{a="x\ny"} 1', 'text').samples[0]!.labels).a, 'x\ny');
  });

  it('accepts an empty body and a body without a final newline', () => {
    assert.equal(parseExposition('', 'text').samples.length, 0);
    assert.deepEqual(samplesOf(parseExposition('a 1\nb 2', 'text')), [
      [{ __name__: 'a' }, 1, undefined],
      [{ __name__: 'b' }, 2, undefined],
    ]);
  });
});

const OPENMETRICS_BODY = `# TYPE acme_http_requests counter
# HELP acme_http_requests Requests served.
acme_http_requests_total{code="200"} 1027 1520879607.789 # {trace_id="KOO5S4vxi0o"} 1 1520879607.7
acme_http_requests_created{code="200"} 1520430000.123
# TYPE acme_temperature_celsius gauge
# UNIT acme_temperature_celsius celsius
# HELP acme_temperature_celsius Store temperature, with \\"quotes\\" and \\\\ and \\n.
acme_temperature_celsius{room="back office"} 21.5
acme_temperature_celsius_created 7
# TYPE acme_latency_seconds histogram
acme_latency_seconds_bucket{le="0.1"} 8 # {} 0.054
acme_latency_seconds_bucket{le="1"} 11 # {trace_id="x",span_id="y"} 0.67
acme_latency_seconds_bucket{le="+Inf"} 17
acme_latency_seconds_count 17
acme_latency_seconds_sum 324789.3
acme_latency_seconds_created 1520430000.123
# TYPE acme_queue gaugehistogram
acme_queue_bucket{le="10"} 3
acme_queue_gcount 3
acme_queue_gsum 12
# TYPE acme_rpc summary
acme_rpc{quantile="0.5"} 0.05
acme_rpc_sum 8000
acme_rpc_count 100000
# TYPE acme_build info
acme_build_info{version="1.2.3"} 1
# TYPE acme_state stateset
acme_state{acme_state="open"} 1
acme_state{acme_state="closed"} 0
# TYPE acme_other unknown
acme_other -1.5 -0.5
# EOF
`;

describe('parseExposition, OpenMetrics 1.0', () => {
  it('parses every metric type, drops exemplars and _created samples of counters, histograms, summaries', () => {
    const result = parseExposition(OPENMETRICS_BODY, 'openmetrics');
    assert.equal(result.format, 'openmetrics');
    assertCanonical(result);
    assert.deepEqual(samplesOf(result), [
      [{ __name__: 'acme_http_requests_total', code: '200' }, 1027, 1520879607789],
      [{ __name__: 'acme_temperature_celsius', room: 'back office' }, 21.5, undefined],
      // A gauge's _created is an ordinary sample: only counter/histogram/summary families drop it.
      [{ __name__: 'acme_temperature_celsius_created' }, 7, undefined],
      [{ __name__: 'acme_latency_seconds_bucket', le: '0.1' }, 8, undefined],
      [{ __name__: 'acme_latency_seconds_bucket', le: '1.0' }, 11, undefined],
      [{ __name__: 'acme_latency_seconds_bucket', le: '+Inf' }, 17, undefined],
      [{ __name__: 'acme_latency_seconds_count' }, 17, undefined],
      [{ __name__: 'acme_latency_seconds_sum' }, 324789.3, undefined],
      [{ __name__: 'acme_queue_bucket', le: '10' }, 3, undefined],
      [{ __name__: 'acme_queue_gcount' }, 3, undefined],
      [{ __name__: 'acme_queue_gsum' }, 12, undefined],
      [{ __name__: 'acme_rpc', quantile: '0.5' }, 0.05, undefined],
      [{ __name__: 'acme_rpc_sum' }, 8000, undefined],
      [{ __name__: 'acme_rpc_count' }, 100000, undefined],
      [{ __name__: 'acme_build_info', version: '1.2.3' }, 1, undefined],
      [{ __name__: 'acme_state', acme_state: 'open' }, 1, undefined],
      [{ __name__: 'acme_state', acme_state: 'closed' }, 0, undefined],
      [{ __name__: 'acme_other' }, -1.5, -500],
    ]);
    assert.deepEqual(result.metadata.get('acme_http_requests'), {
      type: 'counter',
      help: 'Requests served.',
      unit: '',
    });
    assert.deepEqual(result.metadata.get('acme_temperature_celsius'), {
      type: 'gauge',
      help: 'Store temperature, with "quotes" and \\ and \n.',
      unit: 'celsius',
    });
    assert.deepEqual(
      [...result.metadata].map(([name, m]) => [name, m.type]),
      [
        ['acme_http_requests', 'counter'],
        ['acme_temperature_celsius', 'gauge'],
        ['acme_latency_seconds', 'histogram'],
        ['acme_queue', 'gaugehistogram'],
        ['acme_rpc', 'summary'],
        ['acme_build', 'info'],
        ['acme_state', 'stateset'],
        ['acme_other', 'unknown'],
      ],
    );
  });

  it('converts float-second timestamps to ms by truncation, like int64(ts*1000)', () => {
    const body = 'a 1 1.5\nb 1 0.0019\nc 1 -1.5\nd 1 1e3\ne 1 1712000000\n# EOF';
    assert.deepEqual(
      parseExposition(body, 'openmetrics').samples.map((s) => s.timestamp),
      [1500, 1, -1500, 1000000, 1712000000000],
    );
  });

  it('accepts # EOF without a trailing newline, quoted names and trailing commas', () => {
    const body = '# HELP "a.b" dotted\n{"a.b",x="1",} 1\nm{y="2",} 2\n# EOF';
    const result = parseExposition(body, 'openmetrics');
    assert.deepEqual(samplesOf(result), [
      [{ __name__: 'a.b', x: '1' }, 1, undefined],
      [{ __name__: 'm', y: '2' }, 2, undefined],
    ]);
    assert.deepEqual(result.metadata.get('a.b'), { type: 'unknown', help: 'dotted', unit: '' });
  });

  it('parses a body that is only # EOF', () => {
    assert.equal(parseExposition('# EOF\n', 'openmetrics').samples.length, 0);
  });
});

describe('parseExposition errors', () => {
  const cases: [string, Format, string, number, RegExp][] = [
    ['garbage line', 'text', 'ok 1\n!!! what is this\n', 2, /expected a metric name/],
    ['garbage words', 'text', 'ok 1\nthis is garbage\n', 2, /invalid value "is"/],
    ['truncated mid-label', 'text', 'ok 1\nm{a="1",b', 2, /expected "=" after label name "b"/],
    ['truncated after comma', 'text', 'ok 1\nm{a="1",', 2, /end of data in the label set/],
    ['truncated after =', 'text', 'm{a=', 1, /expected a quoted value/],
    [
      'unterminated quote',
      'text',
      'ok 1\nok 2\nm{a="never closed} 1\n',
      3,
      /unterminated quoted label value/,
    ],
    ['single-quoted value', 'text', "m{a='x'} 1\n", 1, /expected a quoted value/],
    ['missing value', 'text', 'ok 1\nm{a="1"}\nok 2\n', 2, /expected a value/],
    ['missing value at EOF', 'text', 'm', 1, /expected a value/],
    ['metric name not set', 'text', '{a="1"} 1\n', 1, /metric name not set/],
    ['metric name set twice', 'text', 'm{"n"} 1\n', 1, /metric name set twice/],
    ['empty metric name', 'text', '{""} 1\n', 1, /empty metric name/],
    ['empty label name', 'text', 'm{""="x"} 1\n', 1, /empty label name/],
    ['label name starting with digit', 'text', 'm{1a="x"} 1\n', 1, /expected a label name/],
    ['bad label name char', 'text', 'm{a-b="x"} 1\n', 1, /expected "=" after label name "a"/],
    ['double comma', 'text', 'm{a="1",,b="2"} 1\n', 1, /expected a label name/],
    ['backslash before newline', 'text', 'm{a="x\\\n"} 1\n', 1, /backslash before a line break/],
    ['duplicate label', 'text', 'ok 1\nm{a="1",b="2",a="3"} 1\n', 2, /duplicate label name "a"/],
    ['duplicate adjacent label', 'text', 'm{a="1",a="1"} 1\n', 1, /duplicate label name "a"/],
    ['duplicate __name__', 'text', 'm{__name__="n"} 1\n', 1, /duplicate label name "__name__"/],
    ['bad timestamp', 'text', 'ok 1\nm 1 12a\n', 2, /unexpected text after the timestamp/],
    ['negative timestamp', 'text', 'm 1 -5\n', 1, /expected a timestamp/],
    ['float timestamp', 'text', 'm 1 1.5\n', 1, /unexpected text after the timestamp/],
    ['timestamp beyond int64', 'text', 'm 1 9223372036854775808\n', 1, /timestamp out of int64 range/],
    ['extra token', 'text', 'm 1 2 3\n', 1, /unexpected text after the timestamp/],
    ['invalid type', 'text', '# TYPE m gaugehistogram\n', 1, /invalid metric type "gaugehistogram"/],
    ['missing metadata name', 'text', 'ok 1\n# HELP 9lives text\n', 2, /expected a metric name after # HELP/],
    ['CRLF', 'text', 'm 1\r\n', 1, /invalid value "1\\r"/],
    ['OM missing # EOF', 'openmetrics', 'a 1\nb 2\n', 2, /missing # EOF/],
    ['OM missing # EOF, no newline', 'openmetrics', 'a 1\nb 2', 2, /missing # EOF/],
    ['OM empty body', 'openmetrics', '', 1, /missing # EOF/],
    ['OM data after # EOF', 'openmetrics', 'a 1\n# EOF\nb 2\n', 3, /unexpected data after # EOF/],
    ['OM blank line after # EOF', 'openmetrics', '# EOF\n\n', 2, /unexpected data after # EOF/],
    ['OM text glued to # EOF', 'openmetrics', '# EOFa 1', 1, /unexpected data after # EOF/],
    ['OM blank line', 'openmetrics', 'a 1\n\nb 2\n# EOF\n', 2, /blank lines are not allowed/],
    ['OM free comment', 'openmetrics', 'a 1\n# just a comment\n# EOF\n', 2, /invalid comment/],
    ['OM tab after hash', 'openmetrics', '#\tTYPE c counter\n# EOF\n', 1, /invalid comment/],
    ['OM leading space', 'openmetrics', ' a 1\n# EOF\n', 1, /expected a metric name/],
    ['OM double space before value', 'openmetrics', 'a  1\n# EOF\n', 1, /expected a value/],
    ['OM tab before value', 'openmetrics', 'a\t1\n# EOF\n', 1, /expected a single space/],
    ['OM space in label set', 'openmetrics', 'a{x="1", y="2"} 1\n# EOF\n', 1, /expected a label name/],
    ['OM missing comma', 'openmetrics', 'a{x="1"y="2"} 1\n# EOF\n', 1, /expected "," or "}"/],
    [
      'OM newline in label value',
      'openmetrics',
      'a{x="1\n"} 1\n# EOF\n',
      1,
      /line break inside quoted label value/,
    ],
    ['OM trailing space', 'openmetrics', 'a 1 \n# EOF\n', 1, /expected a timestamp/],
    ['OM bad timestamp', 'openmetrics', 'a 1 1z\n# EOF\n', 1, /invalid timestamp "1z"/],
    ['OM NaN timestamp', 'openmetrics', 'ok 1\na 1 NaN\n# EOF\n', 2, /invalid timestamp "NaN"/],
    ['OM Inf timestamp', 'openmetrics', 'a 1 +Inf\n# EOF\n', 1, /invalid timestamp/],
    ['OM hex value', 'openmetrics', 'a 0x1p-3\n# EOF\n', 1, /invalid value/],
    ['OM untyped type', 'openmetrics', '# TYPE u untyped\n# EOF\n', 1, /invalid metric type "untyped"/],
    [
      'OM TYPE trailing space',
      'openmetrics',
      '# TYPE c counter \n# EOF\n',
      1,
      /invalid metric type "counter "/,
    ],
    ['OM TYPE without text', 'openmetrics', '# TYPE m\n# EOF\n', 1, /expected a space and text/],
    [
      'OM unit not a suffix',
      'openmetrics',
      '# UNIT metric seconds\n# EOF\n',
      1,
      /unit "seconds" is not a suffix/,
    ],
    ['OM unit without underscore', 'openmetrics', '# UNIT msuffix suffix\n# EOF\n', 1, /is not a suffix/],
    [
      'OM bad exemplar value',
      'openmetrics',
      'a_total 1 # {x="y"} true\n# EOF\n',
      1,
      /invalid exemplar value "true"/,
    ],
    [
      'OM exemplar without value',
      'openmetrics',
      'a_total 1 # {x="y"}\n# EOF\n',
      1,
      /expected a space and a value/,
    ],
    [
      'OM exemplar NaN timestamp',
      'openmetrics',
      'a_total 1 # {x="y"} 1 NaN\n# EOF\n',
      1,
      /invalid exemplar timestamp/,
    ],
    [
      'OM exemplar unquoted value',
      'openmetrics',
      'a_total 1 # {x=y} 1\n# EOF\n',
      1,
      /expected a quoted value/,
    ],
    [
      'OM exemplar quoted name',
      'openmetrics',
      'a_total 1 # {"n"} 1\n# EOF\n',
      1,
      /expected "=" after label name/,
    ],
    ['OM exemplar at EOF', 'openmetrics', 'a_total 1 # {x="y"} 1', 1, /missing # EOF/],
    ['OM duplicate label', 'openmetrics', 'a{x="1",x="2"} 1\n# EOF\n', 1, /duplicate label name "x"/],
    ['OM metric without value at EOF', 'openmetrics', 'metric', 1, /missing # EOF/],
  ];
  for (const [name, format, body, line, pattern] of cases) {
    it(`${format}: ${name} -> line ${line}`, () => assertParseError(body, format, line, pattern));
  }

  it('reports invalid UTF-8 with the line it is on', () => {
    const encode = (s: string) => new TextEncoder().encode(s);
    const join = (...parts: Uint8Array[]) => {
      const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of parts) {
        out.set(p, at);
        at += p.length;
      }
      return out;
    };
    const head = encode('a 1\nb 2\nc{x="');
    const tail = encode('"} 3\n');
    for (const bad of [[0xff], [0xc3], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x80]]) {
      assertParseError(join(head, Uint8Array.from(bad), tail), 'text', 3, /invalid UTF-8/);
    }
    // Truncated at the very end of the body.
    assertParseError(join(encode('a 1\n# HELP a caf'), Uint8Array.from([0xc3])), 'text', 2, /invalid UTF-8/);
    assertParseError(join(encode('a 1\n'), Uint8Array.from([0xe2, 0x82])), 'openmetrics', 2, /invalid UTF-8/);
  });

  it('quotes the offending line in the message and cuts long lines', () => {
    try {
      parseExposition(`ok 1\nbad{a="${'x'.repeat(500)}"} nope\n`, 'text');
      assert.fail('should have thrown');
    } catch (err) {
      assert.ok(err instanceof ParseError);
      assert.match(err.message, /^line 2: invalid value "nope" in "bad\{a=\\"xxx/);
      assert.ok(err.message.length < 300, `message too long: ${err.message.length}`);
    }
  });
});

describe('parseExposition on hostile input', () => {
  const MB = 1 << 20;

  it('parses a 1 MB label value', () => {
    const value = 'v'.repeat(MB);
    const result = parseExposition(`big{a="${value}"} 1\nsmall 2\n`, 'text');
    assert.equal(labelsToRecord(result.samples[0]!.labels).a!.length, MB);
    assert.equal(result.samples.length, 2);
  });

  it('fails on 1 MB lines of garbage, digits, braces, quotes and backslashes', () => {
    assertParseError(`ok 1\n${'@'.repeat(MB)}\n`, 'text', 2, /expected a metric name/);
    assertParseError(`ok 1\nm ${'9'.repeat(MB)}\n`, 'text', 2, /invalid value/);
    assertParseError(`m{${'{'.repeat(MB)}\n`, 'text', 1, /expected a label name/);
    assertParseError(`m{a=${'"'.repeat(MB - 1)}\n`, 'text', 1, /expected a label name|expected "="/);
    assertParseError(`m{a="${'\\\\'.repeat(MB / 2)}`, 'text', 1, /unterminated/);
    assertParseError(
      `m{a="${'\\"'.repeat(MB / 2)}} 1\n# EOF\n`,
      'openmetrics',
      1,
      /line break inside quoted/,
    );
    assertParseError(`m ${'1'.repeat(MB)}\n# EOF\n`, 'openmetrics', 1, /invalid value/);
    assertParseError(`${'a'.repeat(MB)}\n`, 'text', 1, /expected a value/);
  });

  it('handles many labels on one line: distinct ones parse, repeated ones fail', () => {
    const many = Array.from({ length: 20000 }, (_, k) => `l${k}="v"`).join(',');
    const result = parseExposition(`m{${many}} 1\n`, 'text');
    assert.equal(result.samples[0]!.labels.length, 20001);
    assertCanonical(result);
    const repeated = Array.from({ length: 20000 }, () => 'same="v"').join(',');
    assertParseError(`ok 1\nm{${repeated}} 1\n`, 'text', 2, /duplicate label name "same"/);
    const shuffledDup = `m{${many},l777="again"} 1\n# EOF\n`;
    assertParseError(shuffledDup, 'openmetrics', 1, /duplicate label name "l777"/);
  });

  it('parses many short lines', () => {
    const lines = Array.from({ length: 100000 }, (_, k) => `m{i="${k}"} ${k}`);
    const result = parseExposition(lines.join('\n') + '\n# EOF\n', 'openmetrics');
    assert.equal(result.samples.length, 100000);
    assert.equal(result.samples[99999]!.value, 99999);
  });
});

describe('formatFromContentType', () => {
  it('chooses OpenMetrics only for application/openmetrics-text', () => {
    assert.equal(
      formatFromContentType('application/openmetrics-text; version=1.0.0; charset=utf-8'),
      'openmetrics',
    );
    assert.equal(formatFromContentType('Application/OpenMetrics-Text'), 'openmetrics');
    assert.equal(formatFromContentType(' application/openmetrics-text ;version=0.0.1'), 'openmetrics');
    assert.equal(formatFromContentType('text/plain; version=0.0.4; charset=utf-8'), 'text');
    assert.equal(formatFromContentType('application/json'), 'text');
    assert.equal(formatFromContentType(''), 'text');
    assert.equal(formatFromContentType(undefined), 'text');
  });
});

describe('SCRAPE_ACCEPT_HEADER', () => {
  it('prefers OpenMetrics 1.0.0, then text 0.0.4, with falling q weights and no protobuf', () => {
    const entries = SCRAPE_ACCEPT_HEADER.split(',').map((e) => e.split(';'));
    const media = entries.map((e) => `${e[0]!};${e.find((p) => p.startsWith('version=')) ?? ''}`);
    assert.deepEqual(media, [
      'application/openmetrics-text;version=1.0.0',
      'application/openmetrics-text;version=0.0.1',
      'text/plain;version=0.0.4',
      '*/*;',
    ]);
    const q = entries.map((e) => Number(e.find((p) => p.startsWith('q='))!.slice(2)));
    for (let k = 1; k < q.length; k++) assert.ok(q[k]! < q[k - 1]!, `q weights must fall: ${q.join(',')}`);
    assert.ok(!SCRAPE_ACCEPT_HEADER.includes('protobuf'));
  });
});
