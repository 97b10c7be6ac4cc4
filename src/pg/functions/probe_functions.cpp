// dinamize_probe_requests(list_code, account): the harmless requests of dinamize_probe_codes()
// (core/dinamize/code_probe.h). What they teach is stored by the SQL wrapper, in the caller's
// transaction, so an admin who rolls back keeps nothing.
#include <optional>
#include <string>
#include <vector>

#include "core/dinamize/code_probe.h"
#include "pg/accounts/sql_session.h"
#include "pg/cpp_boundary.h"
#include "pg/functions/sql_args.h"

namespace {

using V = SrfResult;

// -> meaning, code (NULL when nothing was learned), note
Datum probe_requests(FunctionCallInfo fcinfo) {
    const std::string list = dwu_code_arg(fcinfo, 0, "list_code");
    const std::optional<std::string> account = dwu_text_arg(fcinfo, 1);
    std::vector<dwu::ProbeFinding> found;
    with_account_client(account, [&](dwu::DinamizeClient& client) { found = dwu::probe_codes(client, list); });
    SrfResult out(fcinfo);
    for (const auto& f : found)
        out.add_row({V::text(std::string(dwu::meaning_name(f.meaning))),
                     f.code.empty() ? V::text(std::nullopt) : V::text(f.code), V::text(f.note)});
    return (Datum)0;
}

}  // namespace

DWU_SQL_FUNCTION(dwu_crm_dinamize_probe_requests, probe_requests)
