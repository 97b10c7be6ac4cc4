#pragma once
#include "core/pg_free.h"
// Learns the codes Dinamize does not publish (../shared/dinamize-api.md §15) from the live API,
// with requests that change nothing: a made-up token (expired token), contact/get of a code that
// cannot exist (not found), an add with an invalid e-mail (invalid field), and an add of a contact
// already in the list with its own values (duplicate e-mail; nothing changes even if the API
// updates instead of refusing). A contact an add creates by surprise is deleted again. The
// duplicate field title is not probed: that would need a field created in the list.
#include <string>
#include <vector>

#include "core/dinamize/dinamize_client.h"
#include "core/dinamize/dinamize_errors.h"

namespace dwu {

struct ProbeFinding {
    CodeMeaning meaning;
    std::string code;  // what Dinamize answered; empty when nothing was learned
    std::string note;  // what happened, for the admin
};

// One finding per probed meaning, in a fixed order. Each request goes through the client (its
// rate-limit hook counts it). Throws Interrupted on a cancel; a failed probe is a finding, not an
// error. Two meanings answered with the same code are both dropped: the code tells them apart.
std::vector<ProbeFinding> probe_codes(DinamizeClient& client, const std::string& list_code);

}  // namespace dwu
