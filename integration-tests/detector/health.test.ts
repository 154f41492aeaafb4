/**
 * The detector's probes against the test broker: /healthz and /readyz answer from the start, /readyz 503 while the
 * detector connects and reads its policies, 200 once its consumer joined the group and the group caught up with
 * stinger.events; the body names what it waits for. Real broker and detector service.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapTopics } from '@stinger/kafka';
import { freePort } from '../helpers/agent.ts';
import { testBrokers, testClient, uniqueName } from '../helpers/kafka.ts';
import { pipelineEnvironment } from '../helpers/pipeline.ts';
import { startService, stopService, type StartedService } from '../helpers/service.ts';

let detector: StartedService | undefined;

after(async () => {
  if (detector) await stopService(detector.child);
});

interface Probe {
  readonly status: number;
  readonly body: { ready?: boolean; checks?: Record<string, { ready: boolean; detail: Record<string, unknown> }> };
}

async function probe(url: string): Promise<Probe | null> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return { status: response.status, body: (await response.json()) as Probe['body'] };
  } catch {
    return null; // not listening yet
  }
}

test('/readyz goes from 503 to 200 once the detector\'s consumer joined its group and caught up', { timeout: 120_000 }, async () => {
  const prefix = `${uniqueName('detector-health')}.`;
  const client = testClient('detector-health');
  await bootstrapTopics({ client, prefix });
  const port = await freePort();
  const env = pipelineEnvironment({ brokers: testBrokers(), topicPrefix: prefix, extraEnv: { STINGER_DETECTOR_METRICS_ADDRESS: `127.0.0.1:${port}` } });
  detector = startService({ service: 'detector', env, readyMessage: 'detector running', timeoutMs: 60_000 });
  const base = `http://127.0.0.1:${port}`;

  const seen: Probe[] = [];
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && seen.at(-1)?.status !== 200) {
    const answer = await probe(`${base}/readyz`);
    if (answer !== null) seen.push(answer);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const log = () => detector!.log.slice(-15).join('\n');
  const unready = seen.find((p) => p.status === 503);
  assert.ok(unready, `a 503 before the consumer joined; answers: ${seen.map((p) => p.status).join(',')}\n${log()}`);
  assert.equal(unready.body.ready, false);
  assert.equal(unready.body.checks?.['consumer']?.ready, false, 'the consumer had not joined at the first 503');
  const ready = seen.at(-1);
  assert.equal(ready?.status, 200, `ready within 60 s\n${log()}`);
  assert.deepEqual([ready.body.checks?.['consumer']?.detail['joined'], ready.body.checks?.['caughtUp']?.detail['caughtUp']], [true, true]);
  await detector.running;

  const live = await probe(`${base}/healthz`);
  assert.equal(live?.status, 200);
  const metrics = await (await fetch(`${base}/metrics`)).text();
  assert.match(metrics, /stinger_health_check_ready\{check="consumer"\} 1/);
  assert.equal(await stopService(detector.child), 0, 'a clean stop');
  assert.equal(await probe(`${base}/readyz`), null, 'nothing listens after the stop');
});
