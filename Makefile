# One non-recursive Makefile for the whole tree (after git's and notmuch's):
# libcommon.a, the three FastCGI services, the Check runner, and the
# developer entry points (run, test, bench, install).
#
#   make            build everything into build/
#   make SAN=1      the same with ASan+UBSan into build-asan/ (what tests use)
#   make run        bring the local stack up (deploy/stack.sh)
#   make test       every test: unit (sanitized) + end-to-end + SDKs (tests/run.sh)
#   make bench      benchmarks (tests/load/bench.sh)
#   make install    PREFIX=/usr/local DESTDIR=

all:

ifdef SAN
B ?= build-asan
else
B ?= build
endif

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share/stripe-platform

CC ?= cc
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -D_GNU_SOURCE -pthread \
          -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
          -Wformat=2 -Wvla -fno-common -Wno-format-nonliteral
ifdef SAN
CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif
CPPFLAGS += -Ilibcommon/include $(shell pkg-config --cflags libpq jansson openssl libcurl 2>/dev/null)
LDLIBS += -lfcgi $(shell pkg-config --libs libpq jansson openssl libcurl 2>/dev/null) -pthread

LIB := $(B)/libcommon.a
LIB_SRCS := $(sort $(wildcard libcommon/src/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/obj/%.o)
OBJS := $(LIB_OBJS)
BINS :=

include svc-secrets/module.mk svc-identity/module.mk svc-install/module.mk tests/unit/module.mk \
        tests/load/module.mk

all: $(LIB) $(BINS)

# Objects live under $(B)/obj so that binaries ($(B)/svc-secrets) never
# collide with a source directory's object directory.

$(LIB): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

-include $(OBJS:.o=.d)

.PHONY: all deps run stop test unit e2e bench report install clean format format-check

# Installs the Debian packages the project needs when any is missing.
deps:
	@deploy/deps.sh

run: deps all
	@deploy/stack.sh start

stop:
	@deploy/stack.sh stop

unit: $(B)/tests/unit/check_libcommon
	$(B)/tests/unit/check_libcommon

test: deps
	@tests/run.sh

bench: deps all
	@tests/load/bench.sh

# Audit reports from the local stack's database (sql/reports/report.py): one
# CSV per view and report.html for the UTC days FROM..TO, both included
# (default: the 30 days ending today), into OUT (default var/report).
OUT ?= var/report
report:
	@pg_env=$$(deploy/pgctl.sh env "$${STACK_DIR:-var}/pg") && eval "$$pg_env" && \
	    sql/reports/report.py $(if $(FROM),--from '$(FROM)') $(if $(TO),--to '$(TO)') --out '$(OUT)'

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)
	install -m 0755 $(BINS) $(DESTDIR)$(BINDIR)/
	cp -R sql deploy $(DESTDIR)$(DATADIR)/

clean:
	rm -rf build build-asan

format:
	clang-format -i $(shell git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run -Werror $(shell git ls-files '*.c' '*.h')
