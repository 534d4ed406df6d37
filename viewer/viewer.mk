# viewer/viewer.mk: vizviewer's rules, included by the Makefile.
#
# The UI (viewer/web/) is bundled by esbuild from third_party/npm into one
# HTML page, turned into C by xxd and linked into the executable and the unit
# test runner, so the binary needs no files beside it. `make test-web` runs
# the headless Chromium tests (tests/web/viewer.test.mjs), `make test-web-unit`
# the unit tests of the trace model (tests/web/model.test.mjs, node --test).

VIEWER_NPM := third_party/npm
VIEWER_GEN := $(BUILD)/gen
VIEWER_PAGE := $(VIEWER_GEN)/viewer.html
VIEWER_ASSETS_C := $(VIEWER_GEN)/viewer_assets.c
VIEWER_ASSETS_O := $(OBJDIR)/gen/viewer_assets.o
VIEWER_WEB_SRC := $(wildcard viewer/web/*.js viewer/web/*.mjs viewer/web/*.html)

DEPS_APT += nodejs chromium xxd curl
DEPS_NPM += $(VIEWER_NPM)
EXTRA_BIN_LIBS += -lmicrohttpd
ALL_TARGETS += $(BINDIR)/vizviewer
TEST_TARGETS += test-web-unit test-web

$(BINDIR)/vizviewer: $(VIZTRACER)
	$(call say,LN,$@)ln -sf viztracer $@

$(VIEWER_PAGE): $(VIEWER_WEB_SRC) $(VIEWER_NPM)/package-lock.json
	$(call say,WEB,$@)node viewer/web/build.mjs $@

# The page is kept NUL-terminated (the length excludes it) for strstr().
$(VIEWER_ASSETS_C): $(VIEWER_PAGE)
	@mkdir -p $(dir $@)
	$(call say,XXD,$@){ echo '/* generated from viewer/web by viewer/viewer.mk */'; \
		echo 'const unsigned char vt_viewer_assets_html[] = {'; xxd -i < $<; echo ',0x00};'; \
		echo "const unsigned int vt_viewer_assets_html_len = $$(wc -c < $<);"; } > $@.tmp && mv $@.tmp $@

$(VIEWER_ASSETS_O): $(VIEWER_ASSETS_C)
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) -c -O0 -fPIC $< -o $@

# Linked as a plain prerequisite: both link rules pass $^.
$(VIZTRACER): $(VIEWER_ASSETS_O)
$(CHECK_UNIT): $(VIEWER_ASSETS_O)

.PHONY: test-web test-web-unit
# model.js is plain JavaScript without the DOM: node runs it as it is.
test-web-unit:
	$(Q)node --test tests/web/model.test.mjs

test-web: build
	$(Q)VIZTRACER_BIN=$(abspath $(VIZTRACER)) VIEWER_SHOTS=$(abspath $(BUILD)/web-shots) \
		NODE_PATH=$(abspath $(VIEWER_NPM)/node_modules) node --test tests/web/viewer.test.mjs tests/web/large.test.mjs

# libFuzzer targets (make fuzz): the /file_info scan (tracer/format/jscan.c)
# and the pure parsers of scan.c.
FUZZ_DEPS_fuzz_viewer_json := $(FORMAT_SRC)
FUZZ_DEPS_fuzz_viewer_path := viewer/scan.c
# The trace index and its answers (index.c, src.c, query*.c), and the
# /api/ query strings.
VIEWER_INDEX_SRC := viewer/cache.c viewer/index.c viewer/index_scan.c viewer/index_split.c viewer/index_tables.c viewer/src.c viewer/query.c viewer/query_agg.c
FUZZ_DEPS_fuzz_viewer_index := $(VIEWER_INDEX_SRC) $(FORMAT_SRC)
FUZZ_DEPS_fuzz_viewer_query := $(VIEWER_INDEX_SRC) $(FORMAT_SRC)

# make bench: the viewer on generated 1M / 10M (/ 30M) event traces
# (bench/viewer.mjs; the traces are kept in build/bench-viewer/).
.PHONY: bench-viewer
bench: bench-viewer
bench-viewer: build
	$(Q)VIZTRACER_BIN=$(abspath $(VIZTRACER)) node bench/viewer.mjs $(VIEWER_BENCH_SIZES)
