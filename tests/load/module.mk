# Benchmark helpers (tests/load): the ceiling responders of `make bench`.
# Deliberately not linked against libcommon.a: only libfcgi and libpq, the
# minimal FastCGI responder the services are measured against. Not part of
# BINS (never installed); `make bench` builds it.
CEILING := $(B)/tests/load/ceiling
CEILING_OBJS := $(B)/obj/tests/load/ceiling.o
OBJS += $(CEILING_OBJS)

bench: $(CEILING)

$(CEILING): $(CEILING_OBJS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ -lfcgi $(shell pkg-config --libs libpq 2>/dev/null || echo -lpq) -pthread
