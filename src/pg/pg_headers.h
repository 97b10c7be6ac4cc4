#pragma once
// The one way the glue includes PostgreSQL: C linkage, and exported symbols visible although we
// build with -fvisibility=hidden (PostgreSQL 15 does not mark them itself).
// Include C++ and library headers BEFORE this file: PostgreSQL's macros (Max, ERROR, ...) break them.
#define PGDLLEXPORT __attribute__((visibility("default")))

extern "C" {
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "mb/pg_wchar.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

// Entry points (SQL functions, _PG_init, worker mains, callbacks) are declared only through the
// macros and dwu_c_callback of pg/cpp_boundary.h, which write the C shim and its boundary.
