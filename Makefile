# portcullis - FastCGI responders in C.  See README.md.
#
#   make            build the responders into cgi-bin/ and the tools into bin/;
#                   installs nothing (missing -dev packages: `make deps`)
#   make deps       install the missing Debian packages (apt-get update
#                   first, only when something is missing): DEPS=run (the
#                   default: build + the local stack), build, test or bench
#   make run        deps, build, start the local stack in the foreground
#   make up / down  the same stack in the background / stop it
#   make test       from a bare machine: deps (DEPS=test), build, run every
#                   test (`make check` first)
#   make unit       the quick loop: unit tests (plain and sanitized) and the
#                   static checks that need no npm tools, under a minute
#   make check      deps (DEPS=test), then static checks with the real tools:
#                   compose schemas, promtool, redocly, apache2ctl -t,
#                   lighttpd -tt, shellcheck, the configuration table
#   make fuzz       the libFuzzer harnesses of tests/fuzz/ into build/fuzz/ (clang)
#   make san-responders  the responders with ASan + UBSan into build/san/cgi-bin/
#   make bench      a benchmark (never part of make test): the local stack
#                   under var/bench against a do-nothing responder; knobs
#                   and output in scripts/bench.sh
#   make install    lay out the responders, an .htaccess, migrations and a
#                   sample .env for a host without the local stack (shared
#                   hosting): PREFIX (default /opt/portcullis), WEBROOT
#                   (default $(PREFIX)/htdocs), DESTDIR; see scripts/install.sh
#
# `cgi-bin/health --list-config` prints every setting (lib/config.c's table);
# the scripts read their keys and values through it, so `make` comes first.
# Personal overrides (CC=clang, extra flags) go in Makefile.local.

-include Makefile.local

CC      ?= cc
PKGS    := fcgi hiredis libpq libcjson libjwt libcrypto libxcrypt
WARN    := -Wall -Wextra -Werror -Wmissing-prototypes -Wstrict-prototypes \
           -Wwrite-strings -Wshadow -Wformat=2 -Wvla
HARDEN  := -fstack-protector-strong -fstack-clash-protection -fcf-protection \
           -D_FORTIFY_SOURCE=2 -fPIE
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(HARDEN) $(CFLAGS) -Ilib $(PKG_CFLAGS)
LDFLAGS_HARDEN := -pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# What portcullis_build_info reports: the version, and the commit from git
# when this is a clone (the Dockerfile passes COMMIT as a build argument).
VERSION ?= 0.1.0
COMMIT  ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
# libpasswdqc (Debian's libpasswdqc-dev) ships no pkg-config file.
PKG_LIBS  += -lpasswdqc

LIB_SRC    := $(wildcard lib/*.c)
LIB_OBJ    := $(LIB_SRC:lib/%.c=build/lib/%.o)
RESPONDERS := $(filter-out migrate denylist,$(basename $(notdir $(wildcard src/*.c))))
CGI_BINS   := $(RESPONDERS:%=cgi-bin/%)
TOOLS      := bin/portcullis-migrate bin/portcullis-denylist
# The shipped list of common passwords, as a passwdqc filter (see scripts/build-denylist.sh).
DENYLIST   := share/common-passwords.pwq
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(UNIT_SRC:tests/unit/%.c=build/test/%)
# The same unit tests, built with AddressSanitizer and UBSan over their own lib build;
# uninitialised locals hold a pattern, so reading one is a crash, not luck.
SAN_FLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all \
              -ftrivial-auto-var-init=pattern
SAN_OBJ    := $(LIB_SRC:lib/%.c=build/san/lib/%.o)
SAN_BINS   := $(UNIT_SRC:tests/unit/%.c=build/san/%)
# clang with ASan + UBSan for the libFuzzer harnesses and the sanitized responders:
# unlike gcc's, its UBSan honours UBSAN_OPTIONS=log_path, which the responders
# need (FastCGI gives them no stderr).
CLANG      ?= clang
CLANG_SAN  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
              -fno-sanitize-recover=all -ftrivial-auto-var-init=pattern -U_FORTIFY_SOURCE
# The responders so built, over a lib of their own, for the lighttpd pass of the
# integration suite (tests/run.sh, CGI_DIR).
SAN_CGI    := $(RESPONDERS:%=build/san/cgi-bin/%)
SAN_CGI_OBJ := $(LIB_SRC:lib/%.c=build/san/cgi-lib/%.o)
# libFuzzer harnesses (tests/fuzz/), over a lib of their own with coverage hooks.
FUZZ_SRC   := $(wildcard tests/fuzz/*.c)
FUZZ_OBJ   := $(LIB_SRC:lib/%.c=build/fuzz/lib/%.o)
FUZZ_BINS  := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)

# The Apache modules of our own, built with apxs' flags where apxs
# (apache2-dev) is installed; scripts/lib/apache.sh loads them from
# build/apache/: the cap of connections per client address
# (apache/mod_portcullis_conncap.c) and the queue in front of mod_fcgid
# (apache/mod_portcullis_fcgid_gate.c).  Linked beside them and renamed, so a
# running Apache keeps the copy it mapped.
APXS       ?= $(shell PATH=/usr/bin:/usr/sbin:$$PATH command -v apxs 2>/dev/null)
AP_MODULE  := $(if $(APXS),build/apache/mod_portcullis_conncap.so build/apache/mod_portcullis_fcgid_gate.so)

# `make V=1` shows the full compiler command lines.
ifeq ($(V),1)
Q :=
else
Q := @
endif

PREFIX  ?= /opt/portcullis
WEBROOT ?= $(PREFIX)/htdocs
DESTDIR ?=

.PHONY: all deps pkg-check run up down status test unit check unit-bins san-responders fuzz install clean FORCE bench
.DELETE_ON_ERROR:
.SECONDARY:

all: $(CGI_BINS) $(TOOLS) $(DENYLIST) $(AP_MODULE)

# Installs the missing Debian packages of set DEPS (scripts/install-deps.sh);
# a no-op (one dpkg query) when all are there.  The targets that need more
# than a build call it first, then build in a second make, so nothing
# compiles before its packages are in.
DEPS ?= run
deps:
	@scripts/install-deps.sh $(DEPS)

# A build without the -dev packages stops here, saying what to run.
pkg-check:
	@pkg-config --exists $(PKGS) 2>/dev/null || { \
	    echo "make: missing development packages (pkg-config $(PKGS)); run \`make deps\`" >&2; \
	    exit 1; }

build/lib/%.o: lib/%.c lib/*.h lib/*.def | build/lib pkg-check
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

# Rewritten only when the version or commit changed, so metrics.o is rebuilt then.
build/build_info.h: FORCE | build/lib
	$(Q)printf '#define PORTCULLIS_VERSION "%s"\n#define PORTCULLIS_COMMIT "%s"\n' \
		'$(subst ',,$(subst ",,$(VERSION)))' '$(subst ',,$(subst ",,$(COMMIT)))' >$@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
build/lib/metrics.o build/san/lib/metrics.o build/san/cgi-lib/metrics.o build/fuzz/lib/metrics.o: \
    build/build_info.h
build/lib/metrics.o build/san/lib/metrics.o build/san/cgi-lib/metrics.o build/fuzz/lib/metrics.o: \
    ALL_CFLAGS += -include build/build_info.h

build/libportcullis.a: $(LIB_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

build/src/%.o: src/%.c lib/*.h lib/*.def | build/src pkg-check
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

cgi-bin/%: build/src/%.o build/libportcullis.a
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS_HARDEN) $(LDFLAGS) $^ $(PKG_LIBS) -o $@

bin/portcullis-migrate: build/src/migrate.o build/libportcullis.a | bin
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS_HARDEN) $(LDFLAGS) $^ $(PKG_LIBS) -o $@

bin/portcullis-denylist: build/src/denylist.o build/libportcullis.a | bin
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS_HARDEN) $(LDFLAGS) $^ $(PKG_LIBS) -o $@

$(DENYLIST): scripts/build-denylist.sh bin/portcullis-denylist
	@echo "  GEN     $@"
	$(Q)scripts/build-denylist.sh $@

build/test/%: tests/unit/%.c tests/unit/*.h build/libportcullis.a | build/test
	@echo "  CC+LD   $@"
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit $(LDFLAGS_HARDEN) $< build/libportcullis.a $(PKG_LIBS) -o $@

build/san/lib/%.o: lib/%.c lib/*.h lib/*.def | build/san/lib
	@echo "  CC san  $<"
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -U_FORTIFY_SOURCE -c $< -o $@

build/san/libportcullis.a: $(SAN_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

build/san/%: tests/unit/%.c tests/unit/*.h build/san/libportcullis.a | build/san
	@echo "  CC+LD   $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -U_FORTIFY_SOURCE -Itests/unit $< build/san/libportcullis.a $(PKG_LIBS) -o $@

unit-bins: $(UNIT_BINS) $(SAN_BINS)

build/san/cgi-lib/%.o: lib/%.c lib/*.h lib/*.def | build/san/cgi-lib
	@echo "  CC san  $<"
	$(Q)$(CLANG) $(ALL_CFLAGS) $(CLANG_SAN) -c $< -o $@

build/san/cgi-lib/libportcullis.a: $(SAN_CGI_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

build/san/src/%.o: src/%.c lib/*.h lib/*.def | build/san/src
	@echo "  CC san  $<"
	$(Q)$(CLANG) $(ALL_CFLAGS) $(CLANG_SAN) -c $< -o $@

build/san/cgi-bin/%: build/san/src/%.o build/san/cgi-lib/libportcullis.a | build/san/cgi-bin
	@echo "  LD san  $@"
	$(Q)$(CLANG) $(CLANG_SAN) $(LDFLAGS_HARDEN) $(LDFLAGS) $^ $(PKG_LIBS) -o $@

# The responders with ASan + UBSan, for the lighttpd pass of tests/run.sh;
# like cgi-bin/, they find the shipped deny list in <their directory>/../share.
san-responders: $(SAN_CGI) build/san/share

build/san/share: | build/san
	$(Q)ln -sfn ../../share $@

build/fuzz/lib/%.o: lib/%.c lib/*.h lib/*.def | build/fuzz/lib
	@echo "  CC fuzz $<"
	$(Q)$(CLANG) $(ALL_CFLAGS) $(CLANG_SAN) -fsanitize=fuzzer-no-link -c $< -o $@

build/fuzz/libportcullis.a: $(FUZZ_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

build/fuzz/%: tests/fuzz/%.c tests/fuzz/*.h tests/unit/*.h build/fuzz/libportcullis.a | build/fuzz
	@echo "  CC+LD   $@"
	$(Q)$(CLANG) $(ALL_CFLAGS) $(CLANG_SAN) -fsanitize=fuzzer -Itests/unit -Itests/fuzz \
	    $< build/fuzz/libportcullis.a $(PKG_LIBS) -o $@

# The libFuzzer harnesses; tests/run.sh runs each for a bounded time.  By hand:
#   build/fuzz/cookie tests/fuzz/corpus/cookie -max_total_time=60
fuzz: $(FUZZ_BINS)

build/apache/%.so: apache/%.c apache/*.h | build/apache
	@echo "  CC+LD   $@"
	$(Q)$(CC) -std=c11 $(WARN) -Wno-missing-prototypes -fPIC -shared -O2 -g \
	    $(shell $(APXS) -q EXTRA_CPPFLAGS) $(shell $(APXS) -q EXTRA_INCLUDES) $(shell $(APXS) -q CPPFLAGS) \
	    -Wl,-z,relro,-z,now $< -o $@.tmp
	$(Q)mv -f $@.tmp $@

build/lib build/src build/test build/san build/san/lib build/san/src build/san/cgi-bin \
    build/san/cgi-lib build/apache bin:
	mkdir -p $@

build/fuzz build/fuzz/lib build/bench:
	mkdir -p $@

# The benchmark's own programs (bench/): built here, never installed.
BENCH_BINS := build/bench/ceiling build/bench/bcrypt-rate

# The ceiling forks its pool with the responders' own lib/prefork.c.
build/bench/ceiling: bench/ceiling.c lib/prefork.c lib/prefork.h | build/bench
	@echo "  CC+LD   $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS_HARDEN) bench/ceiling.c lib/prefork.c $(shell pkg-config --libs fcgi) -o $@

build/bench/bcrypt-rate: bench/bcrypt-rate.c | build/bench
	@echo "  CC+LD   $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS_HARDEN) $< $(shell pkg-config --libs libxcrypt) -o $@

bench:
	@$(MAKE) --no-print-directory deps DEPS=bench
	@$(MAKE) --no-print-directory all $(BENCH_BINS)
	@scripts/bench.sh

run:
	@$(MAKE) --no-print-directory deps DEPS=run
	@$(MAKE) --no-print-directory all
	@scripts/stack.sh run

up:
	@$(MAKE) --no-print-directory deps DEPS=run
	@$(MAKE) --no-print-directory all
	@scripts/stack.sh up

down:
	@scripts/stack.sh down

status:
	@scripts/stack.sh status

# Installs, builds, runs unit tests (plain and sanitized) and the integration
# suite against a private stack; the last line is "N passed, N failed".
test:
	@$(MAKE) --no-print-directory deps DEPS=test
	@$(MAKE) --no-print-directory all unit-bins san-responders fuzz
	@tests/run.sh

# Unit tests and the static checks that need nothing from npm; no stack.
unit: all unit-bins
	@tests/run.sh unit

# The static checks with the real tools (installs what is missing: Debian
# packages, then tests/static/'s npm tools from its lock file).
check:
	@$(MAKE) --no-print-directory deps DEPS=test
	@$(MAKE) --no-print-directory all
	@tests/run.sh check

# Builds what is missing (without installing packages), then lays it out;
# with DESTDIR it stages a copy to upload to a host that has no compiler.
install: $(CGI_BINS) $(TOOLS) $(DENYLIST)
	@scripts/install.sh "$(DESTDIR)" "$(PREFIX)" "$(WEBROOT)"

clean:
	rm -rf build bin share $(CGI_BINS)
