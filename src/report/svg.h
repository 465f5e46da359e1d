/* SPDX-License-Identifier: MIT */
/*
 * A self-contained SVG timeline: stacked panels (one per profile), each with
 * step lines (a cgroup's memory.current, a uid's locked_vm), dashed limit
 * lines and labelled failure markers. Points are kept in a bounded buffer per
 * series (halved, keeping maxima, when full) so memory does not grow with the
 * length of the trace.
 */
#ifndef KMS_REPORT_SVG_H
#define KMS_REPORT_SVG_H

#include <stdint.h>
#include <stdio.h>

struct svg_chart;

struct svg_chart *svg_chart_new(const char *title, const char *x_label);
void svg_chart_free(struct svg_chart *chart);

/* A panel (one per profile); returns its index or -ENOMEM. */
int svg_panel_add(struct svg_chart *chart, const char *title);
/* A line in a panel; returns its index or -ENOMEM. Lines of one name share a colour. */
int svg_series_add(struct svg_chart *chart, int panel, const char *name);
int svg_point(struct svg_chart *chart, int series, uint64_t x, uint64_t y);
/*
 * A dashed horizontal limit in the colour of @series, in force from @x on: a
 * limit written mid-trace is drawn from that point, not over the whole chart
 * (a new value moves the start; the last value is drawn).
 */
int svg_limit(struct svg_chart *chart, int series, uint64_t x, uint64_t y, const char *label);
/* A failure marker at (@x, @y) in @panel. */
int svg_marker(struct svg_chart *chart, int panel, uint64_t x, uint64_t y, const char *label);

int svg_chart_write(const struct svg_chart *chart, FILE *f);

#endif
