/* SPDX-License-Identifier: MIT */
/*
 * --explain: model layers narrate the charge path of an operation in words
 * (allocator and size class, which stock, each page_counter level walked,
 * the decision). Off by default, so the cost when off is one branch.
 */
#ifndef KMS_CORE_EXPLAIN_H
#define KMS_CORE_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>

struct kms_sim;

struct kms_explain {
	bool on;
	char *buf;
	size_t len, cap;
};

/* Append one line (a '\n' is added). */
void sim_explain_line(struct kms_sim *sim, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define sim_explain(sim, ...)					\
	do {							\
		if ((sim)->explain.on)				\
			sim_explain_line((sim), __VA_ARGS__);	\
	} while (0)

void explain_destroy(struct kms_explain *e);

#endif
