#include "core/dinamize/dinamize_client.h"

#include <chrono>

#include "core/dinamize/dinamize_codes.h"
#include "core/dinamize/dinamize_errors.h"
#include "core/dinamize/untrusted_json.h"
#include "core/crypto/secret_box.h"

namespace dwu {
namespace {

constexpr const char* kJson = "application/json; charset=utf-8";
constexpr size_t kMaxDetailBytes = 200;  // Dinamize's text goes into logs: keep it short
constexpr size_t kMaxTokenBytes = 1024;  // seen: about 70 characters (reference §2)
constexpr size_t kMaxRememberedCodes = 64;

// A code is what makes an answer an envelope: 1-50 (crm_sync_logs.dwu_error_code is
// varchar(50)) of [0-9A-Za-z_.-]. Dinamize's are 6 digits; anything else is some other server.
bool plausible_code(const std::string& code) {
    if (code.empty() || code.size() > kMaxErrorCodeBytes) return false;
    for (char c : code)
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == '.' ||
              c == '-'))
            return false;
    return true;
}

// An auth-token travels back in a header line: printable ASCII only (no CR/LF: no header
// injection), bounded.
bool usable_token(const std::string& token) {
    if (token.empty() || token.size() > kMaxTokenBytes) return false;
    for (char c : token)
        if (c <= ' ' || c > '~') return false;
    return true;
}

}  // namespace

Account::~Account() { wipe(password); }

DinamizeClient::DinamizeClient(Account account, HttpPoster& http, TokenRules rules,
                               std::function<Clock::time_point()> now)
    : account_(std::move(account)), http_(http), rules_(rules), now_(std::move(now)) {
    while (!account_.base_url.empty() && account_.base_url.back() == '/') account_.base_url.pop_back();
}

DinamizeClient::~DinamizeClient() { wipe(token_); }

void DinamizeClient::forget_token() { wipe(token_); }

void DinamizeClient::adopt_token(std::string token, Clock::time_point issued_at, Clock::time_point last_used) {
    wipe(token_);
    token_ = std::move(token);
    wipe(token);
    issued_at_ = issued_at;
    last_used_ = last_accepted_ = last_used;
}

void DinamizeClient::learn(const Learnt& other) {
    for (const auto& code : other.not_token_codes) {
        if (not_token_codes_.size() >= kMaxRememberedCodes) break;
        not_token_codes_.insert(code);
    }
    last_accepted_ = std::max(last_accepted_, other.last_accepted);
}

bool DinamizeClient::token_due_for_renewal() const {
    const auto now = now_();
    return now - last_used_ >= rules_.renew_when_idle || now - issued_at_ >= rules_.renew_at_age;
}

Envelope parse_envelope(const HttpResponse& response, const std::string& path) {
    const std::string where = "Dinamize " + storable_text(path, 200);
    if (response.status != 200) {
        // Dinamize answers 200 even for errors; anything else is the transport or a proxy talking.
        const bool server_side = response.status >= 500 || response.status == 429 || response.status == 408;
        throw DinamizeError(ErrorCategory::Network, "", where + " answered HTTP " + std::to_string(response.status),
                            server_side);
    }
    // Not the envelope (too deep, too large, HTML, garbage, not an object): API_ERROR, retryable
    // (a proxy's error page or a half-written answer may well be gone next time).
    UntrustedJson parsed = parse_untrusted_json(response.body);
    if (!parsed.ok) {
        const std::string what = parsed.too_deep || parsed.too_large ? parsed.problem : "malformed JSON";
        throw DinamizeError(ErrorCategory::ApiError, "", where + " answered with " + what, true);
    }
    nlohmann::json& doc = parsed.value;
    if (!doc.is_object())
        throw DinamizeError(ErrorCategory::ApiError, "",
                            where + " answered JSON that is " + json_kind(doc) + ", not the envelope object", true);
    Envelope env;
    const auto code = doc.find("code");
    env.code = code == doc.end() ? std::string() : json_scalar_text(*code);
    if (env.code.empty()) throw DinamizeError(ErrorCategory::ApiError, "", where + " answered without a code", true);
    if (!plausible_code(env.code))
        throw DinamizeError(ErrorCategory::ApiError, "",
                            where + " answered a code that is not a Dinamize code (1-" +
                                std::to_string(kMaxErrorCodeBytes) +
                                " letters, digits, '_', '.' or '-'): " + storable_text(env.code, 60),
                            true);
    // Logged and stored: valid UTF-8, no NUL, cut between characters.
    const auto detail = doc.find("code_detail");
    if (detail != doc.end()) {
        const std::string text = detail->is_string() ? detail->get<std::string>() : json_scalar_text(*detail);
        env.detail = storable_text(text, kMaxDetailBytes);
    }
    const auto unique = doc.find("request_unique");
    if (unique != doc.end()) env.request_unique = storable_text(json_scalar_text(*unique), kMaxRequestUniqueBytes);
    const auto body = doc.find("body");
    env.body = body == doc.end() ? nlohmann::json::object() : std::move(*body);
    return env;
}

DinamizeError envelope_error(const Envelope& env, const std::string& path, const ResponseCodes& codes) {
    const CodeClass cls = codes.classify(env.code);
    const std::string msg = "Dinamize " + storable_text(path, 200) + " answered " + env.code + ": " + env.detail;
    const int wait = cls.category == ErrorCategory::RateLimit ? retry_after_seconds(env.body) : 0;
    return DinamizeError(cls, env.code, msg, wait);
}

nlohmann::json answer_body(const HttpResponse& response, const std::string& path, std::string* request_unique,
                           const ResponseCodes& codes) {
    Envelope env = parse_envelope(response, path);
    if (request_unique) *request_unique = env.request_unique;
    if (env.code == codes::kSuccess) return std::move(env.body);
    throw envelope_error(env, path, codes);
}

int retry_after_seconds(const nlohmann::json& body) {
    const auto v = body.is_object() ? body.find("retry-after") : body.end();
    if (v != body.end()) {
        // No std::stoll (throws) and no float-to-integer cast of an unchecked double (undefined).
        long long s = -1;
        if (v->is_number_integer()) {
            const std::string digits = v->dump();
            if (digits.size() <= 4) s = std::atoll(digits.c_str());
        } else if (v->is_number_float()) {
            const double d = v->get<double>();
            if (d >= 1 && d <= 3600) s = static_cast<long long>(d);
        } else if (v->is_string()) {
            const std::string& t = v->get_ref<const std::string&>();
            if (!t.empty() && t.size() <= 4 && t.find_first_not_of("0123456789") == std::string::npos)
                s = std::atoll(t.c_str());
        }
        if (s >= 1 && s <= 3600) return static_cast<int>(s);
    }
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    const int second = static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(now).count() % 60);
    return 60 - second;
}

nlohmann::json DinamizeClient::post_envelope(const std::string& path, const Payload& payload, bool with_token) {
    if (before_request_) before_request_();
    std::vector<std::string> headers;
    if (with_token) headers.push_back("auth-token: " + token_);
    HttpResponse response;
    try {
        const std::string url = account_.base_url + path;
        response = payload.form ? http_.post_form(url, *payload.form, headers)
                                : http_.post(url, payload.content_type, *payload.body, headers);
    } catch (...) {
        if (!headers.empty()) wipe(headers.front());
        throw;
    }
    if (!headers.empty()) wipe(headers.front());
    last_duration_ms_ = response.duration_ms;
    last_request_unique_.clear();
    struct WipeBodyOnExit {
        std::string& s;
        ~WipeBodyOnExit() { wipe(s); }  // an /auth answer holds a token
    } wipe_body{response.body};
    return answer_body(response, path, &last_request_unique_, *codes_);
}

void DinamizeClient::set_codes(std::shared_ptr<const ResponseCodes> codes) {
    codes_ = codes ? std::move(codes) : ResponseCodes::defaults();
}

void DinamizeClient::authenticate() {
    wipe(token_);
    nlohmann::json request = {
        {"user", account_.user}, {"password", account_.password}, {"client_code", account_.client_code}};
    struct WipeOnExit {
        std::string& s;
        ~WipeOnExit() { wipe(s); }
    } wipe_password{request["password"].get_ref<std::string&>()};
    std::string text = request.dump();
    struct WipeTextOnExit {
        std::string& s;
        ~WipeTextOnExit() { wipe(s); }  // the /auth body holds the password
    } wipe_text{text};
    nlohmann::json body;
    try {
        body = post_envelope("/auth", Payload{kJson, &text, nullptr}, false);
    } catch (const DinamizeError& e) {
        // Whatever code /auth answers is about the credentials (a token code here would loop).
        if (e.dinamize_code().empty() || e.category() == ErrorCategory::RateLimit) throw;
        throw DinamizeError(ErrorCategory::Auth, e.dinamize_code(), e.what(), false);
    }
    auto token = body.is_object() ? body.find("auth-token") : body.end();
    if (token == body.end() || !token->is_string() || token->get_ref<const std::string&>().empty())
        throw DinamizeError(ErrorCategory::ApiError, "", "Dinamize /auth answered without an auth-token", true);
    if (!usable_token(token->get_ref<const std::string&>())) {
        wipe(token->get_ref<std::string&>());
        // A value inside a valid envelope that the protocol does not allow: VALIDATION.
        throw DinamizeError(ErrorCategory::Validation, "",
                            "Dinamize /auth answered an auth-token that cannot be sent back (spaces, control or "
                            "non-ASCII characters, or longer than " +
                                std::to_string(kMaxTokenBytes) + " bytes)",
                            false);
    }
    token_ = token->get<std::string>();
    wipe(token->get_ref<std::string&>());
    issued_at_ = last_used_ = now_();
    ++generation_;
}

nlohmann::json DinamizeClient::call(const std::string& path, const nlohmann::json& request) {
    const std::string text = request.dump();
    return call_with_token(path, Payload{kJson, &text, nullptr});
}

nlohmann::json DinamizeClient::call_multipart(const std::string& path, const std::vector<FormPart>& parts) {
    check_form_parts(parts);  // before /auth: a malformed part sends nothing
    return call_with_token(path, Payload{nullptr, nullptr, &parts});
}

bool DinamizeClient::wants_new_token(const DinamizeError& e) const {
    if (e.dinamize_code().empty() || !e.code_class().reauthenticate) return false;
    if (!e.unknown_code()) return !token_too_young();
    return !not_token_codes_.count(e.dinamize_code()) && !token_recently_accepted();
}

void DinamizeClient::login() {
    if (!coordinator_) {
        authenticate();
        return;
    }
    if (coordinator_->before_login(*this)) return;
    try {
        authenticate();
    } catch (...) {
        coordinator_->after_login(*this, false);
        throw;
    }
    coordinator_->after_login(*this, true);
}

bool DinamizeClient::token_still_works() {
    static const std::string kRead = R"({"page_number":"1","page_size":"1"})";
    try {
        post_envelope("/emkt/contact-list/search", Payload{kJson, &kRead, nullptr}, true);
    } catch (const DinamizeError& e) {
        // Refused for a reason that is not the token's: the token was read and taken.
        if (e.dinamize_code().empty() || e.code_class().reauthenticate) return false;
    }
    last_used_ = last_accepted_ = now_();
    return true;
}

nlohmann::json DinamizeClient::call_with_token(const std::string& path, const Payload& payload) {
    if (token_.empty() || token_due_for_renewal()) login();
    try {
        nlohmann::json answer = post_envelope(path, payload, true);
        last_used_ = last_accepted_ = now_();
        return answer;
    } catch (const DinamizeError& e) {
        if (e.dinamize_code().empty()) throw;
        if (!wants_new_token(e)) {
            last_used_ = now_();  // Dinamize read the token, and the answer is about the request
            if (!e.code_class().reauthenticate) last_accepted_ = last_used_;
            if (!e.unknown_code() && e.code_class().reauthenticate)
                throw DinamizeError(
                    e.code_class(), e.dinamize_code(),
                    std::string(e.what()) + " (a token this young gets no new login: dwu_crm.login_min_interval)");
            throw;
        }
        // A code we do not know, on a token idle for a while: one harmless read tells whether
        // the token still works (a request is cheaper than a login, and the answer is remembered).
        if (e.unknown_code() && token_still_works()) {
            if (not_token_codes_.size() < kMaxRememberedCodes) not_token_codes_.insert(e.dinamize_code());
            throw;
        }
    }
    // Per the reference's §2: an invalid/expired (or unrecognised) code earns one fresh token and
    // one retry. If the same thing comes back, it is not a token problem: classify and give up.
    login();
    try {
        nlohmann::json answer = post_envelope(path, payload, true);
        last_used_ = last_accepted_ = now_();
        return answer;
    } catch (const DinamizeError& e) {
        if (e.dinamize_code().empty()) throw;
        CodeClass cls = e.code_class();
        if (!cls.reauthenticate) throw;
        if (e.unknown_code()) {
            // Bounded: a server answering ever new codes must not grow this without end.
            if (not_token_codes_.size() < kMaxRememberedCodes) not_token_codes_.insert(e.dinamize_code());
            throw;
        }
        cls.category = ErrorCategory::Auth;  // a known token code twice in a row: the login is not usable
        throw DinamizeError(cls, e.dinamize_code(), e.what());
    }
}

}  // namespace dwu
