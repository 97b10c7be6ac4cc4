#include "pg/worker/extension_state.h"

#include "core/version.h"
#include "pg/pg_headers.h"
#include "pg/worker/transaction.h"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
}

namespace {

struct VersionArgs {
    bool found;
    char version[64];  // plain C: filled inside the transaction, read after it
};

void read_extversion_in_txn(void* p) {
    auto* a = static_cast<VersionArgs*>(p);
    Relation rel = table_open(ExtensionRelationId, AccessShareLock);
    ScanKeyData key;
    ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ, CStringGetDatum("dwu_crm"));
    SysScanDesc scan = systable_beginscan(rel, ExtensionNameIndexId, true, nullptr, 1, &key);
    HeapTuple tuple = systable_getnext(scan);
    if (HeapTupleIsValid(tuple)) {
        bool isnull = true;
        Datum v = heap_getattr(tuple, Anum_pg_extension_extversion, RelationGetDescr(rel), &isnull);
        a->found = true;
        if (!isnull) strlcpy(a->version, TextDatumGetCString(v), sizeof a->version);
    }
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
}

}  // namespace

ExtensionState dwu_extension_state(std::string& installed_version) {
    VersionArgs a{false, ""};
    if (!dwu_run_in_transaction("dwu_crm: checking for the extension", read_extversion_in_txn, &a) || !a.found)
        return ExtensionState::kMissing;
    installed_version = a.version;
    return installed_version == DWU_CRM_VERSION ? ExtensionState::kReady : ExtensionState::kOtherVersion;
}
