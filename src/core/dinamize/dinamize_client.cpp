#include "core/dinamize/dinamize_client.h"

#include <chrono>

#include "core/dinamize/dinamize_codes.h"
#include "core/dinamize/dinamize_errors.h"
#include "core/crypto/secret_box.h"

namespace dwu {
namespace {

constexpr const char* kJson = "application/json; charset=utf-8";
constexpr size_t kMaxDetailChars = 200;  // Dinamize's text goes into logs: keep it short

std::string json_string(const nlohmann::json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_integer()) return std::to_string(v.get<long long>());
    return {};
}

[[noreturn]] void throw_code(const std::string& path, const Envelope& env, const CodeClass& cls) {
    const std::string msg = "Dinamize " + path + " answered " + env.code + ": " + env.detail;
    const int wait = cls.category == ErrorCategory::RateLimit ? retry_after_seconds(env.body) : 0;
    throw DinamizeError(cls.category, env.code, msg, cls.retryable, wait);
}

}  // namespace

Account::~Account() { wipe(password); }

DinamizeClient::DinamizeClient(Account account, HttpTransport& http, TokenRules rules,
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
    last_used_ = last_used;
}

bool DinamizeClient::token_due_for_renewal() const {
    const auto now = now_();
    return now - last_used_ >= rules_.renew_when_idle || now - issued_at_ >= rules_.renew_at_age;
}

Envelope parse_envelope(const HttpResponse& response, const std::string& path) {
    if (response.status != 200) {
        // Dinamize answers 200 even for errors; anything else is the transport or a proxy talking.
        const bool server_side = response.status >= 500 || response.status == 429 || response.status == 408;
        throw DinamizeError(ErrorCategory::Network, "",
                            "Dinamize " + path + " answered HTTP " + std::to_string(response.status), server_side);
    }
    nlohmann::json doc = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object())
        throw DinamizeError(ErrorCategory::ApiError, "", "Dinamize " + path + " answered with malformed JSON", true);
    Envelope env;
    env.code = json_string(doc.value("code", nlohmann::json()));
    if (env.code.empty())
        throw DinamizeError(ErrorCategory::ApiError, "", "Dinamize " + path + " answered without a code", true);
    env.detail = json_string(doc.value("code_detail", nlohmann::json()));
    if (env.detail.size() > kMaxDetailChars) env.detail.resize(kMaxDetailChars);
    env.body = doc.contains("body") ? doc["body"] : nlohmann::json::object();
    env.request_unique = json_string(doc.value("request_unique", nlohmann::json()));
    return env;
}

int retry_after_seconds(const nlohmann::json& body) {
    if (body.is_object() && body.contains("retry-after")) {
        const auto& v = body["retry-after"];
        try {
            long long s = v.is_string() ? std::stoll(v.get<std::string>()) : v.is_number() ? v.get<long long>() : -1;
            if (s >= 1 && s <= 3600) return static_cast<int>(s);
        } catch (const std::exception&) {
            // unparsable: fall through to the rest of the minute
        }
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
    Envelope env = parse_envelope(response, path);
    last_request_unique_ = env.request_unique;
    wipe(response.body);
    if (env.code == codes::kSuccess) return std::move(env.body);
    throw_code(path, env, codes::classify_code(env.code));
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

nlohmann::json DinamizeClient::call_with_token(const std::string& path, const Payload& payload) {
    if (token_.empty() || token_due_for_renewal()) authenticate();
    try {
        nlohmann::json answer = post_envelope(path, payload, true);
        last_used_ = now_();
        return answer;
    } catch (const DinamizeError& e) {
        if (e.dinamize_code().empty()) throw;
        if (!codes::classify_code(e.dinamize_code()).reauthenticate) {
            last_used_ = now_();  // Dinamize accepted the token, it just refused the request
            throw;
        }
    }
    // Per the reference's §2: an invalid/expired (or unrecognised) code earns one fresh token and
    // one retry. If the same thing comes back, it is not a token problem: classify and give up.
    authenticate();
    try {
        nlohmann::json answer = post_envelope(path, payload, true);
        last_used_ = now_();
        return answer;
    } catch (const DinamizeError& e) {
        if (e.dinamize_code().empty()) throw;
        const CodeClass cls = codes::classify_code(e.dinamize_code());
        if (!cls.reauthenticate) throw;
        const bool token_code = cls.category == ErrorCategory::Auth;
        throw DinamizeError(token_code ? ErrorCategory::Auth : ErrorCategory::ApiError, e.dinamize_code(), e.what(),
                            token_code);
    }
}

}  // namespace dwu
