// Protocol endpoints for lists, custom fields, list-of-values, opt-outs and contact history
// (reference §5.6, §7, §9), registered by register_protocol_routes:
//   POST /emkt/contact-list/search   {page_number, page_size, search, order} -> items {code, title}
//   POST /emkt/field/search          {contact-list_code, ...paging/search/order} -> items {code,
//                                    code_name, title, type, is_required, is_uniquevalue, is_searchable}
//   POST /emkt/field/add             {contact-list_code, title, type, is_required, is_uniquevalue,
//                                    is_searchable} -> {code}
//   POST /emkt/field/update          {contact-list_code, field_code, title?, is_required?,
//                                    is_uniquevalue?, is_searchable?} -> {}
//   POST /emkt/field-lov/search      {contact-list_code, field_code, page_number, page_size}
//                                    -> {list: [{code, value}], next}   (body.list, not items)
//   POST /emkt/optout-email/search   {contact-list_code, ...paging/search/order} -> items {email,
//                                    contact_code, request_date, origin}
//   POST /emkt/contact/history       {contact-list_code, date_start, date_end, kind_list, selection,
//                                    page_number, page_size} -> {items, next, last_sync}
// Searches answer {items, next} with no total (§12). last_sync is the simulator's local time when
// it answered [I]: events recorded later have a later Time, so it is a safe next date_start.
#pragma once

#include "sim_context.h"

#include <httplib.h>

namespace sim {

void register_catalog_routes(httplib::Server& server, SimContext& ctx);

}  // namespace sim
