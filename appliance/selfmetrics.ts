// storewatch's own metrics at /metrics: storage, scraping and process I/O, written in the text format so
// that `promtool check metrics` passes without warnings. Values are read when /metrics is scraped (pull), so
// nothing on the hot path updates a metric object.

/** One sample of a family: label pairs and a value. */
export interface FamilySample {
  readonly labels?: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A metric family: the name carries the unit and `_total` for counters, as Prometheus's conventions ask. */
export interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  readonly samples: readonly FamilySample[];
}

function escapeHelp(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeValue(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Renders families in text format 0.0.4. Pure. */
export function renderFamilies(families: readonly Family[]): string {
  let out = '';
  for (const f of families) {
    out += `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`;
    for (const s of f.samples) {
      const entries = Object.entries(s.labels ?? {});
      const labels = entries.length
        ? `{${entries.map(([k, v]) => `${k}="${escapeValue(v)}"`).join(',')}}`
        : '';
      out += `${f.name}${labels} ${formatValue(s.value)}\n`;
    }
  }
  return out;
}

/** Bytes this process read and wrote, from /proc/self/io (Linux). */
export interface ProcessIo {
  /** Bytes that reached the storage layer (page-cache writeback accounting). */
  readonly writeBytes: number;
  readonly readBytes: number;
  /** Bytes passed to write(2)-like calls. */
  readonly wchar: number;
  readonly rchar: number;
}

/** Parses the text of /proc/<pid>/io. Pure; returns null for text that is not in that format. */
export function parseProcIo(text: string): ProcessIo | null {
  const get = (key: string): number | null => {
    const m = new RegExp(`^${key}:\\s*(\\d+)$`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  };
  const writeBytes = get('write_bytes');
  const readBytes = get('read_bytes');
  const wchar = get('wchar');
  const rchar = get('rchar');
  if (writeBytes === null || readBytes === null || wchar === null || rchar === null) return null;
  return { writeBytes, readBytes, wchar, rchar };
}
