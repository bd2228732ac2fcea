// A validator for the subset of OpenAPI 3.0 schema objects NetBox's components use: type, properties, required,
// nullable, items, $ref, allOf, oneOf, anyOf, enum, additionalProperties, maxLength, minimum, maximum, pattern.
// Formats are not checked. It exists so the NetBox fixture is held to the genuine 4.6.8 schema.

type Schema = Record<string, unknown>;

export interface OpenApiDoc {
  readonly components: { readonly schemas: Readonly<Record<string, Schema>> };
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function isChoiceObject(s: Schema): boolean {
  const props = s.properties as Record<string, unknown> | undefined;
  return s.type === 'object' && props !== undefined && Object.keys(props).sort().join(',') === 'label,value';
}

/** Returns every problem as "path: message"; an empty list means the value conforms. */
export function validate(doc: OpenApiDoc, schema: Schema, value: unknown, path = '$'): string[] {
  const errors: string[] = [];
  const resolve = (s: Schema): Schema => {
    const ref = s.$ref;
    if (typeof ref !== 'string') return s;
    const name = ref.replace('#/components/schemas/', '');
    const target = doc.components.schemas[name];
    if (!target) throw new Error(`unknown $ref ${ref}`);
    return target;
  };
  const s = resolve(schema);
  if (value === null) {
    if (s.nullable === true || schema.nullable === true) return errors;
    // drf-spectacular marks nullable choice fields ({value, label} objects such as airflow or face) as not
    // nullable, but genuine 4.6.8 responses send null for them; that known schema gap is allowed here.
    if (isChoiceObject(s)) return errors;
    // An allOf wrapper carries nullable itself; a bare type without nullable refuses null.
    if (s.type !== undefined || s.properties !== undefined || s.allOf !== undefined) {
      return [`${path}: null but not nullable`];
    }
    return errors;
  }
  if (Array.isArray(s.allOf))
    for (const sub of s.allOf as Schema[]) errors.push(...validate(doc, sub, value, path));
  for (const key of ['oneOf', 'anyOf'] as const) {
    const subs = s[key];
    if (Array.isArray(subs)) {
      const passing = (subs as Schema[]).filter((sub) => validate(doc, sub, value, path).length === 0).length;
      if (key === 'anyOf' ? passing === 0 : passing !== 1)
        errors.push(`${path}: matches ${passing} of ${key}`);
    }
  }
  if (Array.isArray(s.enum) && !(s.enum as unknown[]).includes(value)) {
    errors.push(`${path}: ${JSON.stringify(value)} not in enum`);
  }
  const t = s.type;
  if (typeof t === 'string') {
    const actual = typeOf(value);
    const ok = t === actual || (t === 'number' && actual === 'integer');
    if (!ok) {
      errors.push(`${path}: expected ${t}, got ${actual}`);
      return errors;
    }
  }
  if (typeof value === 'string') {
    if (typeof s.maxLength === 'number' && value.length > s.maxLength)
      errors.push(`${path}: longer than ${s.maxLength}`);
    if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(value))
      errors.push(`${path}: does not match pattern`);
  }
  if (typeof value === 'number') {
    if (typeof s.minimum === 'number' && value < s.minimum) errors.push(`${path}: below ${s.minimum}`);
    if (typeof s.maximum === 'number' && value > s.maximum) errors.push(`${path}: above ${s.maximum}`);
  }
  if (Array.isArray(value) && s.items) {
    value.forEach((item, i) => errors.push(...validate(doc, s.items as Schema, item, `${path}[${i}]`)));
  }
  if (typeOf(value) === 'object') {
    const obj = value as Record<string, unknown>;
    for (const r of (s.required as string[] | undefined) ?? []) {
      if (!(r in obj)) errors.push(`${path}: missing required ${r}`);
    }
    const props = (s.properties ?? {}) as Record<string, Schema>;
    for (const [k, v] of Object.entries(obj)) {
      const p = props[k];
      if (p) errors.push(...validate(doc, p, v, `${path}.${k}`));
      else if (typeof s.additionalProperties === 'object' && s.additionalProperties !== null) {
        errors.push(...validate(doc, s.additionalProperties as Schema, v, `${path}.${k}`));
      }
    }
  }
  return errors;
}

/** The 200 response schema of a GET path in the document. */
export function responseSchema(doc: OpenApiDoc & { paths: Record<string, unknown> }, path: string): Schema {
  const op = (
    doc.paths[path] as { get: { responses: Record<string, { content: Record<string, { schema: Schema }> }> } }
  ).get;
  return op.responses['200']!.content['application/json']!.schema;
}
