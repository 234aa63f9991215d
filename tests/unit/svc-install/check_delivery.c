/* svc-install's webhook pieces that need no database: the retry schedule,
 * the delivery worker's configuration, the events list filters (created
 * bounds, type patterns), the endpoint name tables and the URL check. */
#include <check.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "svc-install/delivery.h"
#include "svc-install/delivery_backoff.h"
#include "svc-install/webhook_events.h"
#include "svc-install/webhook_names.h"
#include "svc-install/webhook_url.h"
#include "cm/banned.h"

static const struct {
    long base;
    int attempt;
    long want;
} backoff_cases[] = {
    {60, 1, 60},      {60, 2, 120},        {60, 3, 240},
    {60, 6, 1920},    {60, 7, 3600},       {60, 8, 3600},
    {60, 1000, 3600}, {60, INT_MAX, 3600}, {1, 1, 1},
    {1, 2, 2},        {1, 3, 4},           {1, 12, 2048},
    {1, 13, 3600},    {7200, 1, 7200},     {7200, 9, 7200},
    {0, 1, 1},        {-5, 3, 4},          {60, 0, 60},
    {60, -3, 60},     {3599, 2, 3600},     {LONG_MAX, 2, LONG_MAX},
};

START_TEST(test_backoff)
{
    ck_assert_msg(inst_delivery_backoff(backoff_cases[_i].base, backoff_cases[_i].attempt) ==
                      backoff_cases[_i].want,
                  "base %ld attempt %d: got %ld, want %ld", backoff_cases[_i].base,
                  backoff_cases[_i].attempt,
                  inst_delivery_backoff(backoff_cases[_i].base, backoff_cases[_i].attempt),
                  backoff_cases[_i].want);
}
END_TEST

static const struct {
    long long created, now;
    int attempt;
    long base, window;
    int want;
    long long next;
} retry_cases[] = {
    {1000, 1000, 1, 60, 259200, 1, 1060},
    {1000, 1100, 3, 60, 259200, 1, 1340},
    {0, 259140, 1, 60, 259200, 1, 259200}, /* exactly at the window's end */
    {0, 259141, 1, 60, 259200, 0, 0},      /* one second past it */
    {0, 0, 1, 60, 0, 0, 0},                /* no window: the first failure is final */
    {0, 0, 1, 1, 3, 1, 1},
    {0, 1, 2, 1, 3, 1, 3},
    {0, 3, 3, 1, 3, 0, 0}, /* 1, 2, 4: the third retry falls outside 3 s */
};

START_TEST(test_retry_at)
{
    long long next = -7;
    int got = inst_delivery_retry_at(retry_cases[_i].created, retry_cases[_i].now,
                                     retry_cases[_i].attempt, retry_cases[_i].base,
                                     retry_cases[_i].window, &next);

    ck_assert_int_eq(got, retry_cases[_i].want);
    if (got)
        ck_assert_int_eq(next, retry_cases[_i].next);
    else
        ck_assert_int_eq(next, -7); /* untouched */
}
END_TEST

static const char *const config_vars[] = {
    "INST_DELIVERY",
    "INST_WEBHOOK_RETRY_BASE",
    "INST_WEBHOOK_RETRY_WINDOW_LIVE",
    "INST_WEBHOOK_RETRY_WINDOW_TEST",
    "INST_WEBHOOK_TIMEOUT",
    "INST_WEBHOOK_BATCH",
};

static void clear_env(void)
{
    for (size_t i = 0; i < sizeof(config_vars) / sizeof(config_vars[0]); i++)
        unsetenv(config_vars[i]);
}

START_TEST(test_config_defaults)
{
    struct inst_delivery_cfg c;
    struct cm_err err = {0};

    clear_env();
    memset(&c, 0xab, sizeof(c));
    ck_assert_int_eq(inst_delivery_config(&c, &err), 0);
    ck_assert_int_eq(c.enabled, 1);
    ck_assert_int_eq(c.retry_base_seconds, 60);
    ck_assert_int_eq(c.retry_window_live, 3 * 86400);
    ck_assert_int_eq(c.retry_window_test, 3 * 86400);
    ck_assert_int_eq(c.timeout_seconds, 10);
    ck_assert_int_eq(c.batch, 16);
}
END_TEST

START_TEST(test_config_set)
{
    struct inst_delivery_cfg c;
    struct cm_err err = {0};

    clear_env();
    setenv("INST_DELIVERY", "0", 1);
    setenv("INST_WEBHOOK_RETRY_BASE", "1", 1);
    setenv("INST_WEBHOOK_RETRY_WINDOW_LIVE", "600", 1);
    setenv("INST_WEBHOOK_RETRY_WINDOW_TEST", "0", 1);
    setenv("INST_WEBHOOK_TIMEOUT", "300", 1);
    setenv("INST_WEBHOOK_BATCH", "256", 1);
    ck_assert_int_eq(inst_delivery_config(&c, &err), 0);
    ck_assert_int_eq(c.enabled, 0);
    ck_assert_int_eq(c.retry_base_seconds, 1);
    ck_assert_int_eq(c.retry_window_live, 600);
    ck_assert_int_eq(c.retry_window_test, 0);
    ck_assert_int_eq(c.timeout_seconds, 300);
    ck_assert_int_eq(c.batch, 256);
    clear_env();
}
END_TEST

static const struct {
    const char *var, *value;
} bad_config[] = {
    {"INST_DELIVERY", "2"},
    {"INST_DELIVERY", "yes"},
    {"INST_DELIVERY", ""},
    {"INST_WEBHOOK_RETRY_BASE", "0"},
    {"INST_WEBHOOK_RETRY_BASE", "-1"},
    {"INST_WEBHOOK_RETRY_BASE", "86401"},
    {"INST_WEBHOOK_RETRY_BASE", "1s"},
    {"INST_WEBHOOK_RETRY_BASE", " 1"},
    {"INST_WEBHOOK_RETRY_BASE", "+1"},
    {"INST_WEBHOOK_RETRY_BASE", "99999999999999999999999"},
    {"INST_WEBHOOK_RETRY_WINDOW_LIVE", "2592001"},
    {"INST_WEBHOOK_RETRY_WINDOW_TEST", "-5"},
    {"INST_WEBHOOK_TIMEOUT", "0"},
    {"INST_WEBHOOK_TIMEOUT", "301"},
    {"INST_WEBHOOK_BATCH", "0"},
    {"INST_WEBHOOK_BATCH", "257"},
};

START_TEST(test_config_rejects)
{
    struct inst_delivery_cfg c;
    struct cm_err err = {0};

    clear_env();
    setenv(bad_config[_i].var, bad_config[_i].value, 1);
    ck_assert_int_eq(inst_delivery_config(&c, &err), -1);
    ck_assert_int_eq(err.status, 500);
    ck_assert_msg(strstr(err.detail, bad_config[_i].var) != NULL, "detail '%s' names no %s",
                  err.detail, bad_config[_i].var);
    clear_env();
}
END_TEST

#define END (CM_TIMESTAMP_MAX + 1)

static const struct {
    struct cm_range r;
    int has_lo, has_hi;
    long long lo, hi;
} bounds_cases[] = {
    {{0}, 0, 0, 0, END},
    {{.has_eq = 1, .eq = 100}, 1, 1, 100, 101},
    {{.has_gt = 1, .gt = 100}, 1, 0, 101, END},
    {{.has_gte = 1, .gte = 100}, 1, 0, 100, END},
    {{.has_lt = 1, .lt = 100}, 0, 1, 0, 100},
    {{.has_lte = 1, .lte = 100}, 0, 1, 0, 101},
    {{.has_gt = 1, .gt = 100, .has_gte = 1, .gte = 50}, 1, 0, 101, END}, /* tightest wins */
    {{.has_gt = 1, .gt = 10, .has_gte = 1, .gte = 50}, 1, 0, 50, END},
    {{.has_lt = 1, .lt = 10, .has_lte = 1, .lte = 50}, 0, 1, 0, 10},
    {{.has_gte = 1, .gte = 10, .has_lt = 1, .lt = 20}, 1, 1, 10, 20},
    {{.has_gte = 1, .gte = 20, .has_lt = 1, .lt = 10}, 1, 1, 20, 20}, /* empty */
    {{.has_gt = 1, .gt = -50}, 0, 0, 0, END},                         /* before 1970 */
    {{.has_lt = 1, .lt = -50}, 1, 1, 0, 0},                           /* empty */
    {{.has_gt = 1, .gt = LLONG_MAX}, 1, 1, END, END},                 /* empty */
    {{.has_lte = 1, .lte = LLONG_MAX}, 0, 0, 0, END},                 /* no bound */
    {{.has_eq = 1, .eq = LLONG_MIN}, 1, 1, 0, 0},                     /* empty */
    {{.has_eq = 1, .eq = CM_TIMESTAMP_MAX}, 1, 0, CM_TIMESTAMP_MAX, END},
};

START_TEST(test_created_bounds)
{
    struct inst_created_bounds b;

    memset(&b, 0x5a, sizeof(b));
    inst_events_created_bounds(&bounds_cases[_i].r, &b);
    ck_assert_int_eq(b.has_lo, bounds_cases[_i].has_lo);
    ck_assert_int_eq(b.has_hi, bounds_cases[_i].has_hi);
    if (b.has_lo)
        ck_assert_int_eq(b.lo, bounds_cases[_i].lo);
    if (b.has_hi)
        ck_assert_int_eq(b.hi, bounds_cases[_i].hi);
}
END_TEST

static const struct {
    const char *type;
    int want;
    const char *like;
} type_cases[] = {
    {"account.application.authorized", 0, NULL},
    {"account.application.*", 1, "account.application.%"},
    {"*", 1, "%"},
    {"identity.*.redacted", 1, "identity.%.redacted"},
    {"identity.verification_session.*", 1, "identity.verification\\_session.%"},
    {"a_b*", 1, "a\\_b%"},
    {"", -1, NULL},
    {"Account.updated", -1, NULL},
    {"account updated", -1, NULL},
    {"account.%", -1, NULL},
    {"account.\\*", -1, NULL},
    {"account,updated", -1, NULL},
};

START_TEST(test_type_like)
{
    char out[2 * INST_EVENT_TYPE_MAX + 1] = "untouched";

    ck_assert_int_eq(inst_events_type_like(type_cases[_i].type, out, sizeof(out)),
                     type_cases[_i].want);
    if (type_cases[_i].want == 1)
        ck_assert_str_eq(out, type_cases[_i].like);
    else
        ck_assert_str_eq(out, "untouched");
}
END_TEST

START_TEST(test_type_like_limits)
{
    char type[INST_EVENT_TYPE_MAX + 2], out[2 * INST_EVENT_TYPE_MAX + 1], small[4];

    memset(type, '_', INST_EVENT_TYPE_MAX - 1);
    type[INST_EVENT_TYPE_MAX - 1] = '*';
    type[INST_EVENT_TYPE_MAX] = '\0';
    /* The longest accepted pattern, every character escaped, fits. */
    ck_assert_int_eq(inst_events_type_like(type, out, sizeof(out)), 1);
    ck_assert_uint_eq(strlen(out), 2 * (INST_EVENT_TYPE_MAX - 1) + 1);
    ck_assert_int_eq(inst_events_type_like(type, small, sizeof(small)), -1);
    type[INST_EVENT_TYPE_MAX] = '*';
    type[INST_EVENT_TYPE_MAX + 1] = '\0';
    ck_assert_int_eq(inst_events_type_like(type, out, sizeof(out)), -1);
}
END_TEST

static void assert_sorted(const char *const *t, size_t n)
{
    for (size_t i = 1; i < n; i++)
        ck_assert_msg(strcmp(t[i - 1], t[i]) < 0, "'%s' before '%s'", t[i - 1], t[i]);
}

START_TEST(test_names)
{
    size_t n = 0;
    const char *const *t = inst_webhook_event_types(&n);

    ck_assert_uint_eq(n, 266);
    assert_sorted(t, n);
    for (size_t i = 0; i < n; i++)
        ck_assert(inst_webhook_event_known(t[i]));
    t = inst_webhook_api_versions(&n);
    ck_assert_uint_eq(n, 126);
    assert_sorted(t, n);
    ck_assert(inst_webhook_event_known("*"));
    ck_assert(inst_webhook_event_known("account.application.authorized"));
    ck_assert(inst_webhook_event_known("account.application.deauthorized"));
    ck_assert(inst_webhook_event_known("identity.verification_session.redacted"));
    ck_assert(!inst_webhook_event_known("account.application.*"));
    ck_assert(!inst_webhook_event_known("account.application.authorize"));
    ck_assert(!inst_webhook_event_known(""));
    ck_assert(!inst_webhook_event_known(NULL));
    ck_assert(inst_webhook_api_version_known("2011-01-01"));
    ck_assert(inst_webhook_api_version_known("2026-07-29.dahlia"));
    ck_assert(!inst_webhook_api_version_known("2026-07-30.dahlia"));
    ck_assert(!inst_webhook_api_version_known("latest"));
    ck_assert(inst_webhook_event_explicit_only("identity.verification_session.redacted"));
    ck_assert(!inst_webhook_event_explicit_only("identity.verification_session.verified"));
    ck_assert(!inst_webhook_event_explicit_only("*"));
}
END_TEST

static const struct {
    const char *url;
    int livemode, want;
} url_cases[] = {
    {"https://example.com/hook", 1, 0},
    {"https://example.com/hook", 0, 0},
    {"HTTPS://Example.COM:8443/a/b?c=d", 1, 0},
    {"https://user:pass@example.com/hook", 1, 0},
    {"http://127.0.0.1:8090/hook", 0, 0},
    {"http://127.0.0.1:8090/hook", 1, -1}, /* live mode: https only */
    {"http://example.com/hook", 1, -1},
    {"ftp://example.com/hook", 0, -1},
    {"file:///etc/passwd", 0, -1},
    {"gopher://example.com/", 0, -1},
    {"example.com/hook", 0, -1},
    {"/hook", 0, -1},
    {"https://", 0, -1},
    {"https:///path", 0, -1},
    {"https://exa mple.com/", 0, -1},
    {"https://example.com/\x01", 0, -1},
    {"https://example.com/ ", 0, -1},
    {"", 0, -1},
    {"javascript:alert(1)", 0, -1},
};

START_TEST(test_url_check)
{
    struct cm_err err = {0};

    ck_assert_msg(inst_webhook_url_check(url_cases[_i].url, url_cases[_i].livemode, &err) ==
                      url_cases[_i].want,
                  "%s (live %d)", url_cases[_i].url, url_cases[_i].livemode);
    if (url_cases[_i].want < 0) {
        ck_assert_int_eq(err.status, 400);
        ck_assert_str_eq(err.param, "url");
        ck_assert_str_eq(err.code, "url_invalid");
    }
}
END_TEST

START_TEST(test_url_too_long)
{
    struct cm_err err = {0};
    char url[INST_WEBHOOK_URL_MAX + 2];
    size_t n = strlen("https://example.com/");

    memcpy(url, "https://example.com/", n);
    memset(url + n, 'a', sizeof(url) - n - 1);
    url[INST_WEBHOOK_URL_MAX] = '\0';
    ck_assert_int_eq(inst_webhook_url_check(url, 1, &err), 0);
    url[INST_WEBHOOK_URL_MAX] = 'a';
    url[INST_WEBHOOK_URL_MAX + 1] = '\0';
    ck_assert_int_eq(inst_webhook_url_check(url, 1, &err), -1);
    ck_assert_str_eq(err.param, "url");
}
END_TEST

#define NCASES(a) (int)(sizeof(a) / sizeof((a)[0]))

Suite *suite_delivery(void)
{
    Suite *s = suite_create("delivery");
    TCase *t = tcase_create("delivery");

    tcase_add_loop_test(t, test_backoff, 0, NCASES(backoff_cases));
    tcase_add_loop_test(t, test_retry_at, 0, NCASES(retry_cases));
    tcase_add_test(t, test_config_defaults);
    tcase_add_test(t, test_config_set);
    tcase_add_loop_test(t, test_config_rejects, 0, NCASES(bad_config));
    tcase_add_loop_test(t, test_created_bounds, 0, NCASES(bounds_cases));
    tcase_add_loop_test(t, test_type_like, 0, NCASES(type_cases));
    tcase_add_test(t, test_type_like_limits);
    tcase_add_test(t, test_names);
    tcase_add_loop_test(t, test_url_check, 0, NCASES(url_cases));
    tcase_add_test(t, test_url_too_long);
    suite_add_tcase(s, t);
    return s;
}
