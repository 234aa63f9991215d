# Benchmark helpers (tests/load): the ceiling responders of `make bench`.
# The minimal FastCGI responder the services are measured against: libfcgi
# and libpq, and from libcommon.a only the database and audit modules that
# its W+audit requests use (a static archive contributes the objects used).
# Not part of BINS (never installed); `make bench` builds it.
CEILING := $(B)/tests/load/ceiling
CEILING_OBJS := $(B)/obj/tests/load/ceiling.o
OBJS += $(CEILING_OBJS)

bench: $(CEILING)

$(CEILING): $(CEILING_OBJS) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
