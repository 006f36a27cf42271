/* Shared by the two halves of the result checks (bands.c, claims.c). */
#ifndef HYBENCH_CHECK_INTERNAL_H
#define HYBENCH_CHECK_INTERNAL_H

#include "hybench/tsv.h"

/* The companion sd column of `column` (t_cross_mean -> t_cross_sd,
 * far_acc -> far_acc_sd), or -1. */
int check_companion_sd_col(const HbTsv *t, const char *column);

#endif
