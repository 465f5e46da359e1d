/* SPDX-License-Identifier: MIT */
/*
 * The native format's fields: one table, shared by the parser (native.c) and
 * the writer (writer.c), so what is written is exactly what is read back.
 */
#ifndef KMS_TRACE_FIELDS_H
#define KMS_TRACE_FIELDS_H

#include <stdbool.h>
#include <stdint.h>

#include "kmemsim/trace.h"

/*
 * An "op" is what a line's first word names: an event kind, or for bpf(2)
 * lines the command. Ops are bits of a 64-bit mask.
 */
#define KMS_OP_BPF_BASE 16
#define KMS_NR_OPS (KMS_OP_BPF_BASE + KMS_NR_BPF_CMDS)
_Static_assert(KMS_NR_EVENT_KINDS <= KMS_OP_BPF_BASE, "event kinds overflow op space");
_Static_assert(KMS_NR_OPS <= 64, "ops must fit a 64-bit mask");

#define OPK(kind) (1ull << (kind))
#define OPB(cmd) (1ull << (KMS_OP_BPF_BASE + (cmd)))

enum kms_field_type {
	FT_SEQ,		/* u64 */
	FT_TIME,	/* u64 ns, written as seconds with a fraction */
	FT_I32,
	FT_U32,
	FT_U64,
	FT_I64,
	FT_SIZE32,	/* u32, suffixes K M G */
	FT_LIMIT,	/* u64 bytes, suffixes, "max"/"unlimited"; off2: presence bool */
	FT_STR,		/* const char * */
	FT_PATH,	/* const char *, an absolute cgroup path */
	FT_KEY,		/* u64 id at off, enum kms_key_kind at off2 */
	FT_KEYKIND,	/* enum kms_key_kind: new | existing */
	FT_KEYS,	/* const uint64_t * at off, uint32_t count at off2 */
	FT_MAP_TYPE,
	FT_PROG_TYPE,
	FT_ATTACH_TYPE,
	FT_ELEM_FLAGS,	/* u64: any | noexist | exist | lock */
	FT_MAP_FLAGS,	/* u32: BPF_F_* names */
	FT_BOOL,	/* 0 | 1 */
	FT_RET,		/* int64 >= 0 or -ERRNO; off2: has_ret */
	FT_CTX,		/* enum kms_exec_ctx */
	FT_UID,		/* u32, KMS_UID_UNSET when absent */
};

/* Field flags. */
#define FF_REQUIRED	1u	/* the line is an error without it */
#define FF_ALWAYS	2u	/* the writer prints it even when 0 */
#define FF_PLAIN	4u	/* a count: the writer prints no K/M/G suffix */

struct kms_field {
	const char *name;
	uint8_t type;
	uint8_t flags;
	uint16_t off;		/* offsetof(struct kms_event, ...) */
	uint16_t off2;
	uint64_t ops;		/* OPK()/OPB() mask of the lines it belongs to */
};

extern const struct kms_field kms_fields[];
extern const unsigned int kms_nr_fields;

/* Whether @f is at its default in @ev: writers leave such fields out (writer.c). */
bool kms_field_at_default(const struct kms_event *ev, const struct kms_field *f);

/* Op <-> line keyword. */
const char *kms_op_name(unsigned int op);
unsigned int kms_event_op(const struct kms_event *ev);

#endif
