/**
 * A CPU profile of another Node.js process for a window of time, over its inspector (the Chrome DevTools Protocol's
 * Profiler domain): the process is started with `--inspect=127.0.0.1:<port>`, and the benchmark starts and stops the
 * profiler around the work it measures, so start-up and shut-down stay out of the profile (unlike `--cpu-prof`).
 * Used by benchmarks/agent-pipeline.ts `--agent-profile`.
 */
import type { CpuProfile } from './cpu-profile-top.ts';

export interface RemoteProfiler {
  start(): Promise<void>;
  /** Stops the profiler and returns what it sampled since start(). */
  stop(): Promise<CpuProfile>;
  close(): void;
}

/** Connects to the inspector listening on 127.0.0.1:`port` (its first target) and enables the profiler. */
export async function connectProfiler(port: number, samplingIntervalUs = 200): Promise<RemoteProfiler> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
  const url = targets[0]?.webSocketDebuggerUrl;
  if (url === undefined) throw new Error(`inspector on port ${port} lists no target`);
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve(), { once: true });
    socket.addEventListener('error', () => reject(new Error(`inspector ${url}: could not connect`)), { once: true });
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (result: unknown) => void; reject: (error: Error) => void }>();
  socket.addEventListener('message', (message: MessageEvent) => {
    const reply = JSON.parse(String(message.data)) as { id?: number; result?: unknown; error?: { message: string } };
    if (reply.id === undefined) return; // an event
    const waiter = pending.get(reply.id);
    pending.delete(reply.id);
    if (reply.error) waiter?.reject(new Error(`inspector: ${reply.error.message}`));
    else waiter?.resolve(reply.result);
  });
  const call = (method: string, params: object = {}): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      socket.send(JSON.stringify({ id, method, params }));
    });
  await call('Profiler.enable');
  await call('Profiler.setSamplingInterval', { interval: samplingIntervalUs });
  return {
    start: async () => void (await call('Profiler.start')),
    stop: async () => ((await call('Profiler.stop')) as { profile: CpuProfile }).profile,
    close: () => socket.close(),
  };
}
