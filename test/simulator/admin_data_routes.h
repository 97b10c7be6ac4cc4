// Test-only endpoints under /__sim/ that act "from the Dinamize side" (registered by
// register_admin_routes): plain JSON, no envelope, no auth, never faulted, counted or logged.
// Bodies are JSON objects; client_code must be a configured account and list a numeric code.
// Bad input or an unknown contact/field -> HTTP 400 {"error": message[, "code": invented code]}.
//
//   POST /__sim/lists {client_code, code, title}            creates or renames a list
//                                                           -> {"code", "title"}
//   POST /__sim/fields {client_code, list, title[, type, code, is_required, is_uniquevalue,
//                      is_searchable]}                      -> {"code"}
//   POST /__sim/field-lov {client_code, list, field_code, value[, code]}   -> {"code"}
//   POST /__sim/contact-update {client_code, list, contact_code | email, any of email, name,
//                      external_code, date_rest, custom_fields (merged), status ("V"|"I")}
//                                                           -> {"contact": item}
//   POST /__sim/contact-delete {client_code, list, contact_code}   removes the contact
//                                                           -> {"deleted": code}
//   POST /__sim/optout {client_code, list, contact_code | email[, origin (default "U";
//                      "D" = spam complaint), request_date (default now)]}
//       The contact is opted out (optout = true; origin "D" also spam = true), an opt-out record
//       is added (optout-email/search) and a history event: Kind 7, or 9 for origin "D".
//                                                           -> {"optout": item, "event": item}
//   POST /__sim/event {client_code, list, contact_code | email, kind (4-9 or 13)[, time (default
//                      now), action_code (GenericInfo), info2 (GenericInfo2)]}
//       Records a contact history event. Kind 7 and 9 act as /__sim/optout with origin "U" and
//       "D"; Kind 8/13 with info2 DE or CE (hard bounce) marks the e-mail invalid (status "I").
//                                                           -> {"event": item[, "optout": item]}
#pragma once

#include "sim_context.h"

#include <httplib.h>

namespace sim {

void register_admin_data_routes(httplib::Server& server, SimContext& ctx);

// What POST /__sim/reset does to the stores above: back to the seeded lists, nothing else.
void reset_admin_data(SimContext& ctx);

}  // namespace sim
