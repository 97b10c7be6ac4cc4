// dwu_crm.library_version(): the version this library was built as, so that a DBA (and the
// regression test) can see it agrees with the installed SQL (pg_extension.extversion).
#include "core/version.h"
#include "pg/cpp_boundary.h"

namespace {

Datum library_version(FunctionCallInfo) {
    Datum version = 0;
    pg_guarded([&] { version = PointerGetDatum(cstring_to_text(DWU_CRM_VERSION)); });
    return version;
}

}  // namespace

DWU_SQL_FUNCTION(dwu_crm_library_version, library_version)
