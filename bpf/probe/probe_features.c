/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * Feature probes: one trivial program per program type or attach kind the sensors may use. libs/bpf
 * (probeFeatures) loads and attaches them one at a time and reports which the running kernel allows; under
 * kernel lockdown kprobe, fentry and lsm fail here, which is the point. None of them does anything observable.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Never set: keeps bpf_send_signal in the program (so the verifier checks the helper) without calling it. */
volatile const __u32 probe_never = 0;

SEC("tracepoint/syscalls/sys_enter_getppid")
int probe_tracepoint(void *ctx)
{
	return 0;
}

SEC("raw_tracepoint/sys_enter")
int probe_raw_tracepoint(void *ctx)
{
	return 0;
}

SEC("kprobe/do_unlinkat")
int probe_kprobe(void *ctx)
{
	return 0;
}

SEC("fentry/do_unlinkat")
int probe_fentry(void *ctx)
{
	return 0;
}

SEC("lsm/file_open")
int probe_lsm(void *ctx)
{
	return 0;
}

SEC("cgroup/connect4")
int probe_cgroup_connect4(struct bpf_sock_addr *ctx)
{
	return 1; /* allow */
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int probe_send_signal(void *ctx)
{
	if (probe_never)
		bpf_send_signal(9);
	return 0;
}
