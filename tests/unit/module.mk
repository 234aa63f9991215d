# One Check runner for libcommon and the services' modules. Each
# tests/unit/<dir>/check_<mod>.c defines `Suite *suite_<mod>(void)`; the list
# of suites is generated from the sources so that adding a suite file is all
# it takes. Other .c files there (fixtures, a FastCGI test client) are linked
# in too, and so is every service object but its main.o (service symbols
# carry the service's prefix: sec_, inst_, idn_).
UNIT_SRCS := $(sort $(wildcard tests/unit/*/check_*.c))
UNIT_ALL := $(sort $(wildcard tests/unit/*/*.c))
UNIT_SVC_OBJS := $(filter-out %/main.o,$(SVC_SECRETS_OBJS) $(SVC_IDENTITY_OBJS) $(SVC_INSTALL_OBJS))
UNIT_OBJS := $(UNIT_ALL:%.c=$(B)/obj/%.o) $(B)/obj/tests/unit/runner.o
OBJS += $(UNIT_OBJS)

$(B)/tests/unit/suites.h: $(UNIT_SRCS)
	@mkdir -p $(@D)
	@grep -ho '^Suite \*suite_[a-z0-9_]*(void)$$' $(UNIT_SRCS) | \
	    sed 's/^Suite \*\(suite_[a-z0-9_]*\)(void)/SUITE(\1)/' > $@.tmp && mv $@.tmp $@

$(B)/obj/tests/unit/runner.o: tests/unit/runner.c $(B)/tests/unit/suites.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -I$(B)/tests/unit $(CFLAGS) -MMD -MP -c $< -o $@

$(B)/tests/unit/check_libcommon: $(UNIT_OBJS) $(UNIT_SVC_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs check) $(LDLIBS)

# Suite constructors are declared by the generated runner, not by a header.
# Service headers are included by their path from the top ("svc-install/x.h").
$(UNIT_OBJS): CFLAGS += -Wno-missing-prototypes
$(UNIT_OBJS): CPPFLAGS += -I.
