// Bundling: Stinger keeps each shared named type (Process, Pod, payload records, enums) in its own .avsc file and
// references it by fullname. A bundled schema is one self-contained JSON document: every referenced named type is
// defined inline at its first occurrence (depth-first, field order), as Avro parsers expect and as the Parsing
// Canonical Form writes it, and referenced by fullname afterwards.
import { namespaceOf, qualifyName, SchemaFormError } from './canonical.ts';

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);
const NAMED = new Set(['record', 'error', 'enum', 'fixed']);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: unknown): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The fullname a named-type definition declares, given the enclosing namespace. */
export function declaredFullname(schema: { [key: string]: unknown }, namespace?: string): string {
  const name = schema['name'];
  if (typeof name !== 'string') throw new SchemaFormError(`named type without a name: ${JSON.stringify(schema)}`);
  const declared = schema['namespace'];
  return qualifyName(name, typeof declared === 'string' ? declared : namespace);
}

/**
 * Inlines into `root` the named types it references from `definitions` (fullname -> definition JSON). Throws
 * SchemaFormError for a name that is neither defined inline, nor in `definitions`, nor primitive.
 */
export function bundleSchema(root: unknown, definitions: ReadonlyMap<string, unknown>): unknown {
  const defined = new Set<string>();

  const walk = (node: unknown, namespace: string | undefined): unknown => {
    if (typeof node === 'string') {
      if (PRIMITIVES.has(node)) return node;
      const fullname = qualifyName(node, namespace);
      if (defined.has(fullname)) return fullname;
      const definition = definitions.get(fullname);
      if (definition === undefined) throw new SchemaFormError(`undefined type name: ${fullname}`);
      return walk(definition, namespace);
    }
    if (Array.isArray(node)) return node.map((branch) => walk(branch, namespace));
    if (!isObject(node)) throw new SchemaFormError(`not a schema: ${JSON.stringify(node)}`);
    const type = node['type'];
    if (typeof type !== 'string' || (!PRIMITIVES.has(type) && !NAMED.has(type) && type !== 'array' && type !== 'map')) {
      return { ...node, type: walk(type, namespace) as Json };
    }
    if (type === 'array') return { ...node, items: walk(node['items'], namespace) as Json };
    if (type === 'map') return { ...node, values: walk(node['values'], namespace) as Json };
    if (!NAMED.has(type)) return node;
    const fullname = declaredFullname(node, namespace);
    if (defined.has(fullname)) throw new SchemaFormError(`type ${fullname} defined twice`);
    defined.add(fullname);
    if (type !== 'record' && type !== 'error') return node;
    const inner = namespaceOf(fullname) || undefined;
    const fields = node['fields'];
    if (!Array.isArray(fields)) throw new SchemaFormError(`record ${fullname} without fields`);
    return {
      ...node,
      fields: fields.map((field) => {
        if (!isObject(field)) throw new SchemaFormError(`bad field in ${fullname}`);
        return { ...field, type: walk(field['type'], inner) as Json };
      }),
    };
  };

  return walk(root, undefined);
}

/** Every named type a schema defines (inline definitions included), fullname -> definition, in definition order. */
export function namedTypesOf(schema: unknown): Map<string, { [key: string]: unknown }> {
  const found = new Map<string, { [key: string]: unknown }>();
  const walk = (node: unknown, namespace: string | undefined): void => {
    if (Array.isArray(node)) {
      for (const branch of node) walk(branch, namespace);
      return;
    }
    if (!isObject(node)) return;
    const type = node['type'];
    if (typeof type !== 'string') return walk(type, namespace);
    if (type === 'array') return walk(node['items'], namespace);
    if (type === 'map') return walk(node['values'], namespace);
    if (!NAMED.has(type)) return;
    const fullname = declaredFullname(node, namespace);
    found.set(fullname, node);
    const fields = node['fields'];
    if (Array.isArray(fields)) for (const field of fields) if (isObject(field)) walk(field['type'], namespaceOf(fullname) || undefined);
  };
  walk(schema, undefined);
  return found;
}
