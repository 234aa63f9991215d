# svc-install: its own sources, linked against libcommon.a.
SVC_INSTALL_SRCS := $(sort $(wildcard svc-install/*.c))
SVC_INSTALL_OBJS := $(SVC_INSTALL_SRCS:%.c=$(B)/obj/%.o)
OBJS += $(SVC_INSTALL_OBJS)
BINS += $(B)/svc-install

$(B)/svc-install: $(SVC_INSTALL_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
