/**
 * What a node changes on the host, recorded before it starts and put back when it stops.
 *
 * The kubelet writes sysctls (kernel.panic, vm.overcommit_memory, kernel.keys.*), makes iptables chains (KUBE-*),
 * mounts secret and projected volumes; containerd mounts container roots and pod network namespaces; the node itself
 * makes a bridge and one DNAT chain. `snapshotHost()` reads the parts that were there before, `restoreHost()` removes
 * what appeared since and writes the sysctls back. The functions that decide (which chains and rules go, which
 * mounts, in which order) are pure and tested; the ones that act run `iptables`, `ip` and umount(8).
 */
import { execFile } from 'node:child_process';
import { readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Sysctls the kubelet sets at start (pkg/kubelet/cm: setupKernelTunables), as paths under /proc/sys. */
export const KUBELET_SYSCTLS: readonly string[] = [
  'vm/overcommit_memory',
  'vm/panic_on_oom',
  'kernel/panic',
  'kernel/panic_on_oops',
  'kernel/keys/root_maxkeys',
  'kernel/keys/root_maxbytes',
];

/** Chains the node's processes make: the kubelet's (KUBE-*), CNI plugins' (CNI-*) and the node's own (STINGER-*). */
export const NODE_CHAIN_PATTERN = /^(KUBE-|CNI-|STINGER-)/;
export const IPTABLES_TABLES: readonly string[] = ['filter', 'nat', 'mangle'];

export interface IptablesRule {
  readonly chain: string;
  /** The rule's arguments after `-A <chain>`, unquoted. */
  readonly args: readonly string[];
}

export interface IptablesTable {
  readonly chains: readonly string[];
  readonly rules: readonly IptablesRule[];
}

/** Splits one line of iptables-save output into words, honouring its double quotes and backslash escapes (pure). */
export function splitIptablesWords(line: string): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (c === '\\' && i + 1 < line.length) {
      current += line[++i];
      inWord = true;
    } else if (c === '"') {
      quoted = !quoted;
      inWord = true;
    } else if (!quoted && (c === ' ' || c === '\t')) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += c;
      inWord = true;
    }
  }
  if (inWord) words.push(current);
  return words;
}

/** The chains and rules of one table in `iptables-save -t <table>` output (pure). */
export function parseIptablesSave(text: string): IptablesTable {
  const chains: string[] = [];
  const rules: IptablesRule[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith(':')) chains.push(line.slice(1).split(' ')[0] ?? '');
    else if (line.startsWith('-A ')) {
      const [, chain = '', ...args] = splitIptablesWords(line);
      rules.push({ chain, args });
    }
  }
  return { chains, rules };
}

/**
 * The iptables commands (argument lists, `-t <table>` first) that remove the node's chains from `after` that
 * `before` did not have: first every rule that jumps to one of them from a chain that stays, then each chain is
 * flushed, then deleted (a chain still referenced cannot be deleted). Chains not matching NODE_CHAIN_PATTERN are left alone,
 * whoever made them (pure).
 */
export function iptablesCleanupCommands(table: string, before: IptablesTable, after: IptablesTable): string[][] {
  const existed = new Set(before.chains);
  const removed = new Set(after.chains.filter((chain) => !existed.has(chain) && NODE_CHAIN_PATTERN.test(chain)));
  if (removed.size === 0) return [];
  const commands: string[][] = [];
  for (const rule of after.rules) {
    if (removed.has(rule.chain)) continue;
    const jump = rule.args.findIndex((arg, i) => (arg === '-j' || arg === '-g') && removed.has(rule.args[i + 1] ?? ''));
    if (jump >= 0) commands.push(['-t', table, '-D', rule.chain, ...rule.args]);
  }
  for (const chain of removed) commands.push(['-t', table, '-F', chain]);
  for (const chain of removed) commands.push(['-t', table, '-X', chain]);
  return commands;
}

/**
 * Host paths pods mount with HostToContainer propagation (Stinger's agent: cgroups, bpffs, tracefs). containerd
 * refuses that unless the host mount is shared or slave; systemd hosts make every mount shared, this machine leaves
 * them private, so the node makes them shared while it runs and private again when it stops.
 */
export const PROPAGATION_PATHS: readonly string[] = ['/sys/fs/cgroup', '/sys/fs/bpf', '/sys/kernel/tracing'];

/**
 * PROPAGATION_PATHS the node mounts when the host has not: a host without bpffs on /sys/fs/bpf (this machine) leaves
 * it a folder of /sys, whose mount is private, and containerd names /sys in its refusal. Unmounted again on down.
 */
export const MOUNTABLE_FILESYSTEMS: Readonly<Record<string, string>> = { '/sys/fs/bpf': 'bpf', '/sys/kernel/tracing': 'tracefs' };

/** Which of `paths` are not mount points in mountinfo text (pure). */
export function absentMountPoints(mountinfo: string, paths: readonly string[]): string[] {
  const points = new Set(mountinfo.split('\n').map((line) => line.split(' ')[4] ?? ''));
  return paths.filter((path) => !points.has(path));
}

/** Which of `paths` are mount points in mountinfo text whose propagation is private (no shared:/master: tag) (pure). */
export function privateMountPoints(mountinfo: string, paths: readonly string[]): string[] {
  const privatePoints = new Set<string>();
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const point = fields[4] ?? '';
    if (!paths.includes(point)) continue;
    const optional = fields.slice(6, fields.indexOf('-'));
    if (optional.some((tag) => tag.startsWith('shared:') || tag.startsWith('master:'))) privatePoints.delete(point);
    else privatePoints.add(point);
  }
  return paths.filter((path) => privatePoints.has(path));
}

/**
 * Parents to share recursively, for PROPAGATION_PATHS with mounts stacked on them whose lowest one is private (this
 * machine, once something mounted bpffs: a bind of sysfs's own /sys/fs/bpf folder under the bpffs). containerd looks
 * the path up in mountinfo and takes the first of the equal mount points, the lowest, which `mount --make-shared
 * <path>` cannot reach (it acts on the top one); the parent mount point, shared recursively, does. Only a parent
 * whose mounts (at or below it) are all private, so that making it private again on down restores what was (pure).
 */
export function coveredPrivateParents(mountinfo: string, paths: readonly string[]): string[] {
  const mounts = mountinfo
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const fields = line.split(' ');
      const optional = fields.slice(6, fields.indexOf('-'));
      return { id: fields[0] ?? '', parent: fields[1] ?? '', point: fields[4] ?? '', private: !optional.some((tag) => tag.startsWith('shared:') || tag.startsWith('master:')) };
    });
  const parents = new Set<string>();
  for (const path of paths) {
    const stacked = mounts.filter((mount) => mount.point === path);
    const lowest = stacked[0];
    if (stacked.length < 2 || lowest === undefined || !lowest.private) continue;
    const parent = mounts.find((mount) => mount.id === lowest.parent)?.point;
    if (parent === undefined) continue;
    const below = mounts.filter((mount) => mount.point === parent || mount.point.startsWith(parent === '/' ? '/' : `${parent}/`));
    if (below.every((mount) => mount.private)) parents.add(parent);
  }
  return [...parents];
}

/** Mount points in /proc/self/mountinfo text at or below one of `roots`, deepest first: the order to unmount them (pure). */
export function mountsToUnmount(mountinfo: string, roots: readonly string[]): string[] {
  const points = mountinfo
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .map((point) => point.replace(/\\(\d{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))))
    .filter((point) => roots.some((root) => point === root || point.startsWith(`${root}/`)));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

export interface HostSnapshot {
  /** /proc/sys path → value before the node started. */
  readonly sysctls: Readonly<Record<string, string>>;
  /** `iptables`/`ip6tables` → table → its chains before the node started. */
  readonly chains: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;
  /** Entries of /run/netns before the node started. */
  readonly netns: readonly string[];
  /** PROPAGATION_PATHS that were private mounts (made shared for the node, private again after). */
  readonly privateMounts: readonly string[];
  /** MOUNTABLE_FILESYSTEMS paths that were not mount points (mounted for the node, unmounted after). */
  readonly absentMounts?: readonly string[];
  /** coveredPrivateParents: shared recursively for the node, private again after. */
  readonly privateParents?: readonly string[];
}

const IPTABLES_COMMANDS = ['iptables', 'ip6tables'] as const;

export async function snapshotHost(): Promise<HostSnapshot> {
  const sysctls: Record<string, string> = {};
  for (const key of KUBELET_SYSCTLS) {
    const value = await readFile(join('/proc/sys', key), 'utf8').catch(() => null);
    if (value !== null) sysctls[key] = value.trim();
  }
  const chains: Record<string, Record<string, string[]>> = {};
  for (const command of IPTABLES_COMMANDS) {
    chains[command] = {};
    for (const table of IPTABLES_TABLES) chains[command][table] = [...parseIptablesSave(await iptablesSave(command, table)).chains];
  }
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  const privateMounts = privateMountPoints(mountinfo, PROPAGATION_PATHS);
  const absentMounts = absentMountPoints(mountinfo, Object.keys(MOUNTABLE_FILESYSTEMS));
  const privateParents = coveredPrivateParents(mountinfo, PROPAGATION_PATHS);
  return { sysctls, chains, netns: await readdir('/run/netns').catch(() => []), privateMounts, absentMounts, privateParents };
}

/**
 * Mounts the snapshot's absent MOUNTABLE_FILESYSTEMS, then makes them, its private PROPAGATION_PATHS and the parents
 * of covered private mounts shared (recursively), as on a systemd host.
 */
export async function shareMounts(snapshot: HostSnapshot): Promise<void> {
  for (const path of snapshot.absentMounts ?? []) {
    const type = MOUNTABLE_FILESYSTEMS[path];
    if (type !== undefined) await run('mount', ['-t', type, type, path]);
  }
  for (const path of [...(snapshot.privateParents ?? []), ...snapshot.privateMounts, ...(snapshot.absentMounts ?? [])]) await run('mount', ['--make-rshared', path]);
}

export interface RestoreHostOptions {
  readonly snapshot: HostSnapshot;
  /** Folders whose mounts are all the node's (the kubelet's root dir, containerd's root and state). */
  readonly mountRoots: readonly string[];
  /** cgroup folders the node's pods lived in, e.g. /sys/fs/cgroup/<controller>/kubepods. */
  readonly cgroupRoots: readonly string[];
  readonly bridge: string;
}

/**
 * Puts the host back as the snapshot found it; each step runs even when an earlier one failed, and the failures are
 * returned (empty: all restored). Call it after every node process is gone.
 */
export async function restoreHost(options: RestoreHostOptions): Promise<string[]> {
  const problems: string[] = [];
  const attempt = async (what: string, work: () => Promise<void>): Promise<void> => {
    try {
      await work();
    } catch (error) {
      problems.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  for (const [key, value] of Object.entries(options.snapshot.sysctls)) {
    await attempt(`sysctl ${key}`, async () => {
      if ((await readFile(join('/proc/sys', key), 'utf8')).trim() !== value) await writeFile(join('/proc/sys', key), `${value}\n`);
    });
  }
  for (const command of IPTABLES_COMMANDS) {
    for (const table of IPTABLES_TABLES) {
      await attempt(`${command} -t ${table}`, async () => {
        const before = { chains: options.snapshot.chains[command]?.[table] ?? [], rules: [] };
        for (const args of iptablesCleanupCommands(table, before, parseIptablesSave(await iptablesSave(command, table)))) await run(command, args);
      });
    }
  }
  const netnsBefore = new Set(options.snapshot.netns);
  for (const name of await readdir('/run/netns').catch(() => [])) {
    if (netnsBefore.has(name) || !name.startsWith('cni-')) continue;
    await attempt(`netns ${name}`, async () => {
      await run('umount', ['-l', join('/run/netns', name)]).catch(() => undefined);
      await rm(join('/run/netns', name), { force: true });
    });
  }
  await attempt('mounts', async () => {
    for (const point of mountsToUnmount(await readFile('/proc/self/mountinfo', 'utf8'), options.mountRoots)) await run('umount', ['-l', point]);
  });
  for (const path of [...(options.snapshot.privateMounts ?? []), ...(options.snapshot.privateParents ?? [])]) {
    await attempt(`propagation of ${path}`, () => run('mount', ['--make-rprivate', path]).then(() => undefined));
  }
  for (const path of options.snapshot.absentMounts ?? []) {
    await attempt(`mount ${path}`, async () => {
      if (absentMountPoints(await readFile('/proc/self/mountinfo', 'utf8'), [path]).length === 0) await run('umount', ['-l', path]);
    });
  }
  await attempt(`bridge ${options.bridge}`, async () => {
    if (await run('ip', ['link', 'show', options.bridge]).then(() => true, () => false)) await run('ip', ['link', 'delete', options.bridge]);
  });
  for (const root of options.cgroupRoots) await attempt(`cgroup ${root}`, () => removeCgroupTree(root));
  return problems;
}

/** Removes an emptied cgroup folder and its children, deepest first (cgroup folders go with rmdir, not rm -r). */
async function removeCgroupTree(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => null);
  if (entries === null) return;
  for (const entry of entries) if (entry.isDirectory()) await removeCgroupTree(join(dir, entry.name));
  await rmdir(dir);
}

function iptablesSave(command: string, table: string): Promise<string> {
  return run(`${command}-save`, ['-t', table]).catch(() => '');
}

export function run(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')}: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
  });
}
