#pragma once
// The response codes in force for an account (dwu_crm.response_codes_of: its own rows over the
// rows for every account over the defaults), read by one StepRunner step (account_store.h), and
// the version of crm_response_codes that says when to read them again.
#include <string>
#include <vector>

#include "pg/accounts/account_store.h"

namespace dwu_accounts {

struct StoredCode {
    std::string code, meaning, category;
    bool retry = false, relogin = false, duplicate = false, not_found = false;
};

// (count, newest updated_at) of crm_response_codes as text: changes with every write to it.
bool load_codes_version(StepRunner run, std::string& version);
// The codes in force for `account_id`.
bool load_codes(StepRunner run, long long account_id, std::vector<StoredCode>& out);

}  // namespace dwu_accounts
