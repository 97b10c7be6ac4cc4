#pragma once
#include "core/pg_free.h"
// The pull side of the sync (Dinamize → CRM), PostgreSQL-free: a Dinamize
// contact as the CRM sees it (the crm_leads columns it maps to, the e-mail
// status its flags say) and a hash of exactly that, so a pull tells a changed
// contact from an unchanged one by comparing hashes, page by page, without
// holding the list in memory. The database side (sql/dwu_crm--0.1.0.sql,
// pull_apply_contacts) stores the hashes and applies the changes.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "core/sync/contact_mapping.h"

namespace dwu {

struct PulledContact {
    std::string code;          // contact_code
    nlohmann::json fields;     // {"dwu_email": ..., "dwu_name": ..., mapped column:
                               // value}; "" → null
    std::string email_status;  // valid | opted_out | spam_complaint | invalid
    std::string hash;          // SHA-256 (hex) of fields and email_status
};

// What the contact's flags say about its address: spam → spam_complaint, optout
// → opted_out, status I → invalid, else valid. Flags may be booleans or strings
// ("1", "true", "S").
std::string email_status_of(const nlohmann::json& item);

// Maps one search item (reference §5.5). Custom fields mapped by `field_map`
// (lead column ↔ cmpN) become those columns; a multi-value field stays an array
// of strings; numbers become strings. Fields not mapped, external_code (our own
// lead id, written by the push) and the counters are not part of the record:
// changing them is not a change of the lead. Throws std::invalid_argument when
// the item has no contact code (1-32 digits) or no e-mail, its e-mail is not a
// string, or it holds a NUL character anywhere (PostgreSQL cannot store it).
PulledContact pulled_contact(const nlohmann::json& item, const FieldMap& field_map);

// The hash of a record: SHA-256 over the canonical (key-sorted, compact) JSON
// of
// {"fields": ..., "email_status": ...}, as lower-case hex.
std::string record_hash(const nlohmann::json& fields, const std::string& email_status);

// One page of search items as the rows pull_apply_contacts takes:
// [{"code", "hash", "fields", "email_status", "item"}]. Items that cannot be
// mapped are left out and counted in *skipped.
nlohmann::json pull_rows(const std::vector<nlohmann::json>& items, const FieldMap& field_map, long* skipped);

// One page of opt-out or history items as the JSON array the pull stores: the items that are
// objects without a NUL character anywhere (PostgreSQL's jsonb refuses \u0000); the others are
// left out and counted in *skipped, so one bad item never fails the page.
nlohmann::json storable_items(const std::vector<nlohmann::json>& items, long* skipped);

}  // namespace dwu
