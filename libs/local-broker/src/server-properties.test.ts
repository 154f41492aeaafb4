import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterReplication, renderLog4jConfig, renderServerProperties } from './server-properties.ts';

function parse(text: string): Map<string, string> {
  const entries = text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const at = line.indexOf('=');
      return [line.slice(0, at).trim(), line.slice(at + 1).trim()] as const;
    });
  return new Map(entries);
}

test('renderServerProperties describes a single-node combined KRaft cluster on 127.0.0.1', () => {
  const props = parse(renderServerProperties({ port: 9092, controllerPort: 40123, logDir: '/data/kraft' }));
  assert.equal(props.get('process.roles'), 'broker,controller');
  assert.equal(props.get('node.id'), '1');
  assert.equal(props.get('controller.quorum.voters'), '1@127.0.0.1:40123');
  assert.equal(props.get('listeners'), 'PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:40123');
  assert.equal(props.get('advertised.listeners'), 'PLAINTEXT://127.0.0.1:9092');
  assert.equal(props.get('controller.listener.names'), 'CONTROLLER');
  assert.equal(props.get('log.dirs'), '/data/kraft');
  assert.equal(props.get('offsets.topic.replication.factor'), '1');
  assert.equal(props.get('transaction.state.log.replication.factor'), '1');
  assert.equal(props.get('min.insync.replicas'), '1');
  assert.equal(props.get('group.initial.rebalance.delay.ms'), '0');
});

test('renderServerProperties leaves topic auto-creation off unless asked', () => {
  const base = { port: 9092, controllerPort: 9093, logDir: '/d' };
  assert.equal(parse(renderServerProperties(base)).get('auto.create.topics.enable'), 'false');
  assert.equal(parse(renderServerProperties({ ...base, autoCreateTopics: true })).get('auto.create.topics.enable'), 'true');
});

test('renderServerProperties refuses bad ports and a shared port', () => {
  assert.throws(() => renderServerProperties({ port: 0, controllerPort: 9093, logDir: '/d' }), RangeError);
  assert.throws(() => renderServerProperties({ port: 9092, controllerPort: 70000, logDir: '/d' }), RangeError);
  assert.throws(() => renderServerProperties({ port: 9092, controllerPort: 9092, logDir: '/d' }), /both 9092/);
});

test('renderServerProperties escapes backslashes and refuses line breaks in the log dir', () => {
  assert.equal(parse(renderServerProperties({ port: 1, controllerPort: 2, logDir: 'C:\\kafka' })).get('log.dirs'), 'C:\\\\kafka');
  assert.throws(() => renderServerProperties({ port: 1, controllerPort: 2, logDir: '/d\nnode.id=2' }), RangeError);
});

test('renderLog4jConfig sends the root logger to a rolling file at the given path', () => {
  const props = parse(renderLog4jConfig('/data/logs/server.log'));
  assert.equal(props.get('appender.file.type'), 'RollingFile');
  assert.equal(props.get('appender.file.fileName'), '/data/logs/server.log');
  assert.equal(props.get('appender.file.filePattern'), '/data/logs/server.log.%i');
  assert.equal(props.get('rootLogger.appenderRef.file.ref'), 'file');
  assert.equal(props.get('rootLogger.level'), 'info');
});

test('a SASL_SSL listener: advertised, mapped, PEM keystore, PLAIN users and SCRAM login modules', () => {
  const props = parse(
    renderServerProperties({
      port: 9092,
      controllerPort: 40123,
      logDir: '/data/kraft',
      secure: { port: 9093, keystoreFile: '/data/broker.pem', plainUsers: [{ name: 'alice', password: 'pw' }] },
    }),
  );
  assert.equal(props.get('listeners'), 'PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:40123,SASL_SSL://127.0.0.1:9093');
  assert.equal(props.get('advertised.listeners'), 'PLAINTEXT://127.0.0.1:9092,SASL_SSL://127.0.0.1:9093');
  assert.equal(props.get('listener.security.protocol.map'), 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL');
  assert.equal(props.get('inter.broker.listener.name'), 'PLAINTEXT');
  assert.equal(props.get('sasl.enabled.mechanisms'), 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512');
  assert.equal(props.get('listener.name.sasl_ssl.ssl.keystore.type'), 'PEM');
  assert.equal(props.get('listener.name.sasl_ssl.ssl.keystore.location'), '/data/broker.pem');
  assert.equal(props.get('listener.name.sasl_ssl.plain.sasl.jaas.config'), 'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="pw";');
  assert.match(props.get('listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config') ?? '', /ScramLoginModule required;/);
  assert.equal(parse(renderServerProperties({ port: 9092, controllerPort: 40123, logDir: '/d' })).get('sasl.enabled.mechanisms'), undefined);
  assert.throws(
    () => renderServerProperties({ port: 9092, controllerPort: 40123, logDir: '/d', secure: { port: 9092, keystoreFile: '/k', plainUsers: [] } }),
    /secure.port 9092 is already used/,
  );
  assert.throws(
    () => renderServerProperties({ port: 9092, controllerPort: 40123, logDir: '/d', secure: { port: 9093, keystoreFile: '/k', plainUsers: [{ name: 'a', password: 'x"y' }] } }),
    /cannot be written into JAAS/,
  );
});

test('renderServerProperties makes node 2 of three a voter among all, with three copies and min.insync.replicas=2', () => {
  const voters = [
    { nodeId: 1, controllerPort: 40001 },
    { nodeId: 2, controllerPort: 40002 },
    { nodeId: 3, controllerPort: 40003 },
  ];
  const props = parse(renderServerProperties({ port: 9192, controllerPort: 40002, logDir: '/d', cluster: { nodeId: 2, voters } }));
  assert.equal(props.get('node.id'), '2');
  assert.equal(props.get('controller.quorum.voters'), '1@127.0.0.1:40001,2@127.0.0.1:40002,3@127.0.0.1:40003');
  assert.equal(props.get('listeners'), 'PLAINTEXT://127.0.0.1:9192,CONTROLLER://127.0.0.1:40002');
  for (const key of ['default.replication.factor', 'offsets.topic.replication.factor', 'transaction.state.log.replication.factor']) assert.equal(props.get(key), '3', key);
  for (const key of ['min.insync.replicas', 'transaction.state.log.min.isr']) assert.equal(props.get(key), '2', key);
  assert.equal(props.get('unclean.leader.election.enable'), 'false');
  assert.throws(() => renderServerProperties({ port: 9192, controllerPort: 40009, logDir: '/d', cluster: { nodeId: 2, voters } }), /does not name controllerPort 40009/);
  assert.throws(() => renderServerProperties({ port: 9192, controllerPort: 40002, logDir: '/d', cluster: { nodeId: 4, voters } }), /not among the voters/);
});

test('clusterReplication: three copies at most, two in sync once there are three', () => {
  assert.deepEqual(clusterReplication(1), { replicationFactor: 1, minInsyncReplicas: 1 });
  assert.deepEqual(clusterReplication(2), { replicationFactor: 2, minInsyncReplicas: 1 });
  assert.deepEqual(clusterReplication(3), { replicationFactor: 3, minInsyncReplicas: 2 });
  assert.deepEqual(clusterReplication(5), { replicationFactor: 3, minInsyncReplicas: 2 });
  assert.throws(() => clusterReplication(0), RangeError);
});
