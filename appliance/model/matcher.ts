// Label matchers, with Prometheus's semantics. This module is a leaf: it imports nothing.

/** The four matcher kinds of PromQL selectors. */
export type MatchType = '=' | '!=' | '=~' | '!~';

/** A compiled matcher: regular expressions are anchored at both ends, as in Prometheus. */
export interface Matcher {
  readonly type: MatchType;
  readonly name: string;
  readonly value: string;
  /** True when a label value (or '' for an absent label) satisfies the matcher. */
  matches(value: string): boolean;
}

/** Raised for a regular expression that JavaScript cannot compile. */
export class MatcherError extends Error {
  override readonly name = 'MatcherError';
}

/**
 * Builds a matcher. Regular expressions are compiled with the `s` flag so that `.` matches newlines, as RE2
 * does in Prometheus (which compiles `^(?s:expr)$`); the `u` flag keeps code points intact.
 */
export function newMatcher(type: MatchType, name: string, value: string): Matcher {
  switch (type) {
    case '=':
      return { type, name, value, matches: (v) => v === value };
    case '!=':
      return { type, name, value, matches: (v) => v !== value };
    case '=~':
    case '!~': {
      let re: RegExp;
      try {
        re = new RegExp(`^(?:${value})$`, 'su');
      } catch (err) {
        throw new MatcherError(
          `invalid regular expression ${JSON.stringify(value)}: ${(err as Error).message}`,
        );
      }
      const negate = type === '!~';
      return { type, name, value, matches: (v) => re.test(v) !== negate };
    }
  }
}
