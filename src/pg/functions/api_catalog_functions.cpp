// SQL functions over Dinamize contact lists and custom fields: dinamize_lists, dinamize_fields,
// dinamize_field_values, dinamize_field_create, dinamize_field_update. The searches read every
// page (Dinamize reports no total, only body.next), within dwu_crm.api_max_rows and api_max_bytes.
#include <optional>
#include <string>
#include <vector>

#include "core/dinamize/api_rows.h"
#include "core/dinamize/dinamize_api.h"
#include "pg/accounts/sql_session.h"
#include "pg/cpp_boundary.h"
#include "pg/functions/sql_args.h"

namespace {

using V = SrfResult;  // V::text(...), V::json(...): the cell factories

constexpr long kCatalogPageSize = 1000;
constexpr long kCatalogMaxPages = 100;

// dinamize_lists(account) -> list_code, title, raw
Datum lists(FunctionCallInfo fcinfo) {
    const std::optional<std::string> account = dwu_text_arg(fcinfo, 0);
    std::vector<nlohmann::json> items;
    with_account_client(account, [&](dwu::DinamizeClient& client) {
        items = dwu::fetch_all_pages(
                    [&](long page) {
                        dwu::Query q;
                        q.page = {page, kCatalogPageSize};
                        return dwu::search_contact_lists(client, q);
                    },
                    kCatalogMaxPages, dwu::OnPageLimit::Throw, sql_read_caps())
                    .items;
    });
    SrfResult out(fcinfo);
    for (const auto& item : items) {
        const dwu::rows::ListRow r = dwu::rows::list_row(item);
        out.add_row({V::text(r.list_code), V::text(r.title), V::json(r.raw)});
    }
    return (Datum)0;
}

// dinamize_fields(list_code, account) -> field_code, code_name, title, type, is_required,
// is_uniquevalue, is_searchable, raw
Datum fields(FunctionCallInfo fcinfo) {
    const std::string list = dwu_code_arg(fcinfo, 0, "list_code");
    const std::optional<std::string> account = dwu_text_arg(fcinfo, 1);
    std::vector<nlohmann::json> items;
    with_account_client(account, [&](dwu::DinamizeClient& client) {
        items = dwu::fetch_all_pages(
                    [&](long page) {
                        dwu::Query q;
                        q.page = {page, kCatalogPageSize};
                        return dwu::search_fields(client, list, q);
                    },
                    kCatalogMaxPages, dwu::OnPageLimit::Throw, sql_read_caps())
                    .items;
    });
    SrfResult out(fcinfo);
    for (const auto& item : items) {
        const dwu::rows::FieldRow r = dwu::rows::field_row(item);
        out.add_row({V::text(r.field_code), V::text(r.code_name), V::text(r.title), V::text(r.type),
                     V::boolean(r.is_required), V::boolean(r.is_uniquevalue), V::boolean(r.is_searchable),
                     V::json(r.raw)});
    }
    return (Datum)0;
}

// dinamize_field_values(list_code, field_code, account) -> value_code, value
Datum field_values(FunctionCallInfo fcinfo) {
    const std::string list = dwu_code_arg(fcinfo, 0, "list_code");
    const std::string field = dwu_code_arg(fcinfo, 1, "field_code");
    const std::optional<std::string> account = dwu_text_arg(fcinfo, 2);
    std::vector<nlohmann::json> items;
    with_account_client(account, [&](dwu::DinamizeClient& client) {
        items = dwu::fetch_all_pages(
                    [&](long page) {
                        return dwu::search_field_lov(client, list, field, {page, dwu::kMaxPageSize});
                    },
                    kCatalogMaxPages, dwu::OnPageLimit::Throw, sql_read_caps())
                    .items;
    });
    SrfResult out(fcinfo);
    for (const auto& item : items) {
        const dwu::rows::ValueRow r = dwu::rows::value_row(item);
        out.add_row({V::text(r.value_code), V::text(r.value)});
    }
    return (Datum)0;
}

bool required_bool(FunctionCallInfo fcinfo, int n, const char* name) {
    std::optional<bool> v = dwu_bool_arg(fcinfo, n);
    if (!v) throw SqlStateError(ERRCODE_NULL_VALUE_NOT_ALLOWED, std::string(name) + " must not be NULL");
    return *v;
}

// dinamize_field_create(list_code, title, type, is_required, is_uniquevalue, is_searchable,
// account) -> the new field code (N of cmpN)
Datum field_create(FunctionCallInfo fcinfo) {
    dwu::FieldDefinition f;
    f.list_code = dwu_code_arg(fcinfo, 0, "list_code");
    f.title = dwu_required_text(fcinfo, 1, "title");
    f.type = dwu_required_text(fcinfo, 2, "type");
    f.is_required = required_bool(fcinfo, 3, "is_required");
    f.is_uniquevalue = required_bool(fcinfo, 4, "is_uniquevalue");
    f.is_searchable = required_bool(fcinfo, 5, "is_searchable");
    const std::optional<std::string> account = dwu_text_arg(fcinfo, 6);
    std::string code;
    with_account_client(account, [&](dwu::DinamizeClient& client) { code = dwu::add_field(client, f); });
    Datum result = 0;
    pg_guarded([&] { result = dwu_text_datum(code); });
    return result;
}

// dinamize_field_update(list_code, field_code, title, is_uniquevalue, is_searchable, account):
// NULL keeps a setting.
Datum field_update(FunctionCallInfo fcinfo) {
    dwu::FieldChange c;
    c.list_code = dwu_code_arg(fcinfo, 0, "list_code");
    c.field_code = dwu_code_arg(fcinfo, 1, "field_code");
    c.title = dwu_text_arg(fcinfo, 2);
    c.is_uniquevalue = dwu_bool_arg(fcinfo, 3);
    c.is_searchable = dwu_bool_arg(fcinfo, 4);
    const std::optional<std::string> account = dwu_text_arg(fcinfo, 5);
    if (!c.title && !c.is_uniquevalue && !c.is_searchable)
        throw SqlStateError(ERRCODE_INVALID_PARAMETER_VALUE, "nothing to update",
                            "Give title, is_uniquevalue or is_searchable.");
    with_account_client(account, [&](dwu::DinamizeClient& client) { dwu::update_field(client, c); });
    return (Datum)0;
}

}  // namespace

DWU_SQL_FUNCTION(dwu_crm_dinamize_lists, lists)
DWU_SQL_FUNCTION(dwu_crm_dinamize_fields, fields)
DWU_SQL_FUNCTION(dwu_crm_dinamize_field_values, field_values)
DWU_SQL_FUNCTION(dwu_crm_dinamize_field_create, field_create)
DWU_SQL_FUNCTION(dwu_crm_dinamize_field_update, field_update)
