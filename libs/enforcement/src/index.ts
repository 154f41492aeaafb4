// @stinger/enforcement: the enforcer's logic, pure — alerts to decisions and signed kill commands, agents'
// acknowledgements and timeouts to the outcome records of stinger.enforcements.
export { Enforcer, handledAlertIds, MAX_ALERT_AGE_MS, type EnforcerOptions, type EnforcerOutput, type EnforcerStats } from './enforcer.ts';
