/* SPDX-License-Identifier: MIT */
/* The read side of urcu-mb for rtab_bench (see flavour.h). */

/* Keep the generic rcu_* names mapped to this flavour after the include. */
#define URCU_API_MAP
#include <urcu/urcu-mb.h>

#define PERF_FLAVOUR_NAME "mb"
#define PERF_FLAVOUR_SYM perf_flavour_mb
#include "flavour_impl.h"
