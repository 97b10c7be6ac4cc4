// capture_row_change(): the AFTER ROW trigger on crm_leads, crm_contacts and crm_opportunities.
// It appends one row to crm_captured_changes, the table the worker empties into crm_sync_queue
// and crm_audit_log (move_captured_changes in the SQL script). In C, with a direct heap insert:
// it runs for every row an application writes, and the same work through a plpgsql trigger
// (function call with SET search_path, SECURITY DEFINER, an SPI INSERT per statement) cost the
// application a fifth of its insert rate even when it wrote nothing. crm_captured_changes has
// no index, constraint beyond NOT NULL or trigger, so a heap insert is all an INSERT would do; it
// is WAL-logged and transactional like any other (it commits or rolls back with the write).
#include "core/version.h"
#include "pg/cpp_boundary.h"
#include "pg/capture/capture_context.h"
#include "pg/pg_headers.h"
#include "pg/pull_settings.h"
#include "pg/settings.h"
#include "pg/shared_state.h"

extern "C" {
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "commands/trigger.h"
#include "nodes/makefuncs.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
}

namespace {

// The crm_captured_changes columns this library fills (the SQL script defines the table).
enum LogColumn {
    kSeq,
    kEntityType,
    kEntityId,
    kAction,
    kBefore,
    kAfter,
    kSync,
    kAudit,
    kDue,
    kUpdateDelay,
    kUserId,
    kDbUser,
    kIpAddress,
    kUserAgent,
    kCreatedAt,
    kLogColumns
};

struct LogColumnSpec {
    const char* name;
    Oid type;
    bool required;  // the worker cannot move a captured row without it
};
const LogColumnSpec kLogColumnSpecs[kLogColumns] = {
    {"dwu_seq", INT8OID, true},           {"dwu_entity_type", VARCHAROID, true},
    {"dwu_entity_id", INT8OID, true},     {"dwu_action", VARCHAROID, true},
    {"dwu_before", JSONBOID, false},      {"dwu_after", JSONBOID, false},
    {"dwu_sync", BOOLOID, true},          {"dwu_audit", BOOLOID, true},
    {"dwu_due", TIMESTAMPTZOID, false},   {"dwu_update_delay", INTERVALOID, false},
    {"dwu_user_id", INT8OID, false},      {"dwu_db_user", TEXTOID, false},
    {"dwu_ip_address", INETOID, false},   {"dwu_user_agent", TEXTOID, false},
    {"created_at", TIMESTAMPTZOID, true},
};

// Where each column is in the table (-1: not there), found by name: between installing a new
// library and ALTER EXTENSION dwu_crm UPDATE the table may still be the previous version's, and
// the application's writes must go on. Columns it does not know get NULL, so one the library does
// not know and that is NOT NULL stops the capture with a clear error (a heap insert checks no
// constraint). Kept for the next rows until the relation cache drops the table's entry (any ALTER
// TABLE, its rollback included).
struct LogLayout {
    Oid relid = InvalidOid;  // InvalidOid: to be built
    int index[kLogColumns];
};
LogLayout log_layout;

void forget_layout(Datum, Oid relid) {
    if (relid == InvalidOid || relid == log_layout.relid) log_layout.relid = InvalidOid;
}

void layout_mismatch(const char* what) {
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("dwu_crm: crm_captured_changes %s, which this library cannot fill", what),
                    errdetail("This library is version %s.", DWU_CRM_VERSION),
                    errhint("The installed extension and the library are of different versions: run ALTER "
                            "EXTENSION dwu_crm UPDATE, or install the library that matches the extension.")));
}

void build_layout(LogLayout& layout, Relation log) {
    TupleDesc desc = RelationGetDescr(log);
    for (int c = 0; c < kLogColumns; c++) layout.index[c] = -1;
    for (int i = 0; i < desc->natts; i++) {
        Form_pg_attribute a = TupleDescAttr(desc, i);
        if (a->attisdropped) continue;
        int c = 0;
        while (c < kLogColumns && strcmp(NameStr(a->attname), kLogColumnSpecs[c].name) != 0) c++;
        if (c == kLogColumns) {
            if (a->attnotnull) layout_mismatch(psprintf("has a NOT NULL column \"%s\"", NameStr(a->attname)));
            continue;
        }
        if (a->atttypid != kLogColumnSpecs[c].type)
            layout_mismatch(psprintf("has column \"%s\" of type %s", NameStr(a->attname), format_type_be(a->atttypid)));
        layout.index[c] = i;
    }
    for (int c = 0; c < kLogColumns; c++)
        if (layout.index[c] < 0 && kLogColumnSpecs[c].required)
            layout_mismatch(psprintf("has no column \"%s\"", kLogColumnSpecs[c].name));
    layout.relid = RelationGetRelid(log);
}

// to_jsonb(record): it finds the type of its argument from the call expression, so it is called
// through an FmgrInfo whose expression says "a record"; the row datum carries its own row type.
Datum row_to_jsonb(HeapTuple tuple, TupleDesc desc) {
    static FmgrInfo to_jsonb_fn;
    static bool ready = false;
    if (!ready) {
        fmgr_info_cxt(F_TO_JSONB, &to_jsonb_fn, TopMemoryContext);
        MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
        to_jsonb_fn.fn_expr = reinterpret_cast<Node*>(makeFuncExpr(F_TO_JSONB, JSONBOID,
                                                                   list_make1(makeNullConst(RECORDOID, -1, InvalidOid)),
                                                                   InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL));
        MemoryContextSwitchTo(old);
        ready = true;
    }
    // Without the NULL fields: half the size, and this row is most of what a captured write adds
    // to the write-ahead log.
    return DirectFunctionCall1(jsonb_strip_nulls, FunctionCall1(&to_jsonb_fn, heap_copy_tuple_as_datum(tuple, desc)));
}

// The session user's name as text, looked up again only when the session user changes.
Datum session_user_name() {
    static Oid user = InvalidOid;
    static text* name = nullptr;
    const Oid now = GetSessionUserId();
    if (now != user || name == nullptr) {
        text* fresh = static_cast<text*>(MemoryContextAllocZero(TopMemoryContext, VARHDRSZ + NAMEDATALEN));
        const char* s = GetUserNameFromId(now, false);
        const int len = static_cast<int>(strnlen(s, NAMEDATALEN - 1));
        SET_VARSIZE(fresh, VARHDRSZ + len);
        memcpy(VARDATA(fresh), s, len);
        if (name) pfree(name);
        name = fresh;
        user = now;
    }
    return PointerGetDatum(name);
}

const char* entity_of(Relation rel) {
    const char* name = RelationGetRelationName(rel);
    if (strcmp(name, "crm_leads") == 0) return "lead";
    if (strcmp(name, "crm_contacts") == 0) return "contact";
    if (strcmp(name, "crm_opportunities") == 0) return "opportunity";
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("dwu_crm.capture_row_change() does not capture table \"%s\"", name),
                    errhint("It is the trigger of crm_leads, crm_contacts and crm_opportunities only.")));
    return nullptr;
}

Oid extension_relation(Oid schema, const char* name) {
    Oid rel = get_relname_relid(name, schema);
    if (!OidIsValid(rel))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("dwu_crm: relation \"%s\" is missing", name),
                        errhint("Reinstall the extension: DROP EXTENSION dwu_crm; CREATE EXTENSION dwu_crm.")));
    return rel;
}

}  // namespace

static Datum capture_row_change(FunctionCallInfo fcinfo) {
    if (!CALLED_AS_TRIGGER(fcinfo))
        ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                        errmsg("dwu_crm.capture_row_change() must be called as a trigger")));
    auto* td = reinterpret_cast<TriggerData*>(fcinfo->context);
    if (!TRIGGER_FIRED_AFTER(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event))
        ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                        errmsg("dwu_crm.capture_row_change() must be an AFTER ... FOR EACH ROW trigger")));
    Relation rel = td->tg_relation;
    const char* entity = entity_of(rel);
    const bool sync = dwu_capture_changes && strcmp(entity, "lead") == 0;
    const bool audit = dwu_audit_row_changes;
    if (!sync && !audit) return PointerGetDatum(nullptr);

    const bool is_insert = TRIGGER_FIRED_BY_INSERT(td->tg_event);
    const bool is_update = TRIGGER_FIRED_BY_UPDATE(td->tg_event);
    TupleDesc desc = RelationGetDescr(rel);
    HeapTuple row = td->tg_trigtuple;  // the new row of an INSERT, the old one otherwise
    const int id_attnum = SPI_fnumber(desc, "dwu_id");
    if (id_attnum <= 0) elog(ERROR, "dwu_crm: table \"%s\" has no dwu_id column", RelationGetRelationName(rel));

    Datum values[kLogColumns];
    bool nulls[kLogColumns];
    for (int i = 0; i < kLogColumns; i++) {
        values[i] = 0;
        nulls[i] = true;
    }
    auto put = [&](LogColumn c, Datum v) {
        values[c] = v;
        nulls[c] = false;
    };
    const Oid schema = RelationGetNamespace(rel);
    put(kSeq, Int64GetDatum(dwu_next_capture_seq()));
    put(kEntityType, CStringGetTextDatum(entity));
    bool id_null = false;
    put(kEntityId, heap_getattr(row, id_attnum, desc, &id_null));
    if (id_null) elog(ERROR, "dwu_crm: a captured row has no dwu_id");
    put(kAction, CStringGetTextDatum(is_insert ? "CREATE" : is_update ? "UPDATE" : "DELETE"));
    if (is_insert) {
        put(kAfter, row_to_jsonb(row, desc));
    } else {
        put(kBefore, row_to_jsonb(row, desc));
        if (is_update) put(kAfter, row_to_jsonb(td->tg_newtuple, desc));
    }
    put(kSync, BoolGetDatum(sync));
    put(kAudit, BoolGetDatum(audit));
    if (is_update) {
        // Quick successive edits of a lead wait together: see move_captured_changes.
        const int64 delay_us = static_cast<int64>(dwu_update_delay_ms) * 1000;
        put(kDue, TimestampTzGetDatum(GetCurrentTimestamp() + delay_us));
        auto* delay = static_cast<Interval*>(palloc0(sizeof(Interval)));
        delay->time = delay_us;
        put(kUpdateDelay, PointerGetDatum(delay));
    }
    int64 user_id = 0;
    Datum ip, agent;
    if (dwu_app_user_id_value(&user_id)) put(kUserId, Int64GetDatum(user_id));
    put(kDbUser, session_user_name());
    if (dwu_app_ip_value(&ip)) put(kIpAddress, ip);
    if (dwu_app_user_agent_value(&agent)) put(kUserAgent, agent);
    put(kCreatedAt, TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()));

    Relation log = table_open(extension_relation(schema, "crm_captured_changes"), RowExclusiveLock);
    static bool watching = false;
    if (!watching) {
        CacheRegisterRelcacheCallback(dwu_c_callback<forget_layout>, 0);
        watching = true;
    }
    LogLayout& layout = log_layout;
    if (layout.relid != RelationGetRelid(log)) build_layout(layout, log);
    const int natts = RelationGetDescr(log)->natts;
    auto* row_values = static_cast<Datum*>(palloc0(natts * sizeof(Datum)));
    auto* row_nulls = static_cast<bool*>(palloc(natts * sizeof(bool)));
    for (int i = 0; i < natts; i++) row_nulls[i] = true;
    for (int c = 0; c < kLogColumns; c++) {
        if (layout.index[c] < 0) continue;
        row_values[layout.index[c]] = values[c];
        row_nulls[layout.index[c]] = nulls[c];
    }
    HeapTuple tuple = heap_form_tuple(RelationGetDescr(log), row_values, row_nulls);
    simple_heap_insert(log, tuple);
    table_close(log, NoLock);
    dwu_wake_worker_at_commit();
    return PointerGetDatum(nullptr);
}

DWU_SQL_FUNCTION(dwu_crm_capture_row_change, capture_row_change)
