// Prometheus relabelling (model/relabel/relabel.go), as a pure function over label sets. Used for
// write_relabel_configs now, and for relabel_configs / metric_relabel_configs. It depends only on labels.ts
// and node:crypto (hashmod is MD5-based, so that targets shard exactly as they would in Prometheus).
import { createHash } from 'node:crypto';
import type { Labels } from './labels.ts';
import { LabelsBuilder } from './labels.ts';

export type RelabelAction =
  | 'replace'
  | 'keep'
  | 'drop'
  | 'keepequal'
  | 'dropequal'
  | 'hashmod'
  | 'labelmap'
  | 'labeldrop'
  | 'labelkeep'
  | 'lowercase'
  | 'uppercase';

/** One rule with Prometheus's defaults applied (see {@link compileRelabel}). */
export interface RelabelConfig {
  readonly source_labels: readonly string[];
  readonly separator: string;
  readonly regex: string;
  readonly modulus: number;
  readonly target_label: string;
  readonly replacement: string;
  readonly action: RelabelAction;
}

/** Prometheus's defaults: separator ";", regex "(.*)", replacement "$1", action "replace". */
export const RELABEL_DEFAULTS = {
  separator: ';',
  regex: '(.*)',
  replacement: '$1',
  action: 'replace',
} as const;

/** A rule with its regular expression compiled (anchored at both ends, as Prometheus does). */
export interface CompiledRelabel extends RelabelConfig {
  readonly re: RegExp;
}

export class RelabelError extends Error {
  override readonly name = 'RelabelError';
}

export function compileRelabel(c: RelabelConfig): CompiledRelabel {
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${c.regex})$`, 'su');
  } catch (err) {
    throw new RelabelError(`invalid regex ${JSON.stringify(c.regex)}: ${(err as Error).message}`);
  }
  return { ...c, re };
}

/**
 * Expands `$1`, `${1}`, `$name` and `${name}` in a replacement as Go's Regexp.Expand does: a name is the longest
 * run of letters, digits and underscores; a group that did not match, or does not exist, expands to ''; `$$` is
 * a literal `$`.
 */
export function expand(template: string, m: RegExpExecArray): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (c !== '$') {
      out += c;
      continue;
    }
    const n = template[i + 1];
    if (n === '$') {
      out += '$';
      i++;
      continue;
    }
    let name: string;
    let len: number;
    if (n === '{') {
      const end = template.indexOf('}', i + 2);
      const candidate = end < 0 ? '' : template.slice(i + 2, end);
      if (end < 0 || !/^[A-Za-z0-9_]+$/.test(candidate)) {
        out += c;
        continue;
      }
      name = candidate;
      len = end - i + 1;
    } else {
      const mm = /^[A-Za-z0-9_]+/.exec(template.slice(i + 1));
      if (mm === null) {
        out += c;
        continue;
      }
      name = mm[0];
      len = name.length + 1;
    }
    if (/^\d+$/.test(name)) out += m[Number(name)] ?? '';
    else out += m.groups?.[name] ?? '';
    i += len - 1;
  }
  return out;
}

/** Prometheus's hashmod: the last 8 bytes of the MD5 of the value, big-endian, modulo the modulus. */
function hashMod(s: string, modulus: number): number {
  const d = createHash('md5').update(s).digest();
  return Number(d.readBigUInt64BE(8) % BigInt(modulus));
}

/**
 * Applies the rules in order. Returns the new label set, or null when a keep/drop rule dropped it. Labels with
 * empty values are removed, as in Prometheus.
 */
export function relabel(labels: Labels, rules: readonly CompiledRelabel[]): Labels | null {
  if (rules.length === 0) return labels;
  const b = new LabelsBuilder(labels);
  for (const r of rules) {
    const value = r.source_labels.map((n) => b.get(n)).join(r.separator);
    switch (r.action) {
      case 'drop':
        if (r.re.test(value)) return null;
        break;
      case 'keep':
        if (!r.re.test(value)) return null;
        break;
      case 'dropequal':
        if (value === b.get(r.target_label)) return null;
        break;
      case 'keepequal':
        if (value !== b.get(r.target_label)) return null;
        break;
      case 'replace': {
        const m = r.re.exec(value);
        if (!m) break;
        const target = expand(r.target_label, m);
        if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(target)) break;
        const res = expand(r.replacement, m);
        b.set(target, res);
        break;
      }
      case 'lowercase':
        b.set(r.target_label, value.toLowerCase());
        break;
      case 'uppercase':
        b.set(r.target_label, value.toUpperCase());
        break;
      case 'hashmod':
        b.set(r.target_label, String(hashMod(value, r.modulus)));
        break;
      case 'labelmap':
        for (const name of b.names()) {
          const m = r.re.exec(name);
          if (m) b.set(expand(r.replacement, m), b.get(name));
        }
        break;
      case 'labeldrop':
        for (const name of b.names()) if (r.re.test(name)) b.delete(name);
        break;
      case 'labelkeep':
        for (const name of b.names()) if (!r.re.test(name)) b.delete(name);
        break;
    }
  }
  return b.labels();
}
