/**
 * The one module that reads the process environment.
 *
 * Contract: each process calls `loadConfig()` once at start and passes the frozen result down.
 * Every variable is validated here; a bad value throws a `ConfigError` naming the variable, and
 * contradictory settings are refused rather than silently resolved.
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { LOG_LEVELS, type LogLevel } from '@stinger/log';
import { isLoopbackHost, parseHostPort } from '@stinger/net-address';

export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

export interface KafkaConfig {
  /** `host:port` list from KAFKA_BROKERS; null when unset (the CLI then starts a local broker). */
  readonly brokers: readonly string[] | null;
  readonly clientId: string;
  /** Prepended to every topic name (STINGER_TOPIC_PREFIX), so several pipelines can share a cluster. */
  readonly topicPrefix: string;
  /** Milliseconds to open a connection, TLS handshake included (KAFKA_CONNECTION_TIMEOUT_MS). */
  readonly connectionTimeoutMs: number;
  /** Milliseconds a request may wait for its answer (KAFKA_REQUEST_TIMEOUT_MS). */
  readonly requestTimeoutMs: number;
  /** TLS to the brokers (KAFKA_TLS and KAFKA_TLS_*_FILE); null: plaintext. */
  readonly tls: KafkaTlsConfig | null;
  /** SASL authentication (KAFKA_SASL_*); null: none. */
  readonly sasl: KafkaSaslConfig | null;
  /** Replication factor of the topics Stinger creates (STINGER_TOPIC_REPLICATION_FACTOR; 1 suits one local broker). */
  readonly topicReplicationFactor: number;
  /**
   * Partition counts that replace the topic table's for topics Stinger creates, keyed by topic name without the prefix
   * (STINGER_TOPIC_PARTITIONS, e.g. `stinger.events.raw=24,stinger.events=24`). Names are checked against the topic
   * table where it lives (@stinger/kafka bootstrapTopics); here only their form.
   */
  readonly topicPartitions: Readonly<Record<string, number>>;
  /**
   * The schema registry (STINGER_SCHEMA_REGISTRY_URL and its STINGER_SCHEMA_REGISTRY_* settings); null: none, and
   * records are written in Avro single-object encoding as always. Set, every producer registers its schemas and writes
   * the registry wire format (see @stinger/schema-registry); readers decode both formats either way.
   */
  readonly schemaRegistry: SchemaRegistryConfig | null;
  /**
   * The codec of every record batch Stinger produces where a producer does not choose one (KAFKA_COMPRESSION):
   * zstd by default, the cheapest per event (docs/BENCHMARKS.md, compression codecs) and read by every Kafka client
   * since Kafka 2.1; gzip for older readers; none.
   */
  readonly compression: KafkaCompression;
}

/** A Confluent-compatible schema registry API (Apicurio's `/apis/ccompat/v7`, Confluent's, Karapace's). */
export interface SchemaRegistryConfig {
  /** Base URL of the API, no trailing slash: `http://127.0.0.1:8081/apis/ccompat/v7`. */
  readonly url: string;
  /** HTTP basic authentication (STINGER_SCHEMA_REGISTRY_USERNAME, _PASSWORD or their _FILE); null: none. */
  readonly basicAuth: { readonly username: string; readonly password: string } | null;
  /** For an https URL: CA and client certificate (STINGER_SCHEMA_REGISTRY_TLS_*_FILE); null for http URLs. */
  readonly tls: KafkaTlsConfig | null;
  /** Milliseconds one registry request may take (STINGER_SCHEMA_REGISTRY_TIMEOUT_MS). */
  readonly timeoutMs: number;
}

/**
 * PEM contents, read once at start from the files named by the variables (Kubernetes mounts Secrets as files). A
 * rotated certificate takes effect at the next start.
 */
export interface KafkaTlsConfig {
  /** CA bundle the brokers' certificates must chain to (KAFKA_TLS_CA_FILE); null: the system's CAs. */
  readonly ca: string | null;
  /** Client certificate and its key for mutual TLS (KAFKA_TLS_CERT_FILE, KAFKA_TLS_KEY_FILE); both or neither. */
  readonly cert: string | null;
  readonly key: string | null;
}

export const KAFKA_COMPRESSIONS = ['zstd', 'gzip', 'none'] as const;
export type KafkaCompression = (typeof KAFKA_COMPRESSIONS)[number];

export const KAFKA_SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

export interface KafkaSaslConfig {
  /** KAFKA_SASL_MECHANISM, lower case (PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 are accepted in any case). */
  readonly mechanism: KafkaSaslMechanism;
  /** KAFKA_SASL_USERNAME or the contents of KAFKA_SASL_USERNAME_FILE. */
  readonly username: string;
  /** KAFKA_SASL_PASSWORD or the contents of KAFKA_SASL_PASSWORD_FILE. Never logged. */
  readonly password: string;
}

export interface AgentConfig {
  /** On-disk spool for events Kafka has not taken (STINGER_AGENT_SPOOL_DIR). */
  readonly spoolDir: string;
  readonly spoolMaxBytes: number;
  /** Local policy directory read besides the policies topic (STINGER_AGENT_POLICY_DIR). */
  readonly policyDir: string;
  /** host:port of the local gRPC API (STINGER_AGENT_GRPC_ADDRESS). */
  readonly grpcAddress: string;
  /** host:port of the Prometheus endpoint (STINGER_AGENT_METRICS_ADDRESS). */
  readonly metricsAddress: string;
  /**
   * Syscall groups reported for every process besides the process life cycle, which always is
   * (STINGER_AGENT_WATCH, comma-separated). Policies add what their rules watch on top.
   */
  readonly watch: readonly AgentWatch[];
  /** Milliseconds the ring-buffer reader lets records pile up after a wake-up (STINGER_AGENT_RING_COALESCE_MS). */
  readonly ringCoalesceMs: number;
  /** Milliseconds between two AgentHealth reports on the agents topic (STINGER_AGENT_HEALTH_INTERVAL_MS). */
  readonly healthIntervalMs: number;
  /**
   * Whether the agent watches its node's pods (when it has a Kubernetes API server) so that rules scoped by pod labels
   * or namespaces are decided in the kernel (STINGER_AGENT_POD_SCOPES, default true); false leaves them to the pipeline.
   */
  readonly podScopes: boolean;
  /** The egress parser: DNS names, TLS server names and HTTP requests read from outgoing packets. */
  readonly egress: AgentEgressConfig;
}

export interface AgentEgressConfig {
  /** Whether the agent attaches the egress parser (STINGER_AGENT_EGRESS, default true). */
  readonly enabled: boolean;
  /** Egress records per second per cgroup on average (STINGER_AGENT_EGRESS_RATE, default 200; 0 = no limit). */
  readonly perSecond: number;
  /** Egress records a cgroup may write at once (STINGER_AGENT_EGRESS_BURST, default 400). */
  readonly burst: number;
  /**
   * A connection still open this long after its last flow record gets an interim one (STINGER_AGENT_FLOW_INTERVAL_MS,
   * default 60000; 0 = flow records only when a socket is released).
   */
  readonly flowIntervalMs: number;
  /** Flow records per second per cgroup on average (STINGER_AGENT_FLOW_RATE, default 1000; 0 = no limit). */
  readonly flowPerSecond: number;
  /** Flow records a cgroup may write at once (STINGER_AGENT_FLOW_BURST, default 2000). */
  readonly flowBurst: number;
}

export const AGENT_WATCHES = ['connect', 'accept', 'bind', 'listen', 'setid', 'capset', 'namespace', 'module', 'ptrace', 'mount', 'bpf'] as const;
export type AgentWatch = (typeof AGENT_WATCHES)[number];
/** Rare and security-relevant: cheap to report always. Network syscalls are frequent, so opt-in. */
export const DEFAULT_AGENT_WATCH: readonly AgentWatch[] = ['setid', 'capset', 'namespace', 'module', 'ptrace', 'mount', 'bpf'];

function parseWatch(raw: string | undefined): readonly AgentWatch[] {
  if (raw === undefined) return DEFAULT_AGENT_WATCH;
  const names = raw.split(',').map((n) => n.trim()).filter((n) => n !== '');
  const unknown = names.filter((n) => !(AGENT_WATCHES as readonly string[]).includes(n));
  if (unknown.length > 0) throw new ConfigError('STINGER_AGENT_WATCH', `${unknown.join(', ')}: not one of ${AGENT_WATCHES.join(', ')}`);
  return [...new Set(names)] as AgentWatch[];
}

/** Where the service account token and CA are mounted into every pod (kubelet's fixed path). */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * How to reach the Kubernetes API server, in the order kubectl and client-node's `KubeConfig.loadFromDefault` take:
 * the files KUBECONFIG lists (colon-separated, merged, the first file's context current); else `$HOME/.kube/config`
 * when it exists; else in-cluster when the service account token is mounted (and KUBERNETES_SERVICE_HOST is set,
 * which kubelet always does in a pod); else none: outside a cluster services run without pod metadata, where
 * loadFromDefault would instead point at http://localhost:8080.
 */
export type KubeconfigSource =
  | { readonly kind: 'file'; readonly paths: readonly string[] }
  | { readonly kind: 'in-cluster'; readonly host: string; readonly port: number; readonly tokenPath: string; readonly caPath: string }
  | { readonly kind: 'none' };

/** What loadConfig may ask the file system (replaced in tests). */
export interface ConfigProbe {
  readonly fileExists: (path: string) => boolean;
  /** The file's text; throws (with the system's reason) when it cannot be read. */
  readonly readTextFile: (path: string) => string;
}

const FILE_SYSTEM_PROBE: ConfigProbe = { fileExists: existsSync, readTextFile: (path) => readFileSync(path, 'utf8') };

function parseKubeconfig(env: Env, probe: ConfigProbe): KubeconfigSource {
  const kubeconfig = env['KUBECONFIG'];
  if (kubeconfig !== undefined && kubeconfig.trim() !== '') {
    return { kind: 'file', paths: kubeconfig.split(':').filter((p) => p !== '') };
  }
  const home = env['HOME'];
  if (home !== undefined && home !== '' && probe.fileExists(`${home}/.kube/config`)) return { kind: 'file', paths: [`${home}/.kube/config`] };
  const host = env['KUBERNETES_SERVICE_HOST'];
  const tokenPath = `${SERVICE_ACCOUNT_DIR}/token`;
  if (!host || !probe.fileExists(tokenPath)) return { kind: 'none' };
  const rawPort = env['KUBERNETES_SERVICE_PORT'] || '443';
  const port = Number(rawPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ConfigError('KUBERNETES_SERVICE_PORT', `"${rawPort}" is not a port`);
  return { kind: 'in-cluster', host, port, tokenPath, caPath: `${SERVICE_ACCOUNT_DIR}/ca.crt` };
}

export interface EnforcerConfig {
  /** Send every command with dry_run set: agents check everything and acknowledge, but never kill (STINGER_ENFORCER_DRY_RUN). */
  readonly dryRun: boolean;
  /** Pod namespaces never acted on unless a policy's selector names them (STINGER_ENFORCER_PROTECTED_NAMESPACES). */
  readonly protectedNamespaces: readonly string[];
  /** How long a kill command stays valid at the agent (STINGER_ENFORCER_COMMAND_TTL_MS). */
  readonly commandTtlMs: number;
  /** How long the enforcer waits for an agent's acknowledgement before recording timed_out (STINGER_ENFORCER_ACK_TIMEOUT_MS). */
  readonly ackTimeoutMs: number;
  /** Kill commands per node and policy per minute; more are recorded as rejected (STINGER_ENFORCER_MAX_KILLS_PER_MINUTE). */
  readonly maxKillsPerMinute: number;
}

/** The web console (services/console): its HTTP address, bearer token and store. */
export interface ConsoleConfig {
  /** host:port the API and page are served on (STINGER_CONSOLE_ADDRESS, default 127.0.0.1:7070; port 0: any free port). */
  readonly address: string;
  /**
   * Bearer token every /api request must carry (STINGER_CONSOLE_TOKEN); null: none asked. Required when the address
   * is not loopback: outside loopback anyone on the network could read every event.
   */
  readonly token: string | null;
  /** Events, alerts and enforcements older than this are pruned (STINGER_CONSOLE_RETENTION, e.g. 24h, 90m, 7d). */
  readonly retentionMs: number;
  /** Most events kept; the oldest beyond it are pruned (STINGER_CONSOLE_MAX_EVENTS). */
  readonly maxEvents: number;
  /** SQLite file of the store (STINGER_CONSOLE_STORE, default <home>/console/store.sqlite); ':memory:' keeps nothing on disk. */
  readonly storePath: string;
  /** Directory of the built front end (STINGER_CONSOLE_WEB_DIR); null: services/console/web/dist beside the service. */
  readonly webDir: string | null;
}

/** The stock-kernel VM of `stinger vm-test` (@stinger/kernel-vm). */
export interface VmConfig {
  /** Debian package of the kernel to boot (STINGER_VM_KERNEL): linux-image-amd64 (Debian 12's 6.1) or linux-image-<release>. */
  readonly kernelPackage: string;
  /** Guest memory (STINGER_VM_MEMORY_MB). */
  readonly memoryMiB: number;
  /** The whole run, boot to power-off, is killed after this (STINGER_VM_TIMEOUT_MS). */
  readonly timeoutMs: number;
  /** The qemu binary (STINGER_VM_QEMU). */
  readonly qemu: string;
}

export interface StingerConfig {
  readonly nodeName: string;
  readonly logLevel: LogLevel;
  readonly kafka: KafkaConfig;
  /** Where the CLI keeps its state (pid files, local broker data): STINGER_HOME. */
  readonly home: string;
  /** Downloaded tools and jars shared between clones (STINGER_CACHE_DIR). */
  readonly cacheDir: string;
  readonly agent: AgentConfig;
  /** The Kubernetes API server to use, if any (KUBECONFIG, ~/.kube/config, or in-cluster). */
  readonly kubeconfig: KubeconfigSource;
  /** host:port of the enricher's /metrics, /healthz and /readyz (STINGER_ENRICHER_METRICS_ADDRESS). */
  readonly enricherMetricsAddress: string;
  /** host:port of the detector's /metrics, /healthz and /readyz (STINGER_DETECTOR_METRICS_ADDRESS). */
  readonly detectorMetricsAddress: string;
  /** host:port of the enforcer's /metrics, /healthz and /readyz (STINGER_ENFORCER_METRICS_ADDRESS). */
  readonly enforcerMetricsAddress: string;
  /** host:port of the policy-controller's /metrics, /healthz and /readyz (STINGER_POLICY_CONTROLLER_METRICS_ADDRESS). */
  readonly policyControllerMetricsAddress: string;
  /**
   * Ed25519 keys (STINGER_KEYS_DIR, default <home>/keys): `signing.key` for those who sign policies and commands,
   * `trusted/*.pub` for those who verify them (@stinger/trust).
   */
  readonly keysDir: string;
  readonly enforcer: EnforcerConfig;
  readonly console: ConsoleConfig;
  readonly vm: VmConfig;
}

type Env = Readonly<Record<string, string | undefined>>;

function parseBrokers(raw: string | undefined): readonly string[] | null {
  if (raw === undefined || raw.trim() === '') return null;
  const brokers = raw.split(',').map((b) => b.trim()).filter((b) => b !== '');
  for (const broker of brokers) {
    const parsed = parseHostPort(broker);
    if (parsed === null || parsed.port < 1) {
      throw new ConfigError('KAFKA_BROKERS', `"${broker}" is not host:port (expected e.g. 127.0.0.1:9092)`);
    }
  }
  return brokers;
}

function parseKernelPackage(raw: string | undefined): string {
  if (raw === undefined || raw === '') return 'linux-image-amd64';
  if (!/^linux-image-[a-z0-9][a-z0-9.+-]*$/.test(raw)) {
    throw new ConfigError('STINGER_VM_KERNEL', `"${raw}" is not a Debian kernel image package (expected e.g. linux-image-amd64 or linux-image-6.1.0-57-amd64)`);
  }
  return raw;
}

function parsePositiveInt(env: Env, variable: string, fallback: number): number {
  const raw = env[variable];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    throw new ConfigError(variable, `"${raw}" is not a positive integer`);
  }
  return value;
}

function parseAddress(env: Env, variable: string, fallback: string): string {
  const raw = env[variable] || fallback;
  if (parseHostPort(raw) === null) throw new ConfigError(variable, `"${raw}" is not host:port`);
  return raw;
}

function parseNonNegativeInt(env: Env, variable: string, fallback: number): number {
  const raw = env[variable];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new ConfigError(variable, `"${raw}" is not a whole number >= 0`);
  return value;
}

function parseBoolean(env: Env, variable: string, fallback: boolean): boolean {
  const raw = env[variable];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(variable, `"${raw}" is not true or false`);
}

function parseNamespaceList(env: Env, variable: string, fallback: readonly string[]): readonly string[] {
  const raw = env[variable];
  if (raw === undefined) return fallback;
  const names = raw.split(',').map((n) => n.trim()).filter((n) => n !== '');
  const bad = names.filter((n) => !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(n) || n.length > 63);
  if (bad.length > 0) throw new ConfigError(variable, `${bad.map((n) => JSON.stringify(n)).join(', ')}: not a namespace name`);
  return [...new Set(names)];
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration such as `24h`, `90m`, `7d`, `30s` or `500ms`, in milliseconds. */
function parseDuration(env: Env, variable: string, fallback: number): number {
  const raw = env[variable];
  if (raw === undefined || raw === '') return fallback;
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(raw.trim());
  const value = match ? Number(match[1]) * (DURATION_UNITS_MS[match[2] ?? ''] ?? NaN) : NaN;
  if (!Number.isSafeInteger(value) || value <= 0) throw new ConfigError(variable, `"${raw}" is not a duration such as 24h, 90m, 7d or 30s`);
  return value;
}

function parseConsole(env: Env, home: string): ConsoleConfig {
  const address = parseAddress(env, 'STINGER_CONSOLE_ADDRESS', '127.0.0.1:7070');
  const rawToken = env['STINGER_CONSOLE_TOKEN'];
  const token = rawToken === undefined || rawToken === '' ? null : rawToken;
  if (token === null && !isLoopbackHost(parseHostPort(address)?.host ?? '')) {
    throw new ConfigError('STINGER_CONSOLE_TOKEN', `is not set but STINGER_CONSOLE_ADDRESS (${address}) is not loopback: outside loopback the console requires a bearer token`);
  }
  if (token !== null && (token.length < 16 || /\s/.test(token))) {
    throw new ConfigError('STINGER_CONSOLE_TOKEN', 'must be at least 16 characters without white space');
  }
  return {
    address,
    token,
    retentionMs: parseDuration(env, 'STINGER_CONSOLE_RETENTION', 24 * 3_600_000),
    maxEvents: parsePositiveInt(env, 'STINGER_CONSOLE_MAX_EVENTS', 2_000_000),
    storePath: env['STINGER_CONSOLE_STORE'] || `${home}/console/store.sqlite`,
    webDir: env['STINGER_CONSOLE_WEB_DIR'] || null,
  };
}

function parseLogLevel(raw: string | undefined): LogLevel {
  if (raw === undefined || raw === '') return 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(raw)) {
    throw new ConfigError('STINGER_LOG_LEVEL', `"${raw}" is not one of ${LOG_LEVELS.join(', ')}`);
  }
  return raw as LogLevel;
}

function parseKafkaCompression(raw: string | undefined): KafkaCompression {
  if (raw === undefined || raw === '') return 'zstd';
  const codec = raw.toLowerCase();
  if (!(KAFKA_COMPRESSIONS as readonly string[]).includes(codec)) {
    throw new ConfigError('KAFKA_COMPRESSION', `"${raw}" is not one of ${KAFKA_COMPRESSIONS.join(', ')}`);
  }
  return codec as KafkaCompression;
}

function parseTopicPrefix(raw: string | undefined): string {
  if (raw === undefined) return '';
  if (!/^[A-Za-z0-9._-]*$/.test(raw)) {
    throw new ConfigError('STINGER_TOPIC_PREFIX', `"${raw}" may only contain letters, digits, ".", "_" and "-"`);
  }
  return raw;
}

/** The contents of the file `variable` names, or null when it is unset; unreadable or empty files are refused. */
function readNamedFile(env: Env, variable: string, probe: ConfigProbe): string | null {
  const path = env[variable];
  if (path === undefined || path === '') return null;
  let text: string;
  try {
    text = probe.readTextFile(path);
  } catch (error) {
    throw new ConfigError(variable, `cannot read ${path}: ${(error as Error).message}`);
  }
  if (text.trim() === '') throw new ConfigError(variable, `${path} is empty`);
  return text;
}

function parseKafkaTls(env: Env, probe: ConfigProbe): KafkaTlsConfig | null {
  const files = ['KAFKA_TLS_CA_FILE', 'KAFKA_TLS_CERT_FILE', 'KAFKA_TLS_KEY_FILE'].filter((v) => (env[v] ?? '') !== '');
  // A file named implies TLS; saying false next to one is a contradiction rather than a choice.
  const enabled = parseBoolean(env, 'KAFKA_TLS', files.length > 0);
  if (!enabled) {
    if (files.length > 0) throw new ConfigError('KAFKA_TLS', `is false but ${files.join(', ')} ${files.length === 1 ? 'is' : 'are'} set`);
    return null;
  }
  const cert = readNamedFile(env, 'KAFKA_TLS_CERT_FILE', probe);
  const key = readNamedFile(env, 'KAFKA_TLS_KEY_FILE', probe);
  if (cert !== null && key === null) throw new ConfigError('KAFKA_TLS_KEY_FILE', 'is not set but KAFKA_TLS_CERT_FILE is: a client certificate needs its key');
  if (key !== null && cert === null) throw new ConfigError('KAFKA_TLS_CERT_FILE', 'is not set but KAFKA_TLS_KEY_FILE is: a client key needs its certificate');
  return { ca: readNamedFile(env, 'KAFKA_TLS_CA_FILE', probe), cert, key };
}

/** `NAME` or the contents of the file `NAME_FILE` (one trailing line break dropped), never both. */
function readSecret(env: Env, variable: string, probe: ConfigProbe): string | null {
  const direct = env[variable];
  const fromFile = readNamedFile(env, `${variable}_FILE`, probe);
  if (direct !== undefined && direct !== '' && fromFile !== null) throw new ConfigError(`${variable}_FILE`, `and ${variable} are both set: set one`);
  if (fromFile !== null) return fromFile.replace(/\r?\n$/, '');
  return direct === undefined || direct === '' ? null : direct;
}

function parseKafkaSasl(env: Env, probe: ConfigProbe): KafkaSaslConfig | null {
  const rawMechanism = env['KAFKA_SASL_MECHANISM'] ?? '';
  const username = readSecret(env, 'KAFKA_SASL_USERNAME', probe);
  const password = readSecret(env, 'KAFKA_SASL_PASSWORD', probe);
  if (rawMechanism === '') {
    const stray = username !== null ? 'KAFKA_SASL_USERNAME' : password !== null ? 'KAFKA_SASL_PASSWORD' : null;
    if (stray !== null) throw new ConfigError('KAFKA_SASL_MECHANISM', `is not set but ${stray} is: say which mechanism (${KAFKA_SASL_MECHANISMS.join(', ')})`);
    return null;
  }
  const mechanism = rawMechanism.toLowerCase();
  if (!(KAFKA_SASL_MECHANISMS as readonly string[]).includes(mechanism)) {
    throw new ConfigError('KAFKA_SASL_MECHANISM', `"${rawMechanism}" is not one of ${KAFKA_SASL_MECHANISMS.join(', ')}`);
  }
  if (username === null) throw new ConfigError('KAFKA_SASL_USERNAME', `is not set (nor KAFKA_SASL_USERNAME_FILE) but KAFKA_SASL_MECHANISM is ${rawMechanism}`);
  if (password === null) throw new ConfigError('KAFKA_SASL_PASSWORD', `is not set (nor KAFKA_SASL_PASSWORD_FILE) but KAFKA_SASL_MECHANISM is ${rawMechanism}`);
  return { mechanism: mechanism as KafkaSaslMechanism, username, password };
}

const REGISTRY_TLS_FILES = ['STINGER_SCHEMA_REGISTRY_TLS_CA_FILE', 'STINGER_SCHEMA_REGISTRY_TLS_CERT_FILE', 'STINGER_SCHEMA_REGISTRY_TLS_KEY_FILE'] as const;

/**
 * STINGER_SCHEMA_REGISTRY_*: settings without a URL, TLS files for an http URL, a user without a password (or the
 * reverse) and a password sent in clear to another machine are refused rather than ignored.
 */
function parseSchemaRegistry(env: Env, probe: ConfigProbe): SchemaRegistryConfig | null {
  const raw = (env['STINGER_SCHEMA_REGISTRY_URL'] ?? '').trim();
  const username = readSecret(env, 'STINGER_SCHEMA_REGISTRY_USERNAME', probe);
  const password = readSecret(env, 'STINGER_SCHEMA_REGISTRY_PASSWORD', probe);
  const tlsFiles = REGISTRY_TLS_FILES.filter((v) => (env[v] ?? '') !== '');
  if (raw === '') {
    const stray = [...(username !== null ? ['STINGER_SCHEMA_REGISTRY_USERNAME'] : []), ...(password !== null ? ['STINGER_SCHEMA_REGISTRY_PASSWORD'] : []), ...tlsFiles];
    if (stray.length > 0) throw new ConfigError('STINGER_SCHEMA_REGISTRY_URL', `is not set but ${stray.join(', ')} ${stray.length === 1 ? 'is' : 'are'}`);
    return null;
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('STINGER_SCHEMA_REGISTRY_URL', `"${raw}" is not a URL (e.g. http://127.0.0.1:8081/apis/ccompat/v7)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError('STINGER_SCHEMA_REGISTRY_URL', `"${raw}" is not an http or https URL`);
  if (url.username !== '' || url.password !== '') {
    throw new ConfigError('STINGER_SCHEMA_REGISTRY_URL', 'carries credentials: set STINGER_SCHEMA_REGISTRY_USERNAME and _PASSWORD instead');
  }
  if (url.search !== '' || url.hash !== '') throw new ConfigError('STINGER_SCHEMA_REGISTRY_URL', `"${raw}" has a query or fragment`);
  if (username !== null && password === null) {
    throw new ConfigError('STINGER_SCHEMA_REGISTRY_PASSWORD', 'is not set (nor STINGER_SCHEMA_REGISTRY_PASSWORD_FILE) but STINGER_SCHEMA_REGISTRY_USERNAME is');
  }
  if (password !== null && username === null) {
    throw new ConfigError('STINGER_SCHEMA_REGISTRY_USERNAME', 'is not set (nor STINGER_SCHEMA_REGISTRY_USERNAME_FILE) but STINGER_SCHEMA_REGISTRY_PASSWORD is');
  }
  const https = url.protocol === 'https:';
  if (!https && tlsFiles.length > 0) throw new ConfigError(tlsFiles[0] ?? 'STINGER_SCHEMA_REGISTRY_URL', `is set but STINGER_SCHEMA_REGISTRY_URL is http: use an https URL`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!https && password !== null && !isLoopbackHost(host)) {
    throw new ConfigError('STINGER_SCHEMA_REGISTRY_URL', `is http to ${host}: the registry password would cross the network in clear; use https`);
  }
  let tls: KafkaTlsConfig | null = null;
  if (https) {
    const cert = readNamedFile(env, 'STINGER_SCHEMA_REGISTRY_TLS_CERT_FILE', probe);
    const key = readNamedFile(env, 'STINGER_SCHEMA_REGISTRY_TLS_KEY_FILE', probe);
    if (cert !== null && key === null) throw new ConfigError('STINGER_SCHEMA_REGISTRY_TLS_KEY_FILE', 'is not set but STINGER_SCHEMA_REGISTRY_TLS_CERT_FILE is: a client certificate needs its key');
    if (key !== null && cert === null) throw new ConfigError('STINGER_SCHEMA_REGISTRY_TLS_CERT_FILE', 'is not set but STINGER_SCHEMA_REGISTRY_TLS_KEY_FILE is: a client key needs its certificate');
    tls = { ca: readNamedFile(env, 'STINGER_SCHEMA_REGISTRY_TLS_CA_FILE', probe), cert, key };
  }
  return {
    url: url.href.replace(/\/+$/, ''),
    basicAuth: username !== null && password !== null ? { username, password } : null,
    tls,
    timeoutMs: parsePositiveInt(env, 'STINGER_SCHEMA_REGISTRY_TIMEOUT_MS', 10_000),
  };
}

/** `name=count,name=count`: partition counts by topic name (without the prefix). */
function parseTopicPartitions(raw: string | undefined): Readonly<Record<string, number>> {
  const partitions: Record<string, number> = {};
  for (const entry of (raw ?? '').split(',').map((e) => e.trim()).filter((e) => e !== '')) {
    const match = /^([A-Za-z0-9._-]+)=(\d+)$/.exec(entry);
    const count = match ? Number(match[2]) : NaN;
    if (!match || !Number.isSafeInteger(count) || count < 1) {
      throw new ConfigError('STINGER_TOPIC_PARTITIONS', `"${entry}" is not topic=partitions (e.g. stinger.events=24)`);
    }
    const name = match[1] ?? '';
    if (name in partitions) throw new ConfigError('STINGER_TOPIC_PARTITIONS', `${name} is named twice`);
    partitions[name] = count;
  }
  return partitions;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** `probe` defaults to the file system; tests replace the parts they need. */
export function loadConfig(env: Env = process.env, probe: Partial<ConfigProbe> = {}): StingerConfig {
  const files: ConfigProbe = { ...FILE_SYSTEM_PROBE, ...probe };
  const home = env['STINGER_HOME'] || `${env['HOME'] ?? '/root'}/.stinger`;
  const config: StingerConfig = {
    nodeName: env['STINGER_NODE_NAME'] || env['NODE_NAME'] || hostname(),
    logLevel: parseLogLevel(env['STINGER_LOG_LEVEL']),
    kafka: {
      brokers: parseBrokers(env['KAFKA_BROKERS']),
      clientId: env['KAFKA_CLIENT_ID'] || 'stinger',
      topicPrefix: parseTopicPrefix(env['STINGER_TOPIC_PREFIX']),
      connectionTimeoutMs: parsePositiveInt(env, 'KAFKA_CONNECTION_TIMEOUT_MS', 3000),
      requestTimeoutMs: parsePositiveInt(env, 'KAFKA_REQUEST_TIMEOUT_MS', 30000),
      tls: parseKafkaTls(env, files),
      sasl: parseKafkaSasl(env, files),
      topicReplicationFactor: parsePositiveInt(env, 'STINGER_TOPIC_REPLICATION_FACTOR', 1),
      topicPartitions: parseTopicPartitions(env['STINGER_TOPIC_PARTITIONS']),
      schemaRegistry: parseSchemaRegistry(env, files),
      compression: parseKafkaCompression(env['KAFKA_COMPRESSION']),
    },
    home,
    cacheDir: env['STINGER_CACHE_DIR'] || `${env['XDG_CACHE_HOME'] || `${env['HOME'] ?? '/root'}/.cache`}/stinger`,
    agent: {
      spoolDir: env['STINGER_AGENT_SPOOL_DIR'] || `${home}/agent/spool`,
      spoolMaxBytes: parsePositiveInt(env, 'STINGER_AGENT_SPOOL_MAX_BYTES', 256 * 1024 * 1024),
      policyDir: env['STINGER_AGENT_POLICY_DIR'] || `${home}/policies.d`,
      grpcAddress: parseAddress(env, 'STINGER_AGENT_GRPC_ADDRESS', '127.0.0.1:50051'),
      metricsAddress: parseAddress(env, 'STINGER_AGENT_METRICS_ADDRESS', '127.0.0.1:9464'),
      watch: parseWatch(env['STINGER_AGENT_WATCH']),
      ringCoalesceMs: parseNonNegativeInt(env, 'STINGER_AGENT_RING_COALESCE_MS', 2),
      healthIntervalMs: parsePositiveInt(env, 'STINGER_AGENT_HEALTH_INTERVAL_MS', 10_000),
      podScopes: parseBoolean(env, 'STINGER_AGENT_POD_SCOPES', true),
      egress: {
        enabled: parseBoolean(env, 'STINGER_AGENT_EGRESS', true),
        perSecond: parseNonNegativeInt(env, 'STINGER_AGENT_EGRESS_RATE', 200),
        burst: parsePositiveInt(env, 'STINGER_AGENT_EGRESS_BURST', 400),
        flowIntervalMs: parseNonNegativeInt(env, 'STINGER_AGENT_FLOW_INTERVAL_MS', 60_000),
        flowPerSecond: parseNonNegativeInt(env, 'STINGER_AGENT_FLOW_RATE', 1000),
        flowBurst: parsePositiveInt(env, 'STINGER_AGENT_FLOW_BURST', 2000),
      },
    },
    kubeconfig: parseKubeconfig(env, files),
    enricherMetricsAddress: parseAddress(env, 'STINGER_ENRICHER_METRICS_ADDRESS', '127.0.0.1:9465'),
    detectorMetricsAddress: parseAddress(env, 'STINGER_DETECTOR_METRICS_ADDRESS', '127.0.0.1:9466'),
    enforcerMetricsAddress: parseAddress(env, 'STINGER_ENFORCER_METRICS_ADDRESS', '127.0.0.1:9467'),
    policyControllerMetricsAddress: parseAddress(env, 'STINGER_POLICY_CONTROLLER_METRICS_ADDRESS', '127.0.0.1:9468'),
    keysDir: env['STINGER_KEYS_DIR'] || `${home}/keys`,
    enforcer: {
      dryRun: parseBoolean(env, 'STINGER_ENFORCER_DRY_RUN', false),
      protectedNamespaces: parseNamespaceList(env, 'STINGER_ENFORCER_PROTECTED_NAMESPACES', ['kube-system']),
      commandTtlMs: parsePositiveInt(env, 'STINGER_ENFORCER_COMMAND_TTL_MS', 10_000),
      ackTimeoutMs: parsePositiveInt(env, 'STINGER_ENFORCER_ACK_TIMEOUT_MS', 15_000),
      maxKillsPerMinute: parsePositiveInt(env, 'STINGER_ENFORCER_MAX_KILLS_PER_MINUTE', 60),
    },
    console: parseConsole(env, home),
    vm: {
      kernelPackage: parseKernelPackage(env['STINGER_VM_KERNEL']),
      memoryMiB: parsePositiveInt(env, 'STINGER_VM_MEMORY_MB', 2048),
      timeoutMs: parsePositiveInt(env, 'STINGER_VM_TIMEOUT_MS', 90 * 60_000),
      qemu: env['STINGER_VM_QEMU'] || 'qemu-system-x86_64',
    },
  };
  // `stinger up` runs every service on one host, so no two may listen on the same address. Port 0 means "any free
  // port": never a clash.
  const listeners: Readonly<Record<string, string>> = {
    STINGER_AGENT_GRPC_ADDRESS: config.agent.grpcAddress,
    STINGER_AGENT_METRICS_ADDRESS: config.agent.metricsAddress,
    STINGER_ENRICHER_METRICS_ADDRESS: config.enricherMetricsAddress,
    STINGER_DETECTOR_METRICS_ADDRESS: config.detectorMetricsAddress,
    STINGER_ENFORCER_METRICS_ADDRESS: config.enforcerMetricsAddress,
    STINGER_POLICY_CONTROLLER_METRICS_ADDRESS: config.policyControllerMetricsAddress,
    STINGER_CONSOLE_ADDRESS: config.console.address,
  };
  const seen = new Map<string, string>();
  for (const [variable, address] of Object.entries(listeners)) {
    if (address.endsWith(':0')) continue;
    const earlier = seen.get(address);
    if (earlier !== undefined) throw new ConfigError(variable, `${address} is also ${earlier}'s address: every listener needs its own`);
    seen.set(address, variable);
  }
  if (config.enforcer.commandTtlMs > 5 * 60_000) {
    throw new ConfigError('STINGER_ENFORCER_COMMAND_TTL_MS', `${config.enforcer.commandTtlMs} ms is longer than agents accept (300000 ms)`);
  }
  if (config.enforcer.ackTimeoutMs < config.enforcer.commandTtlMs) {
    throw new ConfigError(
      'STINGER_ENFORCER_ACK_TIMEOUT_MS',
      `${config.enforcer.ackTimeoutMs} ms is shorter than STINGER_ENFORCER_COMMAND_TTL_MS (${config.enforcer.commandTtlMs} ms): a command could still act after it was recorded timed_out`,
    );
  }
  if (config.kafka.requestTimeoutMs < config.kafka.connectionTimeoutMs) {
    throw new ConfigError(
      'KAFKA_REQUEST_TIMEOUT_MS',
      `${config.kafka.requestTimeoutMs} ms is shorter than KAFKA_CONNECTION_TIMEOUT_MS (${config.kafka.connectionTimeoutMs} ms)`,
    );
  }
  return deepFreeze(config);
}

/** The brokers a service must have; services never start a broker themselves. */
export function requireBrokers(config: StingerConfig): readonly string[] {
  if (config.kafka.brokers === null) {
    throw new ConfigError('KAFKA_BROKERS', 'is not set (run `stinger up` for a local broker, or set host:port)');
  }
  return config.kafka.brokers;
}

/** Raw access for child-process environments (the CLI passes the environment on to services). */
export function processEnvironment(): Env {
  return process.env;
}
