/**
 * TracingPolicy → what the rest of Stinger consumes:
 *
 * - `compiled`: the CompiledPolicy record for the stinger.policies topic (detector and agents read it);
 * - `kernelRules`: entries for the node agent's BPF maps, for the parts the kernel can decide by itself
 *   (binary or path by equality/prefix, destination CIDR and port, namespace change, module load);
 * - `pipelineRules`: the rules the kernel cannot decide, each with its reasons; the detector matches them on
 *   enriched events and the enforcer acts (kill through the control topic);
 * - `reports`: the rules that asked for in-kernel enforcement (kill-in-kernel, deny-connect) but cannot have it,
 *   so the user learns the rule is enforced later, by the pipeline, with `kill`;
 * - `identityRules`: the rules the agent enforces by file identity (fanotify marks on the files and binaries they
 *   name): every `deny` rule, and the `kill-in-kernel` exec and file (open) rules it can decide at the open, which
 *   keep their kernel entries too (identity-rules.ts).
 *
 * Pure apart from the rule id registry it is given.
 */
import type { CompiledPolicy, MatchCondition, PolicyAction, PolicyRule, PolicySelector, RegoModule, RuleSequence, SequenceScope } from '@stinger/events';
import type { PolicyIssue } from './errors.ts';
import { identityRuleOf, type IdentityContext, type IdentityRule } from './identity-rules.ts';
import { MATCH_FIELDS, matchFieldsOf } from './match-fields.ts';
import {
  MODULE_OP_SYMBOLS,
  NAMESPACE_OP_SYMBOLS,
  NAMESPACE_TYPES,
  policyKey,
  type MatchField,
  type ModuleOp,
  type NamespaceOp,
  type NamespaceType,
  type NumberRange,
  type PidNamespaceName,
  type PolicyRuleSpec,
  type RuleAction,
  type RuleEvent,
  type RuleMatch,
  type SequenceScopeName,
  type SequenceSpec,
  type StringMatch,
  type TracingPolicy,
} from './policy-types.ts';
import { RuleIdRegistry, type RuleIdCollision } from './rule-ids.ts';
import { rangeText } from './values.ts';

/** File operations the kernel file rule maps decide (libs/bpf FILE_RULE_OPS). */
export const KERNEL_FILE_OPS = ['open', 'unlink', 'rename', 'chmod', 'chown'] as const;
export type KernelFileOp = (typeof KERNEL_FILE_OPS)[number];
/** Longest path a kernel path rule holds: FILE_PATH_SIZE (256, NUL included) - 1 bytes of UTF-8. */
export const KERNEL_PATH_MAX_BYTES = 255;
/** A dport range expands into one kernel entry per port only up to this many ports per rule. */
export const KERNEL_MAX_PORTS_PER_RULE = 64;
/** Destinations of a connect rule without daddr. */
export const ANY_DESTINATION = ['0.0.0.0/0', '::/0'] as const;

interface KernelRuleOrigin {
  /** u32 > 0; records the rule causes carry it. */
  readonly ruleId: number;
  /** policyKey of the policy. */
  readonly policy: string;
  readonly rule: string;
  /** Which tasks: selector.host true → 'host' (host processes only), false → 'pods' (pod processes only). */
  readonly scope: 'all' | 'host' | 'pods';
  /**
   * selector.pids, when the kernel decides it (exec, file and connect rules): only these processes and, with
   * followChildren, their descendants; the agent keeps them in a kernel pid scope (container pids translated to host
   * pids on the node). Absent: any process of `scope`.
   */
  readonly pids?: KernelPidScope;
  /**
   * The pods of the policy's selector (podSelector, namespaces; a namespaced policy's own namespace), when the kernel
   * decides the rule for them (CompiledPolicyResult.podScopedRules): the agent keeps the cgroups of its node's
   * matching pods in a kernel pod scope. Absent: any process of `scope`.
   */
  readonly pods?: KernelPodScope;
  /**
   * The kernel keeps the records this entry causes whatever its action: never shed while its ring buffer fills, lost
   * only when it is full (libs/bpf keepRecords; bpf/README.md "Loss and shedding"). Set on the watches of a pipeline
   * rule that kills (PipelineRule.action 'kill'): its kill waits for the records they report. Absent: by action.
   */
  readonly keepRecords?: true;
}

/**
 * A pod selector as the kernel applies it (libs/agent pod scopes), with the detector's meaning (CompiledPolicy's
 * selector): pods carrying every one of `labels` (matchLabels, and the `key In [value]` expressions the validator
 * admits) in one of `namespaces` (empty: any namespace).
 */
export interface KernelPodScope {
  readonly labels: Readonly<Record<string, string>>;
  readonly namespaces: readonly string[];
}

/** A pid selector as the kernel applies it (libs/bpf pid scopes). */
export interface KernelPidScope {
  readonly values: readonly number[];
  readonly followChildren: boolean;
  /**
   * host: `values` are host pids; container: pids as each container on the node sees them (in its own pid
   * namespace), which the agent translates to host pids from /proc. A policy that names pods (podSelector,
   * namespaces, containerName) is decided by the detector, so the kernel's container scope covers every container.
   */
  readonly namespace: PidNamespaceName;
}

/** Rule events whose kernel entries can be pid-scoped (their programs consult the pid scope map). */
export const PID_SCOPED_KERNEL_EVENTS = ['exec', 'file', 'connect'] as const;

export interface KernelPathMatch {
  readonly kind: 'equal' | 'prefix';
  /** Absolute, normalised; a prefix naming a directory ends in '/'. */
  readonly path: string;
}

/** Kill or report at execve of a matching binary. One entry per path of the rule. */
export interface ExecKernelRule extends KernelRuleOrigin {
  readonly event: 'exec';
  readonly match: KernelPathMatch;
  /** deny: EPERM at bprm_check_security, only from lsmDenyRulesOf (the agent, where the kernel runs BPF LSM). */
  readonly action: 'audit' | 'kill' | 'deny';
}

/** Kill or report at a matching file operation. One entry per path of the rule. */
export interface FileKernelRule extends KernelRuleOrigin {
  readonly event: 'file';
  readonly match: KernelPathMatch;
  /** In KERNEL_FILE_OPS order; a rule without `op` gets all of them. */
  readonly ops: readonly KernelFileOp[];
  /** deny: EPERM at file_open, only from lsmDenyRulesOf (the agent, where the kernel runs BPF LSM). */
  readonly action: 'audit' | 'kill' | 'deny';
}

/** Refuse (EPERM in cgroup/connect4|6) or report a connect. One entry per (CIDR, port). */
export interface ConnectKernelRule extends KernelRuleOrigin {
  readonly event: 'connect';
  /** Canonical CIDR; a rule without daddr gets both ANY_DESTINATION entries. */
  readonly cidr: string;
  /** null: any port (stored as port 0 in the LPM key). */
  readonly port: number | null;
  readonly action: 'audit' | 'deny';
}

/** Kill or report at unshare/setns/clone creating or entering any of `namespaces`. One entry per rule. */
export interface NamespaceKernelRule extends KernelRuleOrigin {
  readonly event: 'namespace';
  readonly namespaces: readonly NamespaceType[];
  readonly ops: readonly NamespaceOp[];
  readonly action: 'audit' | 'kill';
}

/** Kill or report at a module load/unload. One entry per rule. */
export interface ModuleKernelRule extends KernelRuleOrigin {
  readonly event: 'module';
  readonly ops: readonly ModuleOp[];
  readonly action: 'audit' | 'kill';
}

export type KernelRule = ExecKernelRule | FileKernelRule | ConnectKernelRule | NamespaceKernelRule | ModuleKernelRule;

/** A rule the detector matches and the enforcer acts on, because the kernel cannot decide it. */
export interface PipelineRule {
  readonly ruleId: number;
  readonly policy: string;
  readonly rule: string;
  readonly event: RuleEvent;
  /** What the pipeline does on a match: kill through the control topic, or only alert. */
  readonly action: 'audit' | 'kill';
  /** Why the kernel cannot decide it, e.g. 'needs pod context', 'suffix match on path'. */
  readonly reasons: readonly string[];
}

export interface CompilePolicyOptions {
  /** CompiledPolicy.generation. Default: metadata.generation, else 1. */
  readonly generation?: bigint | number;
  /** CompiledPolicy.compiled_at_ns. Default: now. */
  readonly compiledAtNs?: bigint;
  /** Assigns the rule ids; pass the one registry of the loaded set. Default: a fresh registry. */
  readonly ruleIds?: RuleIdRegistry;
  /** spec.rego compiled to WebAssembly (@stinger/rego compileRego); required for a record the detector evaluates. */
  readonly regoWasm?: Uint8Array;
}

export interface CompiledPolicyResult {
  readonly compiled: CompiledPolicy;
  readonly kernelRules: readonly KernelRule[];
  readonly pipelineRules: readonly PipelineRule[];
  /**
   * Audit-only kernel entries that make the sensors report the events a pipeline rule needs (file sensors report
   * watched paths only, connects only to watched destinations): for each file step or rule, its path equal/prefix
   * values; for each connect, its destinations. Not counted as kernel rules; the agent installs them like audit
   * rules. Events the sensors report anyway (exec, and the privilege groups the agent watches) need none. A file
   * rule with no path equal/prefix (e.g. a suffix only) has none, which its pipeline rule's reasons say.
   */
  readonly watchRules: readonly KernelRule[];
  /**
   * Kernel entries, each with its `pods` scope, of the rules whose selector names pods (podSelector, namespaces) and
   * that the kernel could otherwise decide (exec, file and connect rules with nothing else keeping them out). Agents
   * that know their node's pods install them (the kernel kills or refuses for the matching pods' tasks only);
   * the same rules stay in `pipelineRules`, which is what enforces them where an agent does not.
   */
  readonly podScopedRules: readonly KernelRule[];
  /**
   * Rules the agent enforces by file identity. A `deny` rule is only here (plus its audit watches, so the sensors
   * still report the opens of its paths): no kernel kill entry, no pipeline rule.
   */
  readonly identityRules: readonly IdentityRule[];
  /** Rules that asked for in-kernel enforcement and cannot have it (path: `spec.rules[i].action`). */
  readonly reports: readonly PolicyIssue[];
  /** Rule id collisions met while compiling this policy. */
  readonly collisions: readonly RuleIdCollision[];
}

export function compilePolicy(policy: TracingPolicy, options: CompilePolicyOptions = {}): CompiledPolicyResult {
  const registry = options.ruleIds ?? new RuleIdRegistry();
  const collisionsBefore = registry.collisions().length;
  const key = policyKey(policy);
  const kernelRules: KernelRule[] = [];
  const watchRules: KernelRule[] = [];
  const podScopedRules: KernelRule[] = [];
  const pipelineRules: PipelineRule[] = [];
  const podScope = kernelPodScopeOf(policy);
  const identityRules: IdentityRule[] = [];
  const reports: PolicyIssue[] = [];
  const podContext = podContextOf(policy);
  const identityContext: IdentityContext = { kind: policy.kind, selector: policy.spec.selector };

  policy.spec.rules.forEach((rule, index) => {
    const ruleId = registry.assign({ policy: key, rule: rule.name });
    const origin: KernelRuleOrigin = { ruleId, policy: key, rule: rule.name, scope: scopeOf(policy.spec.selector.host) };
    // Watches make the sensors report events for the detector, which decides the pid selector itself: never scoped.
    const { pids } = policy.spec.selector;
    const kernelOrigin: KernelRuleOrigin = pids === null ? origin : { ...origin, pids: { values: [...pids.values], followChildren: pids.followChildren, namespace: pids.namespace } };
    const action: RuleAction = policy.spec.mode === 'monitor' ? 'audit' : rule.action;
    const identity = identityRuleOf(rule, { index, action, context: identityContext, origin });
    if (identity !== null) identityRules.push(identity);
    if (action === 'deny') {
      // The agent refuses the open or exec; the watches make the sensors report the opens all the same.
      watchRules.push(...watchesOf(rule, origin).entries);
      return;
    }
    const plan = planKernel(rule, action, kernelOrigin);
    const pidReason = pids !== null && !(PID_SCOPED_KERNEL_EVENTS as readonly string[]).includes(rule.event) ? ['needs process ancestry (selector: pids; the kernel decides it for exec, file and connect rules)'] : [];
    const reasons = [...(podContext === null ? [] : [podContext]), ...pidReason, ...(action === 'kill' ? ['action kill is carried out by the pipeline'] : []), ...plan.reasons];
    if (reasons.length === 0) {
      kernelRules.push(...plan.entries);
      return;
    }
    const pipelineAction = action === 'audit' ? 'audit' : 'kill';
    const watches = watchesOf(rule, origin, pipelineAction === 'kill');
    watchRules.push(...watches.entries);
    pipelineRules.push({ ruleId, policy: key, rule: rule.name, event: rule.event, action: pipelineAction, reasons: [...reasons, ...watches.reasons] });
    // Pod context is the only thing keeping an in-kernel action out: agents that know their pods decide it in the
    // kernel. An audit rule gains nothing there (its watches already make the sensors report its events).
    const inKernelAction = action === 'kill-in-kernel' || action === 'deny-connect';
    const podScopable = podScope !== null && inKernelAction && pidReason.length === 0 && plan.reasons.length === 0 && (PID_SCOPED_KERNEL_EVENTS as readonly string[]).includes(rule.event);
    if (podScopable) podScopedRules.push(...plan.entries.map((entry) => ({ ...entry, pods: podScope })));
    if (podScopable && (action === 'kill-in-kernel' || action === 'deny-connect')) {
      reports.push({
        path: `spec.rules[${index}].action`,
        message: `rule ${JSON.stringify(rule.name)}: ${action} is enforced in the kernel by agents that know their node's pods (a pod scope); where an agent does not, the pipeline enforces it with kill`,
      });
    } else if (action === 'kill-in-kernel' || action === 'deny-connect') {
      reports.push({
        path: `spec.rules[${index}].action`,
        message: `rule ${JSON.stringify(rule.name)}: ${action} cannot be enforced in the kernel (${reasons.join('; ')}); the pipeline enforces it with kill`,
      });
    }
  });

  return {
    compiled: {
      name: policy.metadata.name,
      namespace: policy.metadata.namespace,
      uid: policy.metadata.uid,
      generation: BigInt(options.generation ?? policy.metadata.generation ?? 1),
      mode: policy.spec.mode,
      selector: compiledSelector(policy),
      rules: policy.spec.rules.map(compiledRule),
      rego: compiledRego(policy, options.regoWasm),
      compiled_at_ns: options.compiledAtNs ?? BigInt(Date.now()) * 1_000_000n,
    },
    kernelRules,
    pipelineRules,
    watchRules,
    podScopedRules,
    identityRules,
    reports,
    collisions: registry.collisions().slice(collisionsBefore),
  };
}

/**
 * CompiledPolicy.rego: the module as written and its WebAssembly. The wasm comes from `opa build` (@stinger/rego),
 * which runs before this pure function; without it the record carries an empty module, which the detector refuses
 * (the agent compiles its local policies without it: it has no use for Rego).
 */
function compiledRego(policy: TracingPolicy, wasm: Uint8Array | undefined): RegoModule | null {
  const { rego } = policy.spec;
  if (rego === null) return null;
  return { module: rego.module, entrypoint: rego.entrypoint, events: [...rego.events], action: rego.action, wasm: Buffer.from(wasm ?? new Uint8Array()) };
}

function scopeOf(host: boolean | null | undefined): KernelRuleOrigin['scope'] {
  if (host === true) return 'host';
  return host === false ? 'pods' : 'all';
}

/**
 * The pod scope the kernel can apply for the policy's selector, or null when its selector names no pods or names
 * them in a way the kernel cannot follow (containerName: containers are not scoped; pids: a pid scope already).
 */
function kernelPodScopeOf(policy: TracingPolicy): KernelPodScope | null {
  const { containerName, host, pids } = policy.spec.selector;
  if (podContextOf(policy) === null || containerName !== null || pids !== null || host === true) return null;
  const selector = compiledSelector(policy);
  return { labels: selector.pod_labels, namespaces: selector.namespaces };
}

/** Why the policy's selector keeps its rules out of the kernel, or null when it does not. */
function podContextOf(policy: TracingPolicy): string | null {
  if (policy.metadata.namespace !== null) return 'needs pod context (a namespaced policy applies to its namespace only)';
  const { podSelector, namespaces, containerName, host } = policy.spec.selector;
  if (host === true) return null;
  const named = [
    podSelector !== null && (Object.keys(podSelector.matchLabels).length > 0 || podSelector.matchExpressions.length > 0) ? 'podSelector' : null,
    namespaces.length > 0 ? 'namespaces' : null,
    containerName !== null ? 'containerName' : null,
  ].filter((n) => n !== null);
  return named.length === 0 ? null : `needs pod context (selector: ${named.join(', ')})`;
}

interface KernelPlan {
  readonly entries: KernelRule[];
  /** Non-empty: the kernel cannot decide the rule. */
  readonly reasons: string[];
}

const NOT_IN_KERNEL: Partial<Record<MatchField, string>> = {
  parentBinary: 'parentBinary needs process ancestry',
  uid: 'uid conditions are not in the kernel maps',
  sport: 'sport is not in the kernel maps',
  name: 'module names are not in the kernel maps',
  access: 'access (read/write) is not in the kernel maps',
  sha256: 'sha256 (content digest) is not in the kernel maps',
};

function extraFields(rule: PolicyRuleSpec, kernelFields: readonly MatchField[]): string[] {
  return (Object.keys(rule.match) as MatchField[])
    .filter((field) => !kernelFields.includes(field))
    .map((field) => NOT_IN_KERNEL[field] ?? `${field} is not in the kernel maps`);
}

function pathEntries(match: StringMatch | undefined, field: 'binary' | 'path'): { entries: KernelPathMatch[]; reasons: string[] } {
  if (match === undefined) return { entries: [], reasons: [`no ${field} to key the kernel map on`] };
  const reasons: string[] = [];
  if (match.suffix.length > 0) reasons.push(`suffix match on ${field}`);
  const entries = [
    ...match.equal.map((path) => ({ kind: 'equal' as const, path })),
    ...match.prefix.map((path) => ({ kind: 'prefix' as const, path })),
  ];
  const long = entries.find((entry) => Buffer.byteLength(entry.path) > KERNEL_PATH_MAX_BYTES);
  if (long !== undefined) reasons.push(`${field} ${JSON.stringify(long.path.slice(0, 40))}... is longer than ${KERNEL_PATH_MAX_BYTES} bytes`);
  return { entries, reasons };
}

/** `action` after the policy mode: 'kill' never reaches the kernel (planKernel's caller routes it). */
function killOrAudit(action: RuleAction, event: RuleEvent): { action: 'audit' | 'kill'; reasons: string[] } {
  switch (action) {
    case 'audit':
      return { action: 'audit', reasons: [] };
    case 'kill-in-kernel':
    case 'kill':
      return { action: 'kill', reasons: [] };
    case 'deny-connect':
      return { action: 'audit', reasons: [`deny-connect does not apply to event ${event}`] };
    case 'deny':
      // compilePolicy routes deny rules to file identity before planning; kept exhaustive for the type.
      return { action: 'audit', reasons: ['deny is enforced by file identity'] };
  }
}

/**
 * Audit entries so the sensors report the events of a pipeline rule (or of each step of a sequence). `kill`: the
 * pipeline kills on the rule, so the entries keep their records (KernelRuleOrigin.keepRecords).
 */
function watchesOf(rule: PolicyRuleSpec, ruleOrigin: KernelRuleOrigin, kill = false): { entries: KernelRule[]; reasons: string[] } {
  const origin: KernelRuleOrigin = kill ? { ...ruleOrigin, keepRecords: true } : ruleOrigin;
  const steps = rule.sequence === null ? [{ event: rule.event, match: rule.match }] : rule.sequence.steps;
  const entries: KernelRule[] = [];
  const reasons: string[] = [];
  steps.forEach((step, index) => {
    const where = rule.sequence === null ? '' : ` (step ${index + 1})`;
    switch (step.event) {
      case 'file': {
        const paths = pathEntries(step.match.path, 'path');
        if (paths.entries.length === 0) reasons.push(`file events${where} are reported for watched paths only, and this rule names no path equal/prefix to watch`);
        const ops = KERNEL_FILE_OPS.filter((op) => step.match.op === undefined || step.match.op.includes(op));
        entries.push(...paths.entries.map((m): FileKernelRule => ({ ...origin, event: 'file', match: m, ops: ops.length > 0 ? ops : KERNEL_FILE_OPS, action: 'audit' })));
        break;
      }
      case 'connect': {
        const cidrs = step.match.daddr ?? ANY_DESTINATION;
        entries.push(...cidrs.map((cidr): ConnectKernelRule => ({ ...origin, event: 'connect', cidr, port: null, action: 'audit' })));
        break;
      }
      case 'exec':
      case 'accept':
      case 'listen':
      case 'privilege':
      case 'capset':
      case 'namespace':
      case 'module':
      case 'ptrace':
      case 'bpf':
      case 'mount':
      case 'egress': // the egress parser reports every parsed payload (rate-limited per cgroup), watched or not
        break;
    }
  });
  return { entries, reasons };
}

function planKernel(rule: PolicyRuleSpec, action: RuleAction, origin: KernelRuleOrigin): KernelPlan {
  const { match } = rule;
  if (rule.sequence !== null) return { entries: [], reasons: ['a sequence of events is matched by the detector'] };
  if (Object.keys(rule.exclude).length > 0) {
    // The kernel entry would act on what the exclusion spares; the rule's watches still make the sensors report it.
    const fields = matchFieldsOf(rule.event).filter((field) => rule.exclude[field] !== undefined);
    return { entries: [], reasons: [`exclude (${fields.join(', ')}) is evaluated by the detector`] };
  }
  switch (rule.event) {
    case 'exec': {
      const kernelAction = killOrAudit(action, 'exec');
      const paths = pathEntries(match.binary, 'binary');
      return {
        entries: paths.entries.map((m): ExecKernelRule => ({ ...origin, event: 'exec', match: m, action: kernelAction.action })),
        reasons: [...extraFields(rule, ['binary']), ...paths.reasons, ...kernelAction.reasons],
      };
    }
    case 'file': {
      const kernelAction = killOrAudit(action, 'file');
      const paths = pathEntries(match.path, 'path');
      const ops = match.op ?? KERNEL_FILE_OPS;
      const notKernel = ops.filter((op) => !(KERNEL_FILE_OPS as readonly string[]).includes(op));
      const opReasons = notKernel.length === 0 ? [] : [`op ${notKernel.join(', ')} is not decided in the kernel (it decides ${KERNEL_FILE_OPS.join(', ')})`];
      const kernelOps = KERNEL_FILE_OPS.filter((op) => ops.includes(op));
      return {
        entries: paths.entries.map((m): FileKernelRule => ({ ...origin, event: 'file', match: m, ops: kernelOps, action: kernelAction.action })),
        reasons: [...extraFields(rule, ['path', 'op']), ...paths.reasons, ...opReasons, ...kernelAction.reasons],
      };
    }
    case 'connect': {
      const reasons = extraFields(rule, ['daddr', 'dport']);
      let kernelAction: 'audit' | 'deny' = 'audit';
      switch (action) {
        case 'audit':
          break;
        case 'deny-connect':
          kernelAction = 'deny';
          break;
        case 'kill-in-kernel':
        case 'kill':
          reasons.push('the kernel refuses connects but does not kill on them (use deny-connect)');
          break;
        case 'deny':
          reasons.push('deny applies to file opens and execs (use deny-connect)');
          break;
      }
      const portCount = (match.dport ?? []).reduce((sum, r) => sum + r.high - r.low + 1, 0);
      if (portCount > KERNEL_MAX_PORTS_PER_RULE) reasons.push(`dport covers ${portCount} ports (more than ${KERNEL_MAX_PORTS_PER_RULE})`);
      const ports: (number | null)[] = match.dport === undefined || portCount > KERNEL_MAX_PORTS_PER_RULE ? [null] : expandPorts(match.dport);
      const cidrs = match.daddr ?? ANY_DESTINATION;
      const entries = cidrs.flatMap((cidr) => ports.map((port): ConnectKernelRule => ({ ...origin, event: 'connect', cidr, port, action: kernelAction })));
      return { entries, reasons };
    }
    case 'namespace': {
      const kernelAction = killOrAudit(action, 'namespace');
      const namespaces = NAMESPACE_TYPES.filter((ns) => match.namespaces === undefined || match.namespaces.includes(ns));
      const ops = NAMESPACE_OP_SYMBOLS.filter((op) => match.op === undefined || match.op.includes(op));
      return {
        entries: [{ ...origin, event: 'namespace', namespaces, ops, action: kernelAction.action }],
        reasons: [...extraFields(rule, ['namespaces', 'op']), ...kernelAction.reasons],
      };
    }
    case 'module': {
      const kernelAction = killOrAudit(action, 'module');
      const ops = MODULE_OP_SYMBOLS.filter((op) => match.op === undefined || match.op.includes(op));
      return {
        entries: [{ ...origin, event: 'module', ops, action: kernelAction.action }],
        reasons: [...extraFields(rule, ['op']), ...kernelAction.reasons],
      };
    }
    case 'accept':
    case 'listen':
    case 'privilege':
    case 'capset':
    case 'ptrace':
    case 'bpf':
    case 'mount':
    case 'egress':
      return { entries: [], reasons: [`no in-kernel enforcement for event ${rule.event}`] };
  }
}

function expandPorts(ranges: readonly NumberRange[]): number[] {
  const ports = new Set<number>();
  for (const range of ranges) for (let port = range.low; port <= range.high; port++) ports.add(port);
  return [...ports].sort((a, b) => a - b);
}

function compiledSelector(policy: TracingPolicy): PolicySelector {
  const { podSelector, namespaces, containerName, host, pids } = policy.spec.selector;
  const podLabels: Record<string, string> = { ...podSelector?.matchLabels };
  // The validator admits only `key In [value]` expressions, which are labels.
  for (const expression of podSelector?.matchExpressions ?? []) {
    const value = expression.values[0];
    if (expression.operator === 'In' && value !== undefined) podLabels[expression.key] = value;
  }
  const namespace = policy.metadata.namespace;
  return {
    pod_labels: podLabels,
    namespaces: namespace === null ? [...namespaces] : [namespace],
    container_name: containerName,
    host: namespace === null ? host : false,
    pids: pids === null ? null : { pids: [...pids.values], follow_children: pids.followChildren, namespace: pids.namespace },
  };
}

const POLICY_ACTIONS: Readonly<Record<RuleAction, PolicyAction>> = {
  audit: 'audit',
  'kill-in-kernel': 'kill_in_kernel',
  kill: 'kill',
  'deny-connect': 'deny_connect',
  deny: 'deny',
};

const SEQUENCE_SCOPES: Readonly<Record<SequenceScopeName, SequenceScope>> = { process: 'process', processTree: 'process_tree', pod: 'pod' };

function compiledSequence(sequence: SequenceSpec): RuleSequence {
  return {
    by: SEQUENCE_SCOPES[sequence.by],
    within_ms: BigInt(sequence.withinMs),
    steps: sequence.steps.map((step) => ({ event: step.event, match: matchConditions(step.event, step.match), same_as: { ...step.sameAs } })),
  };
}

function compiledRule(rule: PolicyRuleSpec): PolicyRule {
  return {
    name: rule.name,
    event: rule.event,
    match: [...matchConditions(rule.event, rule.match), ...matchConditions(rule.event, rule.exclude).map(negated)],
    action: POLICY_ACTIONS[rule.action],
    severity: rule.severity,
    tags: [...rule.tags],
    sequence: rule.sequence === null ? null : compiledSequence(rule.sequence),
  };
}

const NEGATED: Readonly<Record<MatchCondition['operator'], MatchCondition['operator']>> = {
  equal: 'not_equal',
  prefix: 'not_prefix',
  suffix: 'not_suffix',
  cidr: 'not_cidr',
  range: 'not_range',
  not_equal: 'equal',
  not_prefix: 'prefix',
  not_suffix: 'suffix',
  not_cidr: 'cidr',
  not_range: 'range',
};

/** An exclude field's condition: holds when none of its values match. */
export function negated(condition: MatchCondition): MatchCondition {
  return { ...condition, operator: NEGATED[condition.operator] };
}

/** One condition per field (in matchFieldsOf order); a StringMatch holds exactly one operator's values. */
function matchConditions(event: RuleEvent, match: RuleMatch): MatchCondition[] {
  const conditions: MatchCondition[] = [];
  for (const field of matchFieldsOf(event)) {
    const value = match[field];
    if (value === undefined) continue;
    const definition = MATCH_FIELDS[field];
    switch (definition.kind) {
      case 'path-match':
      case 'string-match': {
        const stringMatch = value as StringMatch;
        for (const operator of ['equal', 'prefix', 'suffix'] as const) {
          if (stringMatch[operator].length > 0) conditions.push({ field, operator, values: [...stringMatch[operator]] });
        }
        break;
      }
      case 'symbols':
      case 'digests':
        conditions.push({ field, operator: 'equal', values: [...(value as readonly string[])] });
        break;
      case 'cidrs':
        conditions.push({ field, operator: 'cidr', values: [...(value as readonly string[])] });
        break;
      case 'ports':
      case 'ids': {
        const ranges = value as readonly NumberRange[];
        const anyRange = ranges.some((r) => r.low !== r.high);
        conditions.push({ field, operator: anyRange ? 'range' : 'equal', values: ranges.map((r) => (anyRange ? `${r.low}-${r.high}` : rangeText(r))) });
        break;
      }
    }
  }
  return conditions;
}

/**
 * Identity of a kernel entry, for diffs: equal keys mean the same map entry with the same value. keepRecords is part of
 * the value: a watch whose rule starts or stops being a pipeline kill (enforce and monitor) is written again.
 */
export function kernelRuleKey(rule: KernelRule): string {
  const keep = rule.keepRecords === true;
  switch (rule.event) {
    case 'exec':
      return JSON.stringify([rule.event, rule.ruleId, rule.scope, rule.pids ?? null, rule.pods ?? null, rule.match.kind, rule.match.path, rule.action, keep]);
    case 'file':
      return JSON.stringify([rule.event, rule.ruleId, rule.scope, rule.pids ?? null, rule.pods ?? null, rule.match.kind, rule.match.path, rule.ops, rule.action, keep]);
    case 'connect':
      return JSON.stringify([rule.event, rule.ruleId, rule.scope, rule.pids ?? null, rule.pods ?? null, rule.cidr, rule.port, rule.action, keep]);
    case 'namespace':
      return JSON.stringify([rule.event, rule.ruleId, rule.scope, rule.pids ?? null, rule.namespaces, rule.ops, rule.action]);
    case 'module':
      return JSON.stringify([rule.event, rule.ruleId, rule.scope, rule.pids ?? null, rule.ops, rule.action]);
  }
}
