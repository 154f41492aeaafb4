/**
 * Map keys of the shapes the programs use: a u32 (array slots, process ids) or a u64 (cgroup ids), little-endian as
 * the BPF target and the host here lay them out.
 */
import { BpfError } from './errors.ts';

export function u32Key(value: number): Uint8Array {
  const key = new Uint8Array(4);
  new DataView(key.buffer).setUint32(0, value, true);
  return key;
}

export function u64Key(value: bigint): Uint8Array {
  const key = new Uint8Array(8);
  new DataView(key.buffer).setBigUint64(0, value, true);
  return key;
}

/** The key of a process (tgid) map; throws BpfError for anything that is not a process id. */
export function tgidKey(tgid: number): Uint8Array {
  if (!Number.isInteger(tgid) || tgid <= 0 || tgid > 0x7fffffff) throw new BpfError(`not a process id: ${tgid}`);
  return u32Key(tgid);
}
