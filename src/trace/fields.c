// SPDX-License-Identifier: MIT
/*
 * The native format's field table (docs/trace-format.md). Bpf(2) fields carry
 * the names of the kernel's union bpf_attr members (include/uapi/linux/bpf.h).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "trace/fields.h"
#include "core/uapi_names.h"

#define EV(m) ((uint16_t)offsetof(struct kms_event, m))
#define B(m) EV(u.bpf.m)

/* Ops every event line has; expectations have only seq and t. */
#define OPS_ALL ((1ull << KMS_NR_OPS) - 1)
#define OPS_EVENTS (OPS_ALL & ~OPK(KMS_EV_EXPECT) & ~OPK(KMS_EV_BPF))
#define OPS_CG (OPK(KMS_EV_CGROUP_CREATE) | OPK(KMS_EV_CGROUP_REMOVE) | OPK(KMS_EV_CGROUP_SET))
#define OPS_ELEM (OPB(KMS_BPF_MAP_LOOKUP_ELEM) | OPB(KMS_BPF_MAP_UPDATE_ELEM) | \
		  OPB(KMS_BPF_MAP_DELETE_ELEM) | OPB(KMS_BPF_MAP_GET_NEXT_KEY) | \
		  OPB(KMS_BPF_MAP_LOOKUP_AND_DELETE_ELEM))
#define OPS_BATCH (OPB(KMS_BPF_MAP_LOOKUP_BATCH) | OPB(KMS_BPF_MAP_LOOKUP_AND_DELETE_BATCH) | \
		   OPB(KMS_BPF_MAP_UPDATE_BATCH) | OPB(KMS_BPF_MAP_DELETE_BATCH))
#define OPS_MAP_FD (OPS_ELEM | OPS_BATCH | OPB(KMS_BPF_MAP_FREEZE) | OPB(KMS_BPF_PROG_BIND_MAP))
#define OPS_ATTACH (OPB(KMS_BPF_PROG_ATTACH) | OPB(KMS_BPF_PROG_DETACH))
#define OPS_PROG_FD (OPS_ATTACH | OPB(KMS_BPF_LINK_CREATE) | OPB(KMS_BPF_PROG_BIND_MAP) | \
		     OPB(KMS_BPF_PROG_TEST_RUN) | OPB(KMS_BPF_RAW_TRACEPOINT_OPEN))
#define OPS_BY_ID (OPB(KMS_BPF_PROG_GET_FD_BY_ID) | OPB(KMS_BPF_MAP_GET_FD_BY_ID) | \
		   OPB(KMS_BPF_BTF_GET_FD_BY_ID) | OPB(KMS_BPF_LINK_GET_FD_BY_ID))
#define OPS_PROG_EV (OPK(KMS_EV_PROG_UPDATE) | OPK(KMS_EV_PROG_DELETE))
#define MC OPB(KMS_BPF_MAP_CREATE)
#define PL OPB(KMS_BPF_PROG_LOAD)

const struct kms_field kms_fields[] = {
	/* every line */
	{ "seq", FT_SEQ, 0, EV(seq), 0, OPS_ALL },
	{ "t", FT_TIME, 0, EV(time_ns), 0, OPS_ALL },
	/* who: every event but expectations */
	{ "pid", FT_I32, FF_ALWAYS, EV(pid), 0, OPS_EVENTS },
	{ "tid", FT_I32, 0, EV(tid), 0, OPS_EVENTS },
	{ "uid", FT_UID, 0, EV(uid), 0, OPS_EVENTS },
	{ "cgroup", FT_PATH, 0, EV(cgroup), 0, OPS_EVENTS },
	{ "cpu", FT_U32, 0, EV(cpu), 0, OPS_EVENTS },
	{ "ctx", FT_CTX, 0, EV(ctx), 0, OPS_EVENTS },

	/* environment */
	{ "path", FT_PATH, FF_REQUIRED, EV(u.cg.path), 0, OPS_CG },
	{ "memory.max", FT_LIMIT, 0, EV(u.cg.max), EV(u.cg.set_max), OPK(KMS_EV_CGROUP_SET) },
	{ "memory.high", FT_LIMIT, 0, EV(u.cg.high), EV(u.cg.set_high),
	  OPK(KMS_EV_CGROUP_SET) },
	{ "memlock_cur", FT_LIMIT, 0, EV(u.task.cur), EV(u.task.has_cur), OPK(KMS_EV_TASK_NEW) },
	{ "memlock_max", FT_LIMIT, 0, EV(u.task.max), EV(u.task.has_max), OPK(KMS_EV_TASK_NEW) },
	{ "child", FT_I32, FF_REQUIRED, EV(u.task.child), 0, OPK(KMS_EV_FORK) },
	{ "share_files", FT_BOOL, FF_ALWAYS, EV(u.task.share_files), 0, OPK(KMS_EV_FORK) },
	{ "thread", FT_BOOL, 0, EV(u.task.thread), 0, OPK(KMS_EV_FORK) | OPK(KMS_EV_EXIT) },
	{ "path", FT_STR, 0, EV(u.task.path), 0, OPK(KMS_EV_EXEC) },
	{ "to", FT_PATH, FF_REQUIRED, EV(u.task.path), 0, OPK(KMS_EV_TASK_MOVE) },
	{ "status", FT_I32, FF_ALWAYS, EV(u.task.status), 0, OPK(KMS_EV_EXIT) },
	{ "target", FT_I32, 0, EV(u.task.target), 0, OPK(KMS_EV_RLIMIT_MEMLOCK) },
	{ "cur", FT_LIMIT, 0, EV(u.task.cur), EV(u.task.has_cur), OPK(KMS_EV_RLIMIT_MEMLOCK) },
	{ "max", FT_LIMIT, 0, EV(u.task.max), EV(u.task.has_max), OPK(KMS_EV_RLIMIT_MEMLOCK) },
	{ "pages", FT_I64, FF_REQUIRED | FF_ALWAYS, EV(u.task.pages), 0,
	  OPK(KMS_EV_LOCKED_VM_OTHER) },

	/* file descriptors */
	{ "fd", FT_I32, FF_REQUIRED | FF_ALWAYS, EV(u.fd.fd), 0,
	  OPK(KMS_EV_CLOSE) | OPK(KMS_EV_DUP) },
	{ "newfd", FT_I32, 0, EV(u.fd.newfd), 0, OPK(KMS_EV_DUP) },
	{ "cloexec", FT_BOOL, 0, EV(u.fd.cloexec), 0, OPK(KMS_EV_DUP) },

	/* BPF_MAP_CREATE */
	{ "map_type", FT_MAP_TYPE, FF_ALWAYS, B(map_type), 0, MC },
	{ "key_size", FT_SIZE32, FF_ALWAYS, B(key_size), 0, MC },
	{ "value_size", FT_SIZE32, FF_ALWAYS, B(value_size), 0, MC },
	{ "max_entries", FT_SIZE32, FF_ALWAYS | FF_PLAIN, B(max_entries), 0, MC },
	{ "map_flags", FT_MAP_FLAGS, 0, B(map_flags), 0, MC },
	{ "inner_map_fd", FT_I32, 0, B(inner_map_fd), 0, MC },
	{ "numa_node", FT_U32, 0, B(numa_node), 0, MC },
	{ "map_name", FT_STR, 0, B(map_name), 0, MC },
	{ "map_ifindex", FT_U32, 0, B(map_ifindex), 0, MC },
	{ "btf_fd", FT_I32, 0, B(btf_fd), 0, MC },
	{ "btf_key_type_id", FT_U32, 0, B(btf_key_type_id), 0, MC },
	{ "btf_value_type_id", FT_U32, 0, B(btf_value_type_id), 0, MC },
	{ "btf_vmlinux_value_type_id", FT_U32, 0, B(btf_vmlinux_value_type_id), 0, MC },
	{ "map_extra", FT_U64, 0, B(map_extra), 0, MC },

	/* element and batch commands */
	{ "map_fd", FT_I32, FF_ALWAYS, B(map_fd), 0, OPS_MAP_FD },
	{ "key", FT_KEY, 0, B(key), B(key_kind), OPS_ELEM | OPS_BATCH },
	{ "flags", FT_ELEM_FLAGS, FF_ALWAYS, B(flags), 0, OPB(KMS_BPF_MAP_UPDATE_ELEM) },
	{ "flags", FT_ELEM_FLAGS, 0, B(flags), 0,
	  OPB(KMS_BPF_MAP_LOOKUP_ELEM) | OPB(KMS_BPF_MAP_LOOKUP_AND_DELETE_ELEM) },
	{ "count", FT_U32, 0, B(count), 0, OPS_BATCH },
	{ "count_out", FT_U32, 0, B(count_out), 0, OPS_BATCH },
	{ "elem_flags", FT_ELEM_FLAGS, 0, B(elem_flags), 0, OPS_BATCH },
	{ "keys", FT_KEYS, 0, B(keys), B(nr_keys), OPS_BATCH },

	/* BPF_PROG_LOAD */
	{ "prog_type", FT_PROG_TYPE, FF_ALWAYS, B(prog_type), 0, PL },
	{ "insn_cnt", FT_U32, FF_ALWAYS, B(insn_cnt), 0, PL },
	{ "xlated_insn_cnt", FT_U32, 0, B(xlated_insn_cnt), 0, PL },
	{ "func_info_cnt", FT_U32, 0, B(func_info_cnt), 0, PL },
	{ "line_info_cnt", FT_U32, 0, B(line_info_cnt), 0, PL },
	{ "expected_attach_type", FT_ATTACH_TYPE, 0, B(expected_attach_type), 0, PL },
	{ "prog_flags", FT_U32, 0, B(prog_flags), 0, PL },
	{ "prog_name", FT_STR, 0, B(prog_name), 0, PL },
	{ "prog_btf_fd", FT_I32, 0, B(prog_btf_fd), 0, PL },
	{ "attach_btf_id", FT_U32, 0, B(attach_btf_id), 0, PL },
	{ "attach_prog_fd", FT_I32, 0, B(attach_prog_fd), 0, PL },

	/* BPF_BTF_LOAD */
	{ "btf_size", FT_SIZE32, FF_ALWAYS, B(btf_size), 0, OPB(KMS_BPF_BTF_LOAD) },

	/* objects by path and fd */
	{ "pathname", FT_STR, 0, B(pathname), 0, OPB(KMS_BPF_OBJ_PIN) | OPB(KMS_BPF_OBJ_GET) },
	{ "bpf_fd", FT_I32, 0, B(bpf_fd), 0,
	  OPB(KMS_BPF_OBJ_PIN) | OPB(KMS_BPF_OBJ_GET_INFO_BY_FD) },
	{ "file_flags", FT_U32, 0, B(file_flags), 0, OPB(KMS_BPF_OBJ_PIN) | OPB(KMS_BPF_OBJ_GET) },

	/* attaching */
	{ "prog_fd", FT_I32, 0, B(prog_fd), 0, OPS_PROG_FD },
	{ "target_fd", FT_I32, 0, B(target_fd), 0, OPS_ATTACH | OPB(KMS_BPF_LINK_CREATE) },
	{ "target", FT_STR, 0, B(target), 0, OPS_ATTACH | OPB(KMS_BPF_LINK_CREATE) },
	{ "attach_type", FT_ATTACH_TYPE, 0, B(attach_type), 0,
	  OPS_ATTACH | OPB(KMS_BPF_LINK_CREATE) },
	{ "attach_flags", FT_U32, 0, B(attach_flags), 0, OPS_ATTACH },
	{ "flags", FT_U64, 0, B(flags), 0, OPB(KMS_BPF_LINK_CREATE) },

	/* *_GET_FD_BY_ID */
	{ "id", FT_U32, FF_ALWAYS, B(id), 0, OPS_BY_ID },
	{ "open_flags", FT_U32, 0, B(open_flags), 0, OPS_BY_ID },
	/* the kernel's id of the object a call created (recorders know it from fdinfo) */
	{ "obj_id", FT_U32, 0, B(obj_id), 0,
	  MC | PL | OPB(KMS_BPF_BTF_LOAD) | OPB(KMS_BPF_OBJ_GET) | OPB(KMS_BPF_LINK_CREATE) |
	  OPB(KMS_BPF_RAW_TRACEPOINT_OPEN) },

	/* in-kernel activity */
	{ "map_fd", FT_I32, 0, EV(u.prog.map_fd), 0, OPS_PROG_EV },
	{ "map_id", FT_U32, 0, EV(u.prog.map_id), 0, OPS_PROG_EV },
	{ "count", FT_U64, 0, EV(u.prog.count), 0, OPS_PROG_EV },
	{ "key", FT_KEYKIND, 0, EV(u.prog.key_kind), 0, OPS_PROG_EV },
	{ "keys", FT_KEYS, 0, EV(u.prog.keys), EV(u.prog.nr_keys), OPS_PROG_EV },
	{ "flags", FT_ELEM_FLAGS, 0, EV(u.prog.flags), 0, OPK(KMS_EV_PROG_UPDATE) },

	/* expectations; the counter and its relation are parsed apart */
	{ "profile", FT_STR, FF_REQUIRED | FF_ALWAYS, EV(u.expect.profile), 0,
	  OPK(KMS_EV_EXPECT) },
	{ "set", FT_STR, 0, EV(u.expect.set), 0, OPK(KMS_EV_EXPECT) },
	{ "of", FT_U64, 0, EV(u.expect.of_seq), 0, OPK(KMS_EV_EXPECT) },
	{ "cgroup", FT_PATH, 0, EV(u.expect.cgroup), 0, OPK(KMS_EV_EXPECT) },
	{ "user", FT_UID, 0, EV(u.expect.user), 0, OPK(KMS_EV_EXPECT) },

	/* the result, last so that the writer prints it last */
	{ "ret", FT_RET, 0, EV(ret), EV(has_ret), OPS_ALL & ~OPK(KMS_EV_EXPECT) },
};

const unsigned int kms_nr_fields = sizeof(kms_fields) / sizeof(kms_fields[0]);

static const char *const kind_names[KMS_NR_EVENT_KINDS] = {
	[KMS_EV_CGROUP_CREATE] = "cgroup_create",
	[KMS_EV_CGROUP_REMOVE] = "cgroup_remove",
	[KMS_EV_CGROUP_SET] = "cgroup_set",
	[KMS_EV_TASK_NEW] = "task_new",
	[KMS_EV_FORK] = "fork",
	[KMS_EV_EXEC] = "exec",
	[KMS_EV_TASK_MOVE] = "task_move",
	[KMS_EV_EXIT] = "exit",
	[KMS_EV_RLIMIT_MEMLOCK] = "rlimit_memlock",
	[KMS_EV_LOCKED_VM_OTHER] = "locked_vm_other",
	[KMS_EV_CLOSE] = "close",
	[KMS_EV_DUP] = "dup",
	[KMS_EV_BPF] = "bpf",
	[KMS_EV_PROG_UPDATE] = "prog_update",
	[KMS_EV_PROG_DELETE] = "prog_delete",
	[KMS_EV_EXPECT] = "expect",
};

const char *kms_event_kind_name(enum kms_event_kind k)
{
	return (unsigned int)k < KMS_NR_EVENT_KINDS ? kind_names[k] : NULL;
}

const char *kms_op_name(unsigned int op)
{
	if (op >= KMS_OP_BPF_BASE)
		return kms_name_of(kms_bpf_cmd_names, op - KMS_OP_BPF_BASE);
	if (op == KMS_EV_BPF)
		return NULL;	/* bpf lines are named by their command */
	return kms_event_kind_name((enum kms_event_kind)op);
}

unsigned int kms_event_op(const struct kms_event *ev)
{
	if (ev->kind == KMS_EV_BPF)
		return KMS_OP_BPF_BASE + (unsigned int)ev->u.bpf.cmd;
	return (unsigned int)ev->kind;
}

/* native.c keeps a line's fields in a 128-bit mask and indexes them in bytes */
_Static_assert(sizeof(kms_fields) / sizeof(kms_fields[0]) <= 128, "too many fields");

void kms_event_init(struct kms_event *ev, enum kms_event_kind kind)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->pid = ev->tid = 1;
	ev->uid = KMS_UID_UNSET;
	if (kind == KMS_EV_DUP)
		ev->u.fd.newfd = -1;
	if (kind == KMS_EV_PROG_UPDATE || kind == KMS_EV_PROG_DELETE)
		ev->u.prog.map_fd = -1;
	if (kind == KMS_EV_EXPECT)
		ev->u.expect.user = KMS_UID_UNSET;
}

void kms_event_init_bpf(struct kms_event *ev, enum kms_bpf_cmd cmd)
{
	kms_event_init(ev, KMS_EV_BPF);
	ev->u.bpf.cmd = cmd;
}

struct kms_event *kms_event_templates(void)
{
	struct kms_event *t = malloc(KMS_NR_OPS * sizeof(*t));

	if (!t)
		return NULL;
	for (unsigned int op = 0; op < KMS_NR_OPS; op++) {
		if (op >= KMS_OP_BPF_BASE)
			kms_event_init_bpf(&t[op], (enum kms_bpf_cmd)(op - KMS_OP_BPF_BASE));
		else
			kms_event_init(&t[op], (enum kms_event_kind)op);
	}
	return t;
}
