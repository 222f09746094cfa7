# socktap: SystemTap's socket tapset on eBPF.
#
#   make                 build/socktap, build/libsocktap.{a,so}
#   make check           unit tests (with check-fuzz), then (as root) integration tests
#   make fuzz            each libFuzzer target (tests/fuzz) for FUZZ_SECONDS (300) on its corpus
#   make check-fuzz      the checked-in fuzz corpus replayed through each target (seconds)
#   make bench           docs/benchmarks.md (scripts/deps.sh bench installs the rivals)
#   make bench-scale     top and serve with 10,000 processes, 100,000 sockets (bench/scale.py)
#   make soak            top and serve under process churn for SOAK_SECONDS (600): docs/soak.md
#   make install PREFIX=/usr/local [DESTDIR=] [LIBDIR=] [SYSTEMDUNITDIR=]
#   make deb             build/deb/: socktap, libsocktap0, libsocktap-dev (debian/, dpkg-buildpackage)
#   make check-deb       those packages checked, lintian, their programs run (tests/check_deb.py)
#   make format          clang-format the sources

PREFIX    ?= /usr/local
DESTDIR   ?=
# the libraries and socktap.pc (Debian's package: /usr/lib/<multiarch triplet>)
LIBDIR    ?= $(PREFIX)/lib
# socktap.service (Debian 12's debhelper and systemd packages: /lib/systemd/system)
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
DOCDIR    ?= $(PREFIX)/share/doc/socktap
MANDIR    ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
CC        ?= gcc
CLANG     ?= clang
BPFTOOL   ?= bpftool
LLVM_STRIP ?= $(shell command -v llvm-strip || command -v llvm-strip-14 || echo llvm-strip)
PYTHON    ?= python3
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux

B := build
VERSION := $(shell sed -n 's/^\#define SOCKTAP_VERSION "\(.*\)"/\1/p' include/socktap.h)
# The ABI's major number: bumped by hand when the ABI breaks, not with every version
SOMAJOR := 0
SONAME := libsocktap.so.$(SOMAJOR)
SOFILE := libsocktap.so.$(VERSION)

# CFLAGS, CPPFLAGS and LDFLAGS are the user's (make CFLAGS=-O0 replaces them whole):
# what the build needs comes before them, in ST_*, so that they can add to it but not drop it.
WARN    := -Wall -Wextra -Wshadow -Wno-missing-field-initializers -Wformat=2
CFLAGS  ?= -O2 -g
ST_CFLAGS := -std=gnu11 -D_GNU_SOURCE -fPIC $(WARN)
# library objects export nothing but what include/socktap.h declares (its visibility pragma)
LIB_CFLAGS := -fvisibility=hidden
ST_CPPFLAGS := -Iinclude -Isrc/abi -Isrc/lib -I$(B)
LDLIBS  := -lbpf -lelf -lz -lpthread -lm
DEPFLAGS = -MMD -MP

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Wno-unused-function \
	      -I$(B) -Isrc/abi -Isrc/bpf

LIB_SRCS := src/lib/names.c src/lib/util.c src/lib/command.c src/lib/probes.c src/lib/format.c src/lib/escape.c src/lib/session.c \
	    src/lib/aggregate.c src/lib/optional.c src/lib/plan.c src/lib/load.c src/lib/decode.c \
	    src/lib/who.c src/lib/cgroup.c src/lib/syscalls.c
CLI_SRCS := src/cli/main.c src/cli/common.c src/cli/lifecycle.c src/cli/list.c src/cli/trace.c \
	    src/cli/top.c src/cli/top_render.c src/cli/serve.c src/cli/series.c src/cli/webconfig.c \
	    src/cli/capture.c
SOCKTOP_SRCS := src/cli/socktop.c src/cli/common.c src/cli/lifecycle.c src/cli/top.c src/cli/top_render.c
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/%.o)
CLI_OBJS := $(CLI_SRCS:%.c=$(B)/%.o)
SOCKTOP_OBJS := $(SOCKTOP_SRCS:%.c=$(B)/%.o)
CLI_LDLIBS := -lncursesw
# serve: HTTP (libmicrohttpd, TLS by GnuTLS), its web config (libyaml), bcrypt (libcrypt);
# gzip is zlib's, already in LDLIBS
# serve's default address, in the unit's comment (serve.c's SERVE_DEFAULT_ADDR)
SERVE_LISTEN := $(shell sed -n 's/^\#define SERVE_DEFAULT_ADDR "\(.*\)"/\1/p' src/cli/serve.c)
SERVE_LDLIBS := -lmicrohttpd -lgnutls -lyaml -lcrypt

UNIT_TESTS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(wildcard tests/unit/test_*.c))
TEST_PROGS := $(B)/tests/workload

.PHONY: FORCE all clean bench-progs check check-unit check-cli check-integration check-degraded check-top check-serve check-fuzz fuzz fuzz-build vmcheck install format format-check docs demo \
	bench bench-smoke bench-scale deb check-deb soak
MANPAGES := $(B)/man/socktap.8 $(B)/man/socktop.8 $(B)/man/socktap.3
all: $(B)/socktap $(B)/socktop $(B)/libsocktap.a $(B)/libsocktap.so $(MANPAGES)

$(B)/vmlinux.h:
	@mkdir -p $(@D)
	@test -r $(VMLINUX_BTF) || { echo "no kernel BTF at $(VMLINUX_BTF): set VMLINUX_BTF" >&2; exit 1; }
	$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp && mv $@.tmp $@

$(B)/socktap.bpf.o: src/bpf/socktap.bpf.c $(wildcard src/bpf/*.h) src/abi/socktap_abi.h $(B)/vmlinux.h
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -MF $(B)/socktap.bpf.d -c $< -o $@
	# DWARF is only for humans: the skeleton embeds the object, BTF is all libbpf needs
	$(LLVM_STRIP) -g $@

$(B)/socktap.skel.h: $(B)/socktap.bpf.o
	$(BPFTOOL) gen skeleton $< name socktap_bpf > $@.tmp && mv $@.tmp $@

# The same programs for kernels without bpf_loop() (before 5.17): bounded loops instead
# (src/bpf/defs.bpf.h). Same maps, programs and variables: load.c opens it as socktap_bpf.
$(B)/socktap_legacy.bpf.o: src/bpf/socktap.bpf.c $(wildcard src/bpf/*.h) src/abi/socktap_abi.h $(B)/vmlinux.h
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -DST_NO_BPF_LOOP -c $< -o $@
	$(LLVM_STRIP) -g $@

$(B)/socktap_legacy.skel.h: $(B)/socktap_legacy.bpf.o
	$(BPFTOOL) gen skeleton $< name socktap_legacy_bpf > $@.tmp && mv $@.tmp $@

# every library object may include the skeletons; make them first
$(LIB_OBJS) $(CLI_OBJS) $(SOCKTOP_OBJS): | $(B)/socktap.skel.h $(B)/socktap_legacy.skel.h

# Objects are rebuilt when the command that builds them changes (make CFLAGS=-O0 after make):
# $(B)/flags holds it and is rewritten only when it differs, as git's GIT-CFLAGS.
BUILD_FLAGS = $(CC) $(ST_CPPFLAGS) $(CPPFLAGS) $(ST_CFLAGS) $(LIB_CFLAGS) $(CFLAGS) $(LDFLAGS)
$(B)/flags: FORCE
	@mkdir -p $(@D)
	@echo '$(subst ','\'',$(BUILD_FLAGS))' | cmp -s - $@ || \
		echo '$(subst ','\'',$(BUILD_FLAGS))' > $@
FORCE:
$(LIB_OBJS) $(CLI_OBJS) $(SOCKTOP_OBJS): $(B)/flags

$(LIB_OBJS): ST_CFLAGS += $(LIB_CFLAGS)

# The man pages name installed paths and the version: made from man/*.in, again when PREFIX
# or SYSTEMDUNITDIR changes ($(B)/prefix, like $(B)/flags).
$(B)/prefix: FORCE
	@mkdir -p $(@D)
	@echo '$(PREFIX) $(SYSTEMDUNITDIR)' | cmp -s - $@ || echo '$(PREFIX) $(SYSTEMDUNITDIR)' > $@
$(B)/man/%: man/%.in include/socktap.h $(B)/prefix
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@SYSTEMDUNITDIR@|$(SYSTEMDUNITDIR)|g' \
		-e 's|@VERSION@|$(VERSION)|g' $< > $@.tmp && mv $@.tmp $@
$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ST_CPPFLAGS) $(CPPFLAGS) $(ST_CFLAGS) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

$(B)/libsocktap.a: $(LIB_OBJS)
	$(AR) rcs $@ $^

# The real file is libsocktap.so.VERSION; its SONAME (libsocktap.so.0) and the development
# name (libsocktap.so) are symlinks, as ldconfig would make them. The version script exports
# the API only; -z defs: every symbol the library uses is in the libraries it links.
$(B)/libsocktap.so: $(LIB_OBJS) src/lib/libsocktap.map
	$(CC) $(ST_CFLAGS) $(CFLAGS) $(LDFLAGS) -shared -Wl,-soname,$(SONAME) \
		-Wl,--version-script=src/lib/libsocktap.map -Wl,-z,defs \
		-o $(B)/$(SOFILE) $(LIB_OBJS) $(LDLIBS)
	@# a shared library is not a program (Debian policy 8.1: 0644)
	chmod 0644 $(B)/$(SOFILE)
	ln -sf $(SOFILE) $(B)/$(SONAME)
	ln -sf $(SONAME) $@

$(B)/socktap: $(CLI_OBJS) $(B)/libsocktap.a
	$(CC) $(ST_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJS) $(B)/libsocktap.a $(CLI_LDLIBS) \
		$(SERVE_LDLIBS) $(LDLIBS)

$(B)/socktop: $(SOCKTOP_OBJS) $(B)/libsocktap.a
	$(CC) $(ST_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $(SOCKTOP_OBJS) $(B)/libsocktap.a \
		$(CLI_LDLIBS) $(LDLIBS)

# ---- tests ----
# Unit tests run with AddressSanitizer and UBSan.
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer
# test_top_render and test_series also need CLI code: the renderer, serve's series
$(B)/tests/test_top_render: src/cli/top_render.c src/cli/top_render.h
$(B)/tests/test_series: src/cli/series.c src/cli/series.h
$(B)/tests/test_%: tests/unit/test_%.c $(LIB_SRCS) tests/unit/testlib.h | $(B)/socktap.skel.h \
		$(B)/socktap_legacy.skel.h
	@mkdir -p $(@D)
	$(CC) $(ST_CPPFLAGS) $(CPPFLAGS) -Itests/unit $(ST_CFLAGS) $(CFLAGS) $(SAN) $(DEPFLAGS) \
		-o $@ $< $(LIB_SRCS) $(if $(filter top_render series,$*),-Isrc/cli src/cli/$*.c) \
		$(LDFLAGS) $(LDLIBS)

# ---- fuzzing ----
# libFuzzer targets (tests/fuzz/fuzz_*.c), with ASan and UBSan, on the library's sources
# (and the CLI's, for the targets that need them) compiled for them under $(B)/fuzz.
FUZZ_SECONDS ?= 300
FUZZ_ARGS ?=
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_TARGETS:%=$(B)/fuzz/fuzz_%)
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
# clang's -Wformat=2 also flags load.c passing on libbpf's format (a callback's, by design)
FUZZ_CFLAGS := -g -O1 $(FUZZ_SAN) -fsanitize=fuzzer-no-link -Wno-format-nonliteral
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(B)/fuzz/%.o)
# the CLI code each target needs beyond the library
FUZZ_CLI_filters := src/cli/common.c
FUZZ_CLI_exposition := src/cli/series.c
FUZZ_CLI_webconfig := src/cli/webconfig.c src/cli/common.c
FUZZ_CLI_capture := src/cli/capture.c src/cli/common.c
FUZZ_CLI_options := $(filter-out src/cli/main.c,$(CLI_SRCS)) src/cli/socktop.c
# socktop's main() would displace libFuzzer's: renamed in the fuzzers' copy
$(B)/fuzz/src/cli/socktop.o: FUZZ_DEFS := -Dmain=socktop_main
# the BTF string scanner reads 64 KiB at a time: 61 bytes here, so that inputs cross chunks
$(B)/fuzz/src/lib/probes.o: FUZZ_DEFS := -DST_BTF_CHUNK=61
$(B)/fuzz/%.o: %.c | $(B)/socktap.skel.h $(B)/socktap_legacy.skel.h
	@mkdir -p $(@D)
	$(CLANG) $(ST_CPPFLAGS) -Isrc/cli $(FUZZ_DEFS) $(ST_CFLAGS) $(FUZZ_CFLAGS) $(DEPFLAGS) \
		-c $< -o $@
.SECONDEXPANSION:
$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_LIB_OBJS) \
		$$(addprefix $(B)/fuzz/,$$(subst .c,.o,$$(FUZZ_CLI_$$*)))
	$(CLANG) $(ST_CPPFLAGS) -Isrc/cli -Itests/fuzz $(ST_CFLAGS) -g -O1 $(FUZZ_SAN) \
		-fsanitize=fuzzer $(DEPFLAGS) -o $@ $< $(filter %.o,$^) \
		$(CLI_LDLIBS) $(SERVE_LDLIBS) $(LDLIBS)

# the CLI objects are intermediate files: keep them, as the library's are kept
.PRECIOUS: $(B)/fuzz/%.o
fuzz-build: $(FUZZ_BINS)

# Each target for FUZZ_SECONDS on the checked-in corpus; what it finds new goes to the scratch
# corpus ($(B)/fuzz/corpus, libFuzzer's first directory), crashes to $(B)/fuzz/crash-*.
fuzz: $(FUZZ_BINS)
	@for t in $(FUZZ_TARGETS); do \
		echo "== fuzz_$$t ($(FUZZ_SECONDS) s)"; mkdir -p $(B)/fuzz/corpus/$$t; \
		SOCKTAP_FUZZ_PROMTOOL=$(if $(wildcard $(B)/prometheus/promtool),$(abspath $(B)/prometheus/promtool)) \
		$(B)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$(B)/fuzz/ \
			$(FUZZ_ARGS) $(B)/fuzz/corpus/$$t tests/fuzz/corpus/$$t || exit 1; \
	done

# Seconds: the checked-in corpus through each target once (no fuzzing), failing on a crash.
check-fuzz: $(FUZZ_BINS)
	@fail=0; for t in $(FUZZ_TARGETS); do \
		if $(B)/fuzz/fuzz_$$t -runs=0 -artifact_prefix=$(B)/fuzz/ tests/fuzz/corpus/$$t \
			> $(B)/fuzz/$$t.log 2>&1; then echo "ok - fuzz_$$t corpus"; \
		else echo "not ok - fuzz_$$t corpus"; tail -40 $(B)/fuzz/$$t.log; fail=1; fi; \
	done; exit $$fail

$(B)/tests/workload: tests/integration/workload.c
	@mkdir -p $(@D)
	$(CC) $(ST_CFLAGS) $(CFLAGS) $(LDFLAGS) $(DEPFLAGS) -o $@ $< \
		$(shell pkg-config --exists liburing 2>/dev/null && echo -DHAVE_LIBURING -luring) -lpthread

check-unit: $(UNIT_TESTS) $(B)/socktap $(B)/socktop $(B)/libsocktap.so $(MANPAGES) $(FUZZ_BINS)
	@fail=0; for t in $(UNIT_TESTS); do echo "== $$t"; $$t || fail=1; done; \
	$(MAKE) --no-print-directory check-fuzz || fail=1; \
	$(PYTHON) tests/check_docs.py $(B)/socktap || fail=1; \
	$(PYTHON) tests/check_abi.py $(B) || fail=1; \
	$(PYTHON) tests/check_man.py $(B) || fail=1; \
	$(PYTHON) tests/check_completion.py $(B) || fail=1; exit $$fail

check-cli: $(B)/socktap $(B)/socktop $(B)/bench/workload
	$(PYTHON) tests/cli/run.py --socktap $(B)/socktap

check-integration: all $(TEST_PROGS)
	$(PYTHON) tests/integration/run.py --socktap $(B)/socktap --workload $(B)/tests/workload

# The same scenarios with each optional piece refused in turn (SOCKTAP_REFUSE): what the piece
# gave is missing, everything else exact.
check-degraded: all $(TEST_PROGS)
	$(PYTHON) tests/integration/run.py --socktap $(B)/socktap --workload $(B)/tests/workload \
		--refuse each

check-top: all $(B)/socktop
	$(PYTHON) tests/top/run.py --socktap $(B)/socktap --socktop $(B)/socktop

# serve: Debian's Prometheus and promtool, unpacked under build/prometheus (never installed)
$(B)/tests/traffic: tests/top/traffic.c
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -o $@ $<

check-serve: all $(B)/tests/traffic
	scripts/fetch-prometheus.sh $(B)/prometheus
	$(PYTHON) tests/serve/run.py --socktap $(B)/socktap

# Not in check: SOAK_SECONDS of top and serve under process and socket churn (tests/soak):
# RSS, fds and BPF map entries flat, totals exact; the figures in docs/soak.md.
SOAK_SECONDS ?= 600
$(B)/tests/churn: tests/soak/churn.c
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -Wextra -o $@ $<

soak: all $(B)/tests/churn
	$(PYTHON) tests/soak/run.py --socktap $(B)/socktap --churn $(B)/tests/churn \
		--duration $(SOAK_SECONDS) --report docs/soak.md

check: check-unit check-cli check-deb check-integration check-degraded check-top check-serve

# The integration suite on the host's kernel and, in TCG VMs built from Debian's cloud kernels
# (cached in build/vm), on 5.10 (bullseye), 6.1 (bookworm) and 6.12 (trixie), once per backend
# each is expected to offer: VM_MATRIX is kernel:backends (tests/vm/matrix.py prints the
# table). VM_XFAIL='5.10:* ...' marks cells known to fail (shown, not fatal).
VM_MATRIX ?= 5.10:fentry,kprobe 6.1:fentry,kprobe 6.12:tracepoint,fentry,kprobe
VM_XFAIL ?=
vmcheck: all $(TEST_PROGS)
	VM_XFAIL='$(VM_XFAIL)' $(PYTHON) tests/vm/matrix.py --kernels $(VM_MATRIX)

$(B)/bench/workload: bench/workload.c
	@mkdir -p $(@D)
	$(CC) $(ST_CFLAGS) $(CFLAGS) $(LDFLAGS) $(DEPFLAGS) -o $@ $< -lpthread

$(B)/bench/floor.bpf.o: bench/floor.bpf.c $(B)/vmlinux.h
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(B)/bench/floor.skel.h: $(B)/bench/floor.bpf.o
	$(BPFTOOL) gen skeleton $< name floor_bpf > $@.tmp && mv $@.tmp $@

$(B)/bench/floor: bench/floor.c $(B)/bench/floor.skel.h
	@mkdir -p $(@D)
	$(CC) $(ST_CFLAGS) $(CFLAGS) $(LDFLAGS) -I$(B)/bench -o $@ $< $(LDLIBS)

$(B)/bench/format_bench: bench/format_bench.c $(B)/libsocktap.a
	@mkdir -p $(@D)
	$(CC) $(ST_CPPFLAGS) $(CPPFLAGS) $(ST_CFLAGS) $(CFLAGS) $(LDFLAGS) \
		$(shell pkg-config --exists json-c 2>/dev/null && echo -DHAVE_JSONC) \
		-o $@ $< $(B)/libsocktap.a $(LDLIBS) $(shell pkg-config --libs json-c 2>/dev/null)

$(B)/bench/consume: bench/consume.c $(B)/libsocktap.a
	@mkdir -p $(@D)
	$(CC) $(ST_CPPFLAGS) $(CPPFLAGS) $(ST_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< \
		$(B)/libsocktap.a $(LDLIBS)

$(B)/bench/peakrss: bench/peakrss.c
	@mkdir -p $(@D)
	$(CC) $(ST_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $<

$(B)/bench/scale: bench/scale.c
	@mkdir -p $(@D)
	$(CC) $(ST_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $<

BENCH_PROGS := $(B)/bench/workload $(B)/bench/floor $(B)/bench/format_bench $(B)/bench/peakrss $(B)/tests/traffic \
	       $(B)/bench/consume

# Performance claims live here, never in a timed test: docs/benchmarks.md.
bench: all $(BENCH_PROGS)
	$(PYTHON) bench/run.py --vm --out docs/benchmarks.md --note bench/analysis.md

# Where the kernel time goes: each BPF program's ns per run (kernel.bpf_stats_enabled).
bench-progs: all $(BENCH_PROGS)
	$(PYTHON) bench/progstats.py --out docs/kernel-cost.md

# Not in check or bench: top and serve with SCALE_PROCS (10,000) live processes of 10 sockets
# each (bench/scale.c): snapshot and scrape times, sizes, RSS, map memory, exact totals.
SCALE_PROCS ?= 10000
bench-scale: all $(B)/bench/scale
	$(PYTHON) bench/scale.py --procs $(SCALE_PROCS) --json $(B)/bench/scale.json

# Seconds: checks that every benchmark configuration still runs, judges no speed.
bench-smoke: all $(BENCH_PROGS)
	$(PYTHON) bench/run.py --smoke

$(B)/demo: examples/demo.c
	@mkdir -p $(@D)
	$(CC) $(ST_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< -lpthread

# The main job on a bundled workload: every probe, as readable text.
demo: $(B)/socktap $(B)/demo
	$(B)/socktap trace -c $(B)/demo

docs: $(B)/socktap
	$(B)/socktap list --doc > docs/probes.md

# ---- install ----
PC_LIBDIR = $(patsubst $(PREFIX)/%,$${exec_prefix}/%,$(LIBDIR))
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/include \
		$(DESTDIR)$(LIBDIR)/pkgconfig
	install -m 0755 $(B)/socktap $(DESTDIR)$(PREFIX)/bin/socktap
	install -m 0755 $(B)/socktop $(DESTDIR)$(PREFIX)/bin/socktop
	install -m 0644 include/socktap.h $(DESTDIR)$(PREFIX)/include/socktap.h
	install -m 0644 $(B)/libsocktap.a $(DESTDIR)$(LIBDIR)/libsocktap.a
	install -m 0644 $(B)/$(SOFILE) $(DESTDIR)$(LIBDIR)/$(SOFILE)
	ln -sf $(SOFILE) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libsocktap.so
	@# libdir relative to ${exec_prefix} when under it, so that pkg-config --define-prefix works
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(PC_LIBDIR)|' -e 's|@VERSION@|$(VERSION)|' \
		socktap.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/socktap.pc
	install -d $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(PREFIX)/share/socktap/prometheus
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LISTEN@|$(SERVE_LISTEN)|' dist/systemd/socktap.service.in \
		> $(DESTDIR)$(SYSTEMDUNITDIR)/socktap.service
	install -m 0644 dist/prometheus/socktap.rules.yml dist/prometheus/socktap.rules.test.yml \
		$(DESTDIR)$(PREFIX)/share/socktap/prometheus/
	install -d $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man3
	install -m 0644 $(B)/man/socktap.8 $(B)/man/socktop.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 $(B)/man/socktap.3 $(DESTDIR)$(MANDIR)/man3/
	@# bash-completion loads a command's completion from the file of its name
	install -d $(DESTDIR)$(BASHCOMPDIR)
	install -m 0644 dist/bash-completion/socktap $(DESTDIR)$(BASHCOMPDIR)/socktap
	ln -sf socktap $(DESTDIR)$(BASHCOMPDIR)/socktop
	install -d $(DESTDIR)$(DOCDIR)/LICENSES
	install -m 0644 README.md LICENSE $(DESTDIR)$(DOCDIR)/
	install -m 0644 LICENSES/*.txt $(DESTDIR)$(DOCDIR)/LICENSES/

# The Debian packages of debian/ (dpkg-buildpackage, in a copy of the sources: scripts/mkdeb.sh)
DEBDIR = $(B)/deb
deb:
	scripts/mkdeb.sh $(VERSION) $(B)

check-deb: deb
	$(PYTHON) tests/check_deb.py $(DEBDIR)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
