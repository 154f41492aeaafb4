// A union whose branches are all records (the event payload) is exposed as a discriminated union: each decoded branch
// record carries a `group` property naming its branch, and values to encode pick their branch by the same property.
// Without this, avsc represents such a union as a wrapper object keyed by the record's fullname, which TypeScript
// cannot switch over exhaustively. The wire format is the plain Avro union; `group` never reaches the bytes.
import avro from 'avsc';

/** avsc's schema-construction options (not exported by its typings under a name). */
export type TypeOptions = NonNullable<Parameters<typeof avro.Type.forSchema>[1]>;
type AvscSchema = Parameters<typeof avro.Type.forSchema>[0];

/** The discriminator property added to the branch records of a record union. */
export const GROUP_PROPERTY = 'group';

/** Branch group of a record: its short name without a trailing 'Payload', first letter lower-cased (ExecPayload -> exec). */
export function groupOfRecord(fullname: string): string {
  const short = fullname.slice(fullname.lastIndexOf('.') + 1).replace(/Payload$/, '');
  return short.charAt(0).toLowerCase() + short.slice(1);
}

const building = new WeakSet<object>();

interface Resolverish {
  _read(tap: unknown): unknown;
}
interface ResolverSource {
  createResolver(type: avro.Type, opts?: unknown): Resolverish;
}

class RecordUnionType extends avro.types.LogicalType {
  readonly nameByGroup = new Map<string, string>();
  readonly groupByName = new Map<string, string>();

  constructor(schema: unknown[], opts: unknown) {
    const copy = schema.slice();
    building.add(copy);
    super(copy as AvscSchema, opts);
    (this as unknown as { _logicalTypeName: string })._logicalTypeName = 'record-union';
    const branches = (this.underlyingType as unknown as { types: avro.Type[] }).types;
    for (const branch of branches) {
      const name = branch.name as string;
      const group = groupOfRecord(name);
      if (this.nameByGroup.has(group)) throw new Error(`two union branches share the group '${group}'`);
      this.nameByGroup.set(group, name);
      this.groupByName.set(name, group);
    }
  }

  /** The branch types by union index, with their groups (the per-record fast path below). */
  #branches: readonly { readonly type: Resolverish; readonly group: string }[] | undefined;

  // Reads what the underlying (wrapped) union reads — the branch index, then that branch's record — without building
  // the wrapper object _fromValue would take apart again: every event goes through here.
  _read(tap: { readLong(): number }): unknown {
    this.#branches ??= (this.underlyingType as unknown as { types: (avro.Type & Resolverish)[] }).types.map((type) => ({ type, group: this.groupByName.get(type.name as string) as string }));
    const index = tap.readLong();
    const branch = this.#branches[index];
    if (branch === undefined) throw new Error(`invalid union index: ${index}`);
    const record = branch.type._read(tap) as Record<string, unknown>;
    record[GROUP_PROPERTY] = branch.group;
    return record;
  }

  protected override _fromValue(wrapped: Record<string, Record<string, unknown>>): unknown {
    const name = Object.keys(wrapped)[0] as string;
    const record = wrapped[name] as Record<string, unknown>;
    record[GROUP_PROPERTY] = this.groupByName.get(name);
    return record;
  }

  protected override _toValue(value: unknown): unknown {
    if (typeof value !== 'object' || value === null) return undefined;
    const name = this.nameByGroup.get((value as Record<string, unknown>)[GROUP_PROPERTY] as string);
    return name === undefined ? undefined : { [name]: value };
  }

  // Schema resolution: read the writer's union (plain or record-union) through the underlying union's resolver, then
  // tag the resolved branch. Overrides avsc's LogicalType._update, which would skip resolving the branch records.
  _update(resolver: { _read: (tap: unknown) => unknown }, writer: avro.Type, opts: unknown): void {
    const writerUnion = writer instanceof RecordUnionType ? writer.underlyingType : writer;
    const direct = this.#branchResolvers(writerUnion, opts);
    if (direct !== null) {
      // Each writer branch read by the resolver of the reader branch of the same name, then tagged: no wrapper object.
      resolver._read = (tap) => {
        const index = (tap as { readLong(): number }).readLong();
        const branch = direct[index];
        if (branch === undefined) throw new Error(`invalid union index: ${index}`);
        const record = branch.resolver._read(tap) as Record<string, unknown>;
        record[GROUP_PROPERTY] = branch.group;
        return record;
      };
      return;
    }
    const inner = (this.underlyingType as unknown as ResolverSource).createResolver(writerUnion, opts);
    resolver._read = (tap) => this._fromValue(inner._read(tap) as Record<string, Record<string, unknown>>);
  }

  /** Per writer branch, the resolver into the reader branch of the same name; null unless every branch has one. */
  #branchResolvers(writerUnion: avro.Type, opts: unknown): { readonly resolver: Resolverish; readonly group: string }[] | null {
    const writerBranches = (writerUnion as unknown as { types?: avro.Type[] }).types;
    const readerBranches = (this.underlyingType as unknown as { types: avro.Type[] }).types;
    if (writerBranches === undefined) return null;
    const direct: { resolver: Resolverish; group: string }[] = [];
    for (const branch of writerBranches) {
      const reader = readerBranches.find((candidate) => candidate.name !== undefined && candidate.name === branch.name);
      const group = reader === undefined ? undefined : this.groupByName.get(reader.name as string);
      if (reader === undefined || group === undefined) return null;
      direct.push({ resolver: (reader as unknown as ResolverSource).createResolver(branch, opts), group });
    }
    return direct;
  }
}

function isRecordUnionSchema(schema: unknown, opts: { namespace?: string; registry?: Record<string, avro.Type> }): schema is unknown[] {
  if (!Array.isArray(schema) || schema.length < 2 || building.has(schema)) return false;
  return schema.every((branch) => {
    if (typeof branch === 'string') {
      const fullname = branch.includes('.') || !opts.namespace ? branch : `${opts.namespace}.${branch}`;
      return opts.registry?.[fullname]?.typeName === 'record';
    }
    return typeof branch === 'object' && branch !== null && (branch as { type?: unknown }).type === 'record';
  });
}

/** avsc options that give Stinger's representation: bigint longs and discriminated record unions. */
export function stingerTypeOptions(longType: avro.Type): TypeOptions {
  return {
    registry: {},
    omitRecordMethods: true,
    typeHook: (schema, opts) => {
      if (schema === 'long' || (typeof schema === 'object' && schema !== null && (schema as { type?: unknown }).type === 'long')) {
        return longType;
      }
      if (isRecordUnionSchema(schema, opts as { namespace?: string; registry?: Record<string, avro.Type> })) {
        return new RecordUnionType(schema, opts);
      }
      return undefined;
    },
  };
}
