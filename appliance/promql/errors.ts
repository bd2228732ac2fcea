// The one error type of the PromQL engine, with the kinds the HTTP API maps to Prometheus's error types.

/** Prometheus's API error types that the engine can produce. */
export type PromQLErrorKind = 'bad_data' | 'execution' | 'timeout' | 'canceled' | 'too_many_samples';

/** A parse or evaluation failure. `position` is the byte range in the query text, when known. */
export class PromQLError extends Error {
  override readonly name = 'PromQLError';
  readonly kind: PromQLErrorKind;
  readonly position?: { start: number; end: number };
  constructor(kind: PromQLErrorKind, message: string, position?: { start: number; end: number }) {
    super(message);
    this.kind = kind;
    if (position !== undefined) this.position = position;
  }
}
