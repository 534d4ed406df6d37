# vdb/vdb.mk: the vdb part's additions to the Makefile (included by it).
#
# vdb/*.c are compiled into the one executable by the Makefile itself; here:
# libedit for the command line, the build/bin/vdb link, tmux for the e2e
# tests that drive vdb in a real terminal, and the fuzz target's sources.

EXTRA_BIN_LIBS += -ledit
DEPS_APT += tmux
ALL_TARGETS += $(BINDIR)/vdb

$(BINDIR)/vdb: $(VIZTRACER)
	@mkdir -p $(dir $@)
	$(Q)ln -sf viztracer $@

FUZZ_DEPS_fuzz_reader := $(FORMAT_SRC) vdb/timeline.c
