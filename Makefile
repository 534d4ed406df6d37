# viztracer in C: one Makefile (GNU make).
#
#   make            build build/bin/viztracer and build/python/viztracer/
#   make demo       trace examples/demo.py into result.json
#   make test       unit (Check), end-to-end (pytest on the real binary), node and browser
#                   tests, the fuzz replay, then `make asan`, then `make test-versions`
#   make test-versions  the end-to-end tests on each CPython 3.12 / 3.13 under $PYENV_ROOT
#   make asan       the unit and end-to-end tests on an ASan+UBSan build
#   make bench      overhead, dump speed and memory against cProfile, per interpreter
#                   (bench/README.md; BENCH_ARGS='--workloads fib --no-real' for a short run)
#   make deps       install what is missing (apt-get, as root); run by the targets above
#   make fuzz       libFuzzer on each target (tests/fuzz/), FUZZ_SECONDS=20 each; longer runs
#                   (FUZZ_SECONDS=600 make fuzz) grow the corpora in tests/fuzz/corpus/
#   make fuzz-replay  every kept corpus and regression input once (part of `make test`)
#   make test-cpython  CPython's own test modules, traced and untraced (part of `make test`)
#   make format | format-check | lint | tidy | cppcheck | check-headers | install | clean
#
# V=1 shows full command lines. PYTHON=/path/to/python3 builds against another
# interpreter (through its python3-config --embed).

# `make` alone means `make all`, whatever rules the included .mk files define first.
.DEFAULT_GOAL := all

PYTHON ?= /usr/bin/python3
PYCONFIG ?= $(PYTHON)-config
PREFIX ?= /usr/local
BUILD ?= build

CC ?= gcc
Q := $(if $(V),,@)
say = $(if $(V),,@printf '  %-6s %s\n' $(1) $(2);)

# sys.executable as python3 itself reports it (not the symlink resolved).
PY_EXE := $(shell $(PYTHON) -c "import sys; print(sys.executable)" 2>/dev/null)
PY_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
# The default build's version (Debian's python3): a versioned build finds its
# way back to it (launcher/interp.c).
DEFAULT_PY_VERSION := $(shell /usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
ifeq ($(PY_VERSION),)
$(error PYTHON=$(PYTHON) does not run)
endif
# Each interpreter builds into its own folder, so builds for several live side
# by side: Debian's python3 (the default) in build/, any other in
# build/py<major.minor>/ (its viztracer is build/py3.12/bin/viztracer).
ifeq ($(shell readlink -f $(PY_EXE) 2>/dev/null),$(shell readlink -f /usr/bin/python3 2>/dev/null))
PYBUILD ?= $(BUILD)
else
PYBUILD ?= $(BUILD)/py$(PY_VERSION)
endif
PY_INCLUDES := $(shell $(PYCONFIG) --includes 2>/dev/null)
PY_LDFLAGS := $(shell $(PYCONFIG) --embed --ldflags 2>/dev/null)
EXT_SUFFIX := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))' 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
BASE_CFLAGS := -std=c11 $(WARN) -g -fPIC -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
	-DVT_PYTHON_EXE='"$(PY_EXE)"' -DVT_PY_VERSION='"$(PY_VERSION)"' -DVT_DEFAULT_PY_VERSION='"$(DEFAULT_PY_VERSION)"' \
	-DVT_SRC_DIR='"$(CURDIR)"' $(PY_INCLUDES) -MMD -MP
OPT_CFLAGS ?= -O2
SAN_FLAGS := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LIBS := -lcjson -lz -lzstd -lpthread -lm
# The executable links CPython's static library when the interpreter ships one
# (Debian's does, built like /usr/bin/python3): calls into the interpreter then
# skip the PLT and the shared library's position-independent code, 16% less
# time per traced call on fib. Extension modules find the C API through
# --export-dynamic. STATIC_PYTHON=0, or an interpreter without the archive,
# links the shared libpython instead.
PY_LIBPL := $(shell $(PYTHON) -c 'import sysconfig as s; print(s.get_config_var("LIBPL") or "")' 2>/dev/null)
PY_LIBRARY := $(shell $(PYTHON) -c 'import sysconfig as s; print(s.get_config_var("LIBRARY") or "")' 2>/dev/null)
PY_STATIC_LIBS := $(shell $(PYTHON) -c 'import sysconfig as s; print(" ".join(sorted(set((s.get_config_var("LIBS") + " " + s.get_config_var("SYSLIBS") + " " + s.get_config_var("MODLIBS")).split()))))' 2>/dev/null)
STATIC_PYTHON ?= 1
CONFIG ?= release
ifeq ($(STATIC_PYTHON)$(CONFIG),1release)
ifneq ($(wildcard $(PY_LIBPL)/$(PY_LIBRARY)),)
PY_LINK := -no-pie -Wl,--export-dynamic $(PY_LIBPL)/$(PY_LIBRARY) $(PY_STATIC_LIBS)
PY_LIB_FILE := $(PY_LIBPL)/$(PY_LIBRARY)
endif
endif
PY_LINK ?= $(PY_LDFLAGS)
# The interpreter library the executable carries (the archive) or loads (the
# shared libpython): a new one relinks, and the executable warns at start
# when the installed one is no longer the one it was built with (pylib.c).
PY_LIB_FILE ?= $(realpath $(shell $(PYTHON) -c 'import sysconfig as s; print(s.get_config_var("LIBDIR") + "/" + s.get_config_var("LDLIBRARY"))' 2>/dev/null))
BIN_LIBS = $(PY_LINK) $(LIBS) $(EXTRA_BIN_LIBS)

# Debian packages the build and the tests need (make deps installs the missing ones).
DEPS_APT := python3-dev libpython3-dev libcjson-dev libmicrohttpd-dev check zlib1g-dev libzstd-dev \
	libedit-dev pkg-config python3-pytest python3-ipython python3-joblib libpython3.11-testsuite
DEPS_LINT_APT := clang-format clang-tidy cppcheck bear clang libclang-rt-14-dev
DEPS_BENCH_APT := valgrind black pylint python3-mypy python3-sphinx

BASE_SRC := $(wildcard tracer/base/*.c)
# The trace file format (tracer/format/format.h): pure C, no Python.
FORMAT_SRC := $(wildcard tracer/format/*.c)
TRACER_SRC := $(wildcard tracer/*.c)
LAUNCHER_SRC := $(filter-out launcher/main.c,$(wildcard launcher/*.c))
VIEWER_SRC := $(wildcard viewer/*.c)
VDB_SRC := $(wildcard vdb/*.c)
LIB_SRC := $(BASE_SRC) $(FORMAT_SRC) $(TRACER_SRC) $(LAUNCHER_SRC) $(VIEWER_SRC) $(VDB_SRC)
UNIT_SRC := $(wildcard tests/unit/*/test_*.c)
GLUE := $(wildcard tracer/python/viztracer/*.py)

# Each configuration builds into its own folder, so switching never mixes objects.
CONFIG ?= release
ifeq ($(CONFIG),asan)
CFLAGS_CFG := $(SAN_FLAGS)
LDFLAGS_CFG := -fsanitize=address,undefined
else
CFLAGS_CFG := $(OPT_CFLAGS)
LDFLAGS_CFG :=
endif
OBJDIR := $(PYBUILD)/$(CONFIG)/obj
CFLAGS := $(BASE_CFLAGS) $(CFLAGS_CFG) $(EXTRA_CFLAGS)
ifeq ($(CONFIG),release)
BINDIR := $(PYBUILD)/bin
PYDIR := $(PYBUILD)/python
else
BINDIR := $(PYBUILD)/$(CONFIG)/bin
PYDIR := $(PYBUILD)/$(CONFIG)/python
endif

obj = $(patsubst %.c,$(OBJDIR)/%.o,$(1))
LIB_OBJ := $(call obj,$(LIB_SRC))
CORE_OBJ := $(call obj,$(BASE_SRC) $(FORMAT_SRC) $(TRACER_SRC))
MAIN_OBJ := $(call obj,launcher/main.c)
UNIT_OBJ := $(call obj,$(UNIT_SRC) tests/unit/check_main.c)

VIZTRACER := $(BINDIR)/viztracer
EXTENSION := $(PYDIR)/viztracer/_core$(EXT_SUFFIX)
PYGLUE := $(patsubst tracer/python/%,$(PYDIR)/%,$(GLUE))
CHECK_UNIT := $(PYBUILD)/$(CONFIG)/tests/check_unit
PYLIB_C := $(PYBUILD)/$(CONFIG)/gen/pylib.c
PYLIB_O := $(OBJDIR)/gen/pylib.o

# Hooks for the parts that bring their own rules (viewer/viewer.mk, vdb/vdb.mk):
# they may append to ALL_TARGETS (built by `make`), TEST_TARGETS (run by
# `make test`), ASAN_TARGETS (run by `make asan`), EXTRA_BIN_LIBS (linked into
# the executable and the unit tests), DEPS_APT (Debian packages) and
# DEPS_NPM (a folder holding package.json + package-lock.json: `npm ci` there).
TEST_TARGETS :=
ALL_TARGETS :=
ASAN_TARGETS :=
EXTRA_BIN_LIBS :=
DEPS_NPM :=
-include viewer/viewer.mk
-include vdb/vdb.mk

.PHONY: all deps demo test test-unit test-e2e test-versions asan bench format format-check lint tidy \
	cppcheck banned check-headers fuzz install clean golden

all: deps
	$(Q)$(MAKE) --no-print-directory build

.PHONY: build
build: $(VIZTRACER) $(EXTENSION) $(PYGLUE) $(ALL_TARGETS)

$(OBJDIR)/%.o: %.c $(PYBUILD)/$(CONFIG)/.flags
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(CFLAGS) -c $< -o $@

# Changing flags rebuilds everything of that configuration.
$(PYBUILD)/$(CONFIG)/.flags: FORCE
	@mkdir -p $(dir $@)
	@echo '$(CC) $(CFLAGS) $(BIN_LIBS)' | cmp -s - $@ || echo '$(CC) $(CFLAGS) $(BIN_LIBS)' > $@
.PHONY: FORCE
FORCE:

# What the executable knows of its interpreter library: path, size and
# mtime (a package upgrade keeps the packaged mtime, which may be older than
# our link, so the stamp's content rather than its age decides), and the
# command that rebuilds it. Rewritten only when it changes.
$(PYLIB_C): FORCE
	@mkdir -p $(dir $@)
	$(Q)f='$(PY_LIB_FILE)'; set -- $$(stat -L -c '%s %Y' "$$f" 2>/dev/null || echo -1 -1); \
	{ echo '/* generated by the Makefile: the interpreter library linked (launcher/pylib.h) */'; \
	  echo '#include "launcher/pylib.h"'; \
	  echo "const struct vt_pylib_stamp vt_pylib_built = {\"$$f\", $$1LL, $$2LL,"; \
	  echo '    "make -C $(CURDIR) PYTHON=$(PYTHON)"};'; } > $@.tmp; \
	cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

$(PYLIB_O): $(PYLIB_C)
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(CFLAGS) -I. -c $< -o $@

# The library itself is a prerequisite too (a newer file relinks), left out of $^.
$(VIZTRACER): $(MAIN_OBJ) $(LIB_OBJ) $(PYLIB_O) $(PY_LIB_FILE)
	@mkdir -p $(dir $@)
	$(call say,LINK,$@)$(CC) $(LDFLAGS_CFG) -o $@ $(filter-out $(PY_LIB_FILE),$^) $(BIN_LIBS)

$(EXTENSION): $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(call say,LINK,$@)$(CC) $(LDFLAGS_CFG) -shared -o $@ $^ $(LIBS)

# Compiled here: every traced process (each child too) imports the glue,
# and an installed copy's folder is not writable to cache it.
$(PYDIR)/%.py: tracer/python/%.py
	@mkdir -p $(dir $@)
	$(Q)cp $< $@ && $(PYTHON) -m py_compile $@

# ---- tests -----------------------------------------------------------------

# One SRunner for every suite: the suite list is read from the test files.
$(PYBUILD)/$(CONFIG)/tests/suites.h: $(UNIT_SRC)
	@mkdir -p $(dir $@)
	$(Q)sed -n -E 's/^(Suite \*)?([a-z0-9_]+_suite)\(void\)$$/VT_SUITE(\2)/p' $(UNIT_SRC) > $@.tmp && mv $@.tmp $@

# Suite functions are found by name, not declared in a header.
$(OBJDIR)/tests/%.o: CFLAGS += -Wno-missing-prototypes
$(OBJDIR)/tests/unit/check_main.o: CFLAGS += -I$(PYBUILD)/$(CONFIG)/tests
$(OBJDIR)/tests/unit/check_main.o: $(PYBUILD)/$(CONFIG)/tests/suites.h

$(CHECK_UNIT): $(UNIT_OBJ) $(LIB_OBJ) $(PYLIB_O) $(PY_LIB_FILE)
	@mkdir -p $(dir $@)
	$(call say,LINK,$@)$(CC) $(LDFLAGS_CFG) -o $@ $(filter-out $(PY_LIB_FILE),$^) $(BIN_LIBS) -lcheck -lsubunit

# Everything: the banned-function check (a grep; `make lint` adds cppcheck
# and clang-tidy), unit, end-to-end and browser tests, then the same unit and
# end-to-end tests on the ASan+UBSan build, then the end-to-end tests on
# every other CPython 3.12 / 3.13 found (test-versions).
test: deps
	$(Q)$(MAKE) --no-print-directory banned build
	$(Q)$(MAKE) --no-print-directory test-unit test-e2e $(TEST_TARGETS)
	$(Q)$(MAKE) --no-print-directory asan
	$(Q)$(MAKE) --no-print-directory test-versions

test-unit: $(CHECK_UNIT)
	$(Q)$(CHECK_UNIT)

# pytest runs on Debian's python3 (its python3-pytest) whatever PYTHON the
# executable under test was built for: that one goes to the tests as
# VIZTRACER_PYTHON.
PYTEST := /usr/bin/python3 -m pytest -q -p no:cacheprovider
test-e2e: build
	$(Q)VIZTRACER_BIN=$(abspath $(VIZTRACER)) VIZTRACER_PYDIR=$(abspath $(PYDIR)) \
		VIZTRACER_PYTHON=$(PYTHON) $(PYTEST) tests/e2e

# The end-to-end suite on every other CPython 3.12 and 3.13 found under
# $(PYENV_ROOT)/versions (shared-library builds, as pyenv makes them), each
# built into its own folder. Prints which interpreters ran and which were not
# found; fails when the suite fails on any of them.
PYENV_ROOT ?= /root/.pyenv
TEST_VERSIONS ?= 3.12 3.13
.PHONY: test-versions
test-versions:
	$(Q)ran=""; missing=""; failed=""; for v in $(TEST_VERSIONS); do \
		found=""; for p in $(PYENV_ROOT)/versions/$$v.*/bin/python$$v; do \
			[ -x "$$p" ] || continue; found=1; ran="$$ran $$p"; \
			echo "test-versions: $$p"; \
			PATH=$$(dirname $$p):$$PATH $(MAKE) --no-print-directory PYTHON=$$p build test-e2e \
				|| failed="$$failed $$p"; \
		done; [ -n "$$found" ] || missing="$$missing $$v"; \
	done; \
	echo "test-versions: ran on:$${ran:- none}; not found:$${missing:- none}"; \
	[ -z "$$failed" ] || { echo "test-versions: failed on:$$failed"; exit 1; }

# ASan+UBSan: CPython's own at-exit allocations are suppressed (tests/unit/lsan.supp).
asan: deps
	$(Q)$(MAKE) --no-print-directory CONFIG=asan build $(PYBUILD)/asan/tests/check_unit
	$(Q)ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(abspath tests/unit/lsan.supp) \
		PYTHONMALLOC=malloc CK_FORK=no $(PYBUILD)/asan/tests/check_unit
	$(Q)ASAN_OPTIONS=detect_leaks=0 PYTHONMALLOC=malloc VIZTRACER_ASAN=1 \
		VIZTRACER_BIN=$(abspath $(PYBUILD)/asan/bin/viztracer) \
		VIZTRACER_PYDIR=$(abspath $(PYBUILD)/asan/python) VIZTRACER_PYTHON=$(PYTHON) \
		$(PYTEST) tests/e2e
	$(Q)$(if $(ASAN_TARGETS),$(MAKE) --no-print-directory CONFIG=asan $(ASAN_TARGETS))

demo: all
	$(Q)cd examples && ../$(VIZTRACER) --vdb -o ../result.json demo.py
	@echo "demo: traced examples/demo.py into result.json; look at it with:"
	@echo "  $(BINDIR)/vizviewer result.json      (in the browser)"
	@echo "  $(BINDIR)/vdb result.json            (step through it)"

# `make bench`: this interpreter's build, then each CPython of TEST_VERSIONS
# found under $(PYENV_ROOT) (as test-versions), each against its own cProfile.
# BENCH_ARGS passes options to bench/run.py (e.g. --workloads fib --no-real).
bench: all
	$(Q)missing=""; for p in $(DEPS_BENCH_APT); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null \
		| grep -q "ok installed" || missing="$$missing $$p"; done; \
		[ -z "$$missing" ] || $(MAKE) --no-print-directory deps DEPS_APT="$$missing"
	$(Q)$(MAKE) --no-print-directory bench-one
	$(Q)for v in $(TEST_VERSIONS); do for p in $(PYENV_ROOT)/versions/$$v.*/bin/python$$v; do \
		[ -x "$$p" ] || continue; \
		PATH=$$(dirname $$p):$$PATH $(MAKE) --no-print-directory PYTHON=$$p build bench-one || exit 1; \
	done; done

.PHONY: bench-one
bench-one:
	$(Q)$(PYTHON) bench/run.py --viztracer $(abspath $(VIZTRACER)) --python $(PYTHON) \
		--extra $(BENCH_EXTRA) $(BENCH_ARGS)

# Options whose cost `make bench` also measures, on every workload.
BENCH_EXTRA ?= log_func_args log_func_retval log_gc log_exception log_async vdb log_audit

# ---- set-up ----------------------------------------------------------------

deps:
	@missing=""; for p in $(DEPS_APT); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "deps: installing$$missing"; \
		sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		if [ ! -f $(BUILD)/.apt-updated ]; then $$sudo apt-get update -qq && mkdir -p $(BUILD) && touch $(BUILD)/.apt-updated; fi; \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null; \
	fi
	@for d in $(DEPS_NPM); do \
		if [ ! -f $$d/node_modules/.package-lock.json ] || \
		   ! cmp -s $$d/package-lock.json $$d/node_modules/.lock-installed; then \
			echo "deps: npm ci in $$d"; (cd $$d && npm ci --no-audit --no-fund --loglevel=error) && \
			cp $$d/package-lock.json $$d/node_modules/.lock-installed || exit 1; \
		fi; \
	done

# Debian's python3's build installs as PREFIX/bin/viztracer (+ vizviewer,
# vdb) with its package in PREFIX/lib/viztracer/python; any other
# interpreter's beside it, as PREFIX/bin/viztracer3.12 -> PREFIX/lib/viztracer/py3.12/bin/viztracer
# with that build's package in PREFIX/lib/viztracer/py3.12/python (the
# executable finds it from its real path).
ifeq ($(PYBUILD),$(BUILD))
INST_BIN := $(PREFIX)/bin
INST_PY := $(PREFIX)/lib/viztracer/python
else
INST_BIN := $(PREFIX)/lib/viztracer/py$(PY_VERSION)/bin
INST_PY := $(PREFIX)/lib/viztracer/py$(PY_VERSION)/python
endif
install: all
	install -d $(DESTDIR)$(INST_BIN) $(DESTDIR)$(INST_PY)/viztracer/__pycache__
	install -m 755 $(VIZTRACER) $(DESTDIR)$(INST_BIN)/viztracer
	ln -sf viztracer $(DESTDIR)$(INST_BIN)/vizviewer
	ln -sf viztracer $(DESTDIR)$(INST_BIN)/vdb
	install -m 644 $(EXTENSION) $(DESTDIR)$(INST_PY)/viztracer/
	install -p -m 644 $(PYGLUE) $(DESTDIR)$(INST_PY)/viztracer/
	install -p -m 644 $(PYDIR)/viztracer/__pycache__/*.pyc $(DESTDIR)$(INST_PY)/viztracer/__pycache__/
	$(if $(filter $(PYBUILD),$(BUILD)),,install -d $(DESTDIR)$(PREFIX)/bin && \
		ln -sf ../lib/viztracer/py$(PY_VERSION)/bin/viztracer $(DESTDIR)$(PREFIX)/bin/viztracer$(PY_VERSION))
	@echo "installed; for the Python API: PYTHONPATH=$(INST_PY)"

clean:
	rm -rf $(BUILD) result.json

# ---- code hygiene ------------------------------------------------------------

C_FILES := $(LIB_SRC) launcher/main.c $(UNIT_SRC) tests/unit/check_main.c $(wildcard tests/fuzz/*.c)
H_FILES := $(wildcard launcher/*.h tracer/*.h tracer/base/*.h tracer/format/*.h viewer/*.h vdb/*.h tests/unit/*.h)

format:
	clang-format -i $(C_FILES) $(H_FILES)

format-check:
	$(Q)clang-format --dry-run --Werror $(C_FILES) $(H_FILES) && echo "format-check: clean"

BANNED := sprintf|strcpy|strcat|strncpy|strtok|gets|atoi
banned:
	$(Q)if grep -nE '(^|[^_a-z])($(BANNED))\(' $(C_FILES) $(H_FILES); then \
		echo "banned functions used (see docs/STYLE.md §11)"; exit 1; else echo "banned: clean"; fi

cppcheck:
	$(Q)cppcheck -q --enable=warning,performance,portability --error-exitcode=1 \
		--suppress=missingIncludeSystem --suppress=missingInclude --inline-suppr -D__GNUC__ -D__x86_64__ -D__linux__ -D__LP64__ -DVT_PYTHON_EXE='""' -DVT_PY_VERSION='""' -DVT_DEFAULT_PY_VERSION='""' -DVT_SRC_DIR='""' \
		'-DPy_RETURN_NONE=return Py_None' '-DPy_RETURN_FALSE=return Py_False' \
		$(LIB_SRC) launcher/main.c && echo "cppcheck: clean"

compile_commands.json: $(C_FILES)
	$(Q)rm -rf $(BUILD)/tidy && bear --output $@ -- $(MAKE) --no-print-directory -B \
		BUILD=$(BUILD)/tidy build $(BUILD)/tidy/release/tests/check_unit >/dev/null

tidy: compile_commands.json
	$(Q)clang-tidy -p . --quiet $(LIB_SRC) launcher/main.c 2>/dev/null && echo "tidy: clean"
# (compile_commands.json is rebuilt when a source changes; `rm compile_commands.json` forces it.)

lint: banned cppcheck tidy

check-headers:
	$(Q)for h in $(H_FILES); do \
		echo "#include \"$$h\"" | $(CC) $(filter-out -MMD -MP,$(BASE_CFLAGS)) -I. -x c \
			-fsyntax-only - || exit 1; \
	done; echo "check-headers: clean"

FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_DEPS_fuzz_rcfile := launcher/cli.c tracer/duration.c
FUZZ_DEPS_fuzz_jscan := $(FORMAT_SRC)
FUZZ_DEPS_fuzz_vzt := $(FORMAT_SRC)
FUZZ_DEPS_fuzz_inject := launcher/inject_parse.c
FUZZ_DEPS_fuzz_pyvenv := launcher/interp.c
FUZZ_DEPS_fuzz_shm := tracer/shm.c tracer/clock.c $(FORMAT_SRC)
FUZZ_BIN := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined $(filter-out -MMD -MP,$(BASE_CFLAGS))

# Each target links its own readers, listed in FUZZ_DEPS_<name> (the trace
# format's are tracer/format/*.c, $(FORMAT_SRC)).
$(BUILD)/fuzz/%: tests/fuzz/%.c $(BASE_SRC) FORCE
	@mkdir -p $(dir $@)
	$(call say,FUZZ,$@)clang $(FUZZ_CFLAGS) $< $(FUZZ_DEPS_$*) $(BASE_SRC) -o $@ $(LIBS)

# ---- fuzzing: corpora and regressions kept in the repo ----------------------
#
# tests/fuzz/corpus/<target>/ is each target's corpus, minimized (libFuzzer
# -merge=1), and tests/fuzz/regressions/<target>/ every input that once
# failed. `make fuzz` fuzzes each target FUZZ_SECONDS (the corpus grows in
# the repo folder, minimized again afterwards: commit what it adds); a
# failing input stops it and is named for tests/fuzz/regressions/<target>/.
# `make fuzz-replay` (part of `make test`) runs every kept input once.
FUZZ_SECONDS ?= 20
TEST_TARGETS += fuzz-replay
DEPS_APT += clang libclang-rt-14-dev
# (clang and its libFuzzer runtime: fuzz-replay)
.PHONY: fuzz-replay

fuzz: $(FUZZ_BIN)
	$(Q)for b in $(FUZZ_BIN); do t=$$(basename $$b); c=tests/fuzz/corpus/$$t; m=$(BUILD)/fuzz/min-$$t; \
		mkdir -p $$c; echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
		$$b -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -artifact_prefix=$(BUILD)/fuzz/$$t- \
			$$c $$(ls -d tests/fuzz/regressions/$$t 2>/dev/null) || { echo "fuzz: $$t failed:" \
			"keep the input written above in tests/fuzz/regressions/$$t/" \
			"(unless it is one of them), then fix the code"; exit 1; }; \
		rm -rf $$m && mkdir -p $$m && $$b -merge=1 -rss_limit_mb=2048 $$m $$c > $$m.log 2>&1 \
			|| { echo "fuzz: $$t: merge failed ($$m.log)"; exit 1; }; \
		rm -f $$c/* && cp $$m/* $$c/ && rm -rf $$m && echo "fuzz: $$t: $$(ls $$c | wc -l) corpus inputs"; \
	done

# Each input once, mutating nothing; every failing input is named.
fuzz-replay: $(FUZZ_BIN)
	$(Q)fail=0; for b in $(FUZZ_BIN); do \
		sh tests/fuzz/replay.sh $$b $$(basename $$b) $(BUILD)/fuzz || fail=1; done; exit $$fail

# ---- CPython's own tests, traced and untraced -----------------------------
#
# Each module of CPYTHON_TESTS (Debian's libpython3.11-testsuite) runs under
# plain python3 and under the tracer; their "Tests result:" lines must be the
# same. These are modules that pass traced, fast ones (each under ~10 s
# traced here); see docs/COMPAT.md for the others.
CPYTHON_TESTS ?= test_sys test_exceptions test_atexit test_runpy test_traceback \
	test_cmd_line_script test_threading test_subprocess test_profile test_cprofile \
	test_site test_sys_setprofile test_sys_settrace test_bdb test_trace test_contextlib \
	test_warnings test_os test_unittest test_select test_threading_local test_zipimport \
	test_code_module test_pyclbr test_cmd test_argparse test_faulthandler
TEST_TARGETS += test-cpython
.PHONY: test-cpython

# Both runs get SIGINT at its default: a suite started with it ignored (a
# background job of a shell without job control, nohup) fails test_threading's
# interrupt_main tests under python3 and traced alike, and would compare
# equal whatever the tracer did.
SIGINT_DFL := /usr/bin/python3 -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])'
test-cpython: build
	$(Q)fail=0; tmp=$$(mktemp -d); for m in $(CPYTHON_TESTS); do \
		plain=$$(cd $$tmp && $(SIGINT_DFL) $(PYTHON) -m test $$m 2>&1 | grep '^Tests result:'); \
		traced=$$(cd $$tmp && $(SIGINT_DFL) $(abspath $(VIZTRACER)) --quiet -o $$tmp/$$m.json -m test $$m \
			> $$tmp/$$m.log 2>&1; grep '^Tests result:' $$tmp/$$m.log); \
		if [ -n "$$plain" ] && [ "$$plain" = "$$traced" ]; then echo "test-cpython: $$m: $$plain"; \
		else echo "test-cpython: $$m: python3 '$$plain', traced '$$traced' ($$tmp/$$m.log)"; fail=1; fi; \
	done; [ $$fail = 1 ] || rm -rf $$tmp; exit $$fail

-include $(shell find $(OBJDIR) -name '*.d' 2>/dev/null)
