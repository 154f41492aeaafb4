// Parsing Canonical Form (Avro specification, "Parsing Canonical Form for Schemas"), computed from the schema JSON.
// Transformations: PRIMITIVES ({"type":"int"} -> "int"), FULLNAMES (names qualified, namespace attributes dropped),
// STRIP (only type, name, fields, symbols, items, values, size kept), ORDER (name, type, fields, symbols, items,
// values, size), STRINGS (no escapes beyond what JSON requires), INTEGERS (size as a plain integer), WHITESPACE (none).
// A named type is written in full at its first occurrence and as its quoted fullname afterwards, as in Java's
// SchemaNormalization. Attributes such as logicalType, doc, default, aliases and order are stripped.

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);
const NAMED = new Set(['record', 'error', 'enum', 'fixed']);

/** Thrown when the input is not a valid Avro schema as far as canonicalisation needs to know. */
export class SchemaFormError extends Error {
  override readonly name = 'SchemaFormError';
}

/** The fullname of `name` declared or referenced where the enclosing namespace is `namespace`. */
export function qualifyName(name: string, namespace: string | undefined): string {
  if (name.includes('.') || !namespace) return name;
  return `${namespace}.${name}`;
}

/** The namespace part of a fullname ('' when none). */
export function namespaceOf(fullname: string): string {
  const dot = fullname.lastIndexOf('.');
  return dot < 0 ? '' : fullname.slice(0, dot);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function definedName(schema: Record<string, unknown>, namespace: string | undefined): string {
  const name = schema['name'];
  if (typeof name !== 'string' || name === '') throw new SchemaFormError(`named type without a name: ${JSON.stringify(schema)}`);
  const declared = schema['namespace'];
  // An explicit "namespace" (even "") replaces the enclosing one; a dotted name ignores both.
  return qualifyName(name, typeof declared === 'string' ? declared : namespace);
}

function canonical(schema: unknown, namespace: string | undefined, seen: Set<string>): string {
  if (typeof schema === 'string') {
    return JSON.stringify(PRIMITIVES.has(schema) ? schema : qualifyName(schema, namespace));
  }
  if (Array.isArray(schema)) {
    return `[${schema.map((branch) => canonical(branch, namespace, seen)).join(',')}]`;
  }
  if (!isObject(schema)) throw new SchemaFormError(`not a schema: ${JSON.stringify(schema)}`);
  const type = schema['type'];
  if (typeof type !== 'string') return canonical(type, namespace, seen);
  if (PRIMITIVES.has(type)) return JSON.stringify(type);
  if (type === 'array') return `{"type":"array","items":${canonical(schema['items'], namespace, seen)}}`;
  if (type === 'map') return `{"type":"map","values":${canonical(schema['values'], namespace, seen)}}`;
  if (!NAMED.has(type)) return canonical(type, namespace, seen);

  const fullname = definedName(schema, namespace);
  if (seen.has(fullname)) return JSON.stringify(fullname);
  seen.add(fullname);
  const head = `{"name":${JSON.stringify(fullname)},"type":${JSON.stringify(type)}`;
  const inner = namespaceOf(fullname) || undefined;
  switch (type) {
    case 'record':
    case 'error': {
      const fields = schema['fields'];
      if (!Array.isArray(fields)) throw new SchemaFormError(`record ${fullname} without fields`);
      const parts = fields.map((field: unknown) => {
        if (!isObject(field) || typeof field['name'] !== 'string') throw new SchemaFormError(`bad field in ${fullname}`);
        return `{"name":${JSON.stringify(field['name'])},"type":${canonical(field['type'], inner, seen)}}`;
      });
      return `${head},"fields":[${parts.join(',')}]}`;
    }
    case 'enum': {
      const symbols = schema['symbols'];
      if (!Array.isArray(symbols)) throw new SchemaFormError(`enum ${fullname} without symbols`);
      return `${head},"symbols":[${symbols.map((s) => JSON.stringify(String(s))).join(',')}]}`;
    }
    default: {
      const size = Number(schema['size']);
      if (!Number.isInteger(size) || size < 0) throw new SchemaFormError(`fixed ${fullname} with a bad size`);
      return `${head},"size":${size}}`;
    }
  }
}

/** The Parsing Canonical Form of a schema given as JSON text or as the parsed JSON value. */
export function parsingCanonicalForm(schema: unknown): string {
  const parsed: unknown = typeof schema === 'string' && /^\s*[[{"]/.test(schema) ? JSON.parse(schema) : schema;
  return canonical(parsed, undefined, new Set());
}
