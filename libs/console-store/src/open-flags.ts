/**
 * open(2) flags as names, the way strace writes them ("O_RDONLY|O_CLOEXEC"), for the console's file-access view.
 * Linux generic values (x86-64, arm64).
 */

const O_ACCMODE = 0o3;
const ACCESS_MODES = ['O_RDONLY', 'O_WRONLY', 'O_RDWR'] as const;
/** Multi-bit flags first, so their bits are not named twice. */
const FLAG_NAMES: readonly (readonly [number, string])[] = [
  [0o20200000, 'O_TMPFILE'],
  [0o4010000, 'O_SYNC'],
  [0o100, 'O_CREAT'],
  [0o200, 'O_EXCL'],
  [0o400, 'O_NOCTTY'],
  [0o1000, 'O_TRUNC'],
  [0o2000, 'O_APPEND'],
  [0o4000, 'O_NONBLOCK'],
  [0o10000, 'O_DSYNC'],
  [0o20000, 'O_ASYNC'],
  [0o40000, 'O_DIRECT'],
  [0o100000, 'O_LARGEFILE'],
  [0o200000, 'O_DIRECTORY'],
  [0o400000, 'O_NOFOLLOW'],
  [0o1000000, 'O_NOATIME'],
  [0o2000000, 'O_CLOEXEC'],
  [0o10000000, 'O_PATH'],
];

/** "O_RDONLY|O_CLOEXEC" for an open's flags; the leftover bits in octal, if any; "" for other operations' flags of 0. */
export function openFlagNames(op: string, flags: number): string {
  if (op !== 'open') return flags === 0 ? '' : `0x${flags.toString(16)}`;
  let rest = flags & ~O_ACCMODE;
  const names: string[] = [ACCESS_MODES[flags & O_ACCMODE] ?? `O_ACCMODE(${flags & O_ACCMODE})`];
  for (const [bits, name] of FLAG_NAMES) {
    if ((rest & bits) === bits) {
      names.push(name);
      rest &= ~bits;
    }
  }
  if (rest !== 0) names.push(`0${rest.toString(8)}`);
  return names.join('|');
}
