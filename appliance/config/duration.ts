// Prometheus's duration and byte-size notations, as pure parse/format functions.
// Durations follow Prometheus's model.ParseDuration and byte sizes follow Go's units.ParseBase2Bytes, so a value
// copied from a Prometheus configuration means exactly the same thing here.

const MS_PER_UNIT: Readonly<Record<string, number>> = {
  y: 365 * 24 * 60 * 60 * 1000,
  w: 7 * 24 * 60 * 60 * 1000,
  d: 24 * 60 * 60 * 1000,
  h: 60 * 60 * 1000,
  m: 60 * 1000,
  s: 1000,
  ms: 1,
};

// Each unit may appear at most once and only in this order, exactly as in Prometheus.
const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const DURATION_UNITS = ['y', 'w', 'd', 'h', 'm', 's', 'ms'] as const;

/**
 * Parses a Prometheus duration ("1m", "1h30m", "15d", "0") into integer milliseconds.
 * Throws a RangeError whose message quotes the input (durations are never secret).
 */
export function parseDuration(s: string): number {
  if (s === '') throw new RangeError('empty duration string');
  if (s === '0') return 0;
  const m = DURATION_RE.exec(s);
  if (m === null) {
    const hint = /^\d+$/.test(s) ? ' (missing unit, e.g. "15s")' : '';
    throw new RangeError(`not a valid duration string: ${JSON.stringify(s)}${hint}`);
  }
  let ms = 0;
  DURATION_UNITS.forEach((unit, i) => {
    const n = m[i + 1];
    if (n !== undefined) ms += Number(n) * MS_PER_UNIT[unit]!;
  });
  if (!Number.isSafeInteger(ms)) throw new RangeError(`duration out of range: ${JSON.stringify(s)}`);
  return ms;
}

/**
 * Formats milliseconds the way Prometheus prints durations: "0s", "1m30s", "90d", "2w"; years and weeks
 * only when they divide the value exactly, because "90d" reads better than "12w6d".
 */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`not a duration in milliseconds: ${ms}`);
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const unit of DURATION_UNITS) {
    const mult = MS_PER_UNIT[unit]!;
    if ((unit === 'y' || unit === 'w') && rest % mult !== 0) continue;
    const v = Math.floor(rest / mult);
    if (v > 0) {
      out += `${v}${unit}`;
      rest -= v * mult;
    }
  }
  return out;
}

// Go's units.ParseBase2Bytes accepts "KiB" style and the older "KB" style, both meaning powers of 1024.
const BYTE_UNITS: Readonly<Record<string, number>> = Object.fromEntries([
  ['B', 1],
  ...['K', 'M', 'G', 'T', 'P', 'E'].flatMap((p, i): [string, number][] => [
    [`${p}B`, 1024 ** (i + 1)],
    [`${p}iB`, 1024 ** (i + 1)],
  ]),
] satisfies [string, number][]);
const BYTE_SIZE_RE = /^(?:(?:\d+(?:\.\d*)?|\.\d+)[A-Za-z]+)+$/;
const BYTE_PART_RE = /(\d+(?:\.\d*)?|\.\d+)([A-Za-z]+)/g;

/**
 * Parses a Prometheus byte size into a whole number of bytes: a plain non-negative integer (bytes, as YAML
 * gives it), "0", or number-unit pairs like "512KB", "1.5GiB", "1GB512MB". KB and KiB both mean 1024.
 * Throws a RangeError for anything else, including negative sizes.
 */
export function parseByteSize(s: string | number): number {
  if (typeof s === 'number') {
    if (!Number.isSafeInteger(s) || s < 0) throw new RangeError(`not a valid byte size: ${s}`);
    return s;
  }
  if (s === '0') return 0;
  if (!BYTE_SIZE_RE.test(s)) {
    const hint = /^\d+$/.test(s) ? ' (missing unit, e.g. "10MB")' : '';
    throw new RangeError(`not a valid byte size: ${JSON.stringify(s)}${hint}`);
  }
  let bytes = 0;
  for (const [, num, unit] of s.matchAll(BYTE_PART_RE)) {
    const mult = BYTE_UNITS[unit!];
    if (mult === undefined) {
      throw new RangeError(`unknown unit ${JSON.stringify(unit)} in byte size ${JSON.stringify(s)}`);
    }
    bytes += Number(num) * mult;
  }
  bytes = Math.floor(bytes);
  if (!Number.isSafeInteger(bytes)) throw new RangeError(`byte size out of range: ${JSON.stringify(s)}`);
  return bytes;
}
