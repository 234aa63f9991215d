/* The list filters the sessions and reports APIs share. */
#ifndef IDN_FILTERS_H
#define IDN_FILTERS_H

#include "cm/params.h"

/* Turns a created filter (cm_param_range()) into half-open Unix-second
 * bounds [from, to) over the stored timestamps, as decimal strings: "" where
 * there is no bound. Whole seconds are what the API shows, so created[gt]=t
 * starts at t + 1 and created[lte]=t ends before t + 1. Returns 0, or -1
 * when no timestamp can match (the list is then empty without asking the
 * database). */
int idn_created_bounds(const struct cm_range *r, char from[24], char to[24]);

#endif
