// @stinger/rego: Rego (Open Policy Agent) modules of policies — opa built from its pinned Go module, modules compiled
// to WebAssembly with `opa build -t wasm`, and evaluated in a worker thread with a time budget per input.
export { buildOpa, cachedOpaPath, findCachedOpa, OPA_MODULE_DIR, OPA_VERSION } from './opa-build.ts';
export { compileRego, regoProblemsOf, tarEntry, type RegoCompilation, type RegoProblem } from './compile-rego.ts';
export { REGO_REQUESTED_ACTIONS, REGO_SEVERITIES, regoAlertsOf, type RegoAlert } from './rego-alerts.ts';
export { RegoBatchEvaluator, type RegoBatchEvaluatorOptions, type RegoEvaluatorStats, type RegoJob, type RegoResult } from './rego-evaluator.ts';
