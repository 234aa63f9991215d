/* Backoff arithmetic for webhook retries. Doubling stops at the cap, so no
 * shift ever reaches the width of a long, whatever the attempt count. */
#include "delivery_backoff.h"
#include "cm/banned.h"

long inst_delivery_backoff(long base, int attempt)
{
    long cap, delay;

    if (base < 1)
        base = 1;
    if (attempt < 1)
        attempt = 1;
    cap = base > INST_DELIVERY_BACKOFF_CAP ? base : INST_DELIVERY_BACKOFF_CAP;
    delay = base;
    for (int i = 1; i < attempt && delay < cap; i++)
        delay = delay > cap / 2 ? cap : delay * 2;
    return delay < cap ? delay : cap;
}

int inst_delivery_retry_at(long long created, long long now, int attempt, long base, long window,
                           long long *next)
{
    long long at = now + inst_delivery_backoff(base, attempt);

    if (at > created + window)
        return 0;
    *next = at;
    return 1;
}
