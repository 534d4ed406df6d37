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

# tests/fuzz/fuzz_reader.c includes tracer/reader.c and vdb/timeline.c itself:
# the fuzz rule's $(FUZZ_DEPS_$(... $$f)) names a shell variable, so a
# FUZZ_DEPS_fuzz_reader here would never be used (and, once the rule is fixed,
# would link those files twice).
