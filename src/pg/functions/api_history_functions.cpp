// SQL functions over what happened to contacts on the Dinamize side: dinamize_contact_history
// (sends, views, clicks, opt-outs, bounces, spam complaints; reference §5.6) and
// dinamize_optouts (§9). Both read every page, within dwu_crm.api_max_rows and api_max_bytes.
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

constexpr long kMaxPages = 100;

// dinamize_contact_history(list_code, date_start, date_end, kinds, external_code, account)
//   -> kind, kind_name, time, external_code, generic_info, generic_info2, raw
// Dinamize's history is per list and date window; external_code (our lead id, as the worker sends
// it) narrows it to one contact, here, after reading.
Datum history(FunctionCallInfo fcinfo) {
    dwu::HistoryQuery q;
    q.list_code = dwu_code_arg(fcinfo, 0, "list_code");
    q.date_start = dwu_text_arg(fcinfo, 1).value_or("");
    q.date_end = dwu_text_arg(fcinfo, 2).value_or("");
    if (std::optional<std::vector<long long>> kinds = dwu_int_array_arg(fcinfo, 3, "kinds"))
        for (long long k : *kinds) {
            if (k < 0 || k > 1000)
                throw std::invalid_argument("history kind " + std::to_string(k) +
                                            " is not one of 4, 5, 6, 7, 8, 9, 13");
            q.kinds.push_back(static_cast<int>(k));
        }
    const std::optional<std::string> external_code = dwu_text_arg(fcinfo, 4);
    const std::optional<std::string> account = dwu_text_arg(fcinfo, 5);
    q.page = {1, dwu::kMaxPageSize};

    std::vector<nlohmann::json> items;
    with_account_client(account, [&](dwu::DinamizeClient& client) {
        items = dwu::contact_history_all(client, q, kMaxPages, dwu::OnPageLimit::Throw, sql_read_caps()).items;
    });
    SrfResult out(fcinfo);
    for (const auto& item : items) {
        const dwu::rows::HistoryRow r = dwu::rows::history_row(item);
        if (external_code && r.external_code != external_code) continue;
        out.add_row({V::integer(r.kind), V::text(r.kind_name), V::text(r.time), V::text(r.external_code),
                     V::text(r.generic_info), V::text(r.generic_info2), V::json(r.raw)});
    }
    return (Datum)0;
}

// dinamize_optouts(list_code, since, account) -> email, contact_code, request_date, origin, raw
Datum optouts(FunctionCallInfo fcinfo) {
    const std::string list = dwu_code_arg(fcinfo, 0, "list_code");
    const std::optional<std::string> since = dwu_text_arg(fcinfo, 1);
    const std::optional<std::string> account = dwu_text_arg(fcinfo, 2);
    dwu::Query q;
    if (since) {
        dwu::check::datetime(*since, "since");
        q.search.push_back({"request_date", ">=", *since});
    }
    q.order = {{"request_date", "ASC"}};
    std::vector<nlohmann::json> items;
    with_account_client(account, [&](dwu::DinamizeClient& client) {
        items = dwu::fetch_all_pages(
                    [&](long page) {
                        dwu::Query p = q;
                        p.page = {page, dwu::kMaxPageSize};
                        return dwu::search_optouts(client, list, p);
                    },
                    kMaxPages, dwu::OnPageLimit::Throw, sql_read_caps())
                    .items;
    });
    SrfResult out(fcinfo);
    for (const auto& item : items) {
        // An item that is no object, or holds a NUL, is a classified error (VALIDATION), never a
        // failed jsonb cast.
        const dwu::rows::OptoutRow r = dwu::rows::optout_row(item);
        out.add_row(
            {V::text(r.email), V::text(r.contact_code), V::text(r.request_date), V::text(r.origin), V::json(r.raw)});
    }
    return (Datum)0;
}

}  // namespace

DWU_SQL_FUNCTION(dwu_crm_dinamize_contact_history, history)
DWU_SQL_FUNCTION(dwu_crm_dinamize_optouts, optouts)
