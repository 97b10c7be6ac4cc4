// Module entry: GUCs, shared memory, and the launcher worker (only with shared_preload_libraries).
#include "core/version.h"
#include "pg/cpp_boundary.h"
#include "pg/worker/launcher.h"
#include "pg/pg_headers.h"
#include "pg/settings.h"
#include "pg/shared_state.h"

namespace {

void init_module() {
    const bool preloading = process_shared_preload_libraries_in_progress;
    dwu_define_settings(preloading);
    if (!preloading) {
        // SQL functions work; the worker does not. Say so once, where the DBA will look.
        ereport(LOG, (errmsg("dwu_crm loaded without shared_preload_libraries: no background worker will sync "
                             "leads"),
                      errhint("Add dwu_crm to shared_preload_libraries in postgresql.conf and restart.")));
        return;
    }
    dwu_install_shmem_hooks();
    if (IsBinaryUpgrade) {
        // pg_upgrade's server: it copies the catalog and must find no worker touching the data.
        ereport(LOG, (errmsg("dwu_crm: binary upgrade in progress, no background worker started")));
        return;
    }
    dwu_register_launcher();
}

}  // namespace

DWU_PG_INIT(init_module)
