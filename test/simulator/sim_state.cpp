#include "sim_state.h"

#include "api_error.h"
#include "invented_codes.h"
#include "sim_random.h"
#include "sim_time.h"

#include <algorithm>
#include <utility>

namespace sim {
namespace {

[[noreturn]] void not_found() { throw ApiError(invented::kNotFound, "Contact not found"); }

[[noreturn]] void duplicate() { throw ApiError(invented::kDuplicateEmail, "E-mail already exists in this list"); }

}  // namespace

SimState::SimState(std::vector<Account> accounts, TokenPolicy policy)
    : accounts_(std::move(accounts)), policy_(policy) {}

AuthOutcome SimState::authenticate(const std::string& user, const std::string& password, const std::string& client_code,
                                   std::string& token) {
    if (user.empty()) return AuthOutcome::kUserRequired;
    if (password.empty()) return AuthOutcome::kPasswordRequired;

    bool credentials_ok = false;
    const Account* match = nullptr;
    for (const auto& account : accounts_) {
        if (account.user != user || account.password != password) continue;
        credentials_ok = true;
        if (account.client_code == client_code) match = &account;
    }
    if (!credentials_ok) return AuthOutcome::kInvalidCredentials;
    if (!match) return AuthOutcome::kInvalidClientCode;

    std::lock_guard<std::mutex> lock(mutex_);
    auto now = Clock::now();
    purge_expired_tokens(now);
    do {
        token = random_token(match->client_code);
    } while (tokens_.count(token));
    tokens_[token] = TokenInfo{match->client_code, now, now};
    return AuthOutcome::kOk;
}

std::optional<std::string> SimState::client_for_token(const std::string& token) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = tokens_.find(token);
    if (it == tokens_.end()) return std::nullopt;
    auto now = Clock::now();
    if (expired(it->second, now)) {
        tokens_.erase(it);
        return std::nullopt;
    }
    it->second.last_use = now;
    return it->second.client_code;
}

std::optional<std::string> SimState::token_owner(const std::string& token) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = tokens_.find(token);
    if (it == tokens_.end() || expired(it->second, Clock::now())) return std::nullopt;
    return it->second.client_code;
}

bool SimState::revoke_token(const std::string& token) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = tokens_.find(token);
    if (it == tokens_.end()) return false;
    bool was_valid = !expired(it->second, Clock::now());
    tokens_.erase(it);
    return was_valid;
}

bool SimState::is_account(const std::string& client_code) const {
    for (const auto& account : accounts_)
        if (account.client_code == client_code) return true;
    return false;
}

void SimState::expire_all_tokens() {
    std::lock_guard<std::mutex> lock(mutex_);
    tokens_.clear();
}

std::string SimState::add_contact(const std::string& client, const std::string& list, const ContactInput& input) {
    if (!input.email) throw ApiError(invented::kValidation, "Field 'email' is required");
    std::lock_guard<std::mutex> lock(mutex_);
    ContactList& contacts = lists_[client][list];
    if (email_taken(contacts, *input.email, 0)) duplicate();
    Contact c;
    c.code = next_code_++;
    c.insert_date = now_local_datetime();
    apply_input(c, input);
    contacts.emplace(c.code, c);
    return std::to_string(c.code);
}

void SimState::update_contact(const std::string& client, const std::string& list, std::uint64_t code,
                              const ContactInput& input) {
    std::lock_guard<std::mutex> lock(mutex_);
    ContactList* contacts = find_list(client, list);
    if (!contacts) not_found();
    auto it = contacts->find(code);
    if (it == contacts->end()) not_found();
    if (input.email && email_taken(*contacts, *input.email, code)) duplicate();
    apply_input(it->second, input);
}

void SimState::delete_contact(const std::string& client, const std::string& list, std::uint64_t code) {
    std::lock_guard<std::mutex> lock(mutex_);
    ContactList* contacts = find_list(client, list);
    if (!contacts || contacts->erase(code) == 0) not_found();
}

Contact SimState::get_contact(const std::string& client, const std::string& list, std::uint64_t code) const {
    std::lock_guard<std::mutex> lock(mutex_);
    const ContactList* contacts = find_list(client, list);
    if (!contacts) not_found();
    auto it = contacts->find(code);
    if (it == contacts->end()) not_found();
    return it->second;
}

std::vector<Contact> SimState::contacts(const std::string& client, const std::string& list) const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<Contact> out;
    if (const ContactList* contacts = find_list(client, list))
        for (const auto& entry : *contacts) out.push_back(entry.second);
    return out;
}

std::vector<std::string> SimState::list_codes(const std::string& client) const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string> out;
    auto it = lists_.find(client);
    if (it != lists_.end())
        for (const auto& entry : it->second) out.push_back(entry.first);
    return out;
}

std::pair<std::uint64_t, std::uint64_t> SimState::import_contacts(const std::string& client, const std::string& list,
                                                                  const std::vector<ContactInput>& rows) {
    std::lock_guard<std::mutex> lock(mutex_);
    ContactList& contacts = lists_[client][list];
    std::unordered_map<std::string, std::uint64_t> by_email;  // lower-case e-mail -> contact code
    for (const auto& [code, contact] : contacts) by_email.emplace(lower_ascii(contact.email), code);
    std::uint64_t inserted = 0, updated = 0;
    for (const auto& row : rows) {
        if (!row.email) continue;
        auto existing = by_email.find(lower_ascii(*row.email));
        if (existing != by_email.end()) {
            ContactInput change = row;
            change.email.reset();  // keep the stored spelling of the address
            apply_input(contacts.at(existing->second), change);
            ++updated;
            continue;
        }
        Contact c;
        c.code = next_code_++;
        c.insert_date = now_local_datetime();
        apply_input(c, row);
        by_email.emplace(lower_ascii(c.email), c.code);
        contacts.emplace(c.code, std::move(c));
        ++inserted;
    }
    return {inserted, updated};
}

Contact SimState::modify_contact(const std::string& client, const std::string& list, std::uint64_t code,
                                 const std::string& email, const std::function<void(Contact&)>& change) {
    std::lock_guard<std::mutex> lock(mutex_);
    ContactList* contacts = find_list(client, list);
    if (!contacts) not_found();
    auto it = contacts->end();
    if (code != 0) {
        it = contacts->find(code);
    } else {
        const std::string wanted = lower_ascii(email);
        it = std::find_if(contacts->begin(), contacts->end(),
                          [&](const auto& entry) { return lower_ascii(entry.second.email) == wanted; });
    }
    if (it == contacts->end()) not_found();
    change(it->second);
    return it->second;
}

void SimState::reset(bool keep_codes) {
    std::lock_guard<std::mutex> lock(mutex_);
    tokens_.clear();
    lists_.clear();
    if (!keep_codes) next_code_ = kFirstContactCode;
}

bool SimState::expired(const TokenInfo& info, Clock::time_point now) const {
    return now - info.last_use > policy_.idle || now - info.issued > policy_.max_age;
}

void SimState::purge_expired_tokens(Clock::time_point now) {
    for (auto it = tokens_.begin(); it != tokens_.end();)
        it = expired(it->second, now) ? tokens_.erase(it) : std::next(it);
}

const SimState::ContactList* SimState::find_list(const std::string& client, const std::string& list) const {
    auto by_list = lists_.find(client);
    if (by_list == lists_.end()) return nullptr;
    auto contacts = by_list->second.find(list);
    return contacts == by_list->second.end() ? nullptr : &contacts->second;
}

SimState::ContactList* SimState::find_list(const std::string& client, const std::string& list) {
    return const_cast<ContactList*>(std::as_const(*this).find_list(client, list));
}

// E-mails are unique per list, compared case-insensitively.
bool SimState::email_taken(const ContactList& list, const std::string& email, std::uint64_t except_code) {
    std::string wanted = lower_ascii(email);
    for (const auto& [code, contact] : list)
        if (code != except_code && lower_ascii(contact.email) == wanted) return true;
    return false;
}

}  // namespace sim
