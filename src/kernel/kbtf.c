// SPDX-License-Identifier: MIT
/*
 * A minimal valid BTF blob of a requested size, for BPF_BTF_LOAD of the size
 * a trace recorded and for the BTF that local-storage maps require.
 * Layout per include/uapi/linux/btf.h: header, type section, string section.
 */
#include <errno.h>
#include <string.h>

#include <linux/btf.h>

#include "kernel/kernel_priv.h"

/* 6.18 include/linux/btf.h BTF_MAX_SIZE: 16 MiB */
#define KBTF_MAX_SIZE (16u * 1024 * 1024)

static const char strings[] = "\0int\0char";	/* offsets 1 and 5; sizeof includes the last NUL */

/* Bytes of the string section the types need: "\0int\0" or "\0int\0char\0". */
static size_t strings_len(uint32_t value_size)
{
	return value_size ? sizeof(strings) : 5;
}

static size_t types_len(uint32_t value_size)
{
	size_t t = sizeof(struct btf_type) + sizeof(uint32_t);	/* int */

	if (value_size)
		t += sizeof(struct btf_type) + sizeof(uint32_t)	/* char */
		     + sizeof(struct btf_type) + sizeof(struct btf_array);
	return t;
}

size_t kms_kbtf_min_size(uint32_t value_size)
{
	return sizeof(struct btf_header) + types_len(value_size) + strings_len(value_size);
}

static uint8_t *put_int(uint8_t *p, uint32_t name_off, uint32_t size, uint32_t enc)
{
	struct btf_type t = { .name_off = name_off, .info = BTF_KIND_INT << 24, .size = size };
	uint32_t bits = (enc << 24) | (size * 8);	/* BTF_INT_ENCODING, BTF_INT_BITS */

	memcpy(p, &t, sizeof(t));
	memcpy(p + sizeof(t), &bits, sizeof(bits));
	return p + sizeof(t) + sizeof(bits);
}

long kms_kbtf_build(void *buf, size_t size, uint32_t value_size)
{
	struct btf_header h = {
		.magic = BTF_MAGIC, .version = BTF_VERSION, .hdr_len = sizeof(h),
	};
	uint8_t *p = buf;

	if (size > KBTF_MAX_SIZE)
		return -EINVAL;
	if (size < kms_kbtf_min_size(value_size)) {
		/*
		 * Too small for a named int (libbpf's feature probes are 40-odd
		 * bytes): one anonymous type, a pointer to void, and a string
		 * section of NULs. The kernel wants at least one type.
		 */
		struct btf_type t = { .info = BTF_KIND_PTR << 24 };

		if (value_size || size < sizeof(h) + sizeof(t) + 1)
			return -EINVAL;
		memset(buf, 0, size);
		h.type_len = sizeof(t);
		h.str_off = h.type_len;
		h.str_len = (uint32_t)(size - sizeof(h) - sizeof(t));
		memcpy(buf, &h, sizeof(h));
		memcpy((uint8_t *)buf + sizeof(h), &t, sizeof(t));
		return (long)size;
	}
	h.type_off = 0;
	h.type_len = (uint32_t)types_len(value_size);
	h.str_off = h.type_len;
	h.str_len = (uint32_t)(size - sizeof(h) - h.type_len);
	memset(buf, 0, size);
	memcpy(p, &h, sizeof(h));
	p += sizeof(h);
	p = put_int(p, 1, 4, BTF_INT_SIGNED);
	if (value_size) {
		struct btf_type t = { .info = BTF_KIND_ARRAY << 24 };
		struct btf_array a = { .type = 2, .index_type = 1, .nelems = value_size };

		p = put_int(p, 5, 1, BTF_INT_CHAR);
		memcpy(p, &t, sizeof(t));
		memcpy(p + sizeof(t), &a, sizeof(a));
		p += sizeof(t) + sizeof(a);
	}
	/* Extra string bytes are NULs: empty strings, which btf_parse_str_sec() accepts. */
	memcpy(p, strings, strings_len(value_size));
	return (long)size;
}
