/**
 * CIDR text, parsed once for everything that names networks: policies (libs/policy validates and normalises
 * `daddr`), the kernel rule keys (libs/bpf), and the detector's matching (libs/detection).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { formatIpv6 } from './ipv6.ts';

export interface ParsedCidr {
  readonly family: 4 | 6;
  /** Network address bytes (4 or 16), host bits zeroed. */
  readonly bytes: Uint8Array;
  readonly prefixLength: number;
  /** `a.b.c.d/n` or RFC 5952 text `x::y/n`. */
  readonly canonical: string;
  /** The text had bits set below the prefix (`10.0.0.1/8`), which `canonical` clears. */
  readonly hostBitsCleared: boolean;
}

/**
 * An IPv4 or IPv6 CIDR, or a bare address (a host: /32 or /128). Host bits set below the prefix are cleared in
 * `canonical` (the caller reports that as a normalisation). Zone ids (`fe80::1%eth0`) are refused. Null when
 * `text` is neither.
 */
export function parseCidr(text: string): ParsedCidr | null {
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const prefixText = slash === -1 ? null : text.slice(slash + 1);
  let bytes: Uint8Array;
  let family: 4 | 6;
  if (isIPv4(address)) {
    family = 4;
    bytes = Uint8Array.from(address.split('.').map(Number));
  } else if (isIPv6(address) && !address.includes('%')) {
    family = 6;
    bytes = ipv6Bytes(address);
  } else {
    return null;
  }
  const maxPrefix = family === 4 ? 32 : 128;
  let prefixLength = maxPrefix;
  if (prefixText !== null) {
    if (!/^\d{1,3}$/.test(prefixText)) return null;
    prefixLength = Number(prefixText);
    if (prefixLength > maxPrefix) return null;
  }
  let hostBitsCleared = false;
  for (let bit = prefixLength; bit < maxPrefix; bit++) {
    const index = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if (((bytes[index] ?? 0) & mask) !== 0) hostBitsCleared = true;
    bytes[index] = (bytes[index] ?? 0) & ~mask;
  }
  const addressText = family === 4 ? bytes.join('.') : formatIpv6(bytes);
  return { family, bytes, prefixLength, canonical: `${addressText}/${prefixLength}`, hostBitsCleared };
}

function ipv6Bytes(address: string): Uint8Array {
  let text = address;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [a = 0, b = 0, c = 0, d = 0] = tail.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const zeros = rest === undefined ? 0 : 8 - headGroups.length - restGroups.length;
  const groups = [...headGroups, ...Array<string>(zeros).fill('0'), ...restGroups];
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    const value = parseInt(group, 16);
    bytes[i * 2] = value >> 8;
    bytes[i * 2 + 1] = value & 0xff;
  });
  return bytes;
}

/** The 16-byte form the kernel maps use: IPv6 as is, IPv4 mapped into ::ffff:0:0/96 (prefix 96 + n). */
export function mappedNetwork(cidr: ParsedCidr): { readonly bytes: Uint8Array; readonly prefix128: number } {
  if (cidr.family === 6) return { bytes: cidr.bytes, prefix128: cidr.prefixLength };
  const bytes = new Uint8Array(16);
  bytes[10] = 0xff;
  bytes[11] = 0xff;
  bytes.set(cidr.bytes, 12);
  return { bytes, prefix128: 96 + cidr.prefixLength };
}
