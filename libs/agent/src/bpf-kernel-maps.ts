/**
 * KernelMaps over the agent's loaded BPF sensors: where each kind of kernel rule goes.
 *
 * - exec, file → the file sensor's exact/prefix path maps (kill at syscall entry, or audit);
 * - connect deny → the cgroup/connect4|6 program's map (EPERM), attached at the cgroup v2 root so it
 *   covers every process of the node; connect audit → the network sensor's audit destinations;
 * - namespace, module → the privilege sensor's rules for the cgroup v2 root's subtree (the node).
 *
 * A sensor that did not load is its unavailable implementation (libs/bpf): its rules fail with a
 * SensorUnavailableError naming it and why (the policy is then reported partial), removals find nothing.
 * Scoped rules (selector.host: true, host only; false, pods only) go in flagged: the kernel
 * passes them over for tasks outside their scope, told by the pod cgroup roots (createPodCgroupRoots, kept
 * current by the agent), falling back to the rules for all processes. Pid-scoped rules (selector.pids, exec, file
 * and connect) go in with the slot of their pid scope (libs/bpf createPidScopes): one slot per distinct selector,
 * held by each map entry whose installed rule names it and freed when the last such entry goes or changes; pids as
 * containers see them are translated to host pids when the slot is taken (container-pids.ts).
 * Pod-scoped rules (selector podSelector / namespaces, from CompiledPolicyResult.podScopedRules) go in with the slot
 * of their pod scope (PodScopes, kept current from this node's pods) the same way.
 * The watches of a rule whose kill the pipeline carries out (KernelRule.keepRecords, the rules NodePolicies.isPipelineKill
 * names) go in with keepRecords: the kernel never sheds the records they report (only a full ring loses them), since
 * the kill waits for them.
 */
import type { ConnectPolicy, FileSensor, NetworkSensor, PidScopes, PrivilegeSensor } from '@stinger/bpf';
import type { KernelRule } from '@stinger/policy';
import { slotKey, type KernelMaps } from './kernel-rules.ts';
import type { PodScopes } from './pod-scopes.ts';

export interface BpfKernelMapsOptions {
  readonly fileSensor: FileSensor;
  readonly networkSensor: NetworkSensor;
  readonly connectPolicy: ConnectPolicy;
  readonly privilegeSensor: PrivilegeSensor;
  /** cgroup v2 id of the hierarchy's root: namespace/module rules cover its whole subtree. */
  readonly rootCgroupId: bigint;
  /** The kernel pid scopes (shared maps of the agent's sensors); absent, a pid-scoped rule fails to install. */
  readonly pidScopes?: PidScopes;
  /** The kernel pod scopes; absent, a pod-scoped rule fails to install. */
  readonly podScopes?: PodScopes;
}

export function createBpfKernelMaps(options: BpfKernelMapsOptions): KernelMaps {
  const { rootCgroupId } = options;
  /**
   * The pid scope slot of `rule`'s map entry (undefined: not pid-scoped). The entry holds it until the entry goes or
   * holds another rule; the slot is taken before the entry is written, so the kernel never sees a rule whose scope
   * has no members yet.
   */
  const pidScopeOf = (rule: KernelRule): number | undefined => {
    const holder = slotKey(rule);
    if (rule.pids === undefined) {
      options.pidScopes?.release(holder);
      return undefined;
    }
    if (!options.pidScopes) throw new Error('pid selectors need the kernel pid scopes, which this agent does not have');
    return options.pidScopes.acquire(holder, { pids: rule.pids.values, followChildren: rule.pids.followChildren, namespace: rule.pids.namespace });
  };
  /** The pod scope slot of `rule`'s map entry (undefined: not pod-scoped); held like a pid scope slot. */
  const podScopeOf = (rule: KernelRule): number | undefined => {
    const holder = slotKey(rule);
    if (rule.pods === undefined) {
      options.podScopes?.release(holder);
      return undefined;
    }
    if (!options.podScopes) throw new Error("pod selectors need the kernel pod scopes, which this agent does not have (it does not watch its node's pods)");
    return options.podScopes.acquire(holder, rule.pods);
  };
  /** The `podScope` field of a map entry: none for a rule without pod scope. */
  const podScopeFieldOf = (rule: KernelRule): { podScope?: number } => {
    const slot = podScopeOf(rule);
    return slot === undefined ? {} : { podScope: slot };
  };
  /** The `keepRecords` field of a map entry: only for an entry whose records the kernel must not shed. */
  const keepFieldOf = (rule: KernelRule): { keepRecords?: true } => (rule.keepRecords === true ? { keepRecords: true } : {});
  return {
    install(rule: KernelRule) {
      const { scope } = rule;
      switch (rule.event) {
        case 'exec': {
          const maps = options.fileSensor.execPolicy;
          const entry = { ruleId: rule.ruleId, action: rule.action, scope, pidScope: pidScopeOf(rule), ...podScopeFieldOf(rule), ...keepFieldOf(rule) };
          if (rule.match.kind === 'equal') maps.addExact(rule.match.path, entry);
          else maps.addPrefix(rule.match.path, entry);
          return;
        }
        case 'file': {
          const maps = options.fileSensor.filePolicy;
          const entry = { ruleId: rule.ruleId, action: rule.action, ops: rule.ops, scope, pidScope: pidScopeOf(rule), ...podScopeFieldOf(rule), ...keepFieldOf(rule) };
          if (rule.match.kind === 'equal') maps.addExact(rule.match.path, entry);
          else maps.addPrefix(rule.match.path, entry);
          return;
        }
        case 'connect': {
          const destination = { cidr: rule.cidr, ruleId: rule.ruleId, scope, pidScope: pidScopeOf(rule), ...podScopeFieldOf(rule), ...keepFieldOf(rule), ...(rule.port === null ? {} : { port: rule.port }) };
          if (rule.action === 'deny') options.connectPolicy.rules.addDeny(destination);
          else options.networkSensor.auditDestinations.add(destination);
          return;
        }
        case 'namespace':
          options.privilegeSensor.namespaceRules.set({
            cgroupId: rootCgroupId,
            // Policy and libs/bpf both use the /proc/<pid>/ns names; a name libs/bpf does not know is refused there.
            namespaces: rule.namespaces,
            ruleId: rule.ruleId,
            action: rule.action,
            scope,
          });
          return;
        case 'module':
          options.privilegeSensor.moduleRules.set({ cgroupId: rootCgroupId, ruleId: rule.ruleId, action: rule.action, scope });
          return;
      }
    },
    uninstall(rule: KernelRule) {
      options.pidScopes?.release(slotKey(rule));
      options.podScopes?.release(slotKey(rule));
      switch (rule.event) {
        case 'exec':
          if (rule.match.kind === 'equal') options.fileSensor.execPolicy.removeExact(rule.match.path);
          else options.fileSensor.execPolicy.removePrefix(rule.match.path);
          return;
        case 'file':
          if (rule.match.kind === 'equal') options.fileSensor.filePolicy.removeExact(rule.match.path);
          else options.fileSensor.filePolicy.removePrefix(rule.match.path);
          return;
        case 'connect': {
          const destination = { cidr: rule.cidr, ...(rule.port === null ? {} : { port: rule.port }) };
          if (rule.action === 'deny') options.connectPolicy.rules.remove(destination);
          else options.networkSensor.auditDestinations.remove(destination);
          return;
        }
        case 'namespace':
          options.privilegeSensor.namespaceRules.remove(rootCgroupId);
          return;
        case 'module':
          options.privilegeSensor.moduleRules.remove(rootCgroupId);
          return;
      }
    },
  };
}
