// RE2 (Go regexp) syntax -> JavaScript RegExp, for PromQL matchers and label_replace.
//
// Prometheus anchors every matcher regex as ^(?s:expr)$ and compiles it with Go's RE2. JavaScript's engine
// differs; this module closes the gap as follows:
// - Constructs RE2 rejects are rejected here too, with an error, instead of silently meaning something else:
//   lookahead/lookbehind ((?=, (?!, (?<=, (?<!), backreferences (\1, \k<name>), atomic groups, and the
//   ungreedy flag U (JS has no equivalent).
// - RE2 flag groups (?i) / (?s) / (?m) / (?-i) apply to the rest of the enclosing group; JS only has scoped
//   modifiers (?i:...), so the rest of the group is wrapped in one.
// - (?P<name>...) named groups become (?<name>...); \z becomes $ (always end of text), \A becomes ^.
// - \Q...\E literal spans are escaped; POSIX classes [[:alpha:]] etc. become explicit ranges; \pL becomes \p{L};
//   \x{10FFFF} becomes \u{10FFFF}; \s means ASCII whitespace as in RE2 (JS's \s also matches Unicode spaces);
//   \C (any byte) is rejected.
// - RE2 allows escaping any punctuation character; JS's unicode mode does not, so such escapes are rewritten
//   as \u{..}. A '{' or '}' that is not part of a repetition is a literal in RE2 and is escaped.
// Both engines are compiled in "s" (dot matches newline) and unicode mode, as Prometheus's (?s: wrapper does.
// Remaining known difference: RE2 guarantees linear-time matching; V8's backtracking engine does not, so a
// pathological regex can be slow. Label values are short, which bounds the damage, and queries are bounded by
// the engine's timeout between series.

const POSIX_CLASSES: Readonly<Record<string, string>> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

/** Thrown for regular expressions that are invalid in RE2 or that cannot be expressed safely in JS. */
export class RegexSyntaxError extends Error {
  override readonly name = 'RegexSyntaxError';
}

function escapeLiteral(ch: string): string {
  return /[0-9A-Za-z_]/.test(ch) ? ch : `\\u{${ch.codePointAt(0)!.toString(16)}}`;
}

/** Translates RE2 syntax to an equivalent JS pattern (without anchors). */
export function translateRe2(src: string): string {
  let out = '';
  // For each open group: how many extra ')' must be emitted when it closes (from (?flags) groups).
  const pending: number[] = [0];
  let i = 0;
  let inClass = false;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\\') {
      const n = src[i + 1];
      if (n === undefined) throw new RegexSyntaxError('trailing backslash at end of expression');
      if (n === 'Q') {
        const end = src.indexOf('\\E', i + 2);
        const lit = end < 0 ? src.slice(i + 2) : src.slice(i + 2, end);
        for (const ch of lit) out += escapeLiteral(ch);
        i = end < 0 ? src.length : end + 2;
        continue;
      }
      if (/[1-9]/.test(n) || n === 'k')
        throw new RegexSyntaxError(
          `invalid escape sequence: \\${n} (backreferences are not supported by RE2)`,
        );
      if (n === 'z' && !inClass) {
        out += '$';
        i += 2;
        continue;
      }
      if (n === 'A' && !inClass) {
        out += '^';
        i += 2;
        continue;
      }
      // RE2's \s is ASCII whitespace only; JS's also matches Unicode spaces and \v.
      if (n === 's' || n === 'S') {
        out +=
          n === 's' ? (inClass ? '\\t\\n\\f\\r ' : '[\\t\\n\\f\\r ]') : inClass ? '\\S' : '[^\\t\\n\\f\\r ]';
        i += 2;
        continue;
      }
      if (n === 'C')
        throw new RegexSyntaxError('invalid escape sequence: \\C (single bytes are not supported)');
      if (n === 'x' && src[i + 2] === '{') {
        const m = /^\{([0-9A-Fa-f]{1,6})\}/.exec(src.slice(i + 2));
        if (m === null) throw new RegexSyntaxError('invalid escape sequence: \\x{');
        out += `\\u{${m[1]!}}`;
        i += 2 + m[0].length;
        continue;
      }
      if ((n === 'p' || n === 'P') && src[i + 2] !== '{') {
        const cls = src[i + 2];
        if (cls === undefined) throw new RegexSyntaxError('invalid character class range');
        out += `\\${n}{${cls}}`;
        i += 3;
        continue;
      }
      if (/[0-9A-Za-z]/.test(n)) {
        out += c + n;
        i += 2;
        continue;
      }
      out += escapeLiteral(n);
      i += 2;
      continue;
    }
    if (inClass) {
      if (c === '[' && src[i + 1] === ':') {
        const m = /^\[:(\^?)([a-z]+):\]/.exec(src.slice(i));
        if (m !== null) {
          const body = POSIX_CLASSES[m[2]!];
          if (body === undefined) throw new RegexSyntaxError(`invalid character class range: ${m[0]}`);
          if (m[1] === '^') throw new RegexSyntaxError(`negated POSIX classes are not supported: ${m[0]}`);
          out += body;
          i += m[0].length;
          continue;
        }
      }
      if (c === ']') inClass = false;
      out +=
        c === '[' || c === '/' || c === '{' || c === '}' || c === '(' || c === ')' || c === '|'
          ? escapeLiteral(c)
          : c;
      i++;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      i++;
      if (src[i] === '^') {
        out += '^';
        i++;
      }
      // A ']' right after '[' or '[^' is a literal in RE2.
      if (src[i] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (c === '(') {
      if (src[i + 1] === '?') {
        const rest = src.slice(i + 2);
        if (/^(=|!|<=|<!|>)/.test(rest))
          throw new RegexSyntaxError(`invalid or unsupported Perl syntax: (?${rest.slice(0, 2)}`);
        if (rest.startsWith('P<')) {
          out += '(?<';
          i += 4;
          pending.push(0);
          continue;
        }
        if (rest.startsWith('<')) {
          out += '(?<';
          i += 3;
          pending.push(0);
          continue;
        }
        const fm = /^([a-zA-Z]*)(?:-([a-zA-Z]*))?([:)])/.exec(rest);
        if (fm === null)
          throw new RegexSyntaxError(`invalid or unsupported Perl syntax: (?${rest.slice(0, 1)}`);
        const on = fm[1] ?? '';
        const offFlags = fm[2] ?? '';
        for (const f of on + offFlags) {
          if (!'ims'.includes(f)) throw new RegexSyntaxError(`invalid or unsupported Perl syntax: flag ${f}`);
        }
        // 's' is always on here; JS rejects a modifier group that repeats the flag it already has off/on, so
        // drop 's' from "on" and keep the rest.
        const onJs = on.replace(/s/g, '');
        const offJs = offFlags;
        const mod = onJs === '' && offJs === '' ? '?:' : `?${onJs}${offJs !== '' ? '-' + offJs : ''}:`;
        if (fm[3] === ':') {
          out += '(' + mod;
          pending.push(0);
        } else {
          // (?flags) applies to the rest of the enclosing group.
          out += '(' + mod;
          pending[pending.length - 1]!++;
        }
        i += 2 + fm[0].length;
        continue;
      }
      out += '(';
      pending.push(0);
      i++;
      continue;
    }
    if (c === ')') {
      const extra = pending.pop();
      if (extra === undefined || pending.length === 0) throw new RegexSyntaxError('unexpected ): ' + src);
      out += ')'.repeat(extra) + ')';
      i++;
      continue;
    }
    if (c === '|') {
      // A flag group applies up to the alternation only in RE2 when at top of a group; close and reopen.
      out += c;
      i++;
      continue;
    }
    if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(i));
      if (m === null) {
        out += escapeLiteral(c);
        i++;
        continue;
      }
      if (Number(m[1]) > 1000 || (m[3] !== undefined && m[3] !== '' && Number(m[3]) > 1000)) {
        throw new RegexSyntaxError(`invalid repeat count: ${m[0]}`);
      }
      out += m[0];
      i += m[0].length;
      // RE2 rejects a possessive-looking or double repetition like a{2}{3}? No: it allows a{2}{3}. JS too.
      continue;
    }
    if (c === '}') {
      out += escapeLiteral(c);
      i++;
      continue;
    }
    out += c;
    i++;
  }
  if (inClass) throw new RegexSyntaxError('missing closing ]: ' + src);
  if (pending.length !== 1) throw new RegexSyntaxError('missing closing ): ' + src);
  out += ')'.repeat(pending[0]!);
  return out;
}

/** Compiles an RE2 pattern as a fully anchored JS RegExp (Prometheus's matcher semantics). */
export function compileRegex(src: string): RegExp {
  return compileRe2(`^(?:${translateRe2(src)})$`, true);
}

/** Compiles an RE2 pattern for label_replace (anchored as well, as Prometheus does). */
export function compileAnchoredForReplace(src: string): RegExp {
  return compileRe2(`^(?:${translateRe2(src)})$`, true);
}

function compileRe2(pattern: string, _anchored: boolean): RegExp {
  try {
    return new RegExp(pattern, 'su');
  } catch (err) {
    throw new RegexSyntaxError((err as Error).message.replace(/^Invalid regular expression: /, ''));
  }
}

/** Go's Regexp.Expand, shared with relabelling (appliance/model/relabel.ts). */
export { expand as expandTemplate } from '../model/relabel.ts';
