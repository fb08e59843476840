/* SPDX-License-Identifier: MIT */
/* The read side of urcu-memb for rtab_bench (see flavour.h). */

/* Keep the generic rcu_* names mapped to this flavour after the include. */
#define URCU_API_MAP
#include <urcu/urcu-memb.h>

#define PERF_FLAVOUR_NAME "memb"
#define PERF_FLAVOUR_SYM perf_flavour_memb
#include "flavour_impl.h"
