#pragma once
// The worker's duties besides the outbound queue (issue 8), one step per call:
//   1. applies pending webhook events (crm_webhook_events, in id order, one
//   transaction);
//   2. runs one step of a due pull of a Dinamize list: one request (a page of
//   contacts, of
//      opt-outs or of bounce/spam history) with no transaction open, then one
//      short transaction that applies it (pull_apply_contacts /
//      pull_apply_activity in the install script).
// Safe with several workers: pull steps are claimed with SKIP LOCKED under a
// lease, and a pull's progress lives in crm_pull_state, so whichever worker
// claims next continues it.
#include <functional>
#include <string>

#include "core/sync/contact_mapping.h"
#include "core/dinamize/dinamize_client.h"

// The account's client (the worker's, behind the shared rate limiter), or
// nullptr with the reason in `why` (account disabled, key missing, ...).
using AccountClientFn = std::function<dwu::DinamizeClient*(long long account_id, int config_version, std::string& why)>;

// Returns how long the worker may sleep as far as these duties go (0: more to
// do at once).
long dwu_run_background_tasks(const AccountClientFn& client_for, const dwu::FieldMap& field_map);
