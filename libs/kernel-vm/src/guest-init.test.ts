import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GUEST_MODULES, guestInitScript, guestRunScript, isPlainRunDir, STATUS_FILE } from './guest-init.ts';

test('/init loads the modules in dependency order, mounts the shared root under an overlay and powers off', () => {
  const init = guestInitScript();
  assert.ok(init.startsWith('#!/bin/busybox sh\n'));
  assert.match(init, /for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci 9pnet 9pnet_virtio netfs fscache 9p overlay;/);
  assert.equal(GUEST_MODULES.length, 11);
  assert.match(init, /mount -t 9p -o trans=virtio,version=9p2000.L,ro,[^ ]* stinger-host-root \/lower/);
  assert.match(init, /mount -t overlay overlay -o lowerdir=\/lower,upperdir=\/upper\/data,workdir=\/upper\/work \/root/);
  for (const fs of ['bpf bpf /root/sys/fs/bpf', 'tracefs tracefs /root/sys/kernel/tracing', 'securityfs securityfs /root/sys/kernel/security', 'cgroup2 cgroup2 /root/sys/fs/cgroup']) {
    assert.ok(init.includes(`mount -t ${fs}`), fs);
  }
  // getaddrinfo with AI_ADDRCONFIG (getent ahosts) asks no resolver where lo's loopback addresses are all there is.
  assert.match(init, /busybox ip link set lo up\n(#.*\n)*busybox ip addr add 198\.18\.0\.1\/32 dev lo\n/);
  assert.match(init, /chroot \/root \/bin\/sh "\$STINGER_RUN_DIR"\/run\.sh\nhalt "run script ended"\n$/);
  // PID 1 must never exit (the kernel panics): every failure path powers off.
  assert.match(init, /halt\(\) \{ .*busybox poweroff -f; while :; do busybox sleep 60; done; \}/);
  execFileSync('/bin/busybox', ['sh', '-n', '-c', init]);
});

test('the run script runs the command in a clean environment and writes its exit status', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stinger-run-'));
  try {
    const script = guestRunScript({
      cwd: dir,
      command: ['/bin/sh', '-c', 'echo "$GREETING" > out; exit 3'],
      env: { GREETING: "it's here", PATH: '/usr/bin:/bin' },
      runDir: dir,
    });
    writeFileSync(join(dir, 'run.sh'), script);
    execFileSync('/bin/sh', [join(dir, 'run.sh')], { env: { LEAK: 'no' } });
    assert.equal(readFileSync(join(dir, 'out'), 'utf8'), "it's here\n");
    assert.equal(readFileSync(join(dir, STATUS_FILE), 'utf8'), '3\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.throws(() => guestRunScript({ cwd: '/', command: ['true'], env: { 'A-B': 'x' }, runDir: '/tmp' }), /not an environment variable name: "A-B"/);
});

test('a run directory goes on the kernel command line only when it is a plain absolute path', () => {
  assert.ok(isPlainRunDir('/tmp/stinger-vm-Ab12_x'));
  assert.ok(!isPlainRunDir('tmp/x'));
  assert.ok(!isPlainRunDir('/tmp/a b'));
  assert.ok(!isPlainRunDir("/tmp/a'b"));
});
