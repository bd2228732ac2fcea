// Label sets: the identity of a series. This module is a leaf: it imports nothing.

/** One label: a name and its value. */
export interface Label {
  readonly name: string;
  readonly value: string;
}

/**
 * A label set sorted by name with unique names and no empty values, as Prometheus keeps them.
 * Build one with {@link labelsFromRecord} or {@link LabelsBuilder}; never sort or mutate in place.
 */
export type Labels = readonly Label[];

/** The label that carries the metric name. */
export const METRIC_NAME = '__name__';

/** Prometheus's metric name syntax (legacy, non-UTF-8 validation scheme). */
export const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
/** Prometheus's label name syntax. */
export const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function compareNames(a: Label, b: Label): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Builds a sorted label set from a plain record, dropping empty values (an empty value means "absent"). */
export function labelsFromRecord(record: Readonly<Record<string, string>>): Labels {
  const out: Label[] = [];
  for (const [name, value] of Object.entries(record)) {
    if (value !== '') out.push({ name, value });
  }
  return out.sort(compareNames);
}

/** Returns the labels as a plain record (for JSON APIs). */
export function labelsToRecord(labels: Labels): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of labels) out[l.name] = l.value;
  return out;
}

/** Returns the value of the label, or '' when it is absent (Prometheus's convention). */
export function getLabel(labels: Labels, name: string): string {
  for (const l of labels) if (l.name === name) return l.value;
  return '';
}

/**
 * A canonical string for a label set, usable as a map key. Names and values are joined with
 * separators that cannot occur in valid UTF-8 text (0xff is never a valid UTF-8 byte, and U+FFFF is a noncharacter).
 */
export function labelsKey(labels: Labels): string {
  let s = '';
  for (const l of labels) s += l.name + '\uffff' + l.value + '\ufffe';
  return s;
}

/** Two label sets are equal when they have the same names and values. */
export function labelsEqual(a: Labels, b: Labels): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.name !== y.name || x.value !== y.value) return false;
  }
  return true;
}

/** Prometheus-style text form: `name{a="1", b="2"}`. */
export function labelsToString(labels: Labels): string {
  const name = getLabel(labels, METRIC_NAME);
  const rest = labels
    .filter((l) => l.name !== METRIC_NAME)
    .map((l) => `${l.name}=${JSON.stringify(l.value)}`)
    .join(', ');
  return rest === '' && name !== '' ? name : `${name}{${rest}}`;
}

/** A mutable builder: set and delete labels, then take a sorted, immutable set. */
export class LabelsBuilder {
  private readonly map = new Map<string, string>();

  constructor(base: Labels = []) {
    for (const l of base) this.map.set(l.name, l.value);
  }

  get(name: string): string {
    return this.map.get(name) ?? '';
  }

  /** Sets a label; an empty value deletes it, as in Prometheus. */
  set(name: string, value: string): this {
    if (value === '') this.map.delete(name);
    else this.map.set(name, value);
    return this;
  }

  delete(name: string): this {
    this.map.delete(name);
    return this;
  }

  has(name: string): boolean {
    return this.map.has(name);
  }

  names(): string[] {
    return [...this.map.keys()];
  }

  labels(): Labels {
    const out: Label[] = [];
    for (const [name, value] of this.map) out.push({ name, value });
    return out.sort(compareNames);
  }
}

/** Orders label sets as Prometheus does: name by name, then value, then the shorter set first. */
export function compareLabels(a: Labels, b: Labels): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.name !== y.name) return x.name < y.name ? -1 : 1;
    if (x.value !== y.value) return x.value < y.value ? -1 : 1;
  }
  return a.length - b.length;
}
