/**
 * What a service's /healthz and /readyz say, from named checks the service wires in (its Kafka consumer, its producer,
 * its informers). Pure: the checks are functions of state the service keeps; this only combines them.
 *
 * - live: false only when restarting the process is the cure (a main loop stuck, a consumer that gave up). A broker
 *   or API server that is away is not: the clients reconnect on their own, and restarting every pod at once during
 *   an outage only adds to it. Kubernetes restarts the pod after the liveness probe's failureThreshold.
 * - ready: every check says the service does its job now (joined its group, informers synced, caught up).
 */

/** One check's verdict and the state it was judged on (shown in the probe's JSON body). */
export interface HealthCheck {
  readonly live: boolean;
  readonly ready: boolean;
  readonly detail: Readonly<Record<string, unknown>>;
}

/** Named checks, each called at every probe; must be cheap and synchronous. */
export type HealthChecks = Readonly<Record<string, () => HealthCheck>>;

export interface HealthReport {
  readonly live: boolean;
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, HealthCheck>>;
}

/**
 * Live when every check is live, ready when every check is ready. A check that throws is a defect in the check, not
 * a reason to restart: it counts as not ready and live, with the error in its detail.
 */
export function evaluateHealth(checks: HealthChecks): HealthReport {
  const results: Record<string, HealthCheck> = {};
  for (const [name, check] of Object.entries(checks)) {
    try {
      results[name] = check();
    } catch (error) {
      results[name] = { live: true, ready: false, detail: { error: (error as Error).message } };
    }
  }
  const all = Object.values(results);
  return { live: all.every((r) => r.live), ready: all.every((r) => r.ready), checks: results };
}

export interface DeferredCheck {
  /** The check to serve: not ready ("started": false) until `set`, then whatever the set check says. */
  readonly check: () => HealthCheck;
  set(check: () => HealthCheck): void;
}

/**
 * For what a service creates later in its start (a consumer created once the policies are read): the health server
 * starts first, so the probes answer 503 while the service starts rather than refusing connections.
 */
export function deferredCheck(): DeferredCheck {
  let current = (): HealthCheck => ({ live: true, ready: false, detail: { started: false } });
  return {
    check: () => current(),
    set(check) {
      current = check;
    },
  };
}
