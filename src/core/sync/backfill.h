#pragma once
#include "core/pg_free.h"
// Backfills past the rate limit: many new leads of one list sent as ONE bulk import (reference
// §6) instead of one contact/add each, then the contact codes mapped back by reading the list
// (there is no "search these e-mails" call). At 60 requests a minute a 100k-lead backfill takes
// 28 hours one contact per request; through imports of 10k rows it takes a few dozen requests.
// Rows the import rejects, or that cannot be found afterwards, are handed back to be sent one by
// one, each with its own error. PostgreSQL-free.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/sync/contact_mapping.h"
#include "core/dinamize/dinamize_client.h"
#include "core/dinamize/dinamize_import.h"

namespace dwu {

struct BackfillItem {
    long long job_id = 0;
    Contact contact;
};

struct BackfillReport {
    std::string import_code;
    long long rejected_rows = 0;             // Dinamize's count (body.Errors)
    std::map<long long, std::string> codes;  // job id → contact code, for the imported rows
    std::vector<long long> send_one_by_one;  // job ids not imported (rejected, not found, array values)
    long requests = 0;                       // Dinamize requests this backfill made
};

struct BackfillOptions {
    long page_size = 10000;  // reading the list back (Dinamize's largest page)
    std::vector<long> poll_delays_ms{1000, 2000, 4000, 8000, 15000, 30000, 60000, 60000, 60000, 60000};
};

// Sleeps between status polls; returns false to stop (the caller is shutting down: Interrupted).
using BackfillSleep = std::function<bool(long ms)>;

// Imports `items` into `list_code`, waits for the import's report, reads the list and maps each
// item's e-mail to its contact code. Throws DinamizeError when the import itself fails (then no
// row is known to be in Dinamize), Interrupted when the sleep says stop.
BackfillReport backfill_contacts(DinamizeClient& client, const std::string& list_code,
                                 const std::vector<BackfillItem>& items, const BackfillSleep& sleep,
                                 const BackfillOptions& options = {});

// The import of `items` (what backfill_contacts uploads): e-mail, name, external code and every
// custom field any item has, as columns. Items with a multi-valued (array) custom field cannot go
// in a CSV cell: they are left out, to be sent one by one.
struct ImportBuild {
    ContactImport import;
    std::vector<long long> included;  // job ids, in row order
    std::vector<long long> left_out;
};
ImportBuild build_backfill_import(const std::string& list_code, const std::vector<BackfillItem>& items);

// Whether an import report is final. The reference only knows that the report carries Errors (the
// rejected rows); a report without it, or with a Status naming work in progress, is not final [I].
bool import_finished(const ImportStatus& status);

}  // namespace dwu
