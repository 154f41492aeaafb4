/**
 * Signed control commands (stinger.control). The enforcer signs; agents verify before acting.
 *
 * The signature is Ed25519 over the single-object encoding of the ControlCommand with `signature` set to empty
 * bytes (the schema's contract), so every field — node, target pid, start time and exec id, expiry, dry-run — is
 * covered and none can be changed in transit.
 *
 * `verifyControlCommand` checks, in this order, and answers with the first failure (an AckStatus where the agent
 * acknowledges it): the key is trusted (`unknown_key`), the signature holds (`bad_signature`), the command is for
 * this node (`wrong_node`), it is not expired (`expired`) and its lifetime is not longer than a verifier accepts
 * (`bad_signature` is not the word for that: `expired`, detail says why), and its id was not seen before
 * (`replayed`: never acknowledged, only counted, so a replayer learns nothing and the first ack stands).
 */
import { sign, verify } from 'node:crypto';
import { encodeControlCommand, type ControlCommand } from '@stinger/events';
import type { KeyRing, SigningKey } from './keys.ts';

/** How long a command may live (expires_at − issued_at); verifiers refuse longer-lived ones. */
export const MAX_COMMAND_LIFETIME_NS = 5n * 60n * 1_000_000_000n;

const EMPTY = Buffer.alloc(0);

function signedBytes(command: ControlCommand): Buffer {
  return encodeControlCommand({ ...command, signature: EMPTY });
}

/** `command` with key_id and signature set by `key` (whatever they held before is replaced). */
export function signControlCommand(command: Omit<ControlCommand, 'key_id' | 'signature'>, key: SigningKey): ControlCommand {
  const unsigned: ControlCommand = { ...command, key_id: key.keyId, signature: EMPTY };
  return { ...unsigned, signature: sign(null, signedBytes(unsigned), key.privateKey) };
}

export type CommandVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'unknown_key' | 'bad_signature' | 'wrong_node' | 'expired' | 'replayed'; readonly detail: string };

export interface VerifyCommandOptions {
  readonly ring: KeyRing;
  readonly node: string;
  readonly nowNs: bigint;
  readonly replays: ReplayGuard;
}

export function verifyControlCommand(command: ControlCommand, options: VerifyCommandOptions): CommandVerdict {
  const key = options.ring.get(command.key_id);
  if (key === undefined) return { ok: false, reason: 'unknown_key', detail: `key ${JSON.stringify(command.key_id)} is not trusted` };
  let valid = false;
  try {
    valid = command.signature.length === 64 && verify(null, signedBytes(command), key, command.signature);
  } catch {
    valid = false;
  }
  if (!valid) return { ok: false, reason: 'bad_signature', detail: `signature does not verify with key ${command.key_id}` };
  if (command.node !== options.node) return { ok: false, reason: 'wrong_node', detail: `addressed to ${JSON.stringify(command.node)}` };
  if (command.expires_at_ns <= options.nowNs) return { ok: false, reason: 'expired', detail: `expired ${(options.nowNs - command.expires_at_ns) / 1_000_000n} ms ago` };
  if (command.expires_at_ns - command.issued_at_ns > MAX_COMMAND_LIFETIME_NS) {
    return { ok: false, reason: 'expired', detail: `lifetime over ${MAX_COMMAND_LIFETIME_NS / 1_000_000_000n} s is refused` };
  }
  if (!options.replays.firstSight(command.command_id, command.expires_at_ns, options.nowNs)) {
    return { ok: false, reason: 'replayed', detail: `command ${command.command_id} was seen before` };
  }
  return { ok: true };
}

/**
 * The command ids seen, each remembered until its expiry (after which the expiry check refuses it anyway), so the
 * memory is bounded by the command rate times MAX_COMMAND_LIFETIME_NS. Only a verified command is remembered: an
 * attacker cannot use up a real command's id with a forgery.
 */
export class ReplayGuard {
  readonly #seen = new Map<string, bigint>();

  /** True the first time `id` is offered (and remembers it); false for a replay. */
  firstSight(id: string, expiresAtNs: bigint, nowNs: bigint): boolean {
    if (this.#seen.size > 0 && this.#seen.size % 1024 === 0) this.#prune(nowNs);
    if (this.#seen.has(id)) return false;
    this.#seen.set(id, expiresAtNs);
    return true;
  }

  get size(): number {
    return this.#seen.size;
  }

  #prune(nowNs: bigint): void {
    for (const [id, expiresAtNs] of this.#seen) if (expiresAtNs <= nowNs) this.#seen.delete(id);
  }
}
