import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeControlCommand, type ControlCommand } from '@stinger/events';
import { generateSigningKey, ReplayGuard, signControlCommand, type KeyRing } from '@stinger/trust';
import { ControlCommandHandler, parseStartTicks, sameStartNs, startMatchesTicks } from './control-commands.ts';

const NOW = 1_800_000_000_000_000_000n;
const key = generateSigningKey();
const ring: KeyRing = new Map([[key.keyId, key.publicKey]]);
// A process that started 12.34 s after boot: 1234 ticks.
const TARGET = { pid: 4242, start_time: 12_345_678_901n, exec_id: 'node-a:12345678901:4242' };

function command(overrides: Partial<ControlCommand> = {}, signer = key): ControlCommand {
  return signControlCommand(
    {
      command_id: `00000000-0000-4000-8000-${String(Math.floor(Math.random() * 1e12)).padStart(12, '0')}`,
      node: 'node-a',
      action: 'kill',
      target: TARGET,
      reason: 'test',
      alert_id: null,
      policy: 'p',
      issued_at_ns: NOW,
      expires_at_ns: NOW + 10_000_000_000n,
      dry_run: false,
      ...overrides,
    },
    signer,
  );
}

function handler(world: { cachedStart?: bigint; ticks?: bigint | null; kill?: 'signalled' | 'gone' | 'mismatch' } = {}) {
  const killed: number[] = [];
  const refused: string[] = [];
  const instance = new ControlCommandHandler({
    node: 'node-a',
    agentId: 'agent-1',
    ring: () => ring,
    replays: new ReplayGuard(),
    protectedPids: [777],
    cachedStartTimeOf: () => world.cachedStart,
    startTicksOf: () => (world.ticks === undefined ? 1234n : world.ticks),
    kill: (pid, isSame) => {
      if (!isSame()) return 'mismatch';
      if ((world.kill ?? 'signalled') === 'signalled') killed.push(pid);
      return world.kill ?? 'signalled';
    },
    now: () => NOW,
    onRefused: (reason) => refused.push(reason),
  });
  const status = (cmd: ControlCommand, recordKey: string | null = 'node-a') => instance.handle(recordKey, cmd)?.status ?? 'no ack';
  return { instance, killed, refused, status };
}

describe('ControlCommandHandler', () => {
  test('a signed, current command naming a live process by pid and start time kills it once', () => {
    const { status, killed, refused, instance } = handler({ cachedStart: TARGET.start_time });
    const cmd = command();
    const ack = instance.handle('node-a', cmd);
    assert.deepEqual(ack, { command_id: cmd.command_id, node: 'node-a', agent_id: 'agent-1', status: 'killed', detail: null, acked_at_ns: NOW });
    assert.equal(status(cmd), 'no ack', 'a replay is never acknowledged again');
    assert.deepEqual(killed, [4242]);
    assert.deepEqual(refused, ['replayed']);
  });

  test('forged, unsigned, expired and wrong-node commands are refused with their status and kill nothing', () => {
    const { status, killed, refused } = handler();
    const stranger = generateSigningKey();
    const forged = { ...command(), target: { ...TARGET, pid: 1234 } };
    assert.equal(status(command({}, stranger)), 'unknown_key');
    assert.equal(status(forged), 'bad_signature');
    assert.equal(status({ ...command(), signature: Buffer.alloc(0) }), 'bad_signature');
    assert.equal(status(command({ expires_at_ns: NOW - 1n })), 'expired');
    assert.equal(status(command({ node: 'node-b' })), 'wrong_node', 'keyed to this node, signed for another');
    assert.equal(status(command({ node: 'node-b' }), 'node-b'), 'no ack', "another node's command is not this agent's to answer");
    assert.deepEqual(killed, []);
    assert.deepEqual(refused, ['unknown_key', 'bad_signature', 'bad_signature', 'expired', 'wrong_node', 'other_node']);
  });

  test('a reused pid is never killed: another start time in the cache or in /proc', () => {
    assert.equal(handler({ cachedStart: 999n }).status(command()), 'target_mismatch');
    assert.equal(handler({ ticks: 1235n }).status(command()), 'target_mismatch');
    assert.equal(handler({ ticks: null }).status(command()), 'target_gone');
    assert.equal(handler({ kill: 'gone' }).status(command()), 'target_gone');
    for (const world of [{ cachedStart: 999n }, { ticks: 1235n }, { ticks: null }]) assert.deepEqual(handler(world).killed, []);
  });

  test('protected pids and dry runs: checked, acknowledged, never signalled', () => {
    const { status, killed } = handler();
    assert.equal(status(command({ target: { ...TARGET, pid: 1 } })), 'protected');
    assert.equal(status(command({ target: { ...TARGET, pid: process.pid } })), 'protected');
    assert.equal(status(command({ target: { ...TARGET, pid: 777 } })), 'protected');
    assert.equal(status(command({ dry_run: true })), 'dry_run');
    assert.deepEqual(killed, []);
  });
});

test('parseStartTicks reads field 22 even when the command name holds spaces and parentheses', () => {
  const rest = 'S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 987654 20 21';
  assert.equal(parseStartTicks(`42 (a) b) c) ${rest}`), 987654n);
  assert.equal(parseStartTicks('garbage'), null);
});

test('handleRecord: an undecodable record for this node is to be dead-lettered, one for another node is ignored', () => {
  const { instance, refused } = handler();
  assert.equal(instance.handleRecord({ key: Buffer.from('node-a'), value: Buffer.from('not avro') }).kind, 'undecodable');
  assert.deepEqual(instance.handleRecord({ key: Buffer.from('node-b'), value: Buffer.from('not avro') }), { kind: 'none' });
  assert.deepEqual(refused, ['undecodable']);
  const result = instance.handleRecord({ key: Buffer.from('node-a'), value: encodeControlCommand(command({ dry_run: true })) });
  assert.equal(result.kind === 'ack' && result.ack.status, 'dry_run');
});

test('start times: the fork stamp may fall just past a /proc tick boundary; anything else is another process', () => {
  // Stamped 38 µs after tick 1235 began; the kernel's start was a few µs earlier, in tick 1234.
  assert.equal(startMatchesTicks(12_350_038_000n, 1234n), true);
  assert.equal(startMatchesTicks(12_350_038_000n, 1235n), true);
  assert.equal(startMatchesTicks(12_350_038_000n, 1233n), false);
  assert.equal(startMatchesTicks(12_350_038_000n, 1236n), false);
  assert.equal(startMatchesTicks(12_362_000_000n, 1235n), false, 'more than a tick and the slack after /proc: another process');
  assert.equal(sameStartNs(12_350_000_000n, 12_350_038_000n), true);
  assert.equal(sameStartNs(12_350_000_000n, 12_370_000_000n), false);
  assert.equal(handler({ ticks: 1234n }).status(command({ target: { ...TARGET, start_time: 12_350_038_000n } })), 'killed');
});
