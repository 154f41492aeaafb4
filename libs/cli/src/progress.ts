/**
 * Progress of long work (`stinger replay`, `export`, `setup`, the first `dev-cluster up`): one line on stderr, redrawn
 * in place (`\r`) at most every `intervalMs`, with the rate and, when the total is known, the share done and an ETA.
 * Silent when stderr is not a terminal (a pipe, a log file, CI): output meant for programs never carries it.
 * `finish()` clears the line, so what the command prints next starts on a clean line.
 */

export interface ProgressLine {
  readonly label: string;
  readonly done: number;
  /** null: unknown (only the count, rate and elapsed time are shown). */
  readonly total: number | null;
  readonly elapsedMs: number;
  /** What is counted (`events`); null: time only (a build with an expected duration in `total` ms). */
  readonly unit: string | null;
}

/** A count for people: 950, 12.3k, 4.56M. */
export function formatCount(value: number): string {
  if (value < 1000) return String(Math.round(value));
  if (value < 1_000_000) return `${(value / 1000).toFixed(value < 10_000 ? 2 : 1)}k`;
  return `${(value / 1_000_000).toFixed(value < 10_000_000 ? 2 : 1)}M`;
}

/** A duration for people: 42s, 3m05s, 1h02m. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/**
 * The line: `replay 1.20M/3.40M events 35% 310k/s ETA 7s`; with a unit and no total `export 12.3k records 41k/s 3s`;
 * time only (unit null, total the expected duration in ms) `building kube-apiserver 1m12s of ≈5m00s`.
 */
export function formatProgress(line: ProgressLine): string {
  const { label, done, total, elapsedMs, unit } = line;
  if (unit === null) return total === null ? `${label} ${formatDuration(elapsedMs)}` : `${label} ${formatDuration(elapsedMs)} of ≈${formatDuration(total)}`;
  const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
  const rateText = `${formatCount(rate)}/s`;
  if (total === null || total <= 0) return `${label} ${formatCount(done)} ${unit} ${rateText} ${formatDuration(elapsedMs)}`;
  const share = Math.min(100, Math.floor((done * 100) / total));
  const eta = rate > 0 ? ` ETA ${formatDuration(((total - done) * 1000) / rate)}` : '';
  return `${label} ${formatCount(done)}/${formatCount(total)} ${unit} ${share}%${' '}${rateText}${eta}`;
}

export interface ProgressStream {
  readonly isTTY?: boolean;
  write(text: string): boolean;
}

export interface Progress {
  /** The count so far (and the total, when it became known). */
  update(done: number, total?: number | null): void;
  /** Clears the line; the timer (time-only progress) stops. */
  finish(): void;
}

export interface ProgressOptions {
  readonly label: string;
  readonly unit: string | null;
  readonly total?: number | null;
  readonly stream?: ProgressStream;
  readonly intervalMs?: number;
  readonly now?: () => number;
}

export function createProgress(options: ProgressOptions): Progress {
  const { label, unit, stream = process.stderr, intervalMs = 250, now = () => performance.now() } = options;
  if (stream.isTTY !== true) return { update() {}, finish() {} };
  const started = now();
  let total = options.total ?? null;
  let done = 0;
  let drawnAt = Number.NEGATIVE_INFINITY;
  let width = 0;
  const draw = (): void => {
    const text = formatProgress({ label, done, total, elapsedMs: now() - started, unit });
    stream.write(`\r${text.padEnd(width)}`);
    width = text.length;
    drawnAt = now();
  };
  // Time-only progress (a build) has no counts to drive it: a timer redraws it.
  const timer = unit === null ? setInterval(draw, 1000) : null;
  timer?.unref();
  if (unit === null) draw();
  return {
    update(count, newTotal) {
      done = count;
      if (newTotal !== undefined) total = newTotal;
      if (now() - drawnAt >= intervalMs) draw();
    },
    finish() {
      if (timer !== null) clearInterval(timer);
      if (width > 0) stream.write(`\r${' '.repeat(width)}\r`);
      width = 0;
    },
  };
}
