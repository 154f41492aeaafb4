/**
 * MatchCondition (CompiledPolicy) → predicate on an Event. Compiled once per policy record, called per event: the
 * values are parsed here (numbers, ranges, CIDRs), never per event. A condition holds when any of the event's values
 * for the field matches any of the condition's values (not_equal: when none equals).
 */
import type { Event, MatchCondition, MatchOperator } from '@stinger/events';
import { ALL_MATCH_FIELDS, parseCidr, type MatchField, type ParsedCidr } from '@stinger/policy';
import { fieldValues, type FieldValue } from './event-fields.ts';

export type EventPredicate = (event: Event) => boolean;

/** A condition the detector cannot evaluate (a record from another producer): named, so the policy is refused, not half-applied. */
export class ConditionError extends Error {}

function rangeOf(text: string): { low: number; high: number } {
  const [lowText, highText = lowText] = text.split('-').map((part) => part.trim());
  const low = Number(lowText);
  const high = Number(highText);
  if (!Number.isInteger(low) || !Number.isInteger(high) || low > high) throw new ConditionError(`${JSON.stringify(text)} is not a number or range`);
  return { low, high };
}

function contains(cidr: ParsedCidr, address: ParsedCidr): boolean {
  if (cidr.family !== address.family) return false;
  for (let bit = 0; bit < cidr.prefixLength; bit++) {
    const index = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if (((cidr.bytes[index] ?? 0) & mask) !== ((address.bytes[index] ?? 0) & mask)) return false;
  }
  return true;
}

/** The address an IPv4-mapped IPv6 address (::ffff:a.b.c.d) stands for, so a v4 CIDR matches it. */
function parseAddress(text: string): ParsedCidr | null {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(text);
  return parseCidr(mapped?.[1] ?? text);
}

/** A dotted-quad IPv4 address as an unsigned 32-bit number, or -1 when `text` is not one (the per-event fast path). */
function ipv4Number(text: string): number {
  let value = 0;
  let part = -1;
  let parts = 0;
  for (let index = 0; index <= text.length; index++) {
    const code = index < text.length ? text.charCodeAt(index) : 46; // a final '.' closes the last part
    if (code === 46) {
      if (part < 0 || part > 255 || ++parts > 4) return -1;
      value = value * 256 + part;
      part = -1;
    } else if (code >= 48 && code <= 57) {
      if (part === 0) return -1; // a leading zero: not the canonical form parseCidr accepts
      part = part < 0 ? code - 48 : part * 10 + code - 48;
    } else {
      return -1;
    }
  }
  return parts === 4 ? value : -1;
}

/** IPv4 CIDRs as [network, mask] pairs of unsigned 32-bit numbers. */
function ipv4Ranges(cidrs: readonly ParsedCidr[]): [number, number][] {
  return cidrs
    .filter((cidr) => cidr.family === 4)
    .map((cidr) => {
      const mask = cidr.prefixLength === 0 ? 0 : (0xffffffff << (32 - cidr.prefixLength)) >>> 0;
      const network = ((cidr.bytes[0] ?? 0) * 0x1000000 + (cidr.bytes[1] ?? 0) * 0x10000 + (cidr.bytes[2] ?? 0) * 0x100 + (cidr.bytes[3] ?? 0)) >>> 0;
      return [(network & mask) >>> 0, mask];
    });
}

/** The positive test of an operator (`not_x` conditions negate `x`'s). */
function valueTest(operator: PositiveOperator, values: readonly string[]): (value: FieldValue) => boolean {
  switch (operator) {
    case 'equal': {
      const set = new Set(values);
      return (value) => set.has(String(value));
    }
    case 'prefix':
      return (value) => {
        if (typeof value !== 'string') return false;
        for (const prefix of values) if (value.startsWith(prefix)) return true;
        return false;
      };
    case 'suffix':
      return (value) => {
        if (typeof value !== 'string') return false;
        for (const suffix of values) if (value.endsWith(suffix)) return true;
        return false;
      };
    case 'range': {
      const ranges = values.map(rangeOf);
      return (value) => typeof value === 'number' && ranges.some((r) => value >= r.low && value <= r.high);
    }
    case 'cidr': {
      const cidrs = values.map((text) => {
        const parsed = parseCidr(text);
        if (parsed === null) throw new ConditionError(`${JSON.stringify(text)} is not a CIDR`);
        return parsed;
      });
      const v4 = ipv4Ranges(cidrs);
      return (value) => {
        if (typeof value !== 'string') return false;
        const number = ipv4Number(value);
        if (number >= 0) return v4.some(([network, mask]) => ((number & mask) >>> 0) === network);
        const address = parseAddress(value);
        return address !== null && cidrs.some((cidr) => contains(cidr, address));
      };
    }
  }
}

type PositiveOperator = 'equal' | 'prefix' | 'suffix' | 'cidr' | 'range';

function split(operator: MatchOperator): { readonly positive: PositiveOperator; readonly negated: boolean } {
  switch (operator) {
    case 'equal':
    case 'prefix':
    case 'suffix':
    case 'cidr':
    case 'range':
      return { positive: operator, negated: false };
    case 'not_equal':
      return { positive: 'equal', negated: true };
    case 'not_prefix':
      return { positive: 'prefix', negated: true };
    case 'not_suffix':
      return { positive: 'suffix', negated: true };
    case 'not_cidr':
      return { positive: 'cidr', negated: true };
    case 'not_range':
      return { positive: 'range', negated: true };
  }
}

export function compileCondition(condition: MatchCondition): EventPredicate {
  if (!(ALL_MATCH_FIELDS as readonly string[]).includes(condition.field)) throw new ConditionError(`unknown match field ${JSON.stringify(condition.field)}`);
  const field = condition.field as MatchField;
  const { positive, negated } = split(condition.operator);
  const some = anyValue(field, valueTest(positive, condition.values));
  return negated ? (event) => !some(event) : some;
}

/**
 * Whether any of the event's values for `field` passes `test`: fieldValues(event, field).some(test), with the fields
 * most rules name read in place (no array per event and condition; this runs for every rule on every event).
 */
function anyValue(field: MatchField, test: (value: FieldValue) => boolean): EventPredicate {
  switch (field) {
    case 'binary':
      return (event) => test(event.process.binary);
    case 'parentBinary':
      return (event) => event.parent !== null && test(event.parent.binary);
    case 'path':
      return (event) => {
        const { payload } = event;
        if (payload.group !== 'file') return fieldValues(event, field).some(test);
        if (test(payload.path)) return true;
        // The path as given counts too when absolute and different (fieldValues: what the kernel matched).
        return payload.path_as_given !== payload.path && payload.path_as_given.startsWith('/') && test(payload.path_as_given);
      };
    case 'daddr':
      return (event) => {
        const { payload } = event;
        if (payload.group === 'egress') return test(payload.daddr);
        return payload.group === 'network' && payload.daddr !== null && test(payload.daddr);
      };
    case 'dport':
      return (event) => {
        const { payload } = event;
        if (payload.group === 'egress') return test(payload.dport);
        return payload.group === 'network' && payload.dport !== null && test(payload.dport);
      };
    case 'uid':
    case 'op':
    case 'access':
    case 'sport':
    case 'toUid':
    case 'capabilities':
    case 'namespaces':
    case 'name':
    case 'fstype':
    case 'request':
    case 'command':
    case 'sha256':
    case 'dnsName':
    case 'serverName':
    case 'httpHost':
      return (event) => fieldValues(event, field).some(test);
  }
}

/**
 * A file close event (op close: what was read and written through an open the agent already reported at its open)
 * matches only conditions that name the op: a rule about reading /etc/shadow matched at the open, and must not match
 * the same access again at its close.
 */
function skippingFileCloses(predicate: EventPredicate): EventPredicate {
  return (event) => !(event.payload.group === 'file' && event.payload.op === 'close') && predicate(event);
}

/** All conditions must hold (an empty list holds for every event; a file close only when a condition names `op`). */
export function compileConditions(conditions: readonly MatchCondition[]): EventPredicate {
  const all = compileEveryCondition(conditions);
  return conditions.some((c) => c.field === 'op') ? all : skippingFileCloses(all);
}

function compileEveryCondition(conditions: readonly MatchCondition[]): EventPredicate {
  const predicates = conditions.map(compileCondition);
  // Rules mostly have one or two conditions: called directly, without a loop per event.
  const [first, second] = predicates;
  if (first === undefined) return () => true;
  if (predicates.length === 1) return first;
  if (predicates.length === 2 && second !== undefined) return (event) => first(event) && second(event);
  return (event) => predicates.every((predicate) => predicate(event));
}
