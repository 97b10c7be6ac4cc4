#pragma once
#include "core/pg_free.h"
// The Dinamize API client: envelope, authentication, token reuse, one re-authentication on an
// invalid token, error classification. PostgreSQL-free.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/dinamize/dinamize_codes.h"
#include "core/dinamize/dinamize_errors.h"
#include "core/dinamize/http_transport.h"

namespace dwu {

struct Account {
    std::string base_url;  // e.g. https://api.dinamize.com (no trailing path)
    std::string user;
    std::string password;  // wiped on destruction
    std::string client_code;
    Account() = default;
    Account(std::string url, std::string u, std::string p, std::string c)
        : base_url(std::move(url)), user(std::move(u)), password(std::move(p)), client_code(std::move(c)) {}
    Account(const Account&) = default;
    Account& operator=(const Account&) = default;
    ~Account();
};

// Dinamize tokens expire after 1 h without use and 24 h after issue (reference §2); we renew a
// little ahead of both. One place to correct if the real limits differ.
struct TokenRules {
    std::chrono::seconds renew_when_idle{55 * 60};
    std::chrono::seconds renew_at_age{23 * 3600 + 30 * 60};
};

using Clock = std::chrono::system_clock;

// Token times as stored (crm_auth_tokens, the Redis record): milliseconds since the Unix epoch.
inline long long epoch_ms(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
inline Clock::time_point from_epoch_ms(long long ms) { return Clock::time_point(std::chrono::milliseconds(ms)); }

class DinamizeClient;

// Coordinates the logins of one account among processes (through Redis: pg/accounts): asked
// before each login of the client, told after it.
class LoginCoordinator {
public:
    virtual ~LoginCoordinator() = default;
    // True when it gave the client a token obtained elsewhere meanwhile: no login then. May throw
    // DinamizeError (no login allowed now: the call fails with it) or Interrupted.
    virtual bool before_login(DinamizeClient& client) = 0;
    // After the login (`ok`) or its failure. Must not throw.
    virtual void after_login(DinamizeClient& client, bool ok) noexcept = 0;
};

class DinamizeClient {
public:
    DinamizeClient(Account account, HttpPoster& http, TokenRules rules = {},
                   std::function<Clock::time_point()> now = Clock::now);
    ~DinamizeClient();
    DinamizeClient(const DinamizeClient&) = delete;
    DinamizeClient& operator=(const DinamizeClient&) = delete;

    // POSTs `request` to `path` (e.g. "/emkt/contact/add") with the auth token, authenticating
    // first when there is no token and once more when Dinamize rejects it. Returns the envelope's
    // body on code 480001; throws DinamizeError otherwise, Interrupted on abort.
    nlohmann::json call(const std::string& path, const nlohmann::json& request);

    // The same as call() for the one multipart/form-data call (the bulk import, reference §6):
    // same token handling, re-authentication, envelope and errors; libcurl writes the body
    // (HttpTransport::post_form). Throws std::invalid_argument (before any request) for a
    // malformed part.
    nlohmann::json call_multipart(const std::string& path, const std::vector<FormPart>& parts);

    // Called before every HTTP request of this client, /auth included: where a rate limiter admits
    // the request or waits. What it throws propagates out of call() (e.g. Interrupted).
    void set_before_request(std::function<void()> hook) { before_request_ = std::move(hook); }

    // The account's code table (default: the built-in one). Never null.
    void set_codes(std::shared_ptr<const ResponseCodes> codes);
    const ResponseCodes& codes() const { return *codes_; }
    std::shared_ptr<const ResponseCodes> shared_codes() const { return codes_; }

    // No login within `interval` of this client's last one (dwu_crm.login_min_interval): a token
    // refused that young gets no new login (the call fails retryable). An answer with a code the
    // table does not know is taken for a token problem only when no call has been accepted with
    // the token for that long (a revoked token refuses every call; a duplicate refuses one), and
    // then only when a harmless read with the token is refused too; a code that came with a token
    // Dinamize still takes, or came back after a fresh login, is remembered as not the token's.
    void set_login_interval(std::chrono::milliseconds interval) { login_interval_ = interval; }
    std::chrono::milliseconds login_interval() const { return login_interval_; }

    // What a client learnt from the account's answers: the unknown codes that came back after a
    // fresh login (not about the token), and when Dinamize last took the token. A client made for
    // one job (a job thread's) starts from the account client's, which learns the job's back.
    struct Learnt {
        std::set<std::string> not_token_codes;
        Clock::time_point last_accepted{};
    };
    Learnt learnt() const { return {not_token_codes_, last_accepted_}; }
    // Adds `other` to what this client knows (bounded like its own), after adopt_token().
    void learn(const Learnt& other);

    const Account& account() const { return account_; }

    void authenticate();
    // authenticate() through the coordinator, if any: what call() does when it needs a token.
    void login();
    // Not owned; must outlive the client (null: none).
    void set_login_coordinator(LoginCoordinator* coordinator) { coordinator_ = coordinator; }
    bool has_token() const { return !token_.empty(); }
    void forget_token();

    // A token obtained earlier (e.g. stored encrypted by another process); used until the rules
    // say to renew it or Dinamize rejects it.
    void adopt_token(std::string token, Clock::time_point issued_at, Clock::time_point last_used);
    const std::string& token() const { return token_; }
    Clock::time_point token_issued_at() const { return issued_at_; }
    Clock::time_point token_last_used() const { return last_used_; }
    // Counts authentications: a change tells the caller there is a new token to store.
    unsigned long token_generation() const { return generation_; }
    bool token_due_for_renewal() const;

    // request_unique of the last answer (Dinamize's id for support requests), or empty.
    const std::string& last_request_unique() const { return last_request_unique_; }
    long last_duration_ms() const { return last_duration_ms_; }

private:
    // What one POST sends: `body` of `content_type`, or (form non-null) multipart/form-data parts.
    struct Payload {
        const char* content_type = nullptr;
        const std::string* body = nullptr;
        const std::vector<FormPart>* form = nullptr;
    };
    // One POST; returns the envelope's body on success, throws DinamizeError otherwise.
    nlohmann::json post_envelope(const std::string& path, const Payload& payload, bool with_token);
    // Authentication, one re-authentication and retry, classification: shared by call() and
    // call_multipart().
    nlohmann::json call_with_token(const std::string& path, const Payload& payload);
    // Whether a refused call earns a new token now (see set_login_interval).
    bool wants_new_token(const DinamizeError& e) const;
    // One harmless read (contact-list/search, one row) with the current token: true when Dinamize
    // took the token.
    bool token_still_works();
    bool token_too_young() const { return now_() - issued_at_ < login_interval_; }
    bool token_recently_accepted() const { return now_() - std::max(issued_at_, last_accepted_) < login_interval_; }

    Account account_;
    HttpPoster& http_;
    std::function<void()> before_request_;
    LoginCoordinator* coordinator_ = nullptr;
    std::shared_ptr<const ResponseCodes> codes_ = ResponseCodes::defaults();
    std::chrono::milliseconds login_interval_{0};
    std::set<std::string> not_token_codes_;  // unknown codes that came back after a fresh login
    TokenRules rules_;
    std::function<Clock::time_point()> now_;
    std::string token_;
    Clock::time_point issued_at_{};
    Clock::time_point last_used_{};
    Clock::time_point last_accepted_{};  // last answer that shows Dinamize took the token
    unsigned long generation_ = 0;
    std::string last_request_unique_;
    long last_duration_ms_ = 0;
};

// The envelope's pieces, parsed (core/dinamize/untrusted_json.h: depth and size limits, UTF-8).
// code: 1-50 of [0-9A-Za-z_.-]; detail (at most 200 bytes) and request_unique (at most 100) are
// storable text: valid UTF-8, no NUL, cut between characters.
struct Envelope {
    std::string code;
    std::string detail;
    nlohmann::json body;
    std::string request_unique;
};
// Throws DinamizeError: NETWORK for an HTTP status other than 200; API_ERROR (retryable) for a
// body that is not the envelope: not JSON (HTML, garbage, cut short), nested deeper than 64
// levels, too many values, not an object, without a usable code. Never anything else (but
// std::bad_alloc).
Envelope parse_envelope(const HttpResponse& response, const std::string& path);

// The classified error for an envelope whose code is not 480001 (dinamize_codes.h).
DinamizeError envelope_error(const Envelope& env, const std::string& path,
                             const ResponseCodes& codes = *ResponseCodes::defaults());

// One raw HTTP answer as the client reads it: the envelope's body on 480001, else throws the
// DinamizeError that parse_envelope or envelope_error gives. request_unique, when given, gets the
// answer's request_unique (or is left as it was when the answer has no envelope).
nlohmann::json answer_body(const HttpResponse& response, const std::string& path, std::string* request_unique = nullptr,
                           const ResponseCodes& codes = *ResponseCodes::defaults());

// Seconds to wait from a 240024 body: body["retry-after"] as string or number; else the rest of
// the current minute (at least 1).
int retry_after_seconds(const nlohmann::json& body);

}  // namespace dwu
