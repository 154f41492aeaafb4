/**
 * The policy-controller outside a cluster (no KUBECONFIG, no service account), as `stinger up` runs it on a laptop:
 * it comes up, says once that there is no cluster, and leaves the policies the CLI published alone — with no custom
 * resources to compare against, nothing on the topic is an orphan.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bootstrapTopics, readTopicToEnd, topicName } from '@stinger/kafka';
import { runStinger } from '../helpers/cli.ts';
import { testBrokers, testClient, uniqueName } from '../helpers/kafka.ts';
import { startPolicyController } from '../helpers/policy-controller.ts';
import { scratchDir } from '../helpers/scratch.ts';

test('outside a cluster the controller runs, says there is no cluster, and tombstones nothing', { timeout: 90_000 }, async () => {
  const prefix = `${uniqueName('policy-controller-nocluster')}.`;
  const client = testClient('policy-controller-nocluster');
  await bootstrapTopics({ client, prefix, topics: ['policies', 'policyStatus'] });
  const file = join(scratchDir('stinger-nocluster-'), 'p.yaml');
  writeFileSync(file, 'apiVersion: stinger.io/v1alpha1\nkind: TracingPolicy\nmetadata: { name: cli-only }\nspec:\n  rules:\n    - { name: r, event: exec, match: { binary: { equal: [/usr/bin/cli-only] } }, action: audit }\n');
  const applied = runStinger(['policy', 'apply', file], { KAFKA_BROKERS: testBrokers(), STINGER_TOPIC_PREFIX: prefix });
  assert.equal(applied.status, 0, applied.stderr);

  const controller = await startPolicyController({ brokers: testBrokers(), topicPrefix: prefix });
  try {
    const lines = controller.log.map((line) => JSON.parse(line) as { msg: string; mode?: string });
    assert.equal(lines.filter((l) => l.msg.startsWith('no cluster')).length, 1, controller.log.join('\n'));
    assert.equal(lines.find((l) => l.msg === 'policy-controller running')?.mode, 'disabled');
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const records = (await readTopicToEnd({ client, topic: topicName('policies', prefix) })).filter((r) => r.key?.toString() === 'cli-only');
    assert.deepEqual(records.map((r) => r.value === null), [false], 'the CLI\'s policy, and no tombstone');
  } finally {
    assert.equal(await controller.stop(), 0);
  }
});
