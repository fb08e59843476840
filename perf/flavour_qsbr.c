/* SPDX-License-Identifier: MIT */
/* The read side of urcu-qsbr for rtab_bench (see flavour.h). */

/* Keep the generic rcu_* names mapped to this flavour after the include. */
#define URCU_API_MAP
#include <urcu/urcu-qsbr.h>

#define PERF_FLAVOUR_NAME "qsbr"
#define PERF_FLAVOUR_SYM perf_flavour_qsbr
#include "flavour_impl.h"
