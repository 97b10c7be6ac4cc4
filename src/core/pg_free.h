#pragma once
// The core is PostgreSQL-free: it is built and unit-tested without PostgreSQL, and it may throw.
// Including a core header after a PostgreSQL header (whose macros break C++ headers) is a bug.
#ifdef PG_VERSION_NUM
#error "src/core must not see PostgreSQL headers; include core headers before pg/pg_headers.h"
#endif
