// SQL functions over Dinamize contacts: dinamize_search, dinamize_contact_get/create/update/delete.
// Arguments are validated (core: dinamize_api, api_rows) before any request; every request goes
// through with_account_client (pg/accounts/sql_session.h).
#include <optional>
#include <string>
#include <vector>

#include "core/dinamize/api_rows.h"
#include "core/dinamize/api_validation.h"
#include "core/dinamize/dinamize_api.h"
#include "pg/accounts/sql_session.h"
#include "pg/cpp_boundary.h"
#include "pg/functions/sql_args.h"

namespace {

using V = SrfResult;  // V::text(...), V::json(...): the cell factories

constexpr long kMaxSearchPages = 100;  // all_pages; rows and bytes: dwu_crm.api_max_rows, api_max_bytes

// dwu_crm.dinamize_contact: contact_code, email, name, external_code, insert_date, date_rest,
// status, optout, spam, custom_fields, raw.
std::vector<SrfResult::Value> contact_values(const nlohmann::json& item) {
    const dwu::rows::ContactRow r = dwu::rows::contact_row(item);
    return {V::text(r.contact_code), V::text(r.email),         V::text(r.name),   V::text(r.external_code),
            V::text(r.insert_date),  V::text(r.date_rest),     V::text(r.status), V::boolean(r.optout),
            V::boolean(r.spam),      V::json(r.custom_fields), V::json(r.raw)};
}

long required_int(FunctionCallInfo fcinfo, int n, const char* name) {
    std::optional<long> v = dwu_int_arg(fcinfo, n);
    if (!v) throw SqlStateError(ERRCODE_NULL_VALUE_NOT_ALLOWED, std::string(name) + " must not be NULL");
    return *v;
}

// dinamize_search(list_code, filters, page, page_size, order_by, all_pages, status_contact, account)
Datum search(FunctionCallInfo fcinfo) {
    dwu::ContactQuery q;
    q.list_code = dwu_code_arg(fcinfo, 0, "list_code");
    q.search = dwu::rows::search_conditions(dwu_jsonb_arg(fcinfo, 1));
    q.page.page_number = required_int(fcinfo, 2, "page");
    q.page.page_size = required_int(fcinfo, 3, "page_size");
    q.order = dwu::rows::sort_keys(dwu_text_arg(fcinfo, 4).value_or(""));
    const bool all_pages = dwu_bool_arg(fcinfo, 5).value_or(false);
    q.status_contact = dwu::rows::status_contact(dwu_text_arg(fcinfo, 6).value_or(""));
    const std::optional<std::string> account = dwu_text_arg(fcinfo, 7);
    dwu::contact_search_request(q);  // everything checked before the account is even looked up

    std::vector<nlohmann::json> items;
    with_account_client(account, [&](dwu::DinamizeClient& client) {
        if (all_pages)
            items =
                dwu::search_all_contacts(client, q, kMaxSearchPages, dwu::OnPageLimit::Throw, sql_read_caps()).items;
        else
            items = dwu::search_contacts(client, q).items;
    });
    SrfResult out(fcinfo);
    for (const auto& item : items) out.add_row(contact_values(item));
    return (Datum)0;
}

// dinamize_contact_get(list_code, contact_code, account)
Datum get(FunctionCallInfo fcinfo) {
    const std::string list = dwu_code_arg(fcinfo, 0, "list_code");
    const std::string contact = dwu_code_arg(fcinfo, 1, "contact_code");
    const std::optional<std::string> account = dwu_text_arg(fcinfo, 2);
    nlohmann::json item;
    with_account_client(account, [&](dwu::DinamizeClient& client) { item = dwu::get_contact(client, list, contact); });
    return dwu_row_datum(fcinfo, contact_values(item));
}

dwu::Contact values_arg(FunctionCallInfo fcinfo, int n, const char* name) {
    nlohmann::json v = dwu_jsonb_arg(fcinfo, n);
    if (v.is_null()) throw SqlStateError(ERRCODE_NULL_VALUE_NOT_ALLOWED, std::string(name) + " must not be NULL");
    if (!v.is_object())
        throw SqlStateError(ERRCODE_INVALID_PARAMETER_VALUE, std::string(name) + " must be a JSON object",
                            "Keys: email, name, external_code, date_rest, custom_fields ({\"cmpN\": value}).");
    dwu::Contact values = dwu::contact_from_json(v);
    if (values.email) dwu::check::email(*values.email, "email");  // before the account is looked up
    if (values.date_rest && !values.date_rest->empty()) dwu::check::datetime(*values.date_rest, "date_rest");
    return values;
}

// dinamize_contact_create(list_code, contact, account) -> the new contact code
Datum create(FunctionCallInfo fcinfo) {
    const std::string list = dwu_code_arg(fcinfo, 0, "list_code");
    const dwu::Contact values = values_arg(fcinfo, 1, "contact");
    if (!values.email) throw SqlStateError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "contact needs an \"email\"");
    const std::optional<std::string> account = dwu_text_arg(fcinfo, 2);
    std::string code;
    with_account_client(account, [&](dwu::DinamizeClient& client) { code = dwu::add_contact(client, list, values); });
    Datum result = 0;
    pg_guarded([&] { result = dwu_text_datum(code); });
    return result;
}

// dinamize_contact_update(list_code, contact_code, changes, account)
Datum update(FunctionCallInfo fcinfo) {
    const std::string list = dwu_code_arg(fcinfo, 0, "list_code");
    const std::string contact = dwu_code_arg(fcinfo, 1, "contact_code");
    const dwu::Contact values = values_arg(fcinfo, 2, "changes");
    const std::optional<std::string> account = dwu_text_arg(fcinfo, 3);
    with_account_client(account,
                        [&](dwu::DinamizeClient& client) { dwu::update_contact(client, list, contact, values); });
    return (Datum)0;
}

// dinamize_contact_delete(list_code, contact_code, account)
Datum remove(FunctionCallInfo fcinfo) {
    const std::string list = dwu_code_arg(fcinfo, 0, "list_code");
    const std::string contact = dwu_code_arg(fcinfo, 1, "contact_code");
    const std::optional<std::string> account = dwu_text_arg(fcinfo, 2);
    with_account_client(account, [&](dwu::DinamizeClient& client) { dwu::delete_contact(client, list, contact); });
    return (Datum)0;
}

}  // namespace

DWU_SQL_FUNCTION(dwu_crm_dinamize_search, search)
DWU_SQL_FUNCTION(dwu_crm_dinamize_contact_get, get)
DWU_SQL_FUNCTION(dwu_crm_dinamize_contact_create, create)
DWU_SQL_FUNCTION(dwu_crm_dinamize_contact_update, update)
DWU_SQL_FUNCTION(dwu_crm_dinamize_contact_delete, remove)
