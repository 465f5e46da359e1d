// SPDX-License-Identifier: MIT
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report/svg.h"

#define SVG_MAX_POINTS 1024	/* per series; halved when full */
#define SVG_MAX_MARKERS 64	/* per panel; further failures are counted only */
#define PANEL_W 1100
#define PANEL_H 260
#define MARGIN_L 90
#define MARGIN_R 330
#define MARGIN_T 40
#define MARGIN_B 40

struct svg_point { uint64_t x, y; };

struct svg_series {
	char *name;
	int panel;
	struct svg_point *pts;
	size_t n;
	uint64_t stride;	/* x distance merged into one point after halving */
	uint64_t limit, limit_from;
	int has_limit;
	char *limit_label;
};

struct svg_marker {
	uint64_t x, y;
	char *label;
};

struct svg_panel {
	char *title;
	struct svg_marker markers[SVG_MAX_MARKERS];
	size_t nr_markers;
	size_t dropped_markers;
};

struct svg_chart {
	char *title, *x_label;
	struct svg_panel *panels;
	size_t nr_panels;
	struct svg_series *series;
	size_t nr_series;
};

/* Colour-blind-safe palette (Okabe-Ito), one colour per series name. */
static const char *const palette[] = {
	"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442",
};

struct svg_chart *svg_chart_new(const char *title, const char *x_label)
{
	struct svg_chart *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->title = strdup(title ? title : "");
	c->x_label = strdup(x_label ? x_label : "");
	if (!c->title || !c->x_label) {
		svg_chart_free(c);
		return NULL;
	}
	return c;
}

void svg_chart_free(struct svg_chart *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nr_series; i++) {
		free(c->series[i].name);
		free(c->series[i].pts);
		free(c->series[i].limit_label);
	}
	for (size_t i = 0; i < c->nr_panels; i++) {
		free(c->panels[i].title);
		for (size_t m = 0; m < c->panels[i].nr_markers; m++)
			free(c->panels[i].markers[m].label);
	}
	free(c->series);
	free(c->panels);
	free(c->title);
	free(c->x_label);
	free(c);
}

int svg_panel_add(struct svg_chart *c, const char *title)
{
	struct svg_panel *p = realloc(c->panels, (c->nr_panels + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	c->panels = p;
	p = &c->panels[c->nr_panels];
	memset(p, 0, sizeof(*p));
	p->title = strdup(title ? title : "");
	if (!p->title)
		return -ENOMEM;
	return (int)c->nr_panels++;
}

int svg_series_add(struct svg_chart *c, int panel, const char *name)
{
	struct svg_series *s = realloc(c->series, (c->nr_series + 1) * sizeof(*s));

	if (!s)
		return -ENOMEM;
	c->series = s;
	s = &c->series[c->nr_series];
	memset(s, 0, sizeof(*s));
	s->panel = panel;
	s->stride = 1;
	s->name = strdup(name ? name : "");
	s->pts = calloc(SVG_MAX_POINTS, sizeof(*s->pts));
	if (!s->name || !s->pts)
		return -ENOMEM;
	return (int)c->nr_series++;
}

/* Halve the resolution: merge neighbours, keeping the later x and the larger y. */
static void series_halve(struct svg_series *s)
{
	size_t j = 0;

	for (size_t i = 0; i + 1 < s->n; i += 2) {
		struct svg_point a = s->pts[i], b = s->pts[i + 1];

		s->pts[j++] = (struct svg_point){ b.x, a.y > b.y ? a.y : b.y };
	}
	if (s->n % 2)
		s->pts[j++] = s->pts[s->n - 1];
	s->n = j;
	s->stride *= 2;
}

int svg_point(struct svg_chart *c, int series, uint64_t x, uint64_t y)
{
	struct svg_series *s = &c->series[series];

	/* Same value as the last point: a step line needs no new point. */
	if (s->n >= 2 && s->pts[s->n - 1].y == y && s->pts[s->n - 2].y == y) {
		s->pts[s->n - 1].x = x;
		return 0;
	}
	if (s->n && s->pts[s->n - 1].x + s->stride > x && s->stride > 1) {
		if (y > s->pts[s->n - 1].y)
			s->pts[s->n - 1].y = y;
		s->pts[s->n - 1].x = x;
		return 0;
	}
	if (s->n == SVG_MAX_POINTS)
		series_halve(s);
	s->pts[s->n++] = (struct svg_point){ x, y };
	return 0;
}

int svg_limit(struct svg_chart *c, int series, uint64_t x, uint64_t y, const char *label)
{
	struct svg_series *s = &c->series[series];

	if (!s->has_limit || s->limit != y)
		s->limit_from = x;

	free(s->limit_label);
	s->limit_label = strdup(label ? label : "");
	if (!s->limit_label)
		return -ENOMEM;
	s->limit = y;
	s->has_limit = 1;
	return 0;
}

int svg_marker(struct svg_chart *c, int panel, uint64_t x, uint64_t y, const char *label)
{
	struct svg_panel *p = &c->panels[panel];
	struct svg_marker *m;

	if (p->nr_markers == SVG_MAX_MARKERS) {
		p->dropped_markers++;
		return 0;
	}
	m = &p->markers[p->nr_markers];
	m->label = strdup(label ? label : "");
	if (!m->label)
		return -ENOMEM;
	m->x = x;
	m->y = y;
	p->nr_markers++;
	return 0;
}

static void xml_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default:
			if ((unsigned char)*s >= 0x20)
				fputc(*s, f);
		}
	}
}

/* Human bytes for axis labels: exact multiples print without decimals. */
static void fmt_bytes(char *buf, size_t len, uint64_t v)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;
	double d = (double)v;

	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	if (d == (double)(uint64_t)d)
		snprintf(buf, len, "%" PRIu64 " %s", (uint64_t)d, unit[u]);
	else
		snprintf(buf, len, "%.1f %s", d, unit[u]);
}

/* A round step for about five grid lines. */
static uint64_t nice_step(uint64_t max)
{
	uint64_t step = 1;

	while (max / step > 5) {
		if (max / (step * 2) <= 5)
			return step * 2;
		if (max / (step * 5) <= 5)
			return step * 5;
		step *= 10;
	}
	return step;
}

static uint64_t nice_step_bytes(uint64_t max)
{
	uint64_t step = 1;

	/* Powers of two read better for memory sizes. */
	while (max / step > 6)
		step *= 2;
	return step;
}

static const char *series_colour(const struct svg_chart *c, size_t idx)
{
	size_t distinct = 0;

	/* The same name gets the same colour in every panel: number distinct names. */
	for (size_t i = 0; i < c->nr_series; i++) {
		size_t j = 0;

		while (j < i && strcmp(c->series[j].name, c->series[i].name) != 0)
			j++;
		if (j < i)
			continue;
		if (strcmp(c->series[i].name, c->series[idx].name) == 0)
			return palette[distinct % 8];
		distinct++;
	}
	return palette[0];
}

static void write_panel(const struct svg_chart *c, size_t pi, int top, uint64_t xmax, FILE *f)
{
	const struct svg_panel *p = &c->panels[pi];
	uint64_t ymax = 1, step;
	int plot_w = PANEL_W - MARGIN_L - MARGIN_R, plot_h = PANEL_H - MARGIN_T - MARGIN_B;
	int x0 = MARGIN_L, y0 = top + MARGIN_T + plot_h;
	char buf[64];
	int legend = 0;

	for (size_t i = 0; i < c->nr_series; i++) {
		const struct svg_series *s = &c->series[i];

		if (s->panel != (int)pi)
			continue;
		for (size_t k = 0; k < s->n; k++)
			if (s->pts[k].y > ymax)
				ymax = s->pts[k].y;
		if (s->has_limit && s->limit > ymax)
			ymax = s->limit;
	}
	for (size_t m = 0; m < p->nr_markers; m++)
		if (p->markers[m].y > ymax)
			ymax = p->markers[m].y;
	step = nice_step_bytes(ymax);
	ymax = (ymax + step - 1) / step * step;

#define X(v) (x0 + (int)((double)(v) * plot_w / (double)xmax))
#define Y(v) (y0 - (int)((double)(v) * plot_h / (double)ymax))
	fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"panel\">", x0, top + 24);
	xml_text(f, p->title);
	fputs("</text>\n", f);
	fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" class=\"plot\"/>\n", x0,
		top + MARGIN_T, plot_w, plot_h);
	for (uint64_t v = 0; v <= ymax; v += step) {
		fmt_bytes(buf, sizeof(buf), v);
		fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"grid\"/>", x0,
			Y(v), x0 + plot_w, Y(v));
		fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"ylab\">%s</text>\n", x0 - 6, Y(v) + 4,
			buf);
	}
	step = nice_step(xmax);
	for (uint64_t v = 0; v <= xmax; v += step)
		fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"xlab\">%" PRIu64 "</text>\n", X(v),
			y0 + 16, v);

	for (size_t i = 0; i < c->nr_series; i++) {
		const struct svg_series *s = &c->series[i];
		const char *colour = series_colour(c, i);
		uint64_t last_y = 0;

		if (s->panel != (int)pi)
			continue;
		/* A step line: the value holds until the next event changes it. */
		fprintf(f, "<polyline class=\"line\" stroke=\"%s\" points=\"%d,%d", colour, X(0),
			Y(0));
		for (size_t k = 0; k < s->n; k++) {
			fprintf(f, " %d,%d %d,%d", X(s->pts[k].x), Y(last_y), X(s->pts[k].x),
				Y(s->pts[k].y));
			last_y = s->pts[k].y;
		}
		fprintf(f, " %d,%d\"/>\n", X(xmax), Y(last_y));
		if (s->has_limit) {
			/* from where it was written; the label at the right end, always inside */
			fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"limit\" "
				"stroke=\"%s\"/>", X(s->limit_from), Y(s->limit), x0 + plot_w,
				Y(s->limit), colour);
			fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"limlab\" fill=\"%s\" "
				"text-anchor=\"end\">", x0 + plot_w - 4, Y(s->limit) - 4, colour);
			xml_text(f, s->limit_label);
			fputs("</text>\n", f);
		}
		/* Legend to the right, one row per line, with its final value. */
		fmt_bytes(buf, sizeof(buf), last_y);
		fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
			"stroke-width=\"3\"/>", x0 + plot_w + 12, top + MARGIN_T + 8 + legend * 18,
			x0 + plot_w + 30, top + MARGIN_T + 8 + legend * 18, colour);
		fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"legend\">", x0 + plot_w + 36,
			top + MARGIN_T + 12 + legend * 18);
		xml_text(f, s->name);
		fprintf(f, " (%s)</text>\n", buf);
		legend++;
	}
	for (size_t m = 0; m < p->nr_markers; m++) {
		const struct svg_marker *mk = &p->markers[m];

		fprintf(f, "<g class=\"fail\"><circle cx=\"%d\" cy=\"%d\" r=\"5\"/>", X(mk->x),
			Y(mk->y));
		fprintf(f, "<text x=\"%d\" y=\"%d\">", X(mk->x) + 7, Y(mk->y) - 7);
		xml_text(f, mk->label);
		fputs("</text></g>\n", f);
	}
	if (p->dropped_markers)
		fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"legend\">+%zu more failures</text>\n",
			x0 + plot_w + 12, y0, p->dropped_markers);
#undef X
#undef Y
}

int svg_chart_write(const struct svg_chart *c, FILE *f)
{
	uint64_t xmax = 1;
	int height = 50 + (int)c->nr_panels * PANEL_H;

	for (size_t i = 0; i < c->nr_series; i++)
		for (size_t k = 0; k < c->series[i].n; k++)
			if (c->series[i].pts[k].x > xmax)
				xmax = c->series[i].pts[k].x;
	for (size_t pi = 0; pi < c->nr_panels; pi++)
		for (size_t m = 0; m < c->panels[pi].nr_markers; m++)
			if (c->panels[pi].markers[m].x > xmax)
				xmax = c->panels[pi].markers[m].x;

	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n", PANEL_W, height, PANEL_W,
		height);
	fputs("<style>"
	      ".title{font-size:16px;font-weight:bold}.panel{font-size:13px;font-weight:bold}"
	      ".plot{fill:#fafafa;stroke:#999}.grid{stroke:#e4e4e4}"
	      ".ylab{font-size:10px;text-anchor:end}.xlab{font-size:10px;text-anchor:middle}"
	      ".line{fill:none;stroke-width:2}.limit{stroke-width:1.5;stroke-dasharray:6 4}"
	      ".limlab{font-size:10px}.legend{font-size:11px}"
	      ".fail circle{fill:#fff;stroke:#c00;stroke-width:2}.fail text{font-size:10px;fill:#c00}"
	      "</style>\n", f);
	fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n");
	fprintf(f, "<text x=\"%d\" y=\"24\" class=\"title\">", MARGIN_L);
	xml_text(f, c->title);
	fputs("</text>\n", f);
	for (size_t pi = 0; pi < c->nr_panels; pi++)
		write_panel(c, pi, 30 + (int)pi * PANEL_H, xmax, f);
	fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"xlab\">", MARGIN_L + (PANEL_W - MARGIN_L -
		MARGIN_R) / 2, height - 6);
	xml_text(f, c->x_label);
	fputs("</text>\n</svg>\n", f);
	return ferror(f) ? -EIO : 0;
}
