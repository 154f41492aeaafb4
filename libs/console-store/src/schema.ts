/**
 * The console store's tables (SQLite). One row per event, alert, enforcement outcome and agent; processes are folded
 * from every event's process and parent, so ancestry and trees reach past the one parent an event carries.
 *
 * Flow events (one socket's totals so far, several per socket while it is open) are stored as the increase over the
 * socket's previous flow event (bytes, bytes_sent, bytes_received), so a sum over flow rows is a total and an
 * interim record is never counted twice; socket_cookie (decimal text) joins them to the socket's egress events.
 *
 * Times are ms since the epoch. `events.seq` is the insertion order: the row bound prunes the lowest. Event ids are
 * unique, so a record delivered twice (Kafka's at-least-once) is stored once.
 */
export const SCHEMA_VERSION = 4;

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  time INTEGER NOT NULL,
  node TEXT NOT NULL,
  kind TEXT NOT NULL,
  namespace TEXT,
  pod TEXT,
  workload TEXT,
  workload_kind TEXT,
  container TEXT,
  pid INTEGER NOT NULL,
  exec_id TEXT NOT NULL,
  binary_path TEXT NOT NULL,
  args TEXT,
  parent_binary TEXT,
  ancestry TEXT NOT NULL,
  path TEXT,
  op TEXT,
  flags INTEGER,
  family TEXT,
  protocol TEXT,
  daddr TEXT,
  dport INTEGER,
  bytes INTEGER,
  io_read INTEGER,
  io_written INTEGER,
  egress_app TEXT,
  egress_name TEXT,
  socket_cookie TEXT,
  bytes_sent INTEGER,
  bytes_received INTEGER,
  action_kind TEXT,
  action_policy TEXT,
  action_rule TEXT,
  summary TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_time ON events(time, kind);
CREATE INDEX IF NOT EXISTS events_kind ON events(kind, time);
CREATE INDEX IF NOT EXISTS events_path ON events(path, time) WHERE path IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_pod ON events(namespace, pod, time);
CREATE INDEX IF NOT EXISTS events_node ON events(node, time);
CREATE INDEX IF NOT EXISTS events_exec ON events(exec_id, time);
CREATE INDEX IF NOT EXISTS events_egress ON events(egress_name, time) WHERE egress_name IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_flow ON events(node, socket_cookie) WHERE kind = 'flow';

CREATE TABLE IF NOT EXISTS processes (
  exec_id TEXT PRIMARY KEY,
  node TEXT NOT NULL,
  pid INTEGER NOT NULL,
  parent_exec_id TEXT,
  binary_path TEXT NOT NULL,
  args TEXT,
  namespace TEXT,
  pod TEXT,
  start INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  exit_code INTEGER
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS processes_pod ON processes(namespace, pod, last_seen);
CREATE INDEX IF NOT EXISTS processes_node ON processes(node, last_seen);
CREATE INDEX IF NOT EXISTS processes_last_seen ON processes(last_seen);

CREATE TABLE IF NOT EXISTS alerts (
  id TEXT PRIMARY KEY,
  time INTEGER NOT NULL,
  severity TEXT NOT NULL,
  policy TEXT NOT NULL,
  rule TEXT NOT NULL,
  message TEXT NOT NULL,
  mode TEXT NOT NULL,
  action TEXT NOT NULL,
  namespace TEXT,
  pod TEXT,
  workload TEXT,
  node TEXT NOT NULL,
  binary_path TEXT NOT NULL,
  pid INTEGER NOT NULL,
  count INTEGER NOT NULL,
  tags TEXT NOT NULL,
  event_id TEXT NOT NULL,
  event_kind TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS alerts_time ON alerts(time);
CREATE INDEX IF NOT EXISTS alerts_event ON alerts(event_id);

CREATE TABLE IF NOT EXISTS enforcements (
  alert_id TEXT PRIMARY KEY,
  outcome TEXT NOT NULL,
  reason TEXT,
  time INTEGER NOT NULL,
  policy TEXT NOT NULL,
  rule TEXT NOT NULL,
  node TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS enforcements_time ON enforcements(time);

CREATE TABLE IF NOT EXISTS agents (
  node TEXT PRIMARY KEY,
  agent_id TEXT,
  last_seen INTEGER NOT NULL,
  health TEXT,
  health_time INTEGER
) WITHOUT ROWID;
`;
