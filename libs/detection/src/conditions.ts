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

/** The positive test of an operator (`not_x` conditions negate `x`'s). */
function valueTest(operator: PositiveOperator, values: readonly string[]): (value: FieldValue) => boolean {
  switch (operator) {
    case 'equal': {
      const set = new Set(values);
      return (value) => set.has(String(value));
    }
    case 'prefix':
      return (value) => typeof value === 'string' && values.some((prefix) => value.startsWith(prefix));
    case 'suffix':
      return (value) => typeof value === 'string' && values.some((suffix) => value.endsWith(suffix));
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
      return (value) => {
        const address = typeof value === 'string' ? parseAddress(value) : null;
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
  const test = valueTest(positive, condition.values);
  if (negated) return (event) => !fieldValues(event, field).some(test);
  return (event) => fieldValues(event, field).some(test);
}

/** All conditions must hold (an empty list holds for every event). */
export function compileConditions(conditions: readonly MatchCondition[]): EventPredicate {
  const predicates = conditions.map(compileCondition);
  return (event) => predicates.every((predicate) => predicate(event));
}
