# svc-secrets: its own sources, linked against libcommon.a.
SVC_SECRETS_SRCS := $(sort $(wildcard svc-secrets/*.c))
SVC_SECRETS_OBJS := $(SVC_SECRETS_SRCS:%.c=$(B)/obj/%.o)
OBJS += $(SVC_SECRETS_OBJS)
BINS += $(B)/svc-secrets

$(B)/svc-secrets: $(SVC_SECRETS_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
