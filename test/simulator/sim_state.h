// Everything the simulator remembers: accounts, auth tokens and contacts. One mutex guards it all
// (cpp-httplib calls handlers from a thread pool).
#pragma once

#include "contact.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace sim {

struct Account {
    std::string user;
    std::string password;
    std::string client_code;
};

struct TokenPolicy {
    std::chrono::seconds idle{3600};      // sliding: each successful use restarts it (§2)
    std::chrono::seconds max_age{86400};  // hard cap after issue (§2)
};

enum class AuthOutcome { kOk, kUserRequired, kPasswordRequired, kInvalidCredentials, kInvalidClientCode };

class SimState {
public:
    SimState(std::vector<Account> accounts, TokenPolicy policy);

    // /auth. Empty strings count as missing. On kOk, `token` receives a new token; tokens issued
    // earlier for the same account stay valid.
    AuthOutcome authenticate(const std::string& user, const std::string& password, const std::string& client_code,
                             std::string& token);

    // The account (client_code) a token belongs to, if it is known and not expired; a valid token's
    // idle timer restarts. Expired tokens are forgotten.
    std::optional<std::string> client_for_token(const std::string& token);
    // The same lookup without restarting the idle timer, for requests that are not processed
    // (a fault answered them) but are logged with their account.
    std::optional<std::string> token_owner(const std::string& token) const;
    // Forgets a token (the expired_token fault); true if it was valid until now.
    bool revoke_token(const std::string& token);

    bool is_account(const std::string& client_code) const;
    void expire_all_tokens();

    // Contacts of (client_code, list code). Lists exist implicitly: any numeric list code is an
    // empty list until something is added (the simulator has no contact-list/add, nor does any
    // source show one). All of these throw ApiError (invented codes) on duplicate / not found.
    std::string add_contact(const std::string& client, const std::string& list, const ContactInput& input);
    void update_contact(const std::string& client, const std::string& list, std::uint64_t code,
                        const ContactInput& input);
    void delete_contact(const std::string& client, const std::string& list, std::uint64_t code);
    Contact get_contact(const std::string& client, const std::string& list, std::uint64_t code) const;
    std::vector<Contact> contacts(const std::string& client, const std::string& list) const;

    // Codes of the lists that hold (or held) contacts of `client` (in no particular order).
    std::vector<std::string> list_codes(const std::string& client) const;

    // Bulk import: each row (with an e-mail) updates the contact with that e-mail (case-insensitive)
    // or adds one, in order, atomically. Returns {inserted, updated}.
    std::pair<std::uint64_t, std::uint64_t> import_contacts(const std::string& client, const std::string& list,
                                                            const std::vector<ContactInput>& rows);

    // Applies `change` to the contact with `code` (if non-zero) or else `email`, under the lock;
    // returns the contact afterwards. ApiError (not found) if there is none.
    Contact modify_contact(const std::string& client, const std::string& list, std::uint64_t code,
                           const std::string& email, const std::function<void(Contact&)>& change);

    // Forget contacts and tokens; contact codes start again at the first one unless keep_codes
    // (the real Dinamize never hands out a code twice: a benchmark that empties the lists between
    // drains must not see its earlier leads' codes come back).
    void reset(bool keep_codes = false);

private:
    using Clock = std::chrono::steady_clock;
    struct TokenInfo {
        std::string client_code;
        Clock::time_point issued;
        Clock::time_point last_use;
    };
    using ContactList = std::map<std::uint64_t, Contact>;  // ordered by contact code

    static constexpr std::uint64_t kFirstContactCode = 100001;

    bool expired(const TokenInfo& info, Clock::time_point now) const;
    void purge_expired_tokens(Clock::time_point now);
    const ContactList* find_list(const std::string& client, const std::string& list) const;
    ContactList* find_list(const std::string& client, const std::string& list);
    static bool email_taken(const ContactList& list, const std::string& email, std::uint64_t except_code);

    mutable std::mutex mutex_;
    const std::vector<Account> accounts_;
    const TokenPolicy policy_;
    std::unordered_map<std::string, TokenInfo> tokens_;
    std::map<std::string, std::map<std::string, ContactList>> lists_;  // client -> list -> contacts
    std::uint64_t next_code_ = kFirstContactCode;
};

}  // namespace sim
