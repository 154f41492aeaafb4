/**
 * `stinger broker up --listen HOST:PORT | down` as a user runs it: a local broker alone, detached, with the topics,
 * reachable at the --listen address (as pods reach the dev node's 10.244.0.1) and named there by KAFKA_BROKERS; a
 * second up with the same address reuses it, one with another address is refused; down stops it and frees both
 * addresses. 127.0.0.2 stands in for the node's bridge: another address of this machine (the loopback's /8), there
 * without a dev node. Its own home (state and data dir) and topic prefix; KAFKA_BROKERS is unset, as for a user.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@stinger/config';
import { createKafkaClient } from '@stinger/kafka';
import { createLogger } from '@stinger/log';
import { freePort, isPortFree } from '@stinger/processes';
import { runStinger } from '../helpers/cli.ts';
import { uniqueName } from '../helpers/kafka.ts';

const POD_HOST = '127.0.0.2';

test('broker up --listen starts a broker with the topics at that address, prints it as KAFKA_BROKERS, and down stops it', { timeout: 180_000 }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'stinger-broker-home-'));
  const prefix = `${uniqueName('broker-cmd')}.`;
  const env = { STINGER_HOME: home, STINGER_TOPIC_PREFIX: prefix, KAFKA_BROKERS: '' };
  const listen = `${POD_HOST}:${await freePort(POD_HOST)}`;
  try {
    const up = runStinger(['broker', 'up', '--listen', listen], env, { timeoutMs: 150_000 });
    assert.equal(up.status, 0, `broker up failed:\n${up.stdout}\n${up.stderr}`);
    const lines = up.stdout.trim().split('\n');
    assert.equal(lines.at(-1), `KAFKA_BROKERS=${listen}`, 'the last line names the --listen address');
    const local = new RegExp(`^local broker ready on (127\\.0\\.0\\.1:\\d+) and ${listen.replaceAll('.', '\\.')} in `, 'm').exec(up.stdout);
    assert.ok(local, `says where it listens:\n${up.stdout}`);
    assert.match(up.stdout, /^topics: \d+ created, 0 already there$/m);

    // A client given only the --listen address: the broker advertises that address there, so metadata keeps it on it.
    const client = createKafkaClient({ brokers: [listen], connection: loadConfig({}).kafka, role: 'broker-command-test', logger: createLogger({ name: 'broker-command-test', level: 'warn' }) });
    const admin = client.kafka.admin();
    await admin.connect();
    try {
      const topics = await admin.listTopics();
      for (const topic of ['events', 'events.raw', 'alerts', 'policies']) assert.ok(topics.includes(`${prefix}stinger.${topic}`), `${prefix}stinger.${topic} created; topics: ${topics.join(', ')}`);
      const { brokers } = await admin.describeCluster();
      assert.deepEqual(brokers.map((b) => `${b.host}:${b.port}`), [listen], 'advertised on the --listen address');
    } finally {
      await admin.disconnect();
    }

    const again = runStinger(['broker', 'up', '--listen', listen], env, { timeoutMs: 60_000 });
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /^a local broker is already running \(pid \d+\)/m);
    assert.equal(again.stdout.trim().split('\n').at(-1), `KAFKA_BROKERS=${listen}`);
    assert.match(again.stdout, /^topics: 0 created, \d+ already there$/m);

    const other = runStinger(['broker', 'up', '--listen', `${POD_HOST}:${await freePort(POD_HOST)}`], env);
    assert.equal(other.status, 1);
    assert.match(other.stderr, new RegExp(`^stinger: a local broker is already running .* with its other listener on ${listen.replaceAll('.', '\\.')}, not .*\`stinger broker down\` first$`, 'm'));

    const down = runStinger(['broker', 'down'], env);
    assert.equal(down.status, 0, down.stderr);
    assert.equal(down.stdout.trim(), 'local broker stopped');
    const [host, port] = listen.split(':') as [string, string];
    assert.equal(await isPortFree(Number(port), host), true, 'the --listen address is released');
    assert.equal(await isPortFree(Number(local[1]!.split(':')[1]), '127.0.0.1'), true, 'the 127.0.0.1 listener is released');
    assert.equal(runStinger(['broker', 'down'], env).stdout.trim(), 'no local broker was running');
  } finally {
    runStinger(['broker', 'down'], env);
    rmSync(home, { recursive: true, force: true });
  }
});

test('broker up --listen: an address that is not this machine, or not host:port, is one clear line', () => {
  const home = mkdtempSync(join(tmpdir(), 'stinger-broker-home-'));
  const env = { STINGER_HOME: home, KAFKA_BROKERS: '' };
  try {
    // 192.0.2.1 (TEST-NET-1) is no address of this machine: refused before any JVM starts.
    const foreign = runStinger(['broker', 'up', '--listen', '192.0.2.1:9094'], env);
    assert.equal(foreign.status, 1);
    assert.match(foreign.stderr, /^stinger: cannot listen on 192\.0\.2\.1:9094: the port is taken or 192\.0\.2\.1 is not an address of this machine/m);
    const malformed = runStinger(['broker', 'up', '--listen', 'node:9094'], env);
    assert.equal(malformed.status, 2);
    assert.match(malformed.stderr, /^stinger: --listen: "node:9094" is not IPv4-address:port/m);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('broker up --brokers 3 starts three brokers whose topics have three in-sync copies and min.insync.replicas=2; down stops all three', { timeout: 300_000 }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'stinger-broker-home-'));
  const prefix = `${uniqueName('broker-cluster')}.`;
  const env = { STINGER_HOME: home, STINGER_TOPIC_PREFIX: prefix, KAFKA_BROKERS: '' };
  try {
    const up = runStinger(['broker', 'up', '--brokers', '3'], env, { timeoutMs: 240_000 });
    assert.equal(up.status, 0, `broker up --brokers 3 failed:\n${up.stdout}\n${up.stderr}`);
    const brokers = /^KAFKA_BROKERS=(\S+)$/m.exec(up.stdout)?.[1]?.split(',') ?? [];
    assert.equal(brokers.length, 3, `KAFKA_BROKERS lists three brokers:\n${up.stdout}`);
    assert.match(up.stdout, /^local cluster of 3 brokers ready on .* \(replication factor 3, min\.insync\.replicas=2; /m);
    assert.match(up.stdout, /^topics: \d+ created, 0 already there \(replication factor 3\)$/m);

    const client = createKafkaClient({ brokers, connection: loadConfig({}).kafka, role: 'broker-cluster-test', logger: createLogger({ name: 'broker-cluster-test', level: 'warn' }) });
    const admin = client.kafka.admin();
    await admin.connect();
    try {
      assert.equal((await admin.describeCluster()).brokers.length, 3, 'three brokers in one cluster');
      const topic = `${prefix}stinger.events`;
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      for (const partition of topics[0]!.partitions) {
        assert.equal(partition.replicas.length, 3, `${topic}[${partition.partitionId}] has three replicas`);
        assert.equal(partition.isr.length, 3, `${topic}[${partition.partitionId}] has three in sync`);
      }
      const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: topic, configNames: ['min.insync.replicas'] }] });
      assert.equal(described.resources[0]?.configEntries.find((e) => e.configName === 'min.insync.replicas')?.configValue, '2');
    } finally {
      await admin.disconnect();
    }

    const single = runStinger(['broker', 'up', '--brokers', '1'], env);
    assert.equal(single.status, 1);
    assert.match(single.stderr, /^stinger: a local cluster of 3 brokers is already running \(.*\), not 1; /m);

    const down = runStinger(['broker', 'down'], env, { timeoutMs: 120_000 });
    assert.equal(down.status, 0, down.stderr);
    assert.equal(down.stdout.trim(), 'local broker stopped');
    for (const broker of brokers) assert.equal(await isPortFree(Number(broker.split(':')[1]), '127.0.0.1'), true, `${broker} is released`);
  } finally {
    runStinger(['broker', 'down'], env, { timeoutMs: 120_000 });
    rmSync(home, { recursive: true, force: true });
  }
});
