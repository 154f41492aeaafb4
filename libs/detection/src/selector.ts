/**
 * CompiledPolicy.selector → predicate on an Event. A host process is one with neither a container id nor a pod;
 * labels, namespaces and container name need the pod the enricher found (an event not enriched never matches
 * them: the detector cannot tell, and a selector that names pods must not widen to unknown processes).
 */
import type { Event, PolicySelector } from '@stinger/events';
import { ConditionError, type EventPredicate } from './conditions.ts';

export function isHostEvent(event: Event): boolean {
  return event.pod === null && event.process.container_id === null;
}

export function compileSelector(selector: PolicySelector): EventPredicate {
  // A pid selector narrows the policy to a process tree; evaluating it without the ancestry would widen the policy to
  // every process, so until the detector decides it the record is refused (the previous version stays in force).
  if (selector.pids !== null) throw new ConditionError('spec.selector.pids is not evaluated by this detector yet');
  const labels = Object.entries(selector.pod_labels);
  const namespaces = new Set(selector.namespaces);
  const { container_name: containerName, host } = selector;
  const needsPod = labels.length > 0 || namespaces.size > 0 || containerName !== null;
  return (event) => {
    const onHost = isHostEvent(event);
    if (host === true && !onHost) return false;
    if (host === false && onHost) return false;
    if (!needsPod) return true;
    const pod = event.pod;
    if (pod === null) return false;
    if (namespaces.size > 0 && !namespaces.has(pod.namespace)) return false;
    if (containerName !== null && pod.container?.name !== containerName) return false;
    return labels.every(([key, value]) => pod.labels[key] === value);
  };
}
