// The core is PostgreSQL-free: it is built and unit-tested without PostgreSQL, and it may throw.
// Including a core header after a PostgreSQL header (whose macros break C++ headers) is a bug.
// Every core header includes this file first, and it has no include guard on purpose: the check
// runs at the first inclusion of each core header, which is where its C++ would meet the macros.
#ifdef PG_VERSION_NUM
#error "src/core must not see PostgreSQL headers; include core headers before pg/pg_headers.h"
#endif
