/**
 * @stinger/console-store: the web console's embedded store. `ConsoleStore` (node:sqlite) takes decoded Avro records
 * (Event, Alert, Enforcement, the agents' health), keeps them within a bounded retention and answers one query per
 * endpoint of the console's API (@stinger/console-api); `eventMatches`/`alertMatches` filter the live stream.
 * No Kafka here: the service (services/console) feeds it.
 */
export { ConsoleStore, type AgentHealthReport, type ConsoleStoreOptions, type PruneResult } from './store.ts';
export {
  queryAgents,
  queryAlerts,
  queryEgress,
  queryEvents,
  queryEventsOverTime,
  queryFacets,
  queryFileAccess,
  queryProcessTree,
  queryTopFiles,
  queryTopTalkers,
} from './queries.ts';
export { alertMatches, eventMatches } from './stream-filter.ts';
export { openFlagNames } from './open-flags.ts';
export { agentHealthReport } from './records.ts';
