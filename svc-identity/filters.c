/* List filters (filters.h). Bounds are clamped to the timestamps PostgreSQL
 * and the API can hold, 0 to CM_TIMESTAMP_MAX, so that no client value
 * overflows an addition here or to_timestamp() there. */
#include <stdio.h>

#include "filters.h"
#include "cm/banned.h"

int idn_created_bounds(const struct cm_range *r, char from[24], char to[24])
{
    long long lo = 0, hi = CM_TIMESTAMP_MAX + 1; /* [lo, hi) */
    int has_lo = 0, has_hi = 0;

#define RAISE(v)                                                                                   \
    do {                                                                                           \
        long long v_ = (v);                                                                        \
        if (v_ > lo)                                                                               \
            lo = v_;                                                                               \
        has_lo = 1;                                                                                \
    } while (0)
#define LOWER(v)                                                                                   \
    do {                                                                                           \
        long long v_ = (v);                                                                        \
        if (v_ < hi)                                                                               \
            hi = v_;                                                                               \
        has_hi = 1;                                                                                \
    } while (0)
    /* Clamp before adding one: every value is inside [-1, CM_TIMESTAMP_MAX + 1]. */
#define CLAMP(v) ((v) < -1 ? -1 : (v) > CM_TIMESTAMP_MAX ? CM_TIMESTAMP_MAX + 1 : (v))
    if (r->has_eq) {
        RAISE(CLAMP(r->eq));
        LOWER(CLAMP(r->eq) + 1);
    }
    if (r->has_gt)
        RAISE(CLAMP(r->gt) + 1);
    if (r->has_gte)
        RAISE(CLAMP(r->gte));
    if (r->has_lt)
        LOWER(CLAMP(r->lt));
    if (r->has_lte)
        LOWER(CLAMP(r->lte) + 1);
#undef RAISE
#undef LOWER
#undef CLAMP
    from[0] = to[0] = '\0';
    if (lo >= hi || lo > CM_TIMESTAMP_MAX || hi <= 0)
        return -1;
    if (has_lo && lo > 0)
        snprintf(from, 24, "%lld", lo);
    if (has_hi && hi <= CM_TIMESTAMP_MAX)
        snprintf(to, 24, "%lld", hi);
    return 0;
}
