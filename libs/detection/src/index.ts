// @stinger/detection: the detector's logic (and its replay over stored history), with no I/O of its own (Kafka reads are passed in; no clock decisions): policy rules compiled for matching
// (DetectionRules), one partition's stateful matching — single-event rules with grouping, sequences with their
// windows and process ancestry (PartitionDetector) — and the Alert records it raises.
export { alertKey, buildAlert, derivedUuid, describeEvent, type AlertInput } from './alerts.ts';
export { compileCondition, compileConditions, ConditionError, type EventPredicate } from './conditions.ts';
export { DetectionRules, type CompiledStep, type RuleIdentity, type SequenceRule, type SingleEventRule } from './detection-rules.ts';
export { fieldValues, fileAccessOf, type FieldValue } from './event-fields.ts';
export { AncestryIndex, DETECTOR_DECIDED_LINEAGE, type ContainerOrigin, type ProcessLineage } from './process-ancestry.ts';
export { PartitionDetector, type PartitionDetectorOptions } from './partition-detector.ts';
export { compileSelector, isHostEvent } from './selector.ts';
export { createDetector, type Detector, type DetectorOptions, type DetectorStats } from './detector.ts';
export { followSignedPolicies, loadSignedPolicies, type FollowPoliciesOptions } from './policy-follower.ts';
export { replayAlerts, ReplayDetector, type ReplayDetectorOptions } from './replay.ts';
