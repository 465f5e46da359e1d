// SPDX-License-Identifier: MIT
/*
 * Text of the recorder's events. Provisional syntax until the native format's
 * writer lands (docs/trace-format.md, issue 5): one event per line,
 *
 *   SEQ TIME KIND pid=P tid=T uid=U cg=PATH cpu=C ctx=task FIELD=VALUE...
 *
 * TIME is seconds since the recording started; for bpf events KIND is "bpf"
 * and the command in lowercase without its BPF_ prefix ("bpf map_create"), and
 * the line ends with ret=FD|0|-ERRNO and, for a new fd, its object; type
 * fields (map_type, prog_type, attach_type) are the uapi numbers.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>

#include "record/emit.h"

/* enum bpf_cmd (include/uapi/linux/bpf.h), by value. */
static const char *const bpf_cmd_names[] = {
	"map_create", "map_lookup_elem", "map_update_elem", "map_delete_elem",
	"map_get_next_key", "prog_load", "obj_pin", "obj_get", "prog_attach",
	"prog_detach", "prog_test_run", "prog_get_next_id", "map_get_next_id",
	"prog_get_fd_by_id", "map_get_fd_by_id", "obj_get_info_by_fd", "prog_query",
	"raw_tracepoint_open", "btf_load", "btf_get_fd_by_id", "task_fd_query",
	"map_lookup_and_delete_elem", "map_freeze", "btf_get_next_id", "map_lookup_batch",
	"map_lookup_and_delete_batch", "map_update_batch", "map_delete_batch", "link_create",
	"link_update", "link_get_fd_by_id", "link_get_next_id", "enable_stats", "iter_create",
	"link_detach", "prog_bind_map", "token_create", "prog_stream_read_by_fd",
};

static const char *const obj_names[] = {
	[REC_OBJ_NONE] = "none", [REC_OBJ_MAP] = "map", [REC_OBJ_PROG] = "prog",
	[REC_OBJ_LINK] = "link", [REC_OBJ_BTF] = "btf", [REC_OBJ_OTHER] = "bpf",
};

/* A word as is, anything else as a C-escaped quoted string. */
static void put_str(FILE *f, const char *s)
{
	bool bare = *s != '\0';

	for (const char *p = s; *p && bare; p++)
		bare = isalnum((unsigned char)*p) || strchr("/_.:-+@", *p);
	if (bare) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p < 0x20 || *p >= 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void put_u64_or_inf(FILE *f, uint64_t v)
{
	if (v == UINT64_MAX)
		fputs("inf", f);
	else
		fprintf(f, "%" PRIu64, v);
}

static void begin(struct rec_emit *e, const struct rec_ctx *c, const char *kind)
{
	fprintf(e->f, "%lu %.6f %s pid=%d tid=%d uid=%" PRIu32 " cg=", ++e->seq, c->t, kind,
		(int)c->pid, (int)c->tid, c->uid);
	put_str(e->f, c->cgroup);
	fprintf(e->f, " cpu=%d ctx=task", c->cpu);
}

static void put_ret(FILE *f, long ret)
{
	const char *name = ret < 0 ? strerrorname_np((int)-ret) : NULL;

	if (ret >= 0)
		fprintf(f, " ret=%ld", ret);
	else if (name)
		fprintf(f, " ret=-%s", name);
	else
		fprintf(f, " ret=%ld", ret);
}

void rec_emit_header(struct rec_emit *e, const struct rec_header *h)
{
	fputs("# kmemsim trace written by kmemsim record\n", e->f);
	fputs("kmemsim-trace 1\n", e->f);
	fprintf(e->f, "kernel %s\npage-size %u\npossible-cpus %u\n", h->kernel_release,
		h->page_size, h->nr_possible_cpus);
	fprintf(e->f, "# possible CPUs %s; recorded %s\n# command:", h->possible_cpus,
		h->started_utc);
	for (char *const *a = h->argv; *a; a++) {
		fputc(' ', e->f);
		put_str(e->f, *a);
	}
	fputc('\n', e->f);
}

void rec_emit_comment(struct rec_emit *e, const char *fmt, ...)
{
	va_list ap;

	fputs("# ", e->f);
	va_start(ap, fmt);
	vfprintf(e->f, fmt, ap);
	va_end(ap);
	fputc('\n', e->f);
}

void rec_emit_task(struct rec_emit *e, const struct rec_ctx *c, uint64_t memlock_cur,
		   uint64_t memlock_max)
{
	begin(e, c, "task");
	fputs(" rlimit_memlock=", e->f);
	put_u64_or_inf(e->f, memlock_cur);
	fputc('/', e->f);
	put_u64_or_inf(e->f, memlock_max);
	fputc('\n', e->f);
}

void rec_emit_fork(struct rec_emit *e, const struct rec_ctx *parent, pid_t child_pid,
		   pid_t child_tid, bool thread, bool share_files)
{
	begin(e, parent, "fork");
	fprintf(e->f, " child_pid=%d child_tid=%d thread=%d files=%s\n", (int)child_pid,
		(int)child_tid, thread, share_files ? "shared" : "copied");
}

void rec_emit_exit(struct rec_emit *e, const struct rec_ctx *c, int wait_status)
{
	begin(e, c, "exit");
	if (WIFSIGNALED(wait_status))
		fprintf(e->f, " signal=%d\n", WTERMSIG(wait_status));
	else
		fprintf(e->f, " status=%d\n", WEXITSTATUS(wait_status));
}

void rec_emit_rlimit(struct rec_emit *e, const struct rec_ctx *c, pid_t target,
		     uint64_t cur, uint64_t max)
{
	begin(e, c, "rlimit");
	fprintf(e->f, " resource=memlock target=%d cur=", (int)target);
	put_u64_or_inf(e->f, cur);
	fputs(" max=", e->f);
	put_u64_or_inf(e->f, max);
	fputc('\n', e->f);
}

void rec_emit_close(struct rec_emit *e, const struct rec_ctx *c, int fd)
{
	begin(e, c, "close");
	fprintf(e->f, " fd=%d\n", fd);
}

void rec_emit_dup(struct rec_emit *e, const struct rec_ctx *c, int fd, int newfd)
{
	begin(e, c, "dup");
	fprintf(e->f, " fd=%d newfd=%d\n", fd, newfd);
}

/* "obj=map id=7" for an fd whose kind the command does not imply, else "map_id=7". */
static void put_obj(FILE *f, const char *prefix, const struct rec_obj_info *o)
{
	if (o->kind == REC_OBJ_NONE)
		return;
	if (!*prefix)
		fprintf(f, " obj=%s", obj_names[o->kind]);
	if (o->id)
		fprintf(f, " %sid=%" PRIu32, prefix, o->id);
}

static void put_name(FILE *f, const char *key, const char *name, size_t max)
{
	char buf[BPF_OBJ_NAME_LEN + 1];
	size_t n = strnlen(name, max);

	memcpy(buf, name, n);
	buf[n] = '\0';
	fprintf(f, " %s=", key);
	if (n)
		put_str(f, buf);
	else
		fputs("\"\"", f);
}

static void put_map_create(FILE *f, const union bpf_attr *a)
{
	fprintf(f, " map_type=%u key_size=%u value_size=%u max_entries=%u map_flags=%#x",
		a->map_type, a->key_size, a->value_size, a->max_entries, a->map_flags);
	put_name(f, "name", a->map_name, BPF_OBJ_NAME_LEN);
	if (a->inner_map_fd)
		fprintf(f, " inner_map_fd=%u", a->inner_map_fd);
	if (a->numa_node)
		fprintf(f, " numa_node=%u", a->numa_node);
	if (a->btf_fd)
		fprintf(f, " btf_fd=%u btf_key_type_id=%u btf_value_type_id=%u", a->btf_fd,
			a->btf_key_type_id, a->btf_value_type_id);
	if (a->btf_vmlinux_value_type_id)
		fprintf(f, " btf_vmlinux_value_type_id=%u", a->btf_vmlinux_value_type_id);
	if (a->map_extra)
		fprintf(f, " map_extra=%llu", (unsigned long long)a->map_extra);
}

static void put_prog_load(FILE *f, const union bpf_attr *a)
{
	fprintf(f, " prog_type=%u insn_cnt=%u expected_attach_type=%u prog_flags=%#x",
		a->prog_type, a->insn_cnt, a->expected_attach_type, a->prog_flags);
	put_name(f, "name", a->prog_name, BPF_OBJ_NAME_LEN);
	fprintf(f, " func_info_cnt=%u line_info_cnt=%u", a->func_info_cnt, a->line_info_cnt);
	if (a->func_info_cnt || a->line_info_cnt)
		fprintf(f, " func_info_rec_size=%u line_info_rec_size=%u",
			a->func_info_rec_size, a->line_info_rec_size);
	if (a->attach_btf_id)
		fprintf(f, " attach_btf_id=%u", a->attach_btf_id);
	if (a->core_relo_cnt)
		fprintf(f, " core_relo_cnt=%u", a->core_relo_cnt);
	if (a->prog_btf_fd)
		fprintf(f, " prog_btf_fd=%u", a->prog_btf_fd);
}

static void put_key(FILE *f, const struct rec_bpf_call *b)
{
	if (b->has_key)
		fprintf(f, " key=%016" PRIx64, b->key_id);
	else
		fputs(" key=none", f);
}

static void put_batch(FILE *f, const struct rec_bpf_call *b)
{
	const union bpf_attr *a = &b->attr;

	fprintf(f, " map_fd=%u", a->batch.map_fd);
	put_obj(f, "map_", &b->target);
	fprintf(f, " count_in=%u count=%u elem_flags=%#llx flags=%#llx", a->batch.count,
		b->batch_done, (unsigned long long)a->batch.elem_flags,
		(unsigned long long)a->batch.flags);
	if (!b->batch_keys)
		return;
	fputs(" keys=", f);
	for (uint32_t i = 0; i < b->nr_batch_keys; i++)
		fprintf(f, "%s%016" PRIx64, i ? "," : "", b->batch_keys[i]);
}

static void put_attr(FILE *f, const struct rec_bpf_call *b)
{
	const union bpf_attr *a = &b->attr;

	switch (b->cmd) {
	case BPF_MAP_CREATE:
		put_map_create(f, a);
		break;
	case BPF_MAP_LOOKUP_ELEM:
	case BPF_MAP_UPDATE_ELEM:
	case BPF_MAP_DELETE_ELEM:
	case BPF_MAP_GET_NEXT_KEY:
	case BPF_MAP_LOOKUP_AND_DELETE_ELEM:
		fprintf(f, " map_fd=%u", a->map_fd);
		put_obj(f, "map_", &b->target);
		put_key(f, b);
		if (b->cmd != BPF_MAP_GET_NEXT_KEY && b->cmd != BPF_MAP_DELETE_ELEM)
			fprintf(f, " flags=%#llx", (unsigned long long)a->flags);
		break;
	case BPF_MAP_LOOKUP_BATCH:
	case BPF_MAP_LOOKUP_AND_DELETE_BATCH:
	case BPF_MAP_UPDATE_BATCH:
	case BPF_MAP_DELETE_BATCH:
		put_batch(f, b);
		break;
	case BPF_MAP_FREEZE:
		fprintf(f, " map_fd=%u", a->map_fd);
		put_obj(f, "map_", &b->target);
		break;
	case BPF_PROG_LOAD:
		put_prog_load(f, a);
		break;
	case BPF_BTF_LOAD:
		fprintf(f, " btf_size=%u", a->btf_size);
		break;
	case BPF_OBJ_PIN:
		fprintf(f, " bpf_fd=%u", a->bpf_fd);
		put_obj(f, "", &b->target);
		fputs(" path=", f);
		put_str(f, b->path);
		break;
	case BPF_OBJ_GET:
		fputs(" path=", f);
		put_str(f, b->path);
		fprintf(f, " file_flags=%#x", a->file_flags);
		break;
	case BPF_PROG_GET_FD_BY_ID:
	case BPF_MAP_GET_FD_BY_ID:
	case BPF_BTF_GET_FD_BY_ID:
	case BPF_LINK_GET_FD_BY_ID:
		fprintf(f, " id=%u open_flags=%#x", a->start_id, a->open_flags);
		break;
	case BPF_PROG_GET_NEXT_ID:
	case BPF_MAP_GET_NEXT_ID:
	case BPF_BTF_GET_NEXT_ID:
	case BPF_LINK_GET_NEXT_ID:
		fprintf(f, " start_id=%u", a->start_id);
		break;
	case BPF_OBJ_GET_INFO_BY_FD:
		fprintf(f, " bpf_fd=%u", a->info.bpf_fd);
		put_obj(f, "", &b->target);
		break;
	case BPF_LINK_CREATE:
		fprintf(f, " prog_fd=%u", a->link_create.prog_fd);
		put_obj(f, "prog_", &b->target);
		fprintf(f, " target_fd=%u attach_type=%u flags=%#x", a->link_create.target_fd,
			a->link_create.attach_type, a->link_create.flags);
		break;
	case BPF_RAW_TRACEPOINT_OPEN:
		fprintf(f, " prog_fd=%u", a->raw_tracepoint.prog_fd);
		put_obj(f, "prog_", &b->target);
		break;
	case BPF_PROG_ATTACH:
	case BPF_PROG_DETACH:
		fprintf(f, " target_fd=%u attach_bpf_fd=%u", a->target_fd, a->attach_bpf_fd);
		put_obj(f, "prog_", &b->target);
		fprintf(f, " attach_type=%u attach_flags=%#x", a->attach_type, a->attach_flags);
		break;
	case BPF_PROG_BIND_MAP:
		fprintf(f, " prog_fd=%u map_fd=%u", a->prog_bind_map.prog_fd,
			a->prog_bind_map.map_fd);
		put_obj(f, "map_", &b->target);
		break;
	default:
		break;
	}
}

void rec_emit_bpf(struct rec_emit *e, const struct rec_ctx *c, const struct rec_bpf_call *b)
{
	size_t nr_names = sizeof(bpf_cmd_names) / sizeof(bpf_cmd_names[0]);
	char kind[48];

	if (b->cmd >= 0 && (size_t)b->cmd < nr_names)
		snprintf(kind, sizeof(kind), "bpf %s", bpf_cmd_names[b->cmd]);
	else
		snprintf(kind, sizeof(kind), "bpf cmd_%d", b->cmd);
	begin(e, c, kind);
	fprintf(e->f, " size=%u", b->size);
	if (b->attr_ok)
		put_attr(e->f, b);
	else
		fputs(" attr=unreadable", e->f);
	put_ret(e->f, b->ret);
	if (b->ret >= 0 && rec_bpf_returns_fd(b->cmd)) {
		put_obj(e->f, "", &b->result);
		if (b->result.has_memlock)
			fprintf(e->f, " memlock=%" PRIu64, b->result.memlock);
	}
	fputc('\n', e->f);
}

void rec_emit_map_elems(struct rec_emit *e, double t, uint32_t map_id, uint64_t count)
{
	/* Who made the change (CPU, context, interrupted task) is not
	 * observable by sampling. */
	fprintf(e->f, "%lu %.6f map_elems map_id=%" PRIu32 " count=%" PRIu64
		" ctx=unknown source=sample\n", ++e->seq, t, map_id, count);
}
