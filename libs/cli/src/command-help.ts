/**
 * `stinger <command> --help`: each command's usage, printed on stdout with exit 0. The overview (`stinger --help`)
 * is main.ts's USAGE.
 */

const TIME = `times: a duration back from now (30s, 10m, 2h, 1d), now, or an RFC 3339 time (2026-12-02T08:00:00Z)`;

const EVENT_FILTERS = `  --kind K            event kind (exec, file, connect, ...); repeatable
  --namespace NS      pod namespace; repeatable
  --pod NAME          pod whose name starts with NAME, or NS/NAME exactly; repeatable
  --node NODE         node name; repeatable
  --binary SUBSTR     process binary containing SUBSTR`;

const ALERT_FILTERS = `${EVENT_FILTERS}
  --severity S        info, low, medium, high or critical; repeatable
  --policy NAME       policy name (namespace/name when namespaced); repeatable`;

const RANGE = `  --from T, --since T start (default: 10m ago; with --follow: only new records)
  --to T              end, exclusive (default: the end of the topic when the command starts)
  --follow, -f        keep reading new records until Ctrl-C (without it the command stops at --to, as kcat -e)`;

const HELP: Readonly<Record<string, string>> = {
  up: `usage: stinger up [--detach] [--logs] [--brokers 3]

Starts the local pipeline: a Kafka broker on 127.0.0.1:9092 (unless KAFKA_BROKERS is set), the topics and every
service of this build, each logging to a file it names; prints the broker (KAFKA_BROKERS=<host:port>) and the
console's URL. Runs until Ctrl-C with a short status line (events/s, alerts, lagging consumers), or returns at once
with --detach.

  --detach, -d        start everything in the background; \`stinger down\` stops it
  --logs              also print every service's log as it comes, one readable line per record
  --brokers 3         a local cluster of three brokers (one JVM each, 127.0.0.1) instead of one: topics get
                      replication factor 3 and min.insync.replicas=2, as production runs them (docs/deploy.md)`,
  down: `usage: stinger down

Stops what \`stinger up --detach\` started.`,
  status: `usage: stinger status [-o text|json]

The broker, the services started here, the services connected to the broker wherever they run (a cluster's pods:
consumer group members by client id and address), each node's agent health (stinger.agents), each consuming
service's lag and the topics with their record counts. -o json: one JSON object with the same facts. Exit 1 when no
broker is known.`,
  events: `usage: stinger events [--raw] [-o compact|json] [--from T] [--to T] [--follow] [filters] [--limit N]

Prints the events of stinger.events (--raw: stinger.events.raw), one compact line each (time node kind pid binary
and what it did), or JSON lines in the event-model names (-o json). Without --follow: the last 10 minutes (or
--from/--to), then exit 0.

${RANGE}
${EVENT_FILTERS}
  --limit N           stop after N events
${TIME}`,
  alerts: `usage: stinger alerts [-o compact|json] [--from T] [--to T] [--follow] [filters] [--limit N]

Prints the alerts of stinger.alerts, each with what became of it (killed, killed_in_kernel, monitor_only,
protected, timed_out, ...; pending while unknown): one line each (time severity policy/rule pod-or-node pid
binary → outcome), or JSON lines (-o json). Without --follow: the last 10 minutes (or --from/--to), then exit 0.

${RANGE}
${ALERT_FILTERS}
  --limit N           stop after N alerts
${TIME}`,
  replay: `usage: stinger replay --from T [--to T] [--policy FILE]... [--defaults] [-o compact|json] [filters] [--limit N]

Re-runs detection over the stored history of stinger.events from --from to --to (default: the end when the
command starts) and prints the alerts the policies would have raised. Writes nothing to Kafka.

  --policy FILE       TracingPolicy YAML file(s) to replay with (validated as \`stinger policy apply\` does);
                      repeatable
  --defaults          the default rule pack of k8s/policies (with --policy: the files win on a name clash)
                      without --policy and --defaults: the signed policies in force on stinger.policies
${EVENT_FILTERS}
  --severity S        info, low, medium, high or critical; repeatable
  --limit N           stop after N alerts
A progress line (rate, ETA) on a terminal and one summary line go to stderr. ${TIME}`,
  export: `usage: stinger export --from T [--to T] [--topic events|events.raw|alerts] [filters] [--limit N]

Writes a time range of a topic (default stinger.events) to stdout as JSON lines, for evidence: each line is
{topic, partition, offset, timestamp, key, value} with the value as \`stinger events -o json\` renders it.

${EVENT_FILTERS}
  --severity S, --policy NAME   for --topic alerts
${TIME}`,
  policy: `usage: stinger policy apply [--defaults] FILE... | delete NAME... | list

apply: validates TracingPolicy files (every problem file:line: field: message; nothing applied if any) and applies
them: in a cluster (KUBECONFIG) as custom resources, else published signed to stinger.policies. --defaults adds the
default rule pack of k8s/policies (monitor mode). delete: signed tombstones. list: each agent's status.`,
  keys: `usage: stinger keys generate | rotate | retire ID | list | secrets [--namespace NS]

The Ed25519 keys that sign policies and kill commands (STINGER_KEYS_DIR). rotate keeps the old key trusted until
retire; secrets prints them as two Kubernetes Secrets (in namespace stinger-system unless --namespace says otherwise).`,
  broker: `usage: stinger broker up [--listen HOST:PORT] [--brokers 3] | down

up: the local Apache Kafka broker alone, detached, on 127.0.0.1:9092 (another port, said plainly, when 9092 is
taken), with the topics created; no service starts. For services that run elsewhere, such as Stinger deployed on
the node of \`stinger dev-cluster up --with-node\`, where \`stinger up\` would run a second copy of each. Prints
KAFKA_BROKERS=<host:port> as its last line. It is the broker \`stinger up\` starts: \`stinger status\` finds it,
\`stinger up\` uses it, \`stinger down\` stops it too.

  --listen HOST:PORT  also a plaintext listener on this address of this machine, advertised as itself, and
                      KAFKA_BROKERS names it (this machine reaches it too). Pods cannot use 127.0.0.1 (inside a
                      pod that is the pod): on the dev cluster's node use its bridge address, 10.244.0.1:9094
  --brokers 3         a local cluster of three brokers instead (one JVM each, on 127.0.0.1; not with --listen):
                      topics get replication factor 3 and min.insync.replicas=2; KAFKA_BROKERS lists all three

down: stops it (refused while services of \`stinger up\` use it: \`stinger down\` stops them and the broker).`,
  registry: `usage: stinger registry up | down

A real schema registry, Apicurio Registry with in-memory storage, on 127.0.0.1 (port 8081 when free), detached. up
prints STINGER_SCHEMA_REGISTRY_URL=<url> (its Confluent-compatible API); export it and \`stinger up\` runs the whole
pipeline in registry mode: every producer registers its schemas (subject <topic>-value, BACKWARD) and writes the
registry wire format, every reader takes both formats. The first up builds the registry with Maven (minutes), later
ones use the cache. down stops it and forgets its schemas.`,
  'dev-cluster': `usage: stinger dev-cluster up [--with-node] | down

A real Kubernetes API server (etcd + kube-apiserver) on 127.0.0.1; up prints KUBECONFIG=... The first up builds both
from their Go modules (minutes; progress on a terminal), later ones use the cache.
--with-node (root): also kube-controller-manager, kube-scheduler, containerd (runc, bridge CNI on 10.244.0.0/24) and a
kubelet, node stinger-dev-node, so Deployments and DaemonSets run real pods here; each step prints its duration.
down stops the node first and restores the host (sysctls, iptables chains, mounts, the bridge, pod cgroups).`,
  test: `usage: stinger test [--skip-static] [--no-vm] [FILES...]

Every check and test of the repository (what \`npm test\` runs); --skip-static runs the tests only. Without FILES,
the kernel tests then run again in a stock-kernel VM (\`stinger vm-test\`), with their own line in the summary
(about 10 minutes under TCG on an idle 2-core machine); --no-vm leaves that run out. Naming FILES runs only them,
natively.`,
  'vm-test': `usage: stinger vm-test [--tap FILE] [FILES...]

Runs kernel test files (default: the kernel test list: libs/bpf's tests and libs/agent's lsm-deny) as root
with node --test in a qemu VM (TCG) booted from a stock Debian kernel: STINGER_VM_KERNEL (default
linux-image-amd64, Debian 12's 6.1), fetched with apt-get download and cached in
STINGER_CACHE_DIR/vm-kernel-<release>. The host's root is shared read-only under a writable tmpfs overlay, so the repository, its built objects and this Node.js are the host's. Tests needing Kafka do
not run there (the VM has no network). Streams the tests' output, ends with the \`tests: ...\` line and exits with
their status. STINGER_VM_MEMORY_MB (default 2048) and STINGER_VM_TIMEOUT_MS (default 90 min) size the run.

  --tap FILE          also write the tests' TAP stream to FILE`,
  setup: `usage: stinger setup

Fetches and builds the pinned tools into the cache (STINGER_CACHE_DIR): the Kafka jars, kube-apiserver and etcd.
The first build takes minutes; progress shows on a terminal.`,
  images: `usage: stinger images build [--node] [SERVICE...]

Builds one container image per service (default: all), stinger/<service>:<version>, without a Docker engine:
mmdebstrap (a minimal Debian from this machine's apt sources), Node.js 24 from the workspace's packages, the
production node_modules, umoci for the OCI layout; then copies them into podman's storage. Reproducible for the
same inputs and SOURCE_DATE_EPOCH (default 0); cached in STINGER_CACHE_DIR by version and input hash, so a second
run takes seconds. Needs root. docs/images.md tells how to run them. --node also imports them into the node of
\`stinger dev-cluster up --with-node\` (containerd, as docker.io/stinger/<service>:<version>, the manifests' name).

usage: stinger images kafka

Builds stinger/kafka:<kafka version>: the Kafka jars the local broker resolved with Maven and Debian's Java runtime
(mmdebstrap), into STINGER_CACHE_DIR/kafka-image and podman's storage; the brokers of the three-broker container
cluster the Kafka fault test runs through testcontainers. Cached by its inputs. Needs root.`,
};

/** The usage of `command`, or null when it has none of its own (a service: see the overview). */
export function commandHelp(command: string): string | null {
  return HELP[command] ?? null;
}
