// SPDX-License-Identifier: MIT
/*
 * What makes an event of the native format valid, however it was encoded:
 * the checks that need the whole event (required fields, exactly one of
 * map_fd/map_id, count against keys, seq increasing, time not decreasing,
 * ...). The text parser (native.c) and the binary decoder (binary.c) both end
 * every event here, so both accept exactly the same traces.
 */
#include <string.h>

#include "trace/fields.h"
#include "trace/reader.h"

static bool name_eq(const char *name, const char *s, size_t len)
{
	return strncmp(name, s, len) == 0 && name[len] == '\0';
}

bool kms_expect_counter_valid(const char *s, size_t len, enum kms_expect_what *what)
{
	static const char *const cg[] = {
		"memory.current", "memory.peak", "memory.max", "memory.high",
		"memory.kmem.usage_in_bytes", "memory.kmem.max_usage_in_bytes",
		"memory.failcnt",
	};
	static const char *const prefixes[] = { "memory.stat.", "memory.events." };

	if (name_eq("ret", s, len)) {
		*what = KMS_EXPECT_RESULT;
		return true;
	}
	if (name_eq("locked_vm", s, len) || name_eq("locked_vm_peak", s, len)) {
		*what = KMS_EXPECT_USER;
		return true;
	}
	*what = KMS_EXPECT_CGROUP;
	for (size_t i = 0; i < sizeof(cg) / sizeof(cg[0]); i++)
		if (name_eq(cg[i], s, len))
			return true;
	for (size_t i = 0; i < 2; i++) {
		size_t pl = strlen(prefixes[i]);

		if (len > pl && memcmp(s, prefixes[i], pl) == 0) {
			for (size_t j = pl; j < len; j++)
				if (!((s[j] >= 'a' && s[j] <= 'z') || s[j] == '_'))
					return false;
			return true;
		}
	}
	return false;
}

static int finish_event(struct kms_trace_reader *r, struct kms_event *ev, unsigned int op,
			const uint64_t req[2], const uint64_t seen[2], const char *line)
{
	if ((seen[0] & req[0]) != req[0] || (seen[1] & req[1]) != req[1]) {
		for (unsigned int i = 0; i < kms_nr_fields; i++)
			if ((req[i / 64] >> (i % 64) & 1) && !(seen[i / 64] >> (i % 64) & 1))
				return kms_reader_fail(r, line + r->cur_len,
						       "%s needs %s=", kms_op_name(op),
						       kms_fields[i].name);
	}
	if (ev->pid < 0 || ev->tid < 0)
		return kms_reader_fail(r, line, "pid and tid must not be negative");
	switch (ev->kind) {
	case KMS_EV_CGROUP_SET:
		if (!ev->u.cg.set_max && !ev->u.cg.set_high)
			return kms_reader_fail(r, line + r->cur_len,
					       "cgroup_set needs memory.max= or memory.high=");
		break;
	case KMS_EV_RLIMIT_MEMLOCK:
		if (!ev->u.task.has_cur && !ev->u.task.has_max)
			return kms_reader_fail(r, line + r->cur_len,
					       "rlimit_memlock needs cur= or max=");
		break;
	case KMS_EV_PROG_UPDATE:
	case KMS_EV_PROG_DELETE:
		if ((ev->u.prog.map_fd >= 0) == (ev->u.prog.map_id != 0))
			return kms_reader_fail(r, line + r->cur_len,
					       "%s needs exactly one of map_fd= and map_id=",
					       kms_op_name(op));
		if (ev->u.prog.nr_keys) {
			if (ev->u.prog.count && ev->u.prog.count != ev->u.prog.nr_keys)
				return kms_reader_fail(r, line + r->cur_len,
						       "count=%llu but %u keys",
						       (unsigned long long)ev->u.prog.count,
						       ev->u.prog.nr_keys);
			ev->u.prog.count = ev->u.prog.nr_keys;
		}
		if (!ev->u.prog.count)
			return kms_reader_fail(r, line + r->cur_len,
					       "%s needs count= or keys=", kms_op_name(op));
		break;
	case KMS_EV_EXPECT:
		if (!ev->u.expect.counter)
			return kms_reader_fail(r, line + r->cur_len,
					       "expect needs a counter: ret==, memory.current<=, ...");
		if (ev->u.expect.what == KMS_EXPECT_CGROUP && !ev->u.expect.cgroup)
			return kms_reader_fail(r, line + r->cur_len, "expect %s needs cgroup=",
					       ev->u.expect.counter);
		if (ev->u.expect.what == KMS_EXPECT_USER && ev->u.expect.user == KMS_UID_UNSET)
			return kms_reader_fail(r, line + r->cur_len, "expect %s needs user=",
					       ev->u.expect.counter);
		break;
	default:
		break;
	}
	return 1;
}

int kms_event_finish(struct kms_trace_reader *r, struct kms_event *ev, unsigned int op,
		     const uint64_t req[2], const uint64_t seen[2], unsigned int given,
		     const char *line, const char *word)
{
	int ret;

	if ((given & (KMS_GIVEN_SEQ | KMS_GIVEN_TIME)) == (KMS_GIVEN_SEQ | KMS_GIVEN_TIME) &&
	    kms_event_finish_plain(r, ev, req, seen, given & KMS_GIVEN_TID))
		return 1;
	if (given & KMS_GIVEN_SEQ) {
		if (r->any_event && ev->seq <= r->last_seq)
			return kms_reader_fail(r, word, "seq %llu does not increase (previous %llu)",
					       (unsigned long long)ev->seq,
					       (unsigned long long)r->last_seq);
	} else {
		ev->seq = r->any_event ? r->last_seq + 1 : 1;
	}
	if (given & KMS_GIVEN_TIME) {
		if (r->any_event && ev->time_ns < r->last_time)
			return kms_reader_fail(r, word, "time goes backwards (previous event at "
					       "%llu ns)", (unsigned long long)r->last_time);
	} else {
		/* hand-written traces: one microsecond per event */
		ev->time_ns = r->any_event ? r->last_time + 1000 : 0;
	}
	if (!(given & KMS_GIVEN_TID))
		ev->tid = ev->pid;
	ret = finish_event(r, ev, op, req, seen, line);
	if (ret < 0)
		return ret;
	r->last_seq = ev->seq;
	r->last_time = ev->time_ns;
	r->any_event = true;
	return 1;
}
