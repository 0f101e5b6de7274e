# dwell — help-center analytics. See README.md.
#
#   make            build ./dwell
#   make run        install what is missing, build, start the demo server
#   make test       install what is missing, build, run every suite
#   make test SAN=1 the same under AddressSanitizer + UBSan
#   make bench      throughput benchmarks (wrk on loopback)
#   make install    PREFIX (/usr/local), DESTDIR; make uninstall undoes it
#   make check-src  the rules of the source tree (layers, doors, banned calls)
#   make fuzz       libFuzzer targets under ASan + UBSan, FUZZ_SECONDS (60) each

CC      ?= cc
VERSION := 0.1.0
PKGS    := libmicrohttpd lmdb libmaxminddb libcjson nettle libcurl

WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wmissing-prototypes \
           -Wstrict-prototypes -Wvla
CFLAGS  ?= -O2 -g
# SAN=1 builds keep the debug assertions (queue accounting, record
# decoding); the standard build compiles them out.
ifeq ($(SAN),1)
VARIANT := san
CFLAGS  := -O1 -g -fno-omit-frame-pointer
SANFL   := -fsanitize=address,undefined -fno-sanitize-recover=undefined
else
VARIANT := std
SANFL   := -DNDEBUG
endif

B       := build/$(VARIANT)
ALL_CFLAGS = -std=c11 $(WARN) $(CFLAGS) $(SANFL) -Iinclude -Isrc -I$(B)/gen \
             -DDWELL_VERSION='"$(VERSION)"' -MMD -MP \
             $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lz -lm

# The layers of src/, lowest first (docs/architecture.md; make check-src).
LAYERS  := base model store query serve cli
LIB_SRC := $(foreach l,$(filter-out cli,$(LAYERS)),$(wildcard src/$(l)/*.c))
LIB_OBJ := $(LIB_SRC:src/%.c=$(B)/obj/%.o) $(B)/obj/embed.o
BIN     := $(B)/dwell
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

# Debian packages the build, the server and the tests need.
DEB_BUILD := build-essential pkg-config libmicrohttpd-dev liblmdb-dev \
             libmaxminddb-dev libcjson-dev nettle-dev zlib1g-dev libcurl4-openssl-dev \
             curl ca-certificates zopfli
DEB_TEST  := libmaxmind-db-writer-perl lmdb-utils chromium faketime \
             man-db groff-base systemd strace clickhouse-server
DEB_BENCH := wrk nginx-light valgrind linux-perf
NEED_CMDS := node:nodejs npm:npm python3:python3

DATA    ?= data
LISTEN  ?= 127.0.0.1:8080
GEO_PKG := @ip-location-db/geo-whois-asn-country-mmdb
GEO_DB  := $(DATA)/geo/country.mmdb

.PHONY: all deps deps-test deps-bench run test unit-test bench clean geo check-src fuzz
.PHONY: install uninstall docs screenshot

all: dwell

dwell: $(BIN)
ifeq ($(SAN),1)
	@true
else
	cp $(BIN) dwell.tmp && mv -f dwell.tmp dwell
endif

$(BIN): $(patsubst src/%.c,$(B)/obj/%.o,$(wildcard src/cli/*.c)) $(LIB_OBJ)
	@echo "  LD $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/obj/%.o: src/%.c | $(B)/obj $(B)/gen/embed.h
	@echo "  CC $<"
	@mkdir -p $(dir $@)
	@$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The snippet, minified with esbuild (from npm, installed here on demand with
# the other build tools of js-snippet/package.json).
ESBUILD := js-snippet/node_modules/.bin/esbuild
$(ESBUILD): js-snippet/package.json js-snippet/package-lock.json
	cd js-snippet && npm ci --no-audit --no-fund --silent
	touch $@

# js-snippet/pack.mjs runs esbuild and re-chooses the local names for gzip;
# zopfli then writes dwell.js.gz, the form the binary serves (smaller than
# gzip -9; docs/snippet.md "Size").
$(B)/gen/dwell.js $(B)/gen/dwell.js.gz &: js-snippet/dwell.js js-snippet/pack.mjs $(ESBUILD) | $(B)/gen
	node js-snippet/pack.mjs js-snippet/dwell.js $(B)/gen/dwell.js
	@command -v zopfli >/dev/null || { echo "zopfli is missing: run make deps (Debian package zopfli)" >&2; exit 1; }
	zopfli --i1000 $(B)/gen/dwell.js
	@echo "snippet: $$(wc -c < $(B)/gen/dwell.js) bytes, $$(wc -c < $(B)/gen/dwell.js.gz) bytes gzipped (budget $$(tr -cd 0-9 < js-snippet/budget.json))"

# The report page (src/web/report.html) and its script and styles, served
# beside it as /report.js and /report.css (its CSP allows nothing inline).
$(B)/gen/report.html: $(wildcard src/web/report.html) | $(B)/gen
	@if [ -f src/web/report.html ]; then cp src/web/report.html $@; \
	 else echo '<!doctype html><title>dwell</title><p>report page not built' > $@; fi
$(B)/gen/report.js $(B)/gen/report.css: $(B)/gen/report.%: src/web/report.% | $(B)/gen
	@cp $< $@

# The pages of docs/ as HTML, served at /docs/NAME.md (the report page's
# definitions link there), rendered with marked (js-snippet's build tools).
DOCS_HTML := $(patsubst docs/%.md,$(B)/gen/doc-%.html,$(wildcard docs/*.md))
$(B)/gen/doc-%.html: docs/%.md tests/tools/docs-html.mjs $(ESBUILD) | $(B)/gen
	@node tests/tools/docs-html.mjs $< $@

# Files served by the binary, embedded at build time (never committed).
EMBED := $(B)/gen/dwell.js $(B)/gen/dwell.js.gz $(B)/gen/report.html $(B)/gen/report.js \
  $(B)/gen/report.css $(DOCS_HTML)
$(B)/gen/embed.h $(B)/gen/embed.c &: $(EMBED) Makefile | $(B)/gen
	sh tests/tools/embed.sh $(B)/gen $(EMBED)

$(B)/obj/embed.o: $(B)/gen/embed.c
	@$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/obj $(B)/gen $(B)/tests:
	mkdir -p $@

$(B)/tests/%: tests/unit/%.c $(LIB_OBJ) tests/unit/check.h | $(B)/tests
	@echo "  CC $<"
	@$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB_OBJ) $(LDLIBS)

-include $(wildcard $(B)/obj/*/*.d $(B)/tests/*.d)

# --- installing dwell ---------------------------------------------------------
# make install [PREFIX=/usr/local] [DESTDIR=DIR]: the binary (the snippet,
# the report page and the docs' HTML are inside it), the man page, the
# systemd unit (docs/deploy/dwell.service, its ExecStart pointed at
# $(PREFIX)/bin/dwell) and the docs. Needs no root when DESTDIR is writable;
# make uninstall removes exactly these files (and the docs' directory).
PREFIX    ?= /usr/local
BINDIR     = $(PREFIX)/bin
MAN1DIR    = $(PREFIX)/share/man/man1
UNITDIR    = $(PREFIX)/lib/systemd/system
DOCDIR     = $(PREFIX)/share/doc/dwell
INST_DOCS := README.md LICENSE $(wildcard docs/*.md)

install: $(BIN)
	install -D -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/dwell
	install -D -m 0644 docs/dwell.1 $(DESTDIR)$(MAN1DIR)/dwell.1
	install -d -m 0755 $(DESTDIR)$(UNITDIR)
	sed 's|/usr/local/bin/dwell|$(BINDIR)/dwell|g' docs/deploy/dwell.service \
	  > $(DESTDIR)$(UNITDIR)/dwell.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/dwell.service
	for f in $(INST_DOCS); do \
	  install -D -m 0644 $$f $(DESTDIR)$(DOCDIR)/$$(basename $$f) || exit 1; \
	done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/dwell $(DESTDIR)$(MAN1DIR)/dwell.1 \
	  $(DESTDIR)$(UNITDIR)/dwell.service \
	  $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(INST_DOCS)))
	rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null || true

# --- installing what is missing -------------------------------------------
deps:
	@sh tests/tools/deps.sh $(DEB_BUILD) -- $(NEED_CMDS)

deps-test: deps
	@sh tests/tools/deps.sh $(DEB_TEST) --

deps-bench: deps
	@sh tests/tools/deps.sh $(DEB_BENCH) --

# The default country database (CC BY 4.0), from the npm registry.
geo: $(GEO_DB)
$(GEO_DB):
	@mkdir -p $(DATA)/geo
	@echo "fetching the country database ($(GEO_PKG)) ..."
	@tmp=$$(mktemp -d) && (cd $$tmp && npm pack --silent $(GEO_PKG) >/dev/null) \
	  && tar -xzf $$tmp/*.tgz -C $$tmp package/geo-whois-asn-country.mmdb \
	  && mv $$tmp/package/geo-whois-asn-country.mmdb $@ && rm -rf $$tmp \
	  || { rm -rf $$tmp; echo "could not fetch $(GEO_PKG); dwell will run without countries"; }

# --- running ----------------------------------------------------------------
run: deps
	@$(MAKE) --no-print-directory dwell
	@-$(MAKE) --no-print-directory geo
	@./dwell site add demo --origin http://$(LISTEN) --origin http://localhost:$(lastword $(subst :, ,$(LISTEN))) --data $(DATA) >/dev/null
	@[ -f $(DATA)/demo-token ] || { ./dwell demo demo --days 90 --data $(DATA) && \
	  ./dwell token create demo --read-only --name "make run" --data $(DATA) > $(DATA)/demo-token 2>/dev/null; }
	@echo
	@echo "  demo help center:  http://$(LISTEN)/demo/"
	@echo "  report:            http://$(LISTEN)/report/demo#token=$$(cat $(DATA)/demo-token)"
	@echo "  stored events:     ./dwell events demo --data $(DATA)"
	@echo "  report in the CLI: ./dwell report demo --data $(DATA)"
	@echo
	./dwell serve --listen $(LISTEN) --data $(DATA) --demo js-snippet/demo \
	  $$([ -f $(GEO_DB) ] && echo --geo $(GEO_DB))

# --- testing ----------------------------------------------------------------
PLAYWRIGHT := tests/browser/node_modules/playwright-core/package.json
$(PLAYWRIGHT): tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund --silent
	touch $@

test: deps-test
	@$(MAKE) --no-print-directory dwell $(UNIT_BIN) $(PLAYWRIGHT)
	@sh tests/run.sh $(B)

# The rules of the source tree: layers, one door per library, banned
# functions, own header first, no include loops (tests/tools/check-src.py);
# then proof that each rule catches a planted violation.
# Re-pastes the binary's own account of its commands and flags into
# docs/cli.md and docs/dwell.1 (the tests fail while they differ).
docs: dwell
	@python3 tests/tools/paste-help.py ./dwell

# The README's picture: the report page's first screen, as the browser
# suite's report_page_numbers_match_the_api takes it.
screenshot: deps-test dwell
	@node tests/browser/run.mjs ./dwell report_page_numbers_match_the_api
	@cp tests/out/browser/report-page-top.png docs/img/report-page.png
	@echo "docs/img/report-page.png updated"

check-src: deps
	@python3 tests/tools/check-src.py
	@python3 tests/tools/check-src.py --self-test

unit-test: $(UNIT_BIN)
	@for t in $(UNIT_BIN); do $$t || exit 1; done

$(B)/bench/report_fill: tests/bench/report_fill.c $(LIB_OBJ)
	@mkdir -p $(B)/bench
	@$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB_OBJ) $(LDLIBS)

$(B)/bench/ingest_fill: tests/bench/ingest_fill.c $(LIB_OBJ)
	@mkdir -p $(B)/bench
	@$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB_OBJ) $(LDLIBS)

bench: deps-bench
	@$(MAKE) --no-print-directory dwell $(B)/bench/report_fill $(B)/bench/ingest_fill
	@sh tests/bench/run.sh $(B)
	@python3 tests/bench/import-rss.py $(B)/dwell
	@python3 tests/bench/ship.py $(B)/dwell
	@python3 tests/bench/bytes.py $(B)/dwell $(B)/bench/report_fill

# --- fuzzing ----------------------------------------------------------------
# libFuzzer targets (tests/fuzz/fuzz_*.c) built with Debian's clang under
# ASan + UBSan against the objects of the layers below serve/, each run for
# FUZZ_SECONDS from its seed corpus (tests/fuzz/corpus/NAME) and the inputs
# that once crashed it (tests/fuzz/regress/NAME); tests/fuzz/run.sh prints
# the executions of each and fails on any crash.
DEB_FUZZ     := clang libclang-rt-14-dev
FUZZ_B       := build/fuzz
FUZZ_CC      := clang
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS   = -std=c11 $(WARN) -O1 -g -fno-omit-frame-pointer \
                -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                -Iinclude -Isrc -DDWELL_VERSION='"$(VERSION)"' -MMD -MP \
                $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
FUZZ_LIB_SRC := $(foreach l,base model store query,$(wildcard src/$(l)/*.c))
FUZZ_OBJ     := $(FUZZ_LIB_SRC:src/%.c=$(FUZZ_B)/obj/%.o)
FUZZ_BIN     := $(patsubst tests/fuzz/%.c,$(FUZZ_B)/%,$(wildcard tests/fuzz/fuzz_*.c))

$(FUZZ_B)/obj/%.o: src/%.c
	@echo "  CC fuzz $<"
	@mkdir -p $(dir $@)
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_B)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJ)
	@echo "  LD fuzz $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(LDLIBS)

.SECONDARY: $(FUZZ_OBJ)
-include $(wildcard $(FUZZ_B)/obj/*/*.d $(FUZZ_B)/*.d)

fuzz: deps
	@sh tests/tools/deps.sh $(DEB_FUZZ) --
	@$(MAKE) --no-print-directory $(FUZZ_BIN)
	@sh tests/fuzz/run.sh $(FUZZ_B) $(FUZZ_SECONDS)

clean:
	rm -rf build dwell tests/out
