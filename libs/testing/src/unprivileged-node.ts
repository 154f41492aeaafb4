/**
 * Runs Node.js as an unprivileged user (nobody: uid and gid 65534, no groups, no capabilities), for tests of what the
 * agent refuses without privileges.
 *
 * Such a process must still read this checkout (the Node.js binary of node_modules, the scripts), and a checkout may
 * live below a directory nobody may enter (a clone in root's home, mode 0700). So the child runs in a mount namespace
 * of its own where the checkout is bind-mounted onto a fresh, world-readable temporary directory: the checkout's own
 * files keep their permissions, only the private parent directories are out of the way, and nothing is copied. The
 * mount dies with the namespace; the empty directory is removed on return. Needs root (as does running as nobody).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, mkdtempSync, realpathSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';

const CHECKOUT = realpathSync(fileURLToPath(new URL('../../../', import.meta.url)));
// $1: the checkout, $2: where the child sees it; the rest is the command, run as nobody.
const MOUNT_THEN_DROP = 'mount --bind "$1" "$2" && shift 2 && exec setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"';

export interface UnprivilegedNodeOptions {
  /** The child's environment; this process's when absent. */
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
}

/**
 * `node <args>` as nobody, with this checkout at the directory `args` receives (use it for every path into the
 * checkout). Node.js is the running one (process.execPath), seen through the same mount when it lies in the checkout.
 */
export function runNodeUnprivileged(args: (checkout: string) => readonly string[], options: UnprivilegedNodeOptions = {}): SpawnSyncReturns<string> {
  const view = mkdtempSync(join(tmpdir(), 'stinger-unprivileged-'));
  try {
    chmodSync(view, 0o755);
    const fromNode = relative(CHECKOUT, process.execPath);
    const node = fromNode.startsWith('..') || isAbsolute(fromNode) ? process.execPath : join(view, fromNode);
    return spawnSync('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', MOUNT_THEN_DROP, 'sh', CHECKOUT, view, node, ...args(view)], {
      ...(options.env ? { env: options.env } : {}),
      encoding: 'utf8',
      timeout: options.timeoutMs ?? 30_000,
    });
  } finally {
    rmdirSync(view);
  }
}
