/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * Privilege, namespace and kernel-integrity records, watch/rule map layouts and constants (bpf/privilege/).
 * Same rules as stinger_event.h: fixed-width types, explicit padding, no bitfields; the TypeScript tables in
 * libs/bpf/src/privilege/records.ts must match (privilege/records.layout.test.ts compares them with the host compiler).
 *
 * EVENT_KIND_PRIVILEGE .. EVENT_KIND_MOUNT (30..36) are defined in stinger_event.h with the other kinds.
 * The STINGER_ACTION_* values come from stinger_net.h (one set of action numbers for every sensor of this group).
 */
#ifndef STINGER_PRIV_H
#define STINGER_PRIV_H

#include "stinger_event.h"
#include "stinger_net.h"

/* setid_event.op: which set*id(2) call. */
#define SETID_OP_SETUID 1
#define SETID_OP_SETGID 2
#define SETID_OP_SETREUID 3
#define SETID_OP_SETREGID 4
#define SETID_OP_SETRESUID 5
#define SETID_OP_SETRESGID 6
#define SETID_OP_SETFSUID 7
#define SETID_OP_SETFSGID 8

/* ns_event.op */
#define NS_OP_SETNS 1
#define NS_OP_UNSHARE 2
#define NS_OP_CLONE 3
#define NS_OP_CLONE3 4

/* The CLONE_NEW* bits (uapi/linux/sched.h); a clone/clone3/unshare is reported only when flags has one of them. */
#define NS_CLONE_NEWTIME 0x00000080ULL
#define NS_CLONE_NEWNS 0x00020000ULL
#define NS_CLONE_NEWCGROUP 0x02000000ULL
#define NS_CLONE_NEWUTS 0x04000000ULL
#define NS_CLONE_NEWIPC 0x08000000ULL
#define NS_CLONE_NEWUSER 0x10000000ULL
#define NS_CLONE_NEWPID 0x20000000ULL
#define NS_CLONE_NEWNET 0x40000000ULL
#define NS_CLONE_NEW_MASK                                                                                          \
	(NS_CLONE_NEWTIME | NS_CLONE_NEWNS | NS_CLONE_NEWCGROUP | NS_CLONE_NEWUTS | NS_CLONE_NEWIPC |                  \
	 NS_CLONE_NEWUSER | NS_CLONE_NEWPID | NS_CLONE_NEWNET)

/* module_event.op */
#define MODULE_OP_INIT 1
#define MODULE_OP_FINIT 2

/* Bytes of init_module/finit_module's param_values string kept (NUL included). */
#define MODULE_PARAMS_SIZE 128
/* mount(2) strings kept (NUL included). */
#define MOUNT_SOURCE_SIZE 128
#define MOUNT_TARGET_SIZE 256
#define MOUNT_FSTYPE_SIZE 32
#define BPF_PROG_NAME_SIZE 16

/* mount_event.str_flags: which strings were cut or could not be read (NULL pointers are simply empty). */
#define MOUNT_FLAG_SOURCE_TRUNCATED (1U << 0)
#define MOUNT_FLAG_TARGET_TRUNCATED (1U << 1)
#define MOUNT_FLAG_FSTYPE_TRUNCATED (1U << 2)

/* capset_event.cap_flags */
#define CAPSET_FLAG_DATA_READ (1U << 0) /* effective/permitted/inheritable were read from the user struct */

/* priv_watch_config.watch: which calls are reported for every process. 0 = none (the default). */
#define PRIV_WATCH_SETID (1U << 0)
#define PRIV_WATCH_CAPSET (1U << 1)
#define PRIV_WATCH_NAMESPACE (1U << 2)
#define PRIV_WATCH_MODULE (1U << 3)
#define PRIV_WATCH_BPF (1U << 4)
#define PRIV_WATCH_PTRACE (1U << 5)
#define PRIV_WATCH_MOUNT (1U << 6)

/*
 * Rules of the namespace and module objects (maps ns_rules, module_rules) are keyed by a cgroup v2 id: a rule
 * applies to the tasks of that cgroup and of every cgroup below it, down to SCOPE_CGROUP_DEPTH levels from the
 * root (bpf_get_current_ancestor_cgroup_id). That is the scoping contract: a rule can only ever hit processes
 * inside the cgroup subtree user space named (a pod, a container, a test's own cgroup). Key 0 is never used.
 */
#define SCOPE_CGROUP_DEPTH 16

/* A set*id(2) call: args as passed ((u32)-1 = unchanged); result is the syscall's (setfsuid: the previous id). */
struct setid_event {
	struct event_header hdr;
	__u32 op;       /* SETID_OP_* */
	__s32 result;
	__u32 args[3];  /* setuid/setgid/setfs*: args[0]; setre*: real, effective; setres*: real, effective, saved */
	__u32 pad;
};

/* capset(2): the header's target pid and version, and the sets from the user data (v3: two u32 words each). */
struct capset_event {
	struct event_header hdr;
	__u32 target_pid; /* header.pid: 0 = the caller */
	__u32 version;    /* header.version (_LINUX_CAPABILITY_VERSION_3 = 0x20080522) */
	__s32 result;
	__u32 cap_flags;  /* CAPSET_FLAG_* */
	__u64 effective;
	__u64 permitted;
	__u64 inheritable;
};

/* setns(2), unshare(2), clone(2)/clone3(2) with a CLONE_NEW* flag. */
struct ns_event {
	struct event_header hdr;
	__u64 flags;     /* unshare/clone/clone3: the flags; setns: nstype (0 = any type) */
	__u32 op;        /* NS_OP_* */
	__s32 result;    /* clone: the child's pid in the parent; 0 when the caller was killed at entry */
	__s32 fd;        /* setns: the namespace fd; else -1 */
	__u32 rule_id;
	__u8 action;     /* STINGER_ACTION_* */
	__u8 pad[7];
};

/*
 * init_module(2) / finit_module(2). The module's name lives in the image (init_module: in user memory, but
 * inside an ELF section that would have to be parsed; finit_module: in a file) and in kernel memory after load,
 * neither of which a tracepoint-only sensor reads: user space resolves finit_module's fd via the process's fd
 * table, or the module list (/proc/modules) after a successful load.
 */
struct module_event {
	struct event_header hdr;
	__u32 op;           /* MODULE_OP_* */
	__s32 result;
	__s32 fd;           /* finit_module: the module file's fd; init_module: -1 */
	__u32 module_flags; /* finit_module flags (MODULE_INIT_*) */
	__u64 len;          /* init_module: bytes of the image */
	__u32 rule_id;
	__u8 action;        /* STINGER_ACTION_* */
	__u8 pad[3];
	char params[MODULE_PARAMS_SIZE];
};

/* bpf(2) for the commands selected in priv_watch_config.bpf_cmds; BPF_PROG_LOAD adds the type and name. */
struct bpf_event {
	struct event_header hdr;
	__u32 cmd;
	__s32 result;    /* BPF_PROG_LOAD / BPF_MAP_CREATE: the new fd */
	__u32 prog_type; /* BPF_PROG_LOAD: attr.prog_type; else 0 */
	__u32 insn_cnt;  /* BPF_PROG_LOAD: attr.insn_cnt; else 0 */
	char prog_name[BPF_PROG_NAME_SIZE];
};

struct ptrace_event {
	struct event_header hdr;
	__u64 request;   /* PTRACE_* */
	__u32 target_pid;
	__s32 result;
};

struct mount_event {
	struct event_header hdr;
	__u64 mount_flags; /* MS_* */
	__s32 result;
	__u32 str_flags;   /* MOUNT_FLAG_* */
	char source[MOUNT_SOURCE_SIZE];
	char target[MOUNT_TARGET_SIZE];
	char fstype[MOUNT_FSTYPE_SIZE];
};

/* The one value of the single-slot array `priv_watch` each privilege object declares. */
struct priv_watch_config {
	__u32 watch;    /* PRIV_WATCH_* */
	__u32 pad;
	__u64 bpf_cmds; /* bit n set: report bpf(2) with cmd n (n < 64) */
};

/* Value of ns_rules and module_rules (key: a cgroup v2 id, see SCOPE_CGROUP_DEPTH). */
struct scope_rule {
	__u64 match;   /* ns_rules: the CLONE_NEW* bits the rule is about (a call with any of them matches); module: 0 */
	__u32 rule_id;
	__u32 action;  /* STINGER_ACTION_AUDIT or STINGER_ACTION_KILLED */
	__u32 flags;   /* SCOPE_RULE_FLAG_* */
	__u32 pad;
};

/* scope_rule.flags */
#define SCOPE_RULE_FLAG_HOST_ONLY (1U << 0) /* skipped for tasks under a pod cgroup root (pod_cgroup_roots) */
#define SCOPE_RULE_FLAG_PODS_ONLY (1U << 1) /* skipped for tasks not under one */

#endif /* STINGER_PRIV_H */
