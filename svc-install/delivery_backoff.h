/* When a failed webhook delivery is tried again: exponential backoff from a
 * configured base, capped, inside a retry window that starts when the
 * delivery was created (its event happened). Pure arithmetic. */
#ifndef INST_DELIVERY_BACKOFF_H
#define INST_DELIVERY_BACKOFF_H

/* No wait between attempts grows beyond an hour (unless the base does). */
#define INST_DELIVERY_BACKOFF_CAP 3600L

/* Seconds to wait after the attempt-th failure (attempt counts from 1):
 * base * 2^(attempt - 1), at most the larger of INST_DELIVERY_BACKOFF_CAP
 * and base. base < 1 counts as 1 and attempt < 1 as 1; never overflows. */
long inst_delivery_backoff(long base, int attempt);

/* After the attempt-th failure at `now` of a delivery created at `created`
 * (Unix seconds), with a retry window of `window` seconds: returns 1 and sets
 * *next to now + the backoff when that is still inside the window
 * (next <= created + window), else 0: the delivery has failed for good. */
int inst_delivery_retry_at(long long created, long long now, int attempt, long base, long window,
                           long long *next);

#endif
