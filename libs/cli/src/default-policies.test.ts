/**
 * The default rule pack (k8s/policies, as `stinger policy apply --defaults` loads it) against the detector's own
 * matching: for every rule, events that fire it and near-misses that must not, each asserting the exact set of
 * rules the whole pack raises. Events are sampleEvent records shaped as the agent and enricher make them
 * (resolved binaries, open flags, a pod or a host process).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DetectionRules, PartitionDetector } from '@stinger/detection';
import { NO_FLOW, type Event } from '@stinger/events';
import { compilePolicy } from '@stinger/policy';
import { sampleEgressPayload, sampleEvent, type SampleEventOptions } from '@stinger/testing';
import { CliError } from './errors.ts';
import { loadDefaultPolicies } from './default-policies.ts';

const PACK = loadDefaultPolicies();
const SECOND = 1_000_000_000n;
const T0 = 1_800_000_000n * SECOND;

const O_WRONLY = 0o1;
const O_RDWR = 0o2;
const O_CREAT = 0o100;
const O_TRUNC = 0o1000;
const WRITE = O_WRONLY | O_CREAT | O_TRUNC;

const POD: NonNullable<Event['pod']> = {
  namespace: 'shop',
  name: 'web-7d9f',
  uid: 'pod-uid-1',
  labels: { app: 'web' },
  annotations: {},
  workload: 'web',
  workload_kind: 'Deployment',
  container: { id: 'c'.repeat(64), name: 'web', image: 'web:1' },
};
const OTHER_POD: NonNullable<Event['pod']> = { ...POD, name: 'db-1', uid: 'pod-uid-2', container: { id: 'd'.repeat(64), name: 'db', image: 'db:1' } };

/** Where an event happens: a pod (enriched) or the host. */
type Where = { readonly pod?: Event['pod'] };
const inPod: Where = { pod: POD };
const onHost: Where = { pod: null };

let seq = 0n;
/** Each event gets the next sequence number and a time 10 ms after the previous one. */
function event(options: SampleEventOptions & Where): Event {
  seq += 1n;
  const pod = options.pod ?? null;
  const base = sampleEvent({ ...options, seq, time: options.time ?? T0 + seq * 10_000_000n, pod });
  return pod === null ? base : { ...base, process: { ...base.process, container_id: pod.container?.id ?? null } };
}

interface ProcessOptions extends Where {
  readonly time?: bigint;
  readonly binary?: string;
  readonly uid?: bigint;
  /** Same pid and start time: the same process. */
  readonly proc?: { readonly pid: number; readonly start_time: bigint };
  readonly parent?: SampleEventOptions['parent'];
}

const processOf = (o: ProcessOptions): Partial<Event['process']> => ({ binary: o.binary ?? '/usr/bin/cat', uid: o.uid ?? 0n, ...o.proc });

function file(path: string, o: ProcessOptions & { flags?: number; op?: 'open' | 'unlink' | 'rename' | 'chmod'; given?: string } = {}): Event {
  const payload = { group: 'file' as const, op: o.op ?? 'open', path, path_as_given: o.given ?? path, new_path: null, flags: o.flags ?? 0, mode: null, result: 3, reached_by: null, io: null };
  return event({ ...o, kind: 'file', process: processOf(o), payload });
}
function exec(binary: string, o: ProcessOptions & { parentBinary?: string } = {}): Event {
  const parent = o.parent !== undefined ? o.parent : { binary: o.parentBinary ?? '/usr/bin/containerd-shim-runc-v2' };
  return event({ ...o, kind: 'exec', parent, process: { ...processOf(o), binary }, payload: { group: 'exec', filename: binary, euid: 0n, egid: 0n, secure_exec: false, args_truncated: false, sha256: null, reached_by: null } });
}
function connect(daddr: string, o: ProcessOptions & { dport?: number } = {}): Event {
  const payload = { group: 'network' as const, family: daddr.includes(':') ? ('inet6' as const) : ('inet' as const), protocol: 'tcp' as const, saddr: null, sport: null, daddr, dport: o.dport ?? 443, result: 0, bytes: null, ...NO_FLOW };
  return event({ ...o, kind: 'connect', process: processOf({ binary: '/usr/bin/curl', ...o }), payload });
}
/** An egress event as the agent writes it: a DNS query, a TLS ClientHello or an HTTP request, with its name. */
function egress(application: 'dns' | 'tls' | 'http', name: string, o: ProcessOptions = {}): Event {
  const payload = sampleEgressPayload({
    application,
    ...(application === 'dns' ? { dns_name: name, dns_type: 'A' } : { protocol: 'tcp', daddr: '198.51.100.20', dport: application === 'tls' ? 443 : 80 }),
    ...(application === 'tls' ? { server_name: name } : {}),
    ...(application === 'http' ? { http_request: 'GET / HTTP/1.1', http_host: name } : {}),
  });
  return event({ ...o, kind: 'egress', process: processOf({ binary: '/usr/bin/curl', ...o }), payload });
}
function privilege(o: ProcessOptions & { syscall: string; ruid?: bigint | null; euid?: bigint | null }): Event {
  const payload = { group: 'privilege' as const, syscall: o.syscall, ruid: o.ruid ?? null, euid: o.euid ?? null, suid: null, rgid: null, egid: null, sgid: null, result: 0 };
  return event({ ...o, kind: 'privilege', process: processOf(o), payload });
}
const capMask = (...bits: number[]): bigint => bits.reduce((mask, bit) => mask | (1n << BigInt(bit)), 0n);
function capset(mask: bigint, o: ProcessOptions = {}): Event {
  return event({ ...o, kind: 'capset', process: processOf({ binary: '/usr/sbin/capsh', ...o }), payload: { group: 'capset', effective: mask, permitted: mask, inheritable: 0n, result: 0 } });
}
function namespace(op: 'setns' | 'unshare' | 'clone', namespaces: string[], o: ProcessOptions = {}): Event {
  return event({ ...o, kind: 'namespace', process: processOf({ binary: '/usr/bin/nsenter', ...o }), payload: { group: 'namespace', op, flags: 0n, namespaces, fd: op === 'setns' ? 3 : null, result: 0 } });
}
function moduleLoad(op: 'load' | 'unload', o: ProcessOptions = {}): Event {
  return event({ ...o, kind: 'module', process: processOf({ binary: '/usr/sbin/insmod', ...o }), payload: { group: 'module', op, name: 'rootkit', path: '/tmp/rootkit.ko', result: 0 } });
}
function ptrace(request_name: string, o: ProcessOptions = {}): Event {
  return event({ ...o, kind: 'ptrace', process: processOf({ binary: '/usr/bin/strace', ...o }), payload: { group: 'ptrace', request: 0, request_name, target_pid: 77, result: 0 } });
}
function bpf(cmd_name: string, o: ProcessOptions = {}): Event {
  return event({ ...o, kind: 'bpf', process: processOf({ binary: '/usr/sbin/bpftool', ...o }), payload: { group: 'bpf', cmd: 0, cmd_name, prog_type: null, name: null, result: 3 } });
}
function mount(op: 'mount' | 'umount', target: string, o: ProcessOptions = {}): Event {
  return event({ ...o, kind: 'mount', process: processOf({ binary: '/usr/bin/mount', ...o }), payload: { group: 'mount', op, source: '/dev/sda1', target, fstype: 'ext4', flags: 0n, result: 0 } });
}

/**
 * The native rules (by name) the whole pack raises on `events`, fed in order to one partition's detector. The pack's
 * Rego module needs opa and the detector's evaluator: libs/detection's rego-rules test runs it.
 */
function fired(events: readonly Event[]): string[] {
  const rules = new DetectionRules();
  for (const policy of PACK) rules.set(policy.metadata.name, compilePolicy({ ...policy, spec: { ...policy.spec, rego: null } }).compiled);
  const detector = new PartitionDetector({ rules });
  const alerts = events.flatMap((e) => detector.observe(e, { emit: true }));
  return [...new Set(alerts.map((a) => a.rule))].sort();
}

interface Scenario {
  readonly what: string;
  readonly events: () => readonly Event[];
  /** Other rules these events rightly raise as well. */
  readonly also?: readonly string[];
}

interface RuleCases {
  readonly fires: readonly Scenario[];
  readonly nearMisses: readonly Scenario[];
}

const SHELL = { pid: 500, start_time: 50n, binary: '/usr/bin/bash' };
const DROPPER = { pid: 600, start_time: 60n };

const CASES: Readonly<Record<string, RuleCases>> = {
  'shadow-read': {
    fires: [
      { what: 'cat /etc/shadow in a pod', events: () => [file('/etc/shadow', inPod)] },
      { what: 'a backup /etc/shadow- read on the host', events: () => [file('/etc/shadow-', { ...onHost, binary: '/usr/bin/less' })] },
      { what: '/etc/gshadow opened read-write by python (a write below /etc too)', events: () => [file('/etc/gshadow', { ...inPod, binary: '/usr/bin/python3.11', flags: O_RDWR })], also: ['etc-write'] },
    ],
    nearMisses: [
      { what: 'cat /etc/passwd', events: () => [file('/etc/passwd', inPod)] },
      { what: 'unix_chkpwd checking a password on the host', events: () => [file('/etc/shadow', { ...onHost, binary: '/usr/sbin/unix_chkpwd' })] },
      { what: 'sudo reading shadow', events: () => [file('/etc/shadow', { ...onHost, binary: '/usr/bin/sudo' })] },
      { what: 'a symlink to /etc/shadow opened by sshd', events: () => [file('/etc/shadow', { ...onHost, binary: '/usr/sbin/sshd', given: '/tmp/link' })] },
    ],
  },
  'sudoers-read': {
    fires: [
      { what: 'cat /etc/sudoers', events: () => [file('/etc/sudoers', inPod)] },
      { what: 'a file in /etc/sudoers.d/ read on the host', events: () => [file('/etc/sudoers.d/90-cloud-init-users', { ...onHost, binary: '/usr/bin/grep' })] },
    ],
    nearMisses: [
      { what: 'sudo reading its configuration', events: () => [file('/etc/sudoers', { ...onHost, binary: '/usr/bin/sudo' })] },
      { what: 'visudo checking it', events: () => [file('/etc/sudoers.d/admins', { ...onHost, binary: '/usr/sbin/visudo' })] },
    ],
  },
  'ssh-private-key-read': {
    fires: [
      { what: "cat of root's ed25519 key", events: () => [file('/root/.ssh/id_ed25519', inPod)] },
      { what: 'a host key read by tar', events: () => [file('/etc/ssh/ssh_host_rsa_key', { ...onHost, binary: '/usr/bin/tar' })] },
    ],
    nearMisses: [
      { what: 'the public key', events: () => [file('/root/.ssh/id_ed25519.pub', inPod)] },
      { what: 'authorized_keys read by sshd', events: () => [file('/root/.ssh/authorized_keys', { ...onHost, binary: '/usr/sbin/sshd' })] },
      { what: 'known_hosts read by anyone', events: () => [file('/root/.ssh/known_hosts', inPod)] },
      { what: 'the ssh client using its key', events: () => [file('/root/.ssh/id_rsa', { ...inPod, binary: '/usr/bin/ssh' })] },
      { what: 'sshd-session reading the host key', events: () => [file('/etc/ssh/ssh_host_ed25519_key', { ...onHost, binary: '/usr/lib/openssh/sshd-session' })] },
    ],
  },
  'cloud-credentials-read': {
    fires: [
      { what: '~/.aws/credentials', events: () => [file('/root/.aws/credentials', inPod)] },
      { what: "gcloud's application default credentials", events: () => [file('/root/.config/gcloud/application_default_credentials.json', { ...onHost, binary: '/usr/bin/python3' })] },
      { what: "Azure CLI's MSAL token cache", events: () => [file('/root/.azure/msal_token_cache.json', inPod)] },
    ],
    nearMisses: [
      { what: '~/.aws/config (no secrets)', events: () => [file('/root/.aws/config', inPod)] },
      { what: "gcloud's active configuration", events: () => [file('/root/.config/gcloud/configurations/config_default', inPod)] },
      { what: 'the credentials file written (aws configure)', events: () => [file('/root/.aws/credentials', { ...inPod, flags: WRITE })] },
    ],
  },
  'service-account-token-read': {
    fires: [
      {
        what: 'cat of the token through ..data (path as given and reached both under the prefix)',
        events: () => [file('/run/secrets/kubernetes.io/serviceaccount/..2026_01_01_00_00_00.1/token', { ...inPod, given: '/var/run/secrets/kubernetes.io/serviceaccount/token' })],
      },
      { what: "EKS's web-identity token", events: () => [file('/var/run/secrets/eks.amazonaws.com/serviceaccount/token', inPod)] },
    ],
    nearMisses: [
      { what: 'ca.crt', events: () => [file('/var/run/secrets/kubernetes.io/serviceaccount/ca.crt', inPod)] },
      { what: 'the namespace file', events: () => [file('/var/run/secrets/kubernetes.io/serviceaccount/namespace', inPod)] },
    ],
  },
  'setuid-to-root': {
    fires: [
      { what: 'setuid(0) by uid 1000', events: () => [privilege({ ...inPod, binary: '/tmp/exploit', uid: 1000n, syscall: 'setuid', euid: 0n })] },
      { what: 'pkexec (PwnKit) becoming root on the host', events: () => [privilege({ ...onHost, binary: '/usr/bin/pkexec', uid: 1000n, syscall: 'setresuid', ruid: 0n, euid: 0n })] },
    ],
    nearMisses: [
      { what: 'root dropping to nobody', events: () => [privilege({ ...inPod, uid: 0n, syscall: 'setresuid', ruid: 65534n, euid: 65534n })] },
      { what: 'root staying root', events: () => [privilege({ ...onHost, uid: 0n, syscall: 'setuid', euid: 0n })] },
      { what: 'uid 1000 switching to another non-root uid', events: () => [privilege({ ...inPod, uid: 1000n, syscall: 'setreuid', ruid: 1001n, euid: 1001n })] },
      { what: 'sudo', events: () => [privilege({ ...onHost, binary: '/usr/bin/sudo', uid: 1000n, syscall: 'setresuid', ruid: 0n, euid: 0n })] },
    ],
  },
  'ptrace-attach': {
    fires: [
      { what: 'strace -p (PTRACE_SEIZE)', events: () => [ptrace('PTRACE_SEIZE', inPod)] },
      { what: 'gdb -p on the host (PTRACE_ATTACH)', events: () => [ptrace('PTRACE_ATTACH', { ...onHost, binary: '/usr/bin/gdb' })] },
    ],
    nearMisses: [
      { what: "a debugger's child asking to be traced", events: () => [ptrace('PTRACE_TRACEME', inPod)] },
      { what: 'peeks into a traced child', events: () => [ptrace('PTRACE_PEEKDATA', onHost)] },
    ],
  },
  'kernel-module-load': {
    fires: [
      { what: 'insmod on the host', events: () => [moduleLoad('load', onHost)] },
      { what: 'finit_module from a privileged pod', events: () => [moduleLoad('load', inPod)] },
    ],
    nearMisses: [{ what: 'rmmod', events: () => [moduleLoad('unload', onHost)] }],
  },
  'etc-write': {
    fires: [
      { what: 'a cron job dropped in a pod', events: () => [file('/etc/cron.d/backdoor', { ...inPod, binary: '/usr/bin/tee', flags: WRITE })] },
      { what: '/etc/passwd appended to on the host', events: () => [file('/etc/passwd', { ...onHost, binary: '/usr/bin/bash', flags: O_WRONLY | 0o2000 })] },
      { what: '/etc/ld.so.preload removed', events: () => [file('/etc/ld.so.preload', { ...onHost, binary: '/usr/bin/rm', op: 'unlink' })] },
    ],
    nearMisses: [
      { what: 'cat /etc/hostname', events: () => [file('/etc/hostname', inPod)] },
      { what: 'dpkg unpacking a package on the host', events: () => [file('/etc/default/grub', { ...onHost, binary: '/usr/bin/dpkg', flags: WRITE })] },
      { what: 'ldconfig rewriting its cache', events: () => [file('/etc/ld.so.cache~', { ...onHost, binary: '/usr/sbin/ldconfig', flags: WRITE })] },
      { what: '/etcetera (not below /etc)', events: () => [file('/etcetera/x', { ...inPod, flags: WRITE })] },
    ],
  },
  'system-binary-write': {
    fires: [
      { what: 'a binary replaced in /usr/bin', events: () => [file('/usr/bin/ls', { ...inPod, binary: '/usr/bin/cp', flags: WRITE })] },
      { what: 'a tool dropped in /usr/local/sbin on the host', events: () => [file('/usr/local/sbin/helper', { ...onHost, binary: '/usr/bin/curl', flags: WRITE })] },
      { what: 'chmod of /bin/mount', events: () => [file('/bin/mount', { ...onHost, binary: '/usr/bin/chmod', op: 'chmod' })] },
    ],
    nearMisses: [
      { what: 'a script read by its interpreter', events: () => [file('/usr/bin/pip3', { ...inPod, binary: '/usr/bin/python3.11' })] },
      { what: 'dpkg installing a package', events: () => [file('/usr/bin/jq', { ...inPod, binary: '/usr/bin/dpkg', flags: WRITE })] },
      { what: 'a library written (library directories are not watched)', events: () => [file('/usr/lib/x86_64-linux-gnu/libevil.so', { ...inPod, flags: WRITE })] },
    ],
  },
  'terminal-shell-in-container': {
    fires: [
      { what: 'kubectl exec -it … sh (parent: the runtime)', events: () => [exec('/usr/bin/dash', { ...inPod, parentBinary: '/usr/sbin/runc' })] },
      { what: 'bash spawned by the application', events: () => [exec('/usr/bin/bash', { ...inPod, parentBinary: '/usr/local/bin/python3.12' })] },
      { what: 'busybox sh in an Alpine image', events: () => [exec('/bin/busybox', { ...inPod, parentBinary: '/usr/bin/containerd-shim-runc-v2' })] },
      { what: 'a shell whose parent is not known', events: () => [exec('/bin/sh', { ...inPod, parent: null })] },
    ],
    nearMisses: [
      { what: "a shell script's sub-shell", events: () => [exec('/usr/bin/dash', { ...inPod, parentBinary: '/usr/bin/dash' })] },
      { what: 'a shell on the host', events: () => [exec('/usr/bin/bash', { ...onHost, parentBinary: '/usr/sbin/sshd' })] },
      { what: 'a non-shell exec by the runtime', events: () => [exec('/usr/local/bin/app', { ...inPod, parentBinary: '/usr/sbin/runc' })] },
    ],
  },
  'web-server-shell': {
    fires: [
      { what: 'nginx running sh', events: () => [exec('/usr/bin/dash', { ...inPod, parentBinary: '/usr/sbin/nginx' })], also: ['terminal-shell-in-container'] },
      { what: 'php-fpm running bash', events: () => [exec('/bin/bash', { ...inPod, parentBinary: '/usr/local/sbin/php-fpm' })], also: ['terminal-shell-in-container'] },
    ],
    nearMisses: [
      { what: 'nginx running a non-shell helper', events: () => [exec('/usr/bin/logger', { ...inPod, parentBinary: '/usr/sbin/nginx' })] },
      { what: 'nginx running a shell on the host', events: () => [exec('/usr/bin/dash', { ...onHost, parentBinary: '/usr/sbin/nginx' })] },
      { what: 'a shell run by a shell', events: () => [exec('/usr/bin/dash', { ...inPod, parentBinary: '/bin/sh' })] },
    ],
  },
  'package-manager-in-container': {
    fires: [
      { what: 'apt-get in a pod', events: () => [exec('/usr/bin/apt-get', inPod)] },
      { what: 'apk in an Alpine pod', events: () => [exec('/sbin/apk', inPod)] },
      { what: 'pip3 (a script: the agent records the script)', events: () => [exec('/usr/local/bin/pip3', inPod)] },
    ],
    nearMisses: [
      { what: 'dpkg-query', events: () => [exec('/usr/bin/dpkg-query', inPod)] },
      { what: 'apt-get on the host', events: () => [exec('/usr/bin/apt-get', { ...onHost, parentBinary: '/usr/bin/bash' })] },
    ],
  },
  'namespace-change-in-container': {
    fires: [
      { what: 'nsenter into the host mount namespace', events: () => [namespace('setns', ['mnt'], inPod)] },
      { what: 'unshare -U -r (a user namespace)', events: () => [namespace('unshare', ['user'], { ...inPod, binary: '/usr/bin/unshare' })] },
    ],
    nearMisses: [
      { what: 'unshare on the host', events: () => [namespace('unshare', ['net'], onHost)] },
      { what: 'runc init setting up a new container', events: () => [namespace('unshare', ['mnt', 'pid', 'net'], { ...inPod, binary: '/usr/sbin/runc' })] },
      { what: 'clone with new namespaces', events: () => [namespace('clone', ['pid'], inPod)] },
    ],
  },
  'mount-in-container': {
    fires: [
      { what: 'the host disk mounted in a pod', events: () => [mount('mount', '/mnt/host', inPod)] },
      { what: 'a cgroup fs mounted for release_agent', events: () => [mount('mount', '/tmp/cgrp', { ...inPod, binary: '/usr/bin/busybox' })] },
    ],
    nearMisses: [
      { what: 'umount', events: () => [mount('umount', '/mnt/host', inPod)] },
      { what: 'a mount on the host', events: () => [mount('mount', '/mnt/data', onHost)] },
      { what: "runc setting up the container's mounts", events: () => [mount('mount', '/proc', { ...inPod, binary: '/usr/bin/runc' })] },
    ],
  },
  'bpf-load-in-container': {
    fires: [
      { what: 'BPF_PROG_LOAD', events: () => [bpf('BPF_PROG_LOAD', inPod)] },
      { what: 'BPF_MAP_CREATE', events: () => [bpf('BPF_MAP_CREATE', inPod)] },
    ],
    nearMisses: [
      { what: 'bpftool prog show (enumeration)', events: () => [bpf('BPF_PROG_GET_NEXT_ID', inPod)] },
      { what: 'a program loaded on the host', events: () => [bpf('BPF_PROG_LOAD', onHost)] },
    ],
  },
  'dangerous-capabilities': {
    fires: [
      { what: 'capset keeping CAP_SYS_ADMIN', events: () => [capset(capMask(21), inPod)] },
      { what: 'a privileged container start (every capability)', events: () => [capset((1n << 41n) - 1n, { ...inPod, binary: '/usr/bin/runc' })] },
      { what: 'CAP_BPF (bit 39: the high word)', events: () => [capset(capMask(39), inPod)] },
    ],
    nearMisses: [
      { what: "the runtime's default capabilities", events: () => [capset(capMask(0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31), inPod)] },
      { what: 'CAP_NET_ADMIN (service-mesh init)', events: () => [capset(capMask(12, 13), inPod)] },
      { what: 'CAP_SYS_ADMIN on the host', events: () => [capset(capMask(21), onHost)] },
    ],
  },
  'private-network-connect': {
    fires: [
      { what: "a pod reaching the node's kubelet", events: () => [connect('10.0.0.12', { ...inPod, dport: 10250 })] },
      { what: '192.168.1.1', events: () => [connect('192.168.1.1', inPod)] },
      { what: 'an IPv6 ULA', events: () => [connect('fd00::2', inPod)] },
      { what: 'an IPv4-mapped private address', events: () => [connect('::ffff:172.16.0.9', inPod)] },
    ],
    nearMisses: [
      { what: 'another pod (10.244.0.0/16)', events: () => [connect('10.244.3.7', { ...inPod, dport: 8080 })] },
      { what: 'a service ClusterIP (10.96.0.0/12)', events: () => [connect('10.96.0.10', { ...inPod, dport: 53 })] },
      { what: 'a public address', events: () => [connect('93.184.216.34', inPod)] },
      { what: 'loopback', events: () => [connect('127.0.0.1', inPod)] },
      { what: 'the host reaching a private address', events: () => [connect('10.0.0.12', onHost)] },
    ],
  },
  'onion-name-resolved': {
    fires: [{ what: 'a pod resolving an onion name', events: () => [egress('dns', 'expyuzz4wqqyqhjn.onion', inPod)] }],
    nearMisses: [
      { what: 'a name merely containing onion', events: () => [egress('dns', 'onion.example.com', inPod)] },
      { what: 'the host resolving one (Tor relays run there)', events: () => [egress('dns', 'expyuzz4wqqyqhjn.onion', onHost)] },
    ],
  },
  'onion-server-name': {
    fires: [{ what: 'a ClientHello naming an onion service', events: () => [egress('tls', 'expyuzz4wqqyqhjn.onion', inPod)] }],
    nearMisses: [{ what: 'an ordinary server name', events: () => [egress('tls', 'api.example.com', inPod)] }],
  },
  'mining-pool-resolved': {
    fires: [
      { what: 'xmrig resolving a nanopool server', events: () => [egress('dns', 'xmr-eu1.nanopool.org', { ...inPod, binary: '/tmp/xmrig' })] },
      { what: 'the pool domain itself', events: () => [egress('dns', 'supportxmr.com', inPod)] },
    ],
    nearMisses: [{ what: "a name that only contains a pool's name", events: () => [egress('dns', 'nanopool.org.example.com', inPod)] }],
  },
  'mining-pool-server-name': {
    fires: [{ what: 'stratum over TLS to a pool', events: () => [egress('tls', 'pool.hashvault.pro', inPod)] }],
    nearMisses: [{ what: 'the pool named in an HTTP Host header (not a rule)', events: () => [egress('http', 'pool.hashvault.pro', inPod)] }],
  },
  'tunnel-or-drop-service-resolved': {
    fires: [{ what: 'a pod resolving an ngrok tunnel', events: () => [egress('dns', 'abc123.ngrok-free.app', inPod)] }],
    nearMisses: [{ what: 'an ordinary name', events: () => [egress('dns', 'registry.example.org', inPod)] }],
  },
  'tunnel-or-drop-service-http-host': {
    fires: [{ what: 'curl --upload-file to transfer.sh over plain HTTP', events: () => [egress('http', 'transfer.sh', inPod)] }],
    nearMisses: [{ what: 'the same service reached over TLS (named by SNI: no rule)', events: () => [egress('tls', 'transfer.sh', inPod)] }],
  },
  'metadata-service-connect': {
    fires: [
      { what: 'curl 169.254.169.254', events: () => [connect('169.254.169.254', { ...inPod, dport: 80 })] },
      { what: "AWS's IPv6 endpoint", events: () => [connect('fd00:ec2::254', { ...inPod, dport: 80 })], also: ['private-network-connect'] },
    ],
    nearMisses: [
      { what: 'another link-local address', events: () => [connect('169.254.1.1', inPod)] },
      { what: 'cloud-init on the host', events: () => [connect('169.254.169.254', { ...onHost, dport: 80 })] },
    ],
  },
  'dropped-binary-run': {
    fires: [
      {
        what: 'curl -o /tmp/x, then /tmp/x',
        events: () => [file('/tmp/x', { ...inPod, binary: '/usr/bin/curl', flags: WRITE }), exec('/tmp/x', { ...inPod, parentBinary: '/usr/bin/bash' })],
      },
      {
        what: 'written by one process in /dev/shm, run by another of the same pod',
        events: () => [file('/dev/shm/.k', { ...inPod, binary: '/usr/bin/python3', flags: WRITE }), exec('/dev/shm/.k', { ...inPod, parentBinary: '/usr/local/bin/app' })],
      },
    ],
    nearMisses: [
      { what: 'a file written and another run', events: () => [file('/tmp/x', { ...inPod, flags: WRITE }), exec('/tmp/y', { ...inPod, parentBinary: '/usr/bin/bash' })] },
      { what: 'written in one pod, run in another', events: () => [file('/tmp/x', { ...inPod, flags: WRITE }), exec('/tmp/x', { pod: OTHER_POD, parentBinary: '/usr/bin/bash' })] },
      { what: 'read, not written, then run', events: () => [file('/tmp/x', inPod), exec('/tmp/x', { ...inPod, parentBinary: '/usr/bin/bash' })] },
      {
        what: 'run after the 5 minute window',
        events: () => [file('/tmp/x', { ...inPod, flags: WRITE, time: T0 }), exec('/tmp/x', { ...inPod, parentBinary: '/usr/bin/bash', time: T0 + 301n * SECOND })],
      },
      { what: 'on the host', events: () => [file('/tmp/x', { ...onHost, flags: WRITE }), exec('/tmp/x', { ...onHost, parentBinary: '/usr/bin/bash' })] },
    ],
  },
  'scratch-binary-connects-out': {
    fires: [
      {
        what: '/tmp/miner connecting to a pool',
        events: () => [exec('/tmp/miner', { ...inPod, proc: DROPPER, parentBinary: '/usr/bin/bash' }), connect('203.0.113.9', { ...inPod, proc: DROPPER, binary: '/tmp/miner', dport: 3333 })],
      },
    ],
    nearMisses: [
      {
        what: 'the same program talking to loopback',
        events: () => [exec('/tmp/miner', { ...inPod, proc: DROPPER, parentBinary: '/usr/bin/bash' }), connect('127.0.0.1', { ...inPod, proc: DROPPER, binary: '/tmp/miner' })],
      },
      {
        what: 'another process connecting out',
        events: () => [exec('/tmp/miner', { ...inPod, proc: DROPPER, parentBinary: '/usr/bin/bash' }), connect('203.0.113.9', { ...inPod, proc: { pid: 601, start_time: 61n } })],
      },
      {
        what: 'a program from /usr/bin connecting out',
        events: () => [exec('/usr/bin/wget', { ...inPod, proc: DROPPER, parentBinary: '/usr/bin/bash' }), connect('203.0.113.9', { ...inPod, proc: DROPPER, binary: '/usr/bin/wget' })],
      },
    ],
  },
  'credential-read-then-connect': {
    fires: [
      {
        what: 'cat /etc/shadow, then curl from the same shell',
        events: () => [
          file('/etc/shadow', { ...inPod, proc: { pid: 501, start_time: 51n }, parent: SHELL }),
          connect('203.0.113.9', { ...inPod, proc: { pid: 502, start_time: 52n }, parent: SHELL }),
        ],
        also: ['shadow-read'],
      },
      {
        what: 'aws credentials read and sent by one python process',
        events: () => [file('/root/.aws/credentials', { ...inPod, binary: '/usr/bin/python3', proc: DROPPER }), connect('198.51.100.7', { ...inPod, binary: '/usr/bin/python3', proc: DROPPER })],
        also: ['cloud-credentials-read'],
      },
    ],
    nearMisses: [
      {
        what: 'the connect came first',
        events: () => [connect('203.0.113.9', { ...inPod, proc: { pid: 502, start_time: 52n }, parent: SHELL }), file('/etc/shadow', { ...inPod, proc: { pid: 501, start_time: 51n }, parent: SHELL })],
        also: ['shadow-read'],
      },
      {
        what: 'an unrelated process connects',
        events: () => [file('/etc/shadow', { ...inPod, proc: { pid: 501, start_time: 51n }, parent: SHELL }), connect('203.0.113.9', { ...inPod, proc: { pid: 900, start_time: 90n }, parent: { pid: 899, start_time: 89n } })],
        also: ['shadow-read'],
      },
      {
        what: 'the service-account token read, then the API server called',
        events: () => [file('/var/run/secrets/kubernetes.io/serviceaccount/token', { ...inPod, proc: DROPPER }), connect('10.96.0.1', { ...inPod, proc: DROPPER })],
        also: ['service-account-token-read'],
      },
      {
        what: 'a connect to loopback',
        events: () => [file('/etc/shadow', { ...inPod, proc: DROPPER }), connect('127.0.0.1', { ...inPod, proc: DROPPER })],
        also: ['shadow-read'],
      },
    ],
  },
};

describe('the default rule pack, rule by rule', () => {
  for (const [rule, cases] of Object.entries(CASES)) {
    describe(rule, () => {
      for (const scenario of cases.fires) {
        test(`fires: ${scenario.what}`, () => {
          assert.deepEqual(fired(scenario.events()), [rule, ...(scenario.also ?? [])].sort());
        });
      }
      for (const scenario of cases.nearMisses) {
        test(`near-miss: ${scenario.what}`, () => {
          assert.deepEqual(fired(scenario.events()), [...(scenario.also ?? [])].sort());
        });
      }
    });
  }

  test('every rule of the pack has cases that fire it and near-misses, and rule names are unique across the pack', () => {
    const names = PACK.flatMap((policy) => policy.spec.rules.map((rule) => rule.name));
    assert.equal(new Set(names).size, names.length);
    assert.deepEqual(Object.keys(CASES).sort(), [...names].sort());
    for (const [rule, cases] of Object.entries(CASES)) {
      assert.ok(cases.fires.length > 0 && cases.nearMisses.length > 0, rule);
    }
  });
});

describe('loadDefaultPolicies', () => {
  test('an invalid pack is refused whole, naming the file and field of each problem', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stinger-pack-'));
    try {
      writeFileSync(join(dir, 'a.yaml'), 'apiVersion: stinger.io/v1alpha1\nkind: TracingPolicy\nmetadata: { name: a }\nspec:\n  rules:\n    - { name: r, event: exec, action: audit, tags: [T1059] }\n');
      assert.throws(() => loadDefaultPolicies(dir), (error: unknown) => error instanceof CliError && /nothing was applied:\n {2}.*a\.yaml: spec\.mode: the default pack ships in monitor mode, not enforce$/.test(error.message));
      assert.throws(() => loadDefaultPolicies(join(dir, 'missing')), (error: unknown) => error instanceof CliError && /cannot read the default rule pack in .*missing: ENOENT/.test(error.message));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
