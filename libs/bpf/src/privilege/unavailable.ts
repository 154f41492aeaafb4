/**
 * The privilege sensor when it did not load (contract in core/unavailable-sensor.ts): namespace and module rule
 * installs throw SensorUnavailableError, watch() and removals change nothing, the rule maps are empty.
 */
import { SensorUnavailableError } from '../core/errors.ts';
import { unavailableSensor } from '../core/unavailable-sensor.ts';
import type { ModuleRule, NamespaceRule, PrivilegeSensor, ScopeRuleMap } from './sensor.ts';

export function unavailablePrivilegeSensor(loadError: unknown): PrivilegeSensor {
  const noRules = <R>(): ScopeRuleMap<R> => ({
    set: () => {
      throw new SensorUnavailableError('privilege', loadError);
    },
    remove: () => false,
    clear: () => undefined,
    size: 0,
  });
  return Object.assign(unavailableSensor('privilege', loadError), {
    watch: () => undefined,
    namespaceRules: noRules<NamespaceRule>(),
    moduleRules: noRules<ModuleRule>(),
    // No tracepoint was looked at: the whole sensor is missing, which the caller knows from its load error.
    unavailable: [],
  });
}
