/**
 * The typed form of a validated TracingPolicy / TracingPolicyNamespaced (`stinger.io/v1alpha1`), and the closed
 * sets of names its fields take. Everything here is produced by validatePolicy: values are checked and normalised
 * (absolute paths without `.`/`..`/`//`, canonical CIDRs, port and id ranges), defaults are filled in.
 */
import type { FileOp, ModuleOp, MountOp, NamespaceOp, Severity } from '@stinger/events';
import { FILE_OP_SYMBOLS, MODULE_OP_SYMBOLS, MOUNT_OP_SYMBOLS, NAMESPACE_OP_SYMBOLS, SEVERITY_SYMBOLS } from '@stinger/events';

export const POLICY_API_VERSION = 'stinger.io/v1alpha1';
export const POLICY_KINDS = ['TracingPolicy', 'TracingPolicyNamespaced'] as const;
export type PolicyKind = (typeof POLICY_KINDS)[number];

export const POLICY_MODES = ['enforce', 'monitor'] as const;
export type PolicyModeName = (typeof POLICY_MODES)[number];

/** Event kinds a rule can name: the EventKind symbols that are operations (not exit, fork, bind, flow). */
export const RULE_EVENTS = [
  'exec',
  'file',
  'connect',
  'accept',
  'listen',
  'privilege',
  'capset',
  'namespace',
  'module',
  'ptrace',
  'bpf',
  'mount',
  'egress',
] as const;
export type RuleEvent = (typeof RULE_EVENTS)[number];

/**
 * The TracingPolicy spellings; CompiledPolicy's PolicyAction replaces '-' with '_'. deny: the open (file) or execve
 * (exec) fails with EPERM and the process lives; the agent decides it by file identity (identity-rules.ts).
 */
export const RULE_ACTIONS = ['audit', 'kill-in-kernel', 'kill', 'deny-connect', 'deny'] as const;
export type RuleAction = (typeof RULE_ACTIONS)[number];

export const SEVERITIES = SEVERITY_SYMBOLS;
export type { Severity };

export const LABEL_SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;
export type LabelSelectorOperator = (typeof LABEL_SELECTOR_OPERATORS)[number];

/** Namespace types as NamespacePayload.namespaces names them. */
export const NAMESPACE_TYPES = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts'] as const;
export type NamespaceType = (typeof NAMESPACE_TYPES)[number];

/** Linux capabilities in bit order (CAP_CHOWN is bit 0, CAP_SYS_ADMIN bit 21), as in linux/capability.h. */
export const CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** What a file open asks for, as the `access` match field names it. */
export const FILE_ACCESSES = ['read', 'write'] as const;
export type FileAccess = (typeof FILE_ACCESSES)[number];

/** What the steps of a sequence rule must share (CompiledPolicy's SequenceScope: processTree is process_tree). */
export const SEQUENCE_SCOPES = ['process', 'processTree', 'pod'] as const;
export type SequenceScopeName = (typeof SEQUENCE_SCOPES)[number];

/** Fields a sequence step may correlate with the previous step (`sameAs`): string-valued event fields. */
export const CORRELATION_FIELDS = ['binary', 'parentBinary', 'path', 'daddr'] as const;
export type CorrelationField = (typeof CORRELATION_FIELDS)[number];

/** Bounds of a sequence: steps, and the window (the detector rebuilds state by re-reading that much input). */
export const SEQUENCE_LIMITS = { minSteps: 2, maxSteps: 8, minWithinMs: 1000, maxWithinMs: 10 * 60_000 } as const;

export interface SequenceStepSpec {
  readonly event: RuleEvent;
  readonly match: RuleMatch;
  /** This step's field (key) must equal the previous step's field (value). Empty on the first step. */
  readonly sameAs: Readonly<Partial<Record<CorrelationField, CorrelationField>>>;
}

export interface SequenceSpec {
  readonly by: SequenceScopeName;
  readonly withinMs: number;
  readonly steps: readonly SequenceStepSpec[];
}

export { FILE_OP_SYMBOLS, MODULE_OP_SYMBOLS, MOUNT_OP_SYMBOLS, NAMESPACE_OP_SYMBOLS };
export type { FileOp, ModuleOp, MountOp, NamespaceOp };

/**
 * equal / prefix / suffix value lists. A field sets exactly one of them (CompiledPolicy ANDs its conditions, so
 * "equal A or prefix B" on one field cannot be carried; write two rules).
 */
export interface StringMatch {
  readonly equal: readonly string[];
  readonly prefix: readonly string[];
  readonly suffix: readonly string[];
}

/** Inclusive range; a single value has low === high. */
export interface NumberRange {
  readonly low: number;
  readonly high: number;
}

/**
 * Conditions of a rule, all of which must hold; a field holds when any of its values matches. Which fields an
 * event accepts is `matchFieldsOf(event)`. Absent fields do not restrict.
 */
export interface RuleMatch {
  /** Executable of the acting process (for exec: the new image). Absolute paths. */
  readonly binary?: StringMatch;
  /** Executable of the acting process's parent. */
  readonly parentBinary?: StringMatch;
  /** Real uid of the acting process. */
  readonly uid?: readonly NumberRange[];
  /** file: the file; mount: the mount point. Absolute, normalised paths. */
  readonly path?: StringMatch;
  /** file: FileOp; namespace: NamespaceOp; module: ModuleOp; mount: MountOp. */
  readonly op?: readonly string[];
  /** Remote address: canonical CIDRs (`10.0.0.0/8`, `2001:db8::/32`). */
  readonly daddr?: readonly string[];
  /** Remote port. */
  readonly dport?: readonly NumberRange[];
  /** Local port. */
  readonly sport?: readonly NumberRange[];
  /** privilege: any uid requested by the set*uid call. */
  readonly toUid?: readonly NumberRange[];
  readonly capabilities?: readonly Capability[];
  readonly namespaces?: readonly NamespaceType[];
  /** module: module name. */
  readonly name?: StringMatch;
  /** mount: filesystem type. */
  readonly fstype?: readonly string[];
  /** ptrace: PTRACE_* request names. */
  readonly request?: readonly string[];
  /** bpf: BPF_* command names. */
  readonly command?: readonly string[];
  /** file: read and/or write, from the open flags (O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND mean write). */
  readonly access?: readonly FileAccess[];
  /** exec: SHA-256 digests of the executable's content, 64 lowercase hex digits (a copy of a binary is another inode). */
  readonly sha256?: readonly string[];
  /** egress: the DNS query name, lower case without a trailing dot (suffix ".onion" matches every onion name). */
  readonly dnsName?: StringMatch;
  /** egress: the server name (SNI) a TLS client asked for, lower case. */
  readonly serverName?: StringMatch;
  /** egress: the Host header of an HTTP/1.x request, lower case (with its port when the client sent one). */
  readonly httpHost?: StringMatch;
}
export type MatchField = keyof RuleMatch;

export interface PolicyRuleSpec {
  readonly name: string;
  /** For a sequence rule: the last step's event. */
  readonly event: RuleEvent;
  /** For a sequence rule: empty (the conditions are the steps'). */
  readonly match: RuleMatch;
  /** The rule holds only when none of these fields match (same fields as match; empty: nothing excluded). */
  readonly exclude: RuleMatch;
  /** Set for a stateful rule over several events; null for a rule over one event. */
  readonly sequence: SequenceSpec | null;
  readonly action: RuleAction;
  readonly severity: Severity;
  readonly tags: readonly string[];
}

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: LabelSelectorOperator;
  readonly values: readonly string[];
}

/**
 * Which pid namespace spec.selector.pids.values are in: `host`, the node's initial one (the pids `ps` shows on the
 * node); `container`, each selected container's own (the pids `ps` shows inside it: 1 is its entry process), like
 * Tetragon's matchPIDs isNamespacePID.
 */
export const PID_NAMESPACES = ['host', 'container'] as const;
export type PidNamespaceName = (typeof PID_NAMESPACES)[number];

/** spec.selector.pids: processes by pid (in `namespace`), and with followChildren their descendants. */
export interface PidSelectorSpec {
  readonly values: readonly number[];
  readonly followChildren: boolean;
  readonly namespace: PidNamespaceName;
}

/** What an alert of a Rego module may ask for (spec.rego.action): the pipeline acts, so kill at most. */
export const REGO_ACTIONS = ['audit', 'kill'] as const;
export type RegoAction = (typeof REGO_ACTIONS)[number];

/**
 * spec.rego: a Rego module whose `entrypoint` rule (e.g. `stinger/alerts`) the detector evaluates, compiled to
 * WebAssembly, on each enriched event of `events`, with input `{ event, ancestors }`; it yields alert objects
 * `{ rule, severity, message, tags, action }`.
 */
export interface RegoSpec {
  readonly module: string;
  readonly entrypoint: string;
  readonly events: readonly RuleEvent[];
  readonly action: RegoAction;
}

/** Bounds of spec.rego. */
export const REGO_LIMITS = { maxModuleBytes: 64 * 1024 } as const;

export interface PolicySelectorSpec {
  /** null when spec.selector.podSelector is absent. */
  readonly podSelector: {
    readonly matchLabels: Readonly<Record<string, string>>;
    readonly matchExpressions: readonly LabelSelectorRequirement[];
  } | null;
  readonly namespaces: readonly string[];
  readonly containerName: string | null;
  /** true: host processes only; false: pod processes only; null: both. */
  readonly host: boolean | null;
  /** null when spec.selector.pids is absent (any process). */
  readonly pids: PidSelectorSpec | null;
}

export interface PolicyMetadata {
  readonly name: string;
  /** Set exactly when kind is TracingPolicyNamespaced. */
  readonly namespace: string | null;
  /** metadata.uid when the object came from an API server. */
  readonly uid: string | null;
  /** metadata.generation when the object came from an API server. */
  readonly generation: number | null;
}

export interface TracingPolicy {
  readonly apiVersion: typeof POLICY_API_VERSION;
  readonly kind: PolicyKind;
  readonly metadata: PolicyMetadata;
  readonly spec: {
    readonly mode: PolicyModeName;
    readonly selector: PolicySelectorSpec;
    /** May be empty when rego is set. */
    readonly rules: readonly PolicyRuleSpec[];
    readonly rego: RegoSpec | null;
  };
}

/**
 * The name a policy goes by in the set, on the stinger.policies topic and in alerts: `name` for a cluster-wide
 * policy, `namespace/name` for a namespaced one (so two namespaces may each have a policy called the same).
 */
export function policyKey(policy: Pick<TracingPolicy, 'metadata'>): string {
  const { name, namespace } = policy.metadata;
  return namespace === null ? name : `${namespace}/${name}`;
}
