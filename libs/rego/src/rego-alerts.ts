/**
 * What a Rego module's entrypoint yields, checked: a set (array in JSON) of alert objects. Anything else in it is not an
 * alert and is dropped, counted by the caller; a module cannot make the detector publish a malformed Alert.
 */
export const REGO_SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export const REGO_REQUESTED_ACTIONS = ['audit', 'kill'] as const;

export interface RegoAlert {
  /** Names the alert's rule: `<rule>` of the policy (a DNS-1123 label; default 'rego'). */
  readonly rule: string;
  readonly severity: (typeof REGO_SEVERITIES)[number];
  readonly message: string;
  readonly tags: readonly string[];
  readonly action: (typeof REGO_REQUESTED_ACTIONS)[number];
}

const RULE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The alerts of one evaluation (opa-wasm's `[{ result }]`), and how many entries were not alerts. */
export function regoAlertsOf(evaluation: unknown): { readonly alerts: RegoAlert[]; readonly malformed: number } {
  const result = Array.isArray(evaluation) ? (evaluation[0] as { result?: unknown } | undefined)?.result : undefined;
  if (result === undefined) return { alerts: [], malformed: 0 }; // the rule is undefined for this input: no alert
  const entries = Array.isArray(result) ? result : [result];
  const alerts: RegoAlert[] = [];
  let malformed = 0;
  for (const entry of entries) {
    const alert = alertOf(entry);
    if (alert === null) malformed += 1;
    else alerts.push(alert);
  }
  return { alerts, malformed };
}

function alertOf(entry: unknown): RegoAlert | null {
  if (typeof entry !== 'object' || entry === null) return null;
  const { rule = 'rego', severity = 'medium', message, tags = [], action = 'audit' } = entry as Record<string, unknown>;
  if (typeof rule !== 'string' || rule.length > 63 || !RULE_NAME.test(rule)) return null;
  if (!(REGO_SEVERITIES as readonly unknown[]).includes(severity) || !(REGO_REQUESTED_ACTIONS as readonly unknown[]).includes(action)) return null;
  if (typeof message !== 'string' || !Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) return null;
  return { rule, severity: severity as RegoAlert['severity'], message: message.slice(0, 1024), tags: tags as string[], action: action as RegoAlert['action'] };
}
