/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * Minimal test harness in the style of the kernel's BPF selftests:
 * named subtests, named assertions that print what they compared, and a
 * TAP-like summary. Every test binary ends with TEST_MAIN(run).
 */
#ifndef SOCKTAP_TESTLIB_H
#define SOCKTAP_TESTLIB_H

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct test_state {
	const char *subtest;
	int subtest_failed;
	int passed, failed, checks;
};
extern struct test_state test_state;

#define SUBTEST(name) for (int _once = (test_begin(name), 1); _once; _once = (test_end(), 0))

static inline void test_begin(const char *name)
{
	test_state.subtest = name;
	test_state.subtest_failed = 0;
}

static inline void test_end(void)
{
	if (test_state.subtest_failed) {
		test_state.failed++;
		printf("not ok - %s\n", test_state.subtest);
	} else {
		test_state.passed++;
		printf("ok - %s\n", test_state.subtest);
	}
}

#define TEST_FAIL(fmt, ...)                                                                        \
	do {                                                                                       \
		test_state.subtest_failed = 1;                                                     \
		printf("  FAIL %s:%d [%s] " fmt "\n", __FILE__, __LINE__,                          \
		       test_state.subtest ? test_state.subtest : "-", ##__VA_ARGS__);              \
	} while (0)

#define ASSERT_TRUE(cond, name)                                                                    \
	({                                                                                         \
		int _ok = !!(cond);                                                                \
		test_state.checks++;                                                               \
		if (!_ok)                                                                          \
			TEST_FAIL("%s: expected true: %s", name, #cond);                           \
		_ok;                                                                               \
	})

#define ASSERT_EQ(actual, expected, name)                                                          \
	({                                                                                         \
		long long _a = (long long)(actual), _e = (long long)(expected);                    \
		test_state.checks++;                                                               \
		if (_a != _e)                                                                      \
			TEST_FAIL("%s: got %lld, expected %lld", name, _a, _e);                    \
		_a == _e;                                                                          \
	})

#define ASSERT_STREQ(actual, expected, name)                                                       \
	({                                                                                         \
		const char *_a = (actual), *_e = (expected);                                       \
		int _ok = _a && _e && strcmp(_a, _e) == 0;                                         \
		test_state.checks++;                                                               \
		if (!_ok)                                                                          \
			TEST_FAIL("%s: got \"%s\", expected \"%s\"", name, _a ? _a : "(null)",     \
				  _e ? _e : "(null)");                                             \
		_ok;                                                                               \
	})

/*
 * What stmt printed to FILE *f, as a string: a static buffer of this use
 * of the macro, valid until its next run.
 */
#define TEST_CAPTURE(f, stmt)                                                                      \
	({                                                                                         \
		static char *buf_;                                                                 \
		size_t len_ = 0;                                                                   \
		free(buf_);                                                                        \
		buf_ = NULL;                                                                       \
		FILE *f = open_memstream(&buf_, &len_);                                            \
		if (f) {                                                                           \
			stmt;                                                                      \
			fclose(f);                                                                 \
		}                                                                                  \
		(const char *)(buf_ ? buf_ : "(open_memstream failed)");                           \
	})

/* TEST_MAIN(run): run() holds the SUBTESTs. */
#define TEST_MAIN(run)                                                                             \
	struct test_state test_state;                                                              \
	int main(void)                                                                             \
	{                                                                                          \
		run();                                                                             \
		printf("# %s: %d passed, %d failed, %d checks\n", __FILE__, test_state.passed,     \
		       test_state.failed, test_state.checks);                                      \
		return test_state.failed ? 1 : 0;                                                  \
	}

#endif
