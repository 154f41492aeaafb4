/**
 * CompiledPolicy.selector → predicate on an Event. A host process is one with neither a container id nor a pod;
 * labels, namespaces and container name need the pod the enricher found (an event not enriched never matches
 * them: the detector cannot tell, and a selector that names pods must not widen to unknown processes). Pids are
 * decided by `lineage`: the detector's AncestryIndex (the process, and with followChildren its known ancestors; pids
 * as containers see them: pid 1, each container's entry process), or the enforcer's DETECTOR_DECIDED_LINEAGE.
 */
import type { Event, PolicySelector } from '@stinger/events';
import type { EventPredicate } from './conditions.ts';
import type { ProcessLineage } from './process-ancestry.ts';

export function isHostEvent(event: Event): boolean {
  return event.pod === null && event.process.container_id === null;
}

export function compileSelector(selector: PolicySelector, lineage: ProcessLineage): EventPredicate {
  const pids = selector.pids === null ? null : new Set(selector.pids.pids);
  const followChildren = selector.pids?.follow_children ?? false;
  // Records before CompiledPolicy v6 have no namespace: host pids.
  const inContainer = selector.pids?.namespace === 'container';
  const labels = Object.entries(selector.pod_labels);
  const namespaces = new Set(selector.namespaces);
  const { container_name: containerName, host } = selector;
  const needsPod = labels.length > 0 || namespaces.size > 0 || containerName !== null;
  return (event) => {
    const onHost = isHostEvent(event);
    if (host === true && !onHost) return false;
    if (host === false && onHost) return false;
    if (pids !== null && !(inContainer ? lineage.includesInContainer(event, pids, followChildren) : lineage.includes(event, pids, followChildren))) return false;
    if (!needsPod) return true;
    const pod = event.pod;
    if (pod === null) return false;
    if (namespaces.size > 0 && !namespaces.has(pod.namespace)) return false;
    if (containerName !== null && pod.container?.name !== containerName) return false;
    return labels.every(([key, value]) => pod.labels[key] === value);
  };
}
