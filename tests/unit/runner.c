/* The Check runner for libcommon: every suite_<mod>() found by the Makefile
 * in tests/unit/libcommon/check_*.c runs here. Suites that need PostgreSQL
 * read the standard libpq environment (tests/run.sh provides a scratch
 * cluster). Exit status is non-zero when any test failed. */
#include <check.h>
#include <stdlib.h>

#define SUITE(name) Suite *name(void);
#include "suites.h"
#undef SUITE

int main(void)
{
    SRunner *sr = srunner_create(NULL);
    int failed;

#define SUITE(name) srunner_add_suite(sr, name());
#include "suites.h"
#undef SUITE

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
