import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, requireBrokers, ConfigError } from './config.ts';

test('defaults: no brokers, info level, empty prefix, frozen', () => {
  const config = loadConfig({ HOME: '/home/u' });
  assert.equal(config.kafka.brokers, null);
  assert.equal(config.logLevel, 'info');
  assert.equal(config.kafka.topicPrefix, '');
  assert.equal(config.home, '/home/u/.stinger');
  assert.ok(Object.isFrozen(config));
  assert.ok(Object.isFrozen(config.kafka));
  assert.throws(() => {
    (config.kafka as { clientId: string }).clientId = 'x';
  }, TypeError);
});

test('KAFKA_BROKERS is split and validated', () => {
  assert.deepEqual(loadConfig({ KAFKA_BROKERS: '127.0.0.1:9092, kafka-1:19092' }).kafka.brokers, ['127.0.0.1:9092', 'kafka-1:19092']);
  assert.throws(() => loadConfig({ KAFKA_BROKERS: 'localhost' }), (e: unknown) => e instanceof ConfigError && e.variable === 'KAFKA_BROKERS');
  assert.throws(() => loadConfig({ KAFKA_BROKERS: 'h:70000' }), /KAFKA_BROKERS: "h:70000"/);
});

test('bad values name their variable', () => {
  assert.throws(() => loadConfig({ STINGER_LOG_LEVEL: 'loud' }), /STINGER_LOG_LEVEL: "loud" is not one of/);
  assert.throws(() => loadConfig({ KAFKA_CONNECTION_TIMEOUT_MS: '-1' }), /KAFKA_CONNECTION_TIMEOUT_MS/);
  assert.throws(() => loadConfig({ STINGER_TOPIC_PREFIX: 'a b' }), /STINGER_TOPIC_PREFIX/);
});

test('KAFKA_COMPRESSION: zstd unless set, any case, anything else refused by name', () => {
  assert.equal(loadConfig({}).kafka.compression, 'zstd');
  assert.equal(loadConfig({ KAFKA_COMPRESSION: 'GZIP' }).kafka.compression, 'gzip');
  assert.equal(loadConfig({ KAFKA_COMPRESSION: 'none' }).kafka.compression, 'none');
  assert.throws(() => loadConfig({ KAFKA_COMPRESSION: 'lz4' }), /KAFKA_COMPRESSION: "lz4" is not one of zstd, gzip, none/);
});

test('contradictory timeouts are refused', () => {
  assert.throws(
    () => loadConfig({ KAFKA_CONNECTION_TIMEOUT_MS: '5000', KAFKA_REQUEST_TIMEOUT_MS: '1000' }),
    /KAFKA_REQUEST_TIMEOUT_MS: 1000 ms is shorter than KAFKA_CONNECTION_TIMEOUT_MS/,
  );
});

test('requireBrokers explains how to get a broker', () => {
  assert.throws(() => requireBrokers(loadConfig({})), /KAFKA_BROKERS: is not set/);
  assert.deepEqual(requireBrokers(loadConfig({ KAFKA_BROKERS: 'a:1' })), ['a:1']);
});

test('agent settings: defaults under STINGER_HOME, addresses validated, no shared port', () => {
  const config = loadConfig({ STINGER_HOME: '/var/lib/stinger' });
  assert.equal(config.agent.spoolDir, '/var/lib/stinger/agent/spool');
  assert.equal(config.agent.grpcAddress, '127.0.0.1:50051');
  assert.throws(() => loadConfig({ STINGER_AGENT_GRPC_ADDRESS: 'nowhere' }), /STINGER_AGENT_GRPC_ADDRESS: "nowhere" is not host:port/);
  assert.throws(
    () => loadConfig({ STINGER_AGENT_GRPC_ADDRESS: '0.0.0.0:1', STINGER_AGENT_METRICS_ADDRESS: '0.0.0.0:1' }),
    /STINGER_AGENT_METRICS_ADDRESS: 0.0.0.0:1 is also STINGER_AGENT_GRPC_ADDRESS's address: every listener needs its own/,
  );
  assert.throws(() => loadConfig({ STINGER_AGENT_SPOOL_MAX_BYTES: 'lots' }), /STINGER_AGENT_SPOOL_MAX_BYTES/);
});

test('STINGER_AGENT_WATCH picks syscall groups, empty means none, unknown names are refused', () => {
  assert.deepEqual(loadConfig({}).agent.watch, ['setid', 'capset', 'namespace', 'module', 'ptrace', 'mount', 'bpf']);
  assert.deepEqual(loadConfig({ STINGER_AGENT_WATCH: 'connect, accept,connect' }).agent.watch, ['connect', 'accept']);
  assert.deepEqual(loadConfig({ STINGER_AGENT_WATCH: '' }).agent.watch, []);
  assert.throws(() => loadConfig({ STINGER_AGENT_WATCH: 'connect,open' }), /STINGER_AGENT_WATCH: open: not one of/);
});

test('kubeconfig: KUBECONFIG, then ~/.kube/config, then in-cluster (service host and mounted token), else none', () => {
  const tokenMounted = { fileExists: (path: string) => path === '/var/run/secrets/kubernetes.io/serviceaccount/token' };
  const noToken = { fileExists: () => false };
  const homeConfig = { fileExists: (path: string) => path === '/home/u/.kube/config' || tokenMounted.fileExists(path) };
  assert.deepEqual(loadConfig({}, noToken).kubeconfig, { kind: 'none' });
  assert.deepEqual(loadConfig({ HOME: '/home/u', KUBERNETES_SERVICE_HOST: '10.0.0.1' }, homeConfig).kubeconfig, { kind: 'file', paths: ['/home/u/.kube/config'] });
  assert.deepEqual(loadConfig({ HOME: '/home/u', KUBECONFIG: '/a' }, homeConfig).kubeconfig, { kind: 'file', paths: ['/a'] });
  assert.equal(loadConfig({ HOME: '/home/v', KUBERNETES_SERVICE_HOST: '10.0.0.1' }, homeConfig).kubeconfig.kind, 'in-cluster', 'no ~/.kube/config: in-cluster');
  assert.deepEqual(loadConfig({ KUBECONFIG: '/a/config:/b/config' }, tokenMounted).kubeconfig, { kind: 'file', paths: ['/a/config', '/b/config'] });
  assert.deepEqual(loadConfig({ KUBECONFIG: '/a', KUBERNETES_SERVICE_HOST: '10.0.0.1' }, tokenMounted).kubeconfig, { kind: 'file', paths: ['/a'] });
  assert.deepEqual(loadConfig({ KUBERNETES_SERVICE_HOST: '10.0.0.1' }, noToken).kubeconfig, { kind: 'none' });
  assert.deepEqual(loadConfig({ KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '6443' }, tokenMounted).kubeconfig, {
    kind: 'in-cluster',
    host: '10.0.0.1',
    port: 6443,
    tokenPath: '/var/run/secrets/kubernetes.io/serviceaccount/token',
    caPath: '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt',
  });
  assert.equal(loadConfig({ KUBERNETES_SERVICE_HOST: 'h' }, tokenMounted).kubeconfig.kind, 'in-cluster');
  assert.throws(() => loadConfig({ KUBERNETES_SERVICE_HOST: 'h', KUBERNETES_SERVICE_PORT: 'x' }, tokenMounted), /KUBERNETES_SERVICE_PORT/);
});

test('STINGER_AGENT_HEALTH_INTERVAL_MS: default 10000, zero refused', () => {
  assert.equal(loadConfig({}).agent.healthIntervalMs, 10_000);
  assert.equal(loadConfig({ STINGER_AGENT_HEALTH_INTERVAL_MS: '500' }).agent.healthIntervalMs, 500);
  assert.equal(loadConfig({}).agent.podScopes, true);
  assert.equal(loadConfig({ STINGER_AGENT_POD_SCOPES: 'false' }).agent.podScopes, false);
  assert.throws(() => loadConfig({ STINGER_AGENT_HEALTH_INTERVAL_MS: '0' }), /STINGER_AGENT_HEALTH_INTERVAL_MS/);
});

test('STINGER_AGENT_EGRESS, _RATE, _BURST and FLOW_INTERVAL_MS, _RATE, _BURST: on at 200/s with bursts of 400, flows every 60 s at 1000/s with bursts of 2000 by default; rate 0 is no limit; a zero burst refused', () => {
  assert.deepEqual(loadConfig({}).agent.egress, { enabled: true, perSecond: 200, burst: 400, flowIntervalMs: 60_000, flowPerSecond: 1000, flowBurst: 2000 });
  assert.deepEqual(
    loadConfig({
      STINGER_AGENT_EGRESS: 'false',
      STINGER_AGENT_EGRESS_RATE: '0',
      STINGER_AGENT_EGRESS_BURST: '5',
      STINGER_AGENT_FLOW_INTERVAL_MS: '0',
      STINGER_AGENT_FLOW_RATE: '0',
      STINGER_AGENT_FLOW_BURST: '7',
    }).agent.egress,
    { enabled: false, perSecond: 0, burst: 5, flowIntervalMs: 0, flowPerSecond: 0, flowBurst: 7 },
  );
  assert.throws(() => loadConfig({ STINGER_AGENT_FLOW_BURST: '0' }), /STINGER_AGENT_FLOW_BURST/);
  assert.throws(() => loadConfig({ STINGER_AGENT_FLOW_INTERVAL_MS: '-1' }), /STINGER_AGENT_FLOW_INTERVAL_MS/);
  assert.throws(() => loadConfig({ STINGER_AGENT_EGRESS_BURST: '0' }), /STINGER_AGENT_EGRESS_BURST/);
  assert.throws(() => loadConfig({ STINGER_AGENT_EGRESS: 'maybe' }), /STINGER_AGENT_EGRESS: "maybe" is not true or false/);
});

test('STINGER_AGENT_RING_COALESCE_MS: default 2, zero allowed, negative refused', () => {
  assert.equal(loadConfig({}).agent.ringCoalesceMs, 2);
  assert.equal(loadConfig({ STINGER_AGENT_RING_COALESCE_MS: '0' }).agent.ringCoalesceMs, 0);
  assert.throws(() => loadConfig({ STINGER_AGENT_RING_COALESCE_MS: '-1' }), /STINGER_AGENT_RING_COALESCE_MS: "-1" is not a whole number >= 0/);
});

test('each service\'s metrics and health address: 9465-9468 on loopback, two services on one address refused, port 0 never clashes', () => {
  const config = loadConfig({});
  assert.deepEqual(
    [config.enricherMetricsAddress, config.detectorMetricsAddress, config.enforcerMetricsAddress, config.policyControllerMetricsAddress],
    ['127.0.0.1:9465', '127.0.0.1:9466', '127.0.0.1:9467', '127.0.0.1:9468'],
  );
  assert.throws(() => loadConfig({ STINGER_ENRICHER_METRICS_ADDRESS: '127.0.0.1:9464' }), /STINGER_ENRICHER_METRICS_ADDRESS: 127.0.0.1:9464 is also STINGER_AGENT_METRICS_ADDRESS's address/);
  assert.throws(() => loadConfig({ STINGER_POLICY_CONTROLLER_METRICS_ADDRESS: '127.0.0.1:9466' }), /STINGER_POLICY_CONTROLLER_METRICS_ADDRESS: .* is also STINGER_DETECTOR_METRICS_ADDRESS's/);
  assert.throws(() => loadConfig({ STINGER_DETECTOR_METRICS_ADDRESS: '127.0.0.1:7070' }), /STINGER_CONSOLE_ADDRESS: 127.0.0.1:7070 is also STINGER_DETECTOR_METRICS_ADDRESS's address/);
  const anyPort = { STINGER_AGENT_METRICS_ADDRESS: '127.0.0.1:0', STINGER_ENRICHER_METRICS_ADDRESS: '127.0.0.1:0', STINGER_DETECTOR_METRICS_ADDRESS: '127.0.0.1:0' };
  assert.equal(loadConfig(anyPort).detectorMetricsAddress, '127.0.0.1:0');
});

test('keys and enforcer: defaults, booleans and namespaces validated, a TTL past the ack timeout or the agents\' limit refused', () => {
  const config = loadConfig({ HOME: '/h' });
  assert.equal(config.keysDir, '/h/.stinger/keys');
  assert.deepEqual(config.enforcer, { dryRun: false, protectedNamespaces: ['kube-system'], commandTtlMs: 10_000, ackTimeoutMs: 15_000, maxKillsPerMinute: 60 });
  assert.equal(loadConfig({ STINGER_ENFORCER_DRY_RUN: 'true' }).enforcer.dryRun, true);
  assert.deepEqual(loadConfig({ STINGER_ENFORCER_PROTECTED_NAMESPACES: 'kube-system, istio-system' }).enforcer.protectedNamespaces, ['kube-system', 'istio-system']);
  assert.deepEqual(loadConfig({ STINGER_ENFORCER_PROTECTED_NAMESPACES: '' }).enforcer.protectedNamespaces, []);
  assert.throws(() => loadConfig({ STINGER_ENFORCER_DRY_RUN: 'yes' }), /STINGER_ENFORCER_DRY_RUN: "yes" is not true or false/);
  assert.throws(() => loadConfig({ STINGER_ENFORCER_PROTECTED_NAMESPACES: 'Kube_System' }), /STINGER_ENFORCER_PROTECTED_NAMESPACES/);
  assert.throws(() => loadConfig({ STINGER_ENFORCER_COMMAND_TTL_MS: '20000' }), /STINGER_ENFORCER_ACK_TIMEOUT_MS/);
  assert.throws(() => loadConfig({ STINGER_ENFORCER_COMMAND_TTL_MS: '400000', STINGER_ENFORCER_ACK_TIMEOUT_MS: '500000' }), /STINGER_ENFORCER_COMMAND_TTL_MS/);
});

test('console: loopback by default without a token; a duration retention; a row bound', () => {
  const config = loadConfig({ HOME: '/home/u' }).console;
  assert.equal(config.address, '127.0.0.1:7070');
  assert.equal(config.token, null);
  assert.equal(config.retentionMs, 24 * 3_600_000);
  assert.equal(config.storePath, '/home/u/.stinger/console/store.sqlite');
  assert.equal(loadConfig({ STINGER_CONSOLE_RETENTION: '90m' }).console.retentionMs, 90 * 60_000);
  assert.equal(loadConfig({ STINGER_CONSOLE_MAX_EVENTS: '1000' }).console.maxEvents, 1000);
  assert.throws(() => loadConfig({ STINGER_CONSOLE_RETENTION: '24 hours' }), /STINGER_CONSOLE_RETENTION: "24 hours" is not a duration/);
  assert.throws(() => loadConfig({ STINGER_CONSOLE_MAX_EVENTS: '0' }), /STINGER_CONSOLE_MAX_EVENTS/);
});

test('console: an address outside loopback without a token is refused; with one it is accepted', () => {
  assert.throws(() => loadConfig({ STINGER_CONSOLE_ADDRESS: '0.0.0.0:7070' }), (e: unknown) => e instanceof ConfigError && e.variable === 'STINGER_CONSOLE_TOKEN');
  const token = 'a-long-enough-token-1234';
  assert.equal(loadConfig({ STINGER_CONSOLE_ADDRESS: '0.0.0.0:7070', STINGER_CONSOLE_TOKEN: token }).console.token, token);
  assert.equal(loadConfig({ STINGER_CONSOLE_ADDRESS: '[::1]:7070' }).console.token, null);
  assert.equal(loadConfig({ STINGER_CONSOLE_ADDRESS: 'localhost:0' }).console.address, 'localhost:0');
  assert.throws(() => loadConfig({ STINGER_CONSOLE_TOKEN: 'short' }), /STINGER_CONSOLE_TOKEN: must be at least 16/);
});

/** A file system of the given files; any other path fails as a missing file does. */
function filesProbe(files: Readonly<Record<string, string>>) {
  return {
    fileExists: (path: string) => path in files,
    readTextFile: (path: string) => {
      const text = files[path];
      if (text === undefined) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
      return text;
    },
  };
}

const isConfigErrorFor = (variable: string) => (e: unknown) => e instanceof ConfigError && e.variable === variable;

test('Kafka TLS: off by default, on with KAFKA_TLS or any file, PEM read from the files', () => {
  assert.equal(loadConfig({}).kafka.tls, null);
  assert.deepEqual(loadConfig({ KAFKA_TLS: 'true' }).kafka.tls, { ca: null, cert: null, key: null });
  const probe = filesProbe({ '/s/ca.pem': 'CA PEM', '/s/tls.crt': 'CERT PEM', '/s/tls.key': 'KEY PEM' });
  assert.deepEqual(loadConfig({ KAFKA_TLS_CA_FILE: '/s/ca.pem' }, probe).kafka.tls, { ca: 'CA PEM', cert: null, key: null });
  assert.deepEqual(loadConfig({ KAFKA_TLS_CA_FILE: '/s/ca.pem', KAFKA_TLS_CERT_FILE: '/s/tls.crt', KAFKA_TLS_KEY_FILE: '/s/tls.key' }, probe).kafka.tls, {
    ca: 'CA PEM',
    cert: 'CERT PEM',
    key: 'KEY PEM',
  });
});

test('Kafka TLS contradictions and unreadable files name their variable', () => {
  const probe = filesProbe({ '/s/ca.pem': 'CA PEM', '/s/tls.crt': 'CERT PEM', '/s/tls.key': 'KEY PEM', '/s/empty': '\n' });
  assert.throws(() => loadConfig({ KAFKA_TLS: 'false', KAFKA_TLS_CA_FILE: '/s/ca.pem' }, probe), /KAFKA_TLS: is false but KAFKA_TLS_CA_FILE is set/);
  assert.throws(() => loadConfig({ KAFKA_TLS_CERT_FILE: '/s/tls.crt' }, probe), isConfigErrorFor('KAFKA_TLS_KEY_FILE'));
  assert.throws(() => loadConfig({ KAFKA_TLS_KEY_FILE: '/s/tls.key' }, probe), isConfigErrorFor('KAFKA_TLS_CERT_FILE'));
  assert.throws(() => loadConfig({ KAFKA_TLS_CA_FILE: '/s/missing.pem' }, probe), /KAFKA_TLS_CA_FILE: cannot read \/s\/missing\.pem: ENOENT/);
  assert.throws(() => loadConfig({ KAFKA_TLS_CA_FILE: '/s/empty' }, probe), /KAFKA_TLS_CA_FILE: \/s\/empty is empty/);
  assert.throws(() => loadConfig({ KAFKA_TLS: 'yes' }), isConfigErrorFor('KAFKA_TLS'));
});

test('Kafka TLS files are read from the real file system by default', () => {
  assert.throws(() => loadConfig({ KAFKA_TLS_CA_FILE: '/nonexistent/stinger-ca.pem' }), /KAFKA_TLS_CA_FILE: cannot read \/nonexistent\/stinger-ca\.pem/);
});

test('Kafka SASL: none by default; mechanism in any case; secrets from variables or files', () => {
  assert.equal(loadConfig({}).kafka.sasl, null);
  assert.deepEqual(loadConfig({ KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512', KAFKA_SASL_USERNAME: 'alice', KAFKA_SASL_PASSWORD: 's3cret' }).kafka.sasl, {
    mechanism: 'scram-sha-512',
    username: 'alice',
    password: 's3cret',
  });
  // Secrets written with `echo` end in a line break that is not part of the password.
  const probe = filesProbe({ '/s/user': 'bob\n', '/s/password': 'pa ss\n' });
  assert.deepEqual(loadConfig({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME_FILE: '/s/user', KAFKA_SASL_PASSWORD_FILE: '/s/password' }, probe).kafka.sasl, {
    mechanism: 'plain',
    username: 'bob',
    password: 'pa ss',
  });
  assert.equal(loadConfig({ KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: 'a', KAFKA_SASL_PASSWORD: 'b' }).kafka.sasl?.mechanism, 'scram-sha-256');
});

test('Kafka SASL contradictions name their variable', () => {
  const probe = filesProbe({ '/s/password': 'p' });
  assert.throws(() => loadConfig({ KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512' }), /KAFKA_SASL_USERNAME: is not set .* but KAFKA_SASL_MECHANISM is SCRAM-SHA-512/);
  assert.throws(() => loadConfig({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'a' }), isConfigErrorFor('KAFKA_SASL_PASSWORD'));
  assert.throws(() => loadConfig({ KAFKA_SASL_USERNAME: 'a', KAFKA_SASL_PASSWORD: 'b' }), /KAFKA_SASL_MECHANISM: is not set but KAFKA_SASL_USERNAME is/);
  assert.throws(() => loadConfig({ KAFKA_SASL_PASSWORD: 'b' }), /KAFKA_SASL_MECHANISM: is not set but KAFKA_SASL_PASSWORD is/);
  assert.throws(() => loadConfig({ KAFKA_SASL_MECHANISM: 'GSSAPI', KAFKA_SASL_USERNAME: 'a', KAFKA_SASL_PASSWORD: 'b' }), /KAFKA_SASL_MECHANISM: "GSSAPI" is not one of/);
  assert.throws(
    () => loadConfig({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'a', KAFKA_SASL_PASSWORD: 'b', KAFKA_SASL_PASSWORD_FILE: '/s/password' }, probe),
    /KAFKA_SASL_PASSWORD_FILE: and KAFKA_SASL_PASSWORD are both set/,
  );
  assert.throws(() => loadConfig({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'a', KAFKA_SASL_PASSWORD_FILE: '/s/gone' }, probe), isConfigErrorFor('KAFKA_SASL_PASSWORD_FILE'));
});

test('topic replication factor and partition overrides', () => {
  assert.equal(loadConfig({}).kafka.topicReplicationFactor, 1);
  assert.deepEqual(loadConfig({}).kafka.topicPartitions, {});
  assert.equal(loadConfig({ STINGER_TOPIC_REPLICATION_FACTOR: '3' }).kafka.topicReplicationFactor, 3);
  assert.deepEqual(loadConfig({ STINGER_TOPIC_PARTITIONS: 'stinger.events.raw=24, stinger.events=12' }).kafka.topicPartitions, { 'stinger.events.raw': 24, 'stinger.events': 12 });
  assert.throws(() => loadConfig({ STINGER_TOPIC_REPLICATION_FACTOR: '0' }), isConfigErrorFor('STINGER_TOPIC_REPLICATION_FACTOR'));
  assert.throws(() => loadConfig({ STINGER_TOPIC_PARTITIONS: 'stinger.events=0' }), /STINGER_TOPIC_PARTITIONS: "stinger.events=0" is not topic=partitions/);
  assert.throws(() => loadConfig({ STINGER_TOPIC_PARTITIONS: 'stinger.events' }), isConfigErrorFor('STINGER_TOPIC_PARTITIONS'));
  assert.throws(() => loadConfig({ STINGER_TOPIC_PARTITIONS: 'stinger.events=2,stinger.events=3' }), /stinger\.events is named twice/);
});

test('metrics and console addresses may listen on all interfaces (inside a pod)', () => {
  const config = loadConfig({
    STINGER_AGENT_METRICS_ADDRESS: '0.0.0.0:9464',
    STINGER_ENRICHER_METRICS_ADDRESS: '0.0.0.0:9465',
    STINGER_DETECTOR_METRICS_ADDRESS: '0.0.0.0:9466',
    STINGER_CONSOLE_ADDRESS: '0.0.0.0:7070',
    STINGER_CONSOLE_TOKEN: 'a-long-enough-token-1234',
  });
  assert.equal(config.agent.metricsAddress, '0.0.0.0:9464');
  assert.equal(config.enricherMetricsAddress, '0.0.0.0:9465');
  assert.equal(config.detectorMetricsAddress, '0.0.0.0:9466');
  assert.equal(config.console.address, '0.0.0.0:7070');
});

test('schema registry: none by default; a URL with basic auth and TLS files; trailing slash dropped', () => {
  assert.equal(loadConfig({}).kafka.schemaRegistry, null);
  const plain = loadConfig({ STINGER_SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081/apis/ccompat/v7/' }).kafka.schemaRegistry;
  assert.deepEqual(plain, { url: 'http://127.0.0.1:8081/apis/ccompat/v7', basicAuth: null, tls: null, timeoutMs: 10_000 });
  const files: Record<string, string> = { '/ca.pem': 'CA', '/pw': 'secret\n' };
  const secure = loadConfig(
    {
      STINGER_SCHEMA_REGISTRY_URL: 'https://registry.example:8443',
      STINGER_SCHEMA_REGISTRY_USERNAME: 'stinger',
      STINGER_SCHEMA_REGISTRY_PASSWORD_FILE: '/pw',
      STINGER_SCHEMA_REGISTRY_TLS_CA_FILE: '/ca.pem',
      STINGER_SCHEMA_REGISTRY_TIMEOUT_MS: '2500',
    },
    { readTextFile: (path) => files[path] ?? '' },
  ).kafka.schemaRegistry;
  assert.deepEqual(secure, {
    url: 'https://registry.example:8443',
    basicAuth: { username: 'stinger', password: 'secret' },
    tls: { ca: 'CA', cert: null, key: null },
    timeoutMs: 2500,
  });
  // A password to a registry on this machine may go over http (the local `stinger registry up`).
  assert.deepEqual(loadConfig({ STINGER_SCHEMA_REGISTRY_URL: 'http://localhost:8081', STINGER_SCHEMA_REGISTRY_USERNAME: 'u', STINGER_SCHEMA_REGISTRY_PASSWORD: 'p' }).kafka.schemaRegistry?.basicAuth, { username: 'u', password: 'p' });
});

test('schema registry contradictions name their variable', () => {
  const refused = (env: Record<string, string>, variable: string, message: RegExp): void => {
    assert.throws(() => loadConfig(env, { readTextFile: () => 'PEM' }), (e: unknown) => e instanceof ConfigError && e.variable === variable && message.test(e.message), JSON.stringify(env));
  };
  refused({ STINGER_SCHEMA_REGISTRY_USERNAME: 'u' }, 'STINGER_SCHEMA_REGISTRY_URL', /is not set but STINGER_SCHEMA_REGISTRY_USERNAME is/);
  refused({ STINGER_SCHEMA_REGISTRY_TLS_CA_FILE: '/ca' }, 'STINGER_SCHEMA_REGISTRY_URL', /is not set but STINGER_SCHEMA_REGISTRY_TLS_CA_FILE is/);
  refused({ STINGER_SCHEMA_REGISTRY_URL: 'registry:8081' }, 'STINGER_SCHEMA_REGISTRY_URL', /not an http or https URL/);
  refused({ STINGER_SCHEMA_REGISTRY_URL: 'not a url' }, 'STINGER_SCHEMA_REGISTRY_URL', /is not a URL/);
  refused({ STINGER_SCHEMA_REGISTRY_URL: 'http://u:p@127.0.0.1:8081' }, 'STINGER_SCHEMA_REGISTRY_URL', /carries credentials/);
  refused({ STINGER_SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081', STINGER_SCHEMA_REGISTRY_USERNAME: 'u' }, 'STINGER_SCHEMA_REGISTRY_PASSWORD', /is not set/);
  refused({ STINGER_SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081', STINGER_SCHEMA_REGISTRY_PASSWORD: 'p' }, 'STINGER_SCHEMA_REGISTRY_USERNAME', /is not set/);
  refused({ STINGER_SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081', STINGER_SCHEMA_REGISTRY_TLS_CA_FILE: '/ca' }, 'STINGER_SCHEMA_REGISTRY_TLS_CA_FILE', /use an https URL/);
  refused({ STINGER_SCHEMA_REGISTRY_URL: 'http://registry.example:8081', STINGER_SCHEMA_REGISTRY_USERNAME: 'u', STINGER_SCHEMA_REGISTRY_PASSWORD: 'p' }, 'STINGER_SCHEMA_REGISTRY_URL', /in clear/);
  refused({ STINGER_SCHEMA_REGISTRY_URL: 'https://r:8443', STINGER_SCHEMA_REGISTRY_TLS_CERT_FILE: '/c' }, 'STINGER_SCHEMA_REGISTRY_TLS_KEY_FILE', /needs its key/);
  refused({ STINGER_SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081', STINGER_SCHEMA_REGISTRY_TIMEOUT_MS: '0' }, 'STINGER_SCHEMA_REGISTRY_TIMEOUT_MS', /./);
});

test('VM of stinger vm-test: Debian\'s linux-image-amd64, 2048 MiB, 90 min, qemu-system-x86_64 by default; a kernel package is named as Debian names it', () => {
  const defaults = loadConfig({}).vm;
  assert.deepEqual(defaults, { kernelPackage: 'linux-image-amd64', memoryMiB: 2048, timeoutMs: 90 * 60_000, qemu: 'qemu-system-x86_64' });
  assert.ok(Object.isFrozen(defaults));
  assert.equal(loadConfig({ STINGER_VM_KERNEL: 'linux-image-6.1.0-57-amd64' }).vm.kernelPackage, 'linux-image-6.1.0-57-amd64');
  assert.throws(() => loadConfig({ STINGER_VM_KERNEL: 'vmlinuz' }), /STINGER_VM_KERNEL: "vmlinuz" is not a Debian kernel image package/);
  assert.throws(() => loadConfig({ STINGER_VM_MEMORY_MB: '0' }), /STINGER_VM_MEMORY_MB/);
});
