/**
 * Seeded, bounded mutations of a record's bytes for hostile-input tests: the same seed gives the same records on
 * every run, so a failure is reproduced by running the file again. No dependency: xorshift32.
 */

/** A generator of integers in [0, below), from `seed`. */
export function seededGenerator(seed: number): (below: number) => number {
  let state = seed >>> 0 || 1;
  return (below) => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state % below;
  };
}

/** `count` mutations of `original`, in turn: 1–4 bits flipped, a truncation, an extension by 1–64 random bytes, random bytes of any length up to twice its size. */
export function mutations(original: Buffer, count: number, seed: number): Buffer[] {
  const next = seededGenerator(seed);
  const randomBuffer = (length: number) => Buffer.from(Array.from({ length }, () => next(256)));
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    switch (i % 4) {
      case 0: {
        const copy = Buffer.from(original);
        for (let flips = 1 + next(4); flips > 0; flips--) {
          const at = next(copy.length);
          copy[at] = (copy[at] ?? 0) ^ (1 << next(8));
        }
        out.push(copy);
        break;
      }
      case 1:
        out.push(original.subarray(0, next(original.length)));
        break;
      case 2:
        out.push(Buffer.concat([original, randomBuffer(1 + next(64))]));
        break;
      default:
        out.push(randomBuffer(next(2 * original.length + 1)));
    }
  }
  return out;
}
