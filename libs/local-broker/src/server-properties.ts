/**
 * The files the broker JVM reads: `server.properties` for a single-node KRaft cluster (broker and controller in one
 * process) and a log4j2 configuration that sends everything to a rolling file in the data directory.
 * Pure rendering; the caller writes them.
 */

export interface ServerPropertiesOptions {
  /** PLAINTEXT port clients connect to on 127.0.0.1. */
  readonly port: number;
  /** CONTROLLER port of the KRaft quorum, on 127.0.0.1. */
  readonly controllerPort: number;
  /** Absolute path of the KRaft log directory (topic data and the metadata log). */
  readonly logDir: string;
  /** Let producers and consumers create topics by naming them. Off by default so tests create what they use. */
  readonly autoCreateTopics?: boolean;
  /** A SASL_SSL listener besides PLAINTEXT (tests of TLS and SASL); absent: none. */
  readonly secure?: SecureListenerProperties;
  /**
   * A PLAINTEXT listener named PODS on another address of this machine, advertised as itself: the address pods of the
   * dev cluster's node reach (the bridge's), where 127.0.0.1 would name the pod's own loopback. Absent: none.
   */
  readonly pods?: { readonly host: string; readonly port: number };
  /**
   * This node's place in a cluster of several combined broker+controller nodes (absent: a single node, id 1). Every
   * node names every controller as a voter, and the internal topics get the cluster's replication (clusterReplication).
   */
  readonly cluster?: ClusterNodeProperties;
}

export interface ClusterNodeProperties {
  readonly nodeId: number;
  /** Every node of the cluster, this one included, with its CONTROLLER port on BROKER_HOST. */
  readonly voters: readonly { readonly nodeId: number; readonly controllerPort: number }[];
}

export interface ClusterReplication {
  readonly replicationFactor: number;
  readonly minInsyncReplicas: number;
}

/**
 * The replication a cluster of `size` brokers gives Stinger's topics and Kafka's internal ones: three copies at most,
 * and with three, acks=all waits for two of them, so one broker may die without losing an acknowledged write, and a
 * second dying stalls writes rather than keep a single copy. One broker: one copy (development).
 */
export function clusterReplication(size: number): ClusterReplication {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`a cluster of ${size} brokers`);
  const replicationFactor = Math.min(size, 3);
  return { replicationFactor, minInsyncReplicas: replicationFactor >= 3 ? 2 : 1 };
}

/** SASL mechanisms the secure listener offers. SCRAM users exist only if the storage was formatted with them. */
export const SECURE_LISTENER_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;

export interface SaslUser {
  readonly name: string;
  readonly password: string;
}

export interface SecureListenerProperties {
  readonly port: number;
  /** PEM file holding the broker's private key (unencrypted PKCS#8) followed by its certificate chain. */
  readonly keystoreFile: string;
  /** Users PLAIN accepts (SCRAM users are stored in the metadata log at format time, see local-broker.ts). */
  readonly plainUsers: readonly SaslUser[];
}

export const BROKER_HOST = '127.0.0.1';

/**
 * Static quorum (`controller.quorum.voters`) rather than `--standalone`'s dynamic one: the dynamic quorum records the
 * controller's endpoint in the metadata log, so a data directory reused with another controller port would not start.
 */
export function renderServerProperties(options: ServerPropertiesOptions): string {
  const { port, controllerPort, logDir, autoCreateTopics = false } = options;
  assertPort(port, 'port');
  assertPort(controllerPort, 'controllerPort');
  if (port === controllerPort) throw new RangeError(`port and controllerPort are both ${port}`);
  if (/[\r\n]/.test(logDir)) throw new RangeError('logDir must not contain a line break');
  const { secure } = options;
  if (secure !== undefined) {
    assertPort(secure.port, 'secure.port');
    if (secure.port === port || secure.port === controllerPort) throw new RangeError(`secure.port ${secure.port} is already used by another listener`);
  }
  const { pods } = options;
  if (pods !== undefined) {
    assertPort(pods.port, 'pods.port');
    if ([port, controllerPort, secure?.port].includes(pods.port)) throw new RangeError(`pods.port ${pods.port} is already used by another listener`);
    if (!/^[0-9.]+$/.test(pods.host)) throw new RangeError(`pods.host must be an IPv4 address, not ${JSON.stringify(pods.host)}`);
  }
  const { cluster } = options;
  if (cluster !== undefined) {
    if (!cluster.voters.some((voter) => voter.nodeId === cluster.nodeId)) throw new RangeError(`node ${cluster.nodeId} is not among the voters`);
    for (const voter of cluster.voters) assertPort(voter.controllerPort, `voter ${voter.nodeId} controllerPort`);
    if (cluster.voters.find((voter) => voter.nodeId === cluster.nodeId)?.controllerPort !== controllerPort) throw new RangeError(`node ${cluster.nodeId}'s voter entry does not name controllerPort ${controllerPort}`);
  }
  const nodeId = cluster?.nodeId ?? 1;
  const voters = cluster?.voters.map((voter) => `${voter.nodeId}@${BROKER_HOST}:${voter.controllerPort}`).join(',') ?? `1@${BROKER_HOST}:${controllerPort}`;
  const { replicationFactor, minInsyncReplicas } = clusterReplication(cluster?.voters.length ?? 1);
  const secureListener = (secure === undefined ? '' : `,SASL_SSL://${BROKER_HOST}:${secure.port}`) + (pods === undefined ? '' : `,PODS://${pods.host}:${pods.port}`);
  const settings: ReadonlyArray<readonly [string, string | number | boolean]> = [
    ['process.roles', 'broker,controller'],
    ['node.id', nodeId],
    ['controller.quorum.voters', voters],
    ['listeners', `PLAINTEXT://${BROKER_HOST}:${port},CONTROLLER://${BROKER_HOST}:${controllerPort}${secureListener}`],
    ['advertised.listeners', `PLAINTEXT://${BROKER_HOST}:${port}${secureListener}`],
    ['controller.listener.names', 'CONTROLLER'],
    ['inter.broker.listener.name', 'PLAINTEXT'],
    ['listener.security.protocol.map', `PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT${secure === undefined ? '' : ',SASL_SSL:SASL_SSL'}${pods === undefined ? '' : ',PODS:PLAINTEXT'}`],
    ...(secure === undefined ? [] : secureListenerSettings(secure)),
    ['log.dirs', logDir],
    ['num.partitions', 1],
    ['default.replication.factor', replicationFactor],
    ['min.insync.replicas', minInsyncReplicas],
    ['offsets.topic.replication.factor', replicationFactor],
    ['offsets.topic.num.partitions', 10],
    ['transaction.state.log.replication.factor', replicationFactor],
    ['transaction.state.log.min.isr', minInsyncReplicas],
    ['transaction.state.log.num.partitions', 10],
    ['share.coordinator.state.topic.replication.factor', replicationFactor],
    ['share.coordinator.state.topic.min.isr', minInsyncReplicas],
    // A replica that fell behind never becomes leader: an acknowledged write is never dropped for availability.
    ['unclean.leader.election.enable', false],
    ['group.initial.rebalance.delay.ms', 0],
    ['auto.create.topics.enable', autoCreateTopics],
    ['delete.topic.enable', true],
    // Small segments and a day of retention: a development broker, not an archive.
    ['log.segment.bytes', 16 * 1024 * 1024],
    ['log.retention.hours', 24],
    ['log.retention.check.interval.ms', 60_000],
    ['num.network.threads', 2],
    ['num.io.threads', 4],
    ['num.recovery.threads.per.data.dir', 1],
  ];
  return `# Written by @stinger/local-broker; rewritten on every start.\n${settings.map(([key, value]) => `${key}=${escapeValue(String(value))}`).join('\n')}\n`;
}

/** The SASL_SSL listener's settings: a PEM keystore (Kafka 2.7+ reads PEM directly) and one JAAS entry per mechanism. */
function secureListenerSettings(secure: SecureListenerProperties): ReadonlyArray<readonly [string, string]> {
  for (const user of secure.plainUsers) {
    if (!/^[A-Za-z0-9._-]+$/.test(user.name) || /["\\\r\n]/.test(user.password)) throw new RangeError(`PLAIN user ${JSON.stringify(user.name)}: name or password cannot be written into JAAS`);
  }
  const plainUsers = secure.plainUsers.map((user) => ` user_${user.name}="${user.password}"`).join('');
  const prefix = 'listener.name.sasl_ssl';
  return [
    ['sasl.enabled.mechanisms', SECURE_LISTENER_MECHANISMS.join(',')],
    [`${prefix}.ssl.keystore.type`, 'PEM'],
    [`${prefix}.ssl.keystore.location`, secure.keystoreFile],
    [`${prefix}.plain.sasl.jaas.config`, `org.apache.kafka.common.security.plain.PlainLoginModule required${plainUsers};`],
    [`${prefix}.scram-sha-256.sasl.jaas.config`, 'org.apache.kafka.common.security.scram.ScramLoginModule required;'],
    [`${prefix}.scram-sha-512.sasl.jaas.config`, 'org.apache.kafka.common.security.scram.ScramLoginModule required;'],
  ];
}

/** log4j2 (Kafka 4.x) properties: INFO and above to `logFile`, rolled at 10 MiB, three files kept. */
export function renderLog4jConfig(logFile: string): string {
  if (/[\r\n]/.test(logFile)) throw new RangeError('logFile must not contain a line break');
  const file = escapeValue(logFile);
  return [
    '# Written by @stinger/local-broker; rewritten on every start.',
    'status = warn',
    'appender.file.type = RollingFile',
    'appender.file.name = file',
    `appender.file.fileName = ${file}`,
    `appender.file.filePattern = ${file}.%i`,
    'appender.file.layout.type = PatternLayout',
    'appender.file.layout.pattern = [%d] %p %m (%c)%n',
    'appender.file.policies.type = Policies',
    'appender.file.policies.size.type = SizeBasedTriggeringPolicy',
    'appender.file.policies.size.size = 10MB',
    'appender.file.strategy.type = DefaultRolloverStrategy',
    'appender.file.strategy.max = 3',
    'rootLogger.level = info',
    'rootLogger.appenderRef.file.ref = file',
    // Per-request logging is noise at INFO.
    'logger.request.name = kafka.request.logger',
    'logger.request.level = warn',
    '',
  ].join('\n');
}

function assertPort(value: number, name: string): void {
  if (!Number.isInteger(value) || value < 1 || value > 65535) throw new RangeError(`${name} ${value} is not a TCP port`);
}

/** Java properties treat `\` as an escape; nothing else we write needs escaping. */
function escapeValue(value: string): string {
  return value.replaceAll('\\', '\\\\');
}
