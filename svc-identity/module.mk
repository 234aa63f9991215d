# svc-identity: its own sources, linked against libcommon.a.
SVC_IDENTITY_SRCS := $(sort $(wildcard svc-identity/*.c))
SVC_IDENTITY_OBJS := $(SVC_IDENTITY_SRCS:%.c=$(B)/obj/%.o)
OBJS += $(SVC_IDENTITY_OBJS)
BINS += $(B)/svc-identity

$(B)/svc-identity: $(SVC_IDENTITY_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
