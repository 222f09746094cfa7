// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The raw BTF scanner (probes.c: st_raw_btf_check, st_raw_btf_next,
 * st_raw_btf_func_id) on mutated BTF. Any input: no read outside it (ASan).
 * Input libbpf accepts: the scanner finds each function at the id libbpf
 * gives it, and with an unknown kind put in front of it, finds nothing (it
 * must stop there, not walk on). The string scanner (st_btf_has_strings,
 * which streams the file in chunks) on the same bytes as a file: it finds
 * exactly the names a plain split of the string section holds. Seeds:
 * clang -g -target bpf objects' .BTF (llvm-objcopy --dump-section .BTF=F).
 */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/btf.h>
#include <unistd.h>
#include "fuzz.h"
#include "probes.h"

static int no_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static char path[] = "/tmp/socktap-fuzz-btf-XXXXXX";

static void cleanup(void)
{
	unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	libbpf_set_print(no_print);
	int fd = mkstemp(path);
	FUZZ_CHECK(fd >= 0, "mkstemp");
	close(fd);
	atexit(cleanup);
	setenv("SOCKTAP_VMLINUX_BTF", path, 1); /* where st_btf_has_strings() reads */
	return 0;
}

/* The names the string section holds (NUL-terminated strings in it), one bit each. */
static uint64_t ref_strings(const uint8_t *data, const char *const *names, int n)
{
	struct btf_header h;
	uint64_t found = 0;
	memcpy(&h, data, sizeof(h));
	const char *s = (const char *)data + h.hdr_len + h.str_off, *end = s + h.str_len;
	for (const char *nul; s < end && (nul = memchr(s, 0, (size_t)(end - s))); s = nul + 1)
		for (int i = 0; i < n; i++)
			if (strcmp(s, names[i]) == 0)
				found |= 1ull << i;
	return found;
}

static void check_strings(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"btf_trace_sock_send_length", "__sock_sendmsg", "int",
					    "f64", ""};
	FILE *f = fopen(path, "w");
	FUZZ_CHECK(f && fwrite(data, 1, size, f) == size && fclose(f) == 0, "write %s", path);
	uint64_t found = 0;
	int err = st_btf_has_strings(names, 5, &found);
	struct btf_header h;
	if (size < sizeof(h)) {
		FUZZ_CHECK(err == -EINVAL, "short file: %d", err);
		return;
	}
	memcpy(&h, data, sizeof(h));
	if (h.magic != BTF_MAGIC) {
		FUZZ_CHECK(err == -EINVAL, "bad magic: %d", err);
		return;
	}
	/* a section past the end of the file cannot be read: an error, never a made-up answer */
	if (h.str_len && (uint64_t)h.hdr_len + h.str_off + h.str_len > size) {
		FUZZ_CHECK(err < 0, "section past the end: %d", err);
		return;
	}
	FUZZ_CHECK(err == 0, "st_btf_has_strings: %d", err);
	uint64_t want = h.str_len ? ref_strings(data, names, 5) : 0;
	FUZZ_CHECK(found == want, "found %#llx, the section holds %#llx", (unsigned long long)found,
		   (unsigned long long)want);
}

/* The id of the first function libbpf has named name, as the scanner should find it. */
static void check_func(struct raw_btf *b, const struct btf *btf, __u32 id)
{
	const char *name = btf__name_by_offset(btf, btf__type_by_id(btf, id)->name_off);
	if (!name)
		return;
	int want = btf__find_by_name_kind(btf, name, BTF_KIND_FUNC);
	int got = st_raw_btf_func_id(b, name);
	FUZZ_CHECK(got == want, "function '%s': scanner %d, libbpf %d", name, got, want);
	if (want < 2)
		return;
	/* an unknown kind at id 1: the scan cannot know where id 2 starts, so it must stop */
	char *info_at = b->data + b->hdr->hdr_len + b->hdr->type_off + 4; /* maybe unaligned */
	__u32 info, unknown;
	memcpy(&info, info_at, 4);
	unknown = info | 0x1fu << 24; /* kind 31 */
	memcpy(info_at, &unknown, 4);
	got = st_raw_btf_func_id(b, name);
	memcpy(info_at, &info, 4);
	FUZZ_CHECK(got == 0, "function '%s' found (id %d) past an unknown kind", name, got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* its own allocation, exactly the input's size: a read past it is ASan's */
	struct raw_btf b = {.data = malloc(size ? size : 1), .len = size};
	memcpy(b.data, data, size);
	b.hdr = (const void *)b.data;
	if (st_raw_btf_check(&b) == 0) {
		st_raw_btf_func_id(&b, "__sock_sendmsg");
		st_raw_btf_func_id(&b, "");
	}
	/*
	 * libbpf reads its copy in place: an unaligned type section is its own UB,
	 * not ours. It also takes a header shorter than struct btf_header, which
	 * the kernel (and the scanner) refuse.
	 */
	struct btf *btf = size >= sizeof(struct btf_header) &&
				  b.hdr->hdr_len >= sizeof(struct btf_header) &&
				  (b.hdr->hdr_len + (size_t)b.hdr->type_off) % 4 == 0
			      ? btf__new(data, size)
			      : NULL;
	if (btf && !libbpf_get_error(btf)) {
		/* what libbpf takes the scanner must take (both follow the kernel's rules) */
		FUZZ_CHECK(st_raw_btf_check(&b) == 0, "libbpf parses what the scanner refuses");
		__u32 n = btf__type_cnt(btf), funcs = 0;
		for (__u32 id = 1; id < n && funcs < 16; id++)
			if (btf_is_func(btf__type_by_id(btf, id))) {
				check_func(&b, btf, id);
				funcs++;
			}
		btf__free(btf);
	}
	free(b.data);
	check_strings(data, size);
	return 0;
}
