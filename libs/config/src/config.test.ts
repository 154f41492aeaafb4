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
    /STINGER_AGENT_METRICS_ADDRESS: the agent's gRPC \(0.0.0.0:1\) and metrics \(0.0.0.0:1\) and the enricher's metrics .* need three different addresses/,
  );
  assert.throws(() => loadConfig({ STINGER_AGENT_SPOOL_MAX_BYTES: 'lots' }), /STINGER_AGENT_SPOOL_MAX_BYTES/);
});

test('STINGER_AGENT_WATCH picks syscall groups, empty means none, unknown names are refused', () => {
  assert.deepEqual(loadConfig({}).agent.watch, ['setid', 'capset', 'namespace', 'module', 'ptrace', 'mount', 'bpf']);
  assert.deepEqual(loadConfig({ STINGER_AGENT_WATCH: 'connect, accept,connect' }).agent.watch, ['connect', 'accept']);
  assert.deepEqual(loadConfig({ STINGER_AGENT_WATCH: '' }).agent.watch, []);
  assert.throws(() => loadConfig({ STINGER_AGENT_WATCH: 'connect,open' }), /STINGER_AGENT_WATCH: open: not one of/);
});

test('kubeconfig: KUBECONFIG wins, in-cluster needs the service host and the mounted token, else none', () => {
  const tokenMounted = { fileExists: (path: string) => path === '/var/run/secrets/kubernetes.io/serviceaccount/token' };
  const noToken = { fileExists: () => false };
  assert.deepEqual(loadConfig({}, noToken).kubeconfig, { kind: 'none' });
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
  assert.throws(() => loadConfig({ STINGER_AGENT_HEALTH_INTERVAL_MS: '0' }), /STINGER_AGENT_HEALTH_INTERVAL_MS/);
});

test('STINGER_AGENT_RING_COALESCE_MS: default 2, zero allowed, negative refused', () => {
  assert.equal(loadConfig({}).agent.ringCoalesceMs, 2);
  assert.equal(loadConfig({ STINGER_AGENT_RING_COALESCE_MS: '0' }).agent.ringCoalesceMs, 0);
  assert.throws(() => loadConfig({ STINGER_AGENT_RING_COALESCE_MS: '-1' }), /STINGER_AGENT_RING_COALESCE_MS: "-1" is not a whole number >= 0/);
});

test('the enricher metrics address defaults to 9465, and port 0 never clashes', () => {
  assert.equal(loadConfig({}).enricherMetricsAddress, '127.0.0.1:9465');
  assert.throws(() => loadConfig({ STINGER_ENRICHER_METRICS_ADDRESS: '127.0.0.1:9464' }), /need three different addresses/);
  assert.doesNotThrow(() => loadConfig({ STINGER_AGENT_METRICS_ADDRESS: '127.0.0.1:0', STINGER_ENRICHER_METRICS_ADDRESS: '127.0.0.1:0' }));
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
