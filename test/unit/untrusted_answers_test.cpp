// Whatever a server at base_url answers is data, never a crash (issue 15, item 1): the bounded
// parser (untrusted_json.h), the envelope's classification, the values taken out of answers, and
// the outcome the worker records. The network cases run against a tiny in-process cpp-httplib
// server that answers /auth normally and every other path as the test says.
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/dinamize/api_rows.h"
#include "core/dinamize/dinamize_api.h"
#include "core/dinamize/dinamize_client.h"
#include "core/dinamize/dinamize_errors.h"
#include "core/dinamize/dinamize_import.h"
#include "core/dinamize/untrusted_json.h"
#include "core/dinamize/utf8.h"
#include "core/sync/contact_sync.h"
#include "core/sync/outcome_record.h"
#include "core/sync/pull_diff.h"
#include "core/sync/sync_job.h"

namespace dwu::test {
namespace {

using nlohmann::json;

std::string nested_arrays(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

std::string envelope(const std::string& code, const std::string& detail_json, const std::string& body_json,
                     const std::string& request_unique_json = "\"r-1\"") {
    return "{\"code\":\"" + code + "\",\"code_detail\":" + detail_json + ",\"body\":" + body_json +
           ",\"request_unique\":" + request_unique_json + "}";
}

bool has_nul_byte(const std::string& s) { return s.find('\0') != std::string::npos; }

// The envelope's classification of one body answered with HTTP 200.
DinamizeError error_of(const std::string& body, const std::string& path = "/emkt/contact/add") {
    try {
        answer_body(HttpResponse{200, body, 1}, path);
    } catch (const DinamizeError& e) {
        return e;
    }
    return DinamizeError(ErrorCategory::Network, "none", "no error", false);
}

// --- The parser ------------------------------------------------------------------------------

TEST(UntrustedJson, RefusesNestingPastTheLimitBeforeBuildingAnything) {
    EXPECT_TRUE(parse_untrusted_json(nested_arrays(kMaxJsonDepth)).ok);
    const UntrustedJson deep = parse_untrusted_json(nested_arrays(kMaxJsonDepth + 1));
    EXPECT_FALSE(deep.ok);
    EXPECT_TRUE(deep.too_deep);
    EXPECT_TRUE(deep.value.is_discarded());
    // 100,000 levels: copies and dump() of such a value would overflow the stack.
    for (const std::string& text : {nested_arrays(100000), std::string(100000, '['), std::string(100000, '{'),
                                    "{\"a\":" + std::string(100000, '[')}) {
        const UntrustedJson r = parse_untrusted_json(text);
        EXPECT_FALSE(r.ok);
        EXPECT_TRUE(r.too_deep) << r.problem;
        EXPECT_EQ(r.problem, "JSON nested deeper than 64 levels");
    }
}

TEST(UntrustedJson, CountsBracketsOutsideStringsOnly) {
    const std::string in_string = "[\"" + std::string(1000, '[') + "\\\"" + std::string(1000, '{') + "\"]";
    const UntrustedJson r = parse_untrusted_json(in_string);
    ASSERT_TRUE(r.ok) << r.problem;
    EXPECT_EQ(r.value[0].get<std::string>().size(), 2001u);
    EXPECT_EQ(json_nesting_depth(in_string, 100), 1);
    // An escaped backslash ends the escape: the quote after it closes the string.
    EXPECT_EQ(json_nesting_depth(R"(["\\", [[]]])", 100), 3);
    EXPECT_TRUE(parse_untrusted_json(R"(["\\", [[]]])").ok);
}

TEST(UntrustedJson, RefusesAnswersOfMillionsOfTinyValues) {
    std::string many = "[";
    for (size_t i = 0; i <= kMaxJsonValues; ++i) many += "0,";
    many += "0]";
    const UntrustedJson r = parse_untrusted_json(many);
    EXPECT_FALSE(r.ok);
    EXPECT_TRUE(r.too_large);
}

TEST(UntrustedJson, SyntaxErrorsAndHugeNumbersAreNotExceptions) {
    for (const char* text : {"", "<html>oops</html>", "{\"code\":\"4800", "{\"a\":1} trailing", "[1,]", "{\"a\"}",
                             "1e999999", "[-1e400]", "\"\\ud800\"", "nul"}) {
        UntrustedJson r;
        EXPECT_NO_THROW(r = parse_untrusted_json(text)) << text;
        EXPECT_FALSE(r.ok) << text;
    }
    // nlohmann stops at a NUL byte: what follows must not be ignored.
    const UntrustedJson nul = parse_untrusted_json(std::string("{\"code\":\"480001\"}\0<html>", 24));
    EXPECT_FALSE(nul.ok);
    EXPECT_EQ(nul.problem, "malformed JSON");
    const UntrustedJson big = parse_untrusted_json("[123456789012345678901234567890, 18446744073709551615]");
    ASSERT_TRUE(big.ok);
    EXPECT_TRUE(big.value[0].is_number_float());  // too large for an integer
    EXPECT_EQ(json_scalar_text(big.value[0]), "");
    EXPECT_EQ(json_scalar_text(big.value[1]), "18446744073709551615");  // unsigned, never cast to long long
}

TEST(UntrustedJson, RepairsInvalidUtf8AndReportsNuls) {
    const UntrustedJson r = parse_untrusted_json("{\"a\":\"inv\xe1lido \xff\xc3\",\"b\":\"x\\u0000y\"}");
    ASSERT_TRUE(r.ok) << r.problem;
    EXPECT_TRUE(r.repaired);
    EXPECT_TRUE(r.has_nul);
    EXPECT_EQ(r.value["a"], "inv\xEF\xBF\xBDlido \xEF\xBF\xBD\xEF\xBF\xBD");
    EXPECT_TRUE(json_has_nul(r.value));
    EXPECT_NO_THROW(r.value.dump());
    EXPECT_FALSE(parse_untrusted_json(R"({"a":"x\\u0000y"})").has_nul);  // an escaped backslash, then text
    EXPECT_TRUE(json_has_nul(json{{std::string("k\0y", 3), 1}}));        // keys too
    EXPECT_FALSE(json_has_nul(json{{"k", {1, "two", json::object()}}}));
    // A key given twice keeps its last value: the NUL of the first is gone (found by the fuzzer).
    EXPECT_FALSE(parse_untrusted_json(R"({"k":"a\u0000","k":"b"})").has_nul);
    EXPECT_TRUE(parse_untrusted_json(R"({"k":"a","k":"b\u0000"})").has_nul);
}

TEST(StorableText, CutsBetweenCharactersAndCleansBytes) {
    std::string detail = "a";
    for (int i = 0; i < 200; ++i) detail += "\xc3\xa9";  // é: byte 200 falls inside one
    const std::string cut = storable_text(detail, 200);
    EXPECT_LE(cut.size(), 200u);
    EXPECT_TRUE(is_valid_utf8(cut));
    EXPECT_EQ(cut.substr(cut.size() - 3), "...");
    EXPECT_NO_THROW(json(cut).dump());

    EXPECT_EQ(storable_text(std::string("a\0b", 3), 10), "ab");
    EXPECT_EQ(storable_text("\xff"
                            "a\xc3",
                            10),
              "\xEF\xBF\xBD"
              "a\xEF\xBF\xBD");
    EXPECT_EQ(storable_text("\x1b[31mred\tok\n", 40), "\xEF\xBF\xBD[31mred\tok\n");
    EXPECT_EQ(storable_text("exactly10!", 10), "exactly10!");  // fits: no cut mark
    EXPECT_EQ(storable_text("eleven chars", 10), "eleven ...");
    const std::string euro = "\xe2\x82\xac";  // 3 bytes
    EXPECT_EQ(storable_text(euro + euro, 6), euro + euro);
    EXPECT_EQ(storable_text(euro + euro + euro, 7), euro + "...");  // whole characters, then the mark
    EXPECT_EQ(storable_text(euro + euro, 2), "");                   // no whole character and no room for the mark
    EXPECT_EQ(utf8_prefix_length("\xe2\x82\xac", 2), 0u);
    EXPECT_EQ(storable_text("", 0), "");
}

TEST(DinamizeCodes, AreOneToEighteenDigits) {
    EXPECT_TRUE(is_dinamize_code("123456"));
    EXPECT_TRUE(is_dinamize_code(std::string(18, '9')));
    for (const std::string& bad : std::vector<std::string>{"", "abc", "12 3",
                                                           std::string("12\0"
                                                                       "3",
                                                                       4),
                                                           "-1", "1.5", std::string(19, '9')})
        EXPECT_FALSE(is_dinamize_code(bad)) << bad;
}

// --- The envelope ------------------------------------------------------------------------------

TEST(HostileEnvelope, ABodyThatIsNotTheEnvelopeIsARetryableApiError) {
    const std::vector<std::string> bodies = {
        envelope("480001", "\"Sucesso\"", nested_arrays(100000)),  // deep inside a success
        nested_arrays(100000),
        std::string(100000, '{'),
        "<html><body><h1>502 Bad Gateway</h1></body></html>",
        std::string("\x00\x01\x02 not json \xff", 14),
        "{\"code\":\"4800",
        "[\"480001\"]",
        "\"480001\"",
        "480001",
        "null",
        "{\"code\":1e999999,\"code_detail\":\"Sucesso\",\"body\":{}}",       // a number past any double
        "{\"code\":[\"480001\"],\"code_detail\":{\"a\":1},\"body\":\"x\"}",  // wrong types
        "{\"code\":1.5e2,\"body\":{}}",
        "{\"code\":\"" + std::string(80, '9') + "\",\"body\":{}}",  // over crm_sync_logs' varchar(50)
        "{\"code\":\"48\\u00000001\",\"body\":{}}",
        "{\"code\":\"480 001\",\"body\":{}}",
        "{\"body\":{}}",
    };
    for (const auto& body : bodies) {
        const DinamizeError e = error_of(body);
        EXPECT_EQ(e.category(), ErrorCategory::ApiError) << body.substr(0, 80) << " -> " << e.what();
        EXPECT_TRUE(e.retryable()) << body.substr(0, 80);
        EXPECT_TRUE(e.dinamize_code().empty());
        EXPECT_TRUE(is_valid_utf8(e.what()));
    }
    EXPECT_EQ(std::string(error_of(nested_arrays(100000), "/auth").what()),
              "Dinamize /auth answered with JSON nested deeper than 64 levels");
    EXPECT_EQ(std::string(error_of("{\"code\":\"4800", "/auth").what()), "Dinamize /auth answered with malformed JSON");
}

TEST(HostileEnvelope, CodeDetailAndRequestUniqueAreStorableText) {
    // Invalid UTF-8 and a NUL in code_detail: the code still classifies, the text is clean.
    for (const std::string& detail :
         {std::string("\"Campo inv\xe1lido \xff\xfe\xc3\""), std::string("\"bad\\u0000detail\"")}) {
        const DinamizeError e = error_of(envelope("249002", detail, "{}"));
        EXPECT_EQ(e.category(), ErrorCategory::Validation) << e.what();
        EXPECT_EQ(e.dinamize_code(), "249002");
        EXPECT_TRUE(is_valid_utf8(e.what()));
        EXPECT_FALSE(has_nul_byte(e.what()));
    }
    std::string detail = "\"a";
    for (int i = 0; i < 200; ++i) detail += "\xc3\xa9";
    detail += "\"";
    const Envelope env = parse_envelope(
        HttpResponse{200, envelope("249002", detail, "{}", "\"" + std::string(500, 'u') + "\""), 1}, "/x");
    EXPECT_LE(env.detail.size(), 200u);
    EXPECT_TRUE(is_valid_utf8(env.detail));
    EXPECT_LE(env.request_unique.size(), kMaxRequestUniqueBytes);
    EXPECT_NO_THROW(json(env.detail).dump());
    // Wrong types where text belongs are simply no text.
    const Envelope odd =
        parse_envelope(HttpResponse{200, R"({"code":480001,"code_detail":{"a":1},"request_unique":[1]})", 1}, "/x");
    EXPECT_EQ(odd.code, "480001");
    EXPECT_EQ(odd.detail, "");
    EXPECT_EQ(odd.request_unique, "");
}

TEST(HostileEnvelope, RetryAfterOfAnyShapeIsAWaitInRange) {
    for (const char* v : {"1e300", "-1e300", "-5", "0", "99999999999999999999", "\"99999999999999999999\"", "\"17s\"",
                          "\"\"", "null", "[]", "{}", "3.5e-300", "18446744073709551615"}) {
        const json body = json::parse(std::string("{\"retry-after\":") + v + "}");
        const int wait = retry_after_seconds(body);
        EXPECT_GE(wait, 1) << v;
        EXPECT_LE(wait, 3600) << v;
    }
    EXPECT_EQ(retry_after_seconds(json{{"retry-after", 12.9}}), 12);
    EXPECT_EQ(retry_after_seconds(json{{"retry-after", "3600"}}), 3600);
    EXPECT_GE(retry_after_seconds(json("not an object")), 1);
}

// --- Values inside a valid envelope --------------------------------------------------------------

TEST(HostileValues, ContactCodesThatAreNotDigitsAreValidationErrors) {
    EXPECT_EQ(contact_code_from_add(json{{"code", "123"}}), "123");
    EXPECT_EQ(contact_code_from_add(json{{"code", 123}}), "123");
    for (const json& body :
         {json{{"code", "abc"}},
          json{{"code", std::string("12\0"
                                    "3",
                                    4)}},
          json::parse(R"({"code": 1234567890123456789012345678901234567890})"), json{{"code", -5}}, json{{"code", 1.5}},
          json{{"code", json::object()}}, json{{"code", std::string(19, '1')}}, json("a string"), json::array({1})}) {
        try {
            contact_code_from_add(body);
            ADD_FAILURE() << body.dump();
        } catch (const DinamizeError& e) {
            EXPECT_EQ(e.category(), ErrorCategory::Validation) << body.dump();
            EXPECT_FALSE(e.retryable());
            EXPECT_TRUE(is_valid_utf8(e.what()));
            EXPECT_FALSE(has_nul_byte(e.what()));
        }
    }
    // No code at all stays what it was: an API error, retried.
    try {
        contact_code_from_add(json::object());
        ADD_FAILURE();
    } catch (const DinamizeError& e) {
        EXPECT_EQ(e.category(), ErrorCategory::ApiError);
    }
}

TEST(HostileValues, StringsWhereObjectsBelongAreValidationErrors) {
    auto category_of = [](const std::function<void()>& f) {
        try {
            f();
        } catch (const DinamizeError& e) {
            return std::string(category_name(e.category()));
        }
        return std::string("no error");
    };
    EXPECT_EQ(category_of([] { page_from_body(json("not an object")); }), "VALIDATION");
    EXPECT_EQ(category_of([] { page_from_body(json{{"items", "x"}}); }), "VALIDATION");
    EXPECT_EQ(category_of([] { contact_code_from_search(json{{"items", json::array({"x"})}}); }), "VALIDATION");
    EXPECT_EQ(category_of([] {
                  contact_code_from_search(json{{"items", json::array({{{"code", "x1"}}})}});
              }),
              "VALIDATION");
    EXPECT_EQ(contact_code_from_search(json{{"items", json::array()}}), "");
    EXPECT_EQ(category_of([] { rows::list_row(json("x")); }), "VALIDATION");
    EXPECT_EQ(category_of([] {
                  rows::contact_row(json{{"code", "1"}, {"name", std::string("A\0", 2)}});
              }),
              "VALIDATION");
    EXPECT_EQ(category_of([] { rows::optout_row(json::array()); }), "VALIDATION");
    EXPECT_EQ(category_of([] { import_status_from_body("1", json("x")); }), "VALIDATION");
    for (const char* errors : {"-1", "1e20", "\"abc\"", "\"1e3\"", "1.5", "99999999999999999999", "{}"})
        EXPECT_EQ(
            category_of([&] { import_status_from_body("1", json::parse(std::string("{\"Errors\":") + errors + "}")); }),
            "VALIDATION")
            << errors;
    EXPECT_EQ(import_status_from_body("1", json{{"Errors", "12"}}).errors, 12);
    EXPECT_EQ(category_of([] { import_code_from_body(json{{"code", "abc"}}); }), "VALIDATION");
    EXPECT_EQ(import_code_from_body(json{{"code", 77}}), "77");
}

TEST(HostileValues, APulledContactWithANulIsLeftOutNotThePage) {
    const FieldMap map;
    const json good = {{"code", "1"}, {"email", "a@b.co"}};
    const json nul = {{"code", "2"}, {"email", "c@d.co"}, {"name", std::string("N\0", 2)}};
    const json object_email = {{"code", "3"}, {"email", {{"x", 1}}}};
    long skipped = -1;
    const json rows = pull_rows({good, nul, object_email}, map, &skipped);
    EXPECT_EQ(rows.size(), 1u);
    EXPECT_EQ(skipped, 2);
    EXPECT_NO_THROW(rows.dump());

    // Opt-out and history pages: the same, without the contact mapping.
    const json items = storable_items({good, nul, json("x"), json{{"Kind", 8}}}, &skipped);
    EXPECT_EQ(items, json::array({good, json{{"Kind", 8}}}));
    EXPECT_EQ(skipped, 2);
}

// --- The outcome the worker records ---------------------------------------------------------------

TEST(HostileOutcome, AnyStringsGiveRowsThatDumpAndFitTheColumns) {
    SyncOutcome o;
    o.job_id = 1;
    o.operation = "create";
    o.list_code = "7";
    o.ok = true;
    o.contact_code = "12\xff";  // as if built outside run_job from a bad answer
    static const char raw[] = "bad \xc3 text \0 with NUL";
    o.message = std::string(raw, sizeof raw - 1) + std::string(5000, 'x');
    o.request_unique = std::string(300, 'u') + "\xe2\x82";
    o.error_code = std::string(80, '9');
    o.duration_ms = -5;
    const json rows = outcome_rows({{o, RetryDecision{JobFate::Completed}}});
    std::string text;
    ASSERT_NO_THROW(text = rows.dump());
    const json row = json::parse(text)[0];
    EXPECT_EQ(row["fate"], "failed");  // a success with a code crm_lead_sync refuses is failed, with the reason
    EXPECT_EQ(row["category"], "VALIDATION");
    EXPECT_TRUE(row["contact_code"].is_null());
    EXPECT_LE(row["request_unique"].get<std::string>().size(), 100u);
    EXPECT_TRUE(row["error_code"].is_null());  // cleared with the failure
    EXPECT_EQ(row["duration_ms"], 0);

    o.ok = false;
    o.category = ErrorCategory::ApiError;
    o.contact_code.clear();
    const json failed = outcome_rows({{o, RetryDecision{JobFate::Retry, 5000}}})[0];
    EXPECT_EQ(failed["fate"], "queued");
    EXPECT_LE(failed["error_code"].get<std::string>().size(), 50u);
    EXPECT_LE(failed["message"].get<std::string>().size(), kMaxMessageBytes);
    EXPECT_FALSE(has_nul_byte(failed["message"].get<std::string>()));
    EXPECT_TRUE(is_valid_utf8(failed["message"].get<std::string>()));
    EXPECT_NO_THROW(failed.dump());
}

// --- Over the network: a tiny hostile server ----------------------------------------------------

// Answers each path as set for it; /auth, unless set, normally; anything else 404.
class HostileServer {
public:
    using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

    HostileServer() {
        server_.Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
            Handler h;
            {
                std::lock_guard<std::mutex> lock(mu_);
                auto it = handlers_.find(req.path);
                if (it != handlers_.end()) h = it->second;
            }
            if (h) return h(req, res);
            if (req.path == "/auth") {
                res.set_content(envelope("480001", "\"Sucesso\"", R"({"auth-token": "12345.300001.1.token"})"),
                                "application/json");
                return;
            }
            res.status = 404;
        });
        port_ = server_.bind_to_any_port("127.0.0.1");  // listening from here on
        serving_ = std::thread([this] { server_.listen_after_bind(); });
    }
    ~HostileServer() {
        server_.stop();
        serving_.join();
    }

    void on(const std::string& path, Handler h) {
        std::lock_guard<std::mutex> lock(mu_);
        handlers_[path] = std::move(h);
    }
    void answer(const std::string& path, std::string body, std::string type = "application/json") {
        on(path, [body = std::move(body), type = std::move(type)](const httplib::Request&, httplib::Response& res) {
            res.set_content(body, type.c_str());
        });
    }
    std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

private:
    httplib::Server server_;
    std::mutex mu_;
    std::map<std::string, Handler> handlers_;
    int port_ = 0;
    std::thread serving_;
};

class HostileServerTest : public ::testing::Test {
protected:
    Account account() const { return Account(server_.base_url(), "u@example.com", "pw", "300001"); }

    SyncOutcome run_create(DinamizeClient& client) {
        SyncJob job;
        job.id = 11;
        job.lead_id = 5;
        job.list_code = "7";
        job.operation = job.queued_operation = "create";
        job.attempt = 1;
        job.lead_json = R"({"dwu_id": 5, "dwu_email": "ana@example.com", "dwu_name": "Ana"})";
        SyncOutcome o = run_job(client, job, {});
        // Whatever came back, the recording statement's rows dump.
        EXPECT_NO_THROW(outcome_rows({{o, decide(o, RetryPolicy{}, 0.5)}}).dump());
        EXPECT_TRUE(is_valid_utf8(o.message));
        EXPECT_FALSE(has_nul_byte(o.message));
        EXPECT_LE(o.request_unique.size(), kMaxRequestUniqueBytes);
        EXPECT_LE(o.error_code.size(), kMaxErrorCodeBytes);
        return o;
    }

    HostileServer server_;
    HttpTransport http_{HttpOptions{}};
};

TEST_F(HostileServerTest, DeepNestingIsAnApiErrorNotACrash) {
    server_.answer("/emkt/contact-list/search", envelope("480001", "\"Sucesso\"", nested_arrays(100000)));
    server_.answer("/emkt/contact/add", nested_arrays(100000));
    DinamizeClient client(account(), http_);
    try {
        search_contact_lists(client, Query{});
        FAIL() << "a 100,000-deep answer was accepted";
    } catch (const DinamizeError& e) {
        EXPECT_EQ(e.category(), ErrorCategory::ApiError) << e.what();
        EXPECT_TRUE(e.retryable());
    }
    const SyncOutcome o = run_create(client);
    EXPECT_FALSE(o.ok);
    EXPECT_EQ(o.category, ErrorCategory::ApiError);
    EXPECT_TRUE(o.retryable);
}

TEST_F(HostileServerTest, HtmlWithStatus200IsAnApiError) {
    server_.answer("/emkt/contact/add", "<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html");
    DinamizeClient client(account(), http_);
    const SyncOutcome o = run_create(client);
    EXPECT_EQ(o.category, ErrorCategory::ApiError);
    EXPECT_TRUE(o.retryable);
    EXPECT_EQ(o.message, "Dinamize /emkt/contact/add answered with malformed JSON");
}

TEST_F(HostileServerTest, InvalidUtf8AndNulsInCodeDetailGiveValidStoredText) {
    DinamizeClient client(account(), http_);
    for (const std::string& detail :
         {std::string("\"Campo inv\xe1lido \xff\xfe\xc3\""), std::string("\"bad\\u0000detail\"")}) {
        server_.answer("/emkt/contact/add", envelope("249002", detail, "{}", "\"r-\\u0000-\xff\""));
        const SyncOutcome o = run_create(client);
        EXPECT_EQ(o.category, ErrorCategory::Validation) << o.message;
        EXPECT_EQ(o.error_code, "249002");
        EXPECT_FALSE(o.retryable);
        EXPECT_FALSE(has_nul_byte(o.request_unique));
        EXPECT_TRUE(is_valid_utf8(o.request_unique));
    }
    std::string long_detail = "\"a";
    for (int i = 0; i < 200; ++i) long_detail += "\xc3\xa9";  // byte 200 is the middle of an é
    server_.answer("/emkt/contact/add", envelope("249002", long_detail + "\"", "{}"));
    const SyncOutcome o = run_create(client);
    EXPECT_TRUE(is_valid_utf8(o.message));
}

TEST_F(HostileServerTest, ANonDigitContactCodeOnASuccessfulAddIsAValidationError) {
    DinamizeClient client(account(), http_);
    for (const std::string& body :
         {std::string(R"({"code":"abc"})"), std::string(R"({"code":"12\u00003"})"),
          std::string(R"({"code":1234567890123456789012345678901234567890})"), std::string(R"("not an object")")}) {
        server_.answer("/emkt/contact/add", envelope("480001", "\"Sucesso\"", body));
        const SyncOutcome o = run_create(client);
        EXPECT_FALSE(o.ok) << body;
        EXPECT_EQ(o.category, ErrorCategory::Validation) << body << ": " << o.message;
        EXPECT_FALSE(o.retryable);
        EXPECT_TRUE(o.contact_code.empty());
        EXPECT_EQ(decide(o, RetryPolicy{}, 0.5).fate, JobFate::Failed);  // not re-sent
    }
    // A good answer with an over-long request_unique: synced, the id cut to the column.
    server_.answer("/emkt/contact/add",
                   envelope("480001", "\"Sucesso\"", R"({"code":"777"})", "\"" + std::string(500, 'u') + "\""));
    const SyncOutcome o = run_create(client);
    EXPECT_TRUE(o.ok) << o.message;
    EXPECT_EQ(o.contact_code, "777");
    EXPECT_LE(o.request_unique.size(), 100u);
}

// An opt-out or history page with one item jsonb cannot hold stores the others (the pull goes on).
TEST(StorableItems, ItemsThatCannotBeStoredAreLeftOutAndCounted) {
    const std::vector<json> items = {json{{"email", "a@example.com"}}, json{{"email", std::string("b\0@x", 4)}},
                                     json("not an object"), json{{"nested", {{"k", std::string("\0", 1)}}}},
                                     json{{"email", "c@example.com"}}};
    long skipped = -1;
    const json rows = storable_items(items, &skipped);
    EXPECT_EQ(skipped, 3);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0]["email"], "a@example.com");
    EXPECT_EQ(rows[1]["email"], "c@example.com");
}

TEST_F(HostileServerTest, AnErrorCodeOverFiftyCharactersIsAnApiError) {
    server_.answer("/emkt/contact/add", envelope(std::string(80, '9'), "\"Erro\"", "{}"));
    DinamizeClient client(account(), http_);
    const SyncOutcome o = run_create(client);
    EXPECT_EQ(o.category, ErrorCategory::ApiError);
    EXPECT_TRUE(o.error_code.empty());
}

TEST_F(HostileServerTest, HugeNumbersAreClassifiedNotCast) {
    DinamizeClient client(account(), http_);
    server_.answer("/emkt/contact/add", "{\"code\":1e999999,\"code_detail\":\"Sucesso\",\"body\":{}}");
    EXPECT_EQ(run_create(client).category, ErrorCategory::ApiError);  // not even a double: not the envelope
    server_.answer("/emkt/contact/add", envelope("240024", "\"limit\"", R"({"retry-after": 1e300})"));
    const SyncOutcome limited = run_create(client);
    EXPECT_EQ(limited.category, ErrorCategory::RateLimit);
    EXPECT_GE(limited.retry_after_seconds, 1);
    EXPECT_LE(limited.retry_after_seconds, 60);
    server_.answer("/emkt/contact/search", envelope("480001", "\"Sucesso\"", R"({"items":[{"code":1e30}]})"));
    try {
        find_contact_code(client, "a@b.co", "7");
        FAIL();
    } catch (const DinamizeError& e) {
        EXPECT_EQ(e.category(), ErrorCategory::Validation) << e.what();
    }
}

TEST_F(HostileServerTest, AnAnswerOverTheSizeLimitIsAClearApiError) {
    // Announced by Content-Length: refused before the body is read.
    const std::string big = envelope("480001", "\"Sucesso\"", "{\"x\":\"" + std::string(65u << 20, 'A') + "\"}");
    server_.answer("/emkt/contact-list/search", big);
    // Chunked, no length: stopped at the limit.
    server_.on("/emkt/field/search", [](const httplib::Request&, httplib::Response& res) {
        res.set_chunked_content_provider("application/json", [](size_t offset, httplib::DataSink& sink) {
            static const std::string chunk(1u << 20, ' ');
            if (offset > (80u << 20)) return false;
            return sink.write(chunk.data(), chunk.size());
        });
    });
    DinamizeClient client(account(), http_);
    for (const auto& call : std::vector<std::function<void()>>{[&] { search_contact_lists(client, Query{}); },
                                                               [&] { search_fields(client, "7", Query{}); }}) {
        try {
            call();
            FAIL() << "an answer over 64 MiB was read";
        } catch (const DinamizeError& e) {
            EXPECT_EQ(e.category(), ErrorCategory::ApiError) << e.what();
            EXPECT_TRUE(e.retryable());
            EXPECT_NE(std::string(e.what()).find("larger than 64 MiB"), std::string::npos) << e.what();
        }
    }
}

TEST_F(HostileServerTest, ABodyThatNeverEndsOrIsCutIsANetworkError) {
    server_.on("/emkt/contact/add", [](const httplib::Request&, httplib::Response& res) {
        res.set_chunked_content_provider("application/json", [](size_t, httplib::DataSink& sink) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            return sink.write("[", 1);  // one byte at a time until the client hangs up
        });
    });
    server_.on("/emkt/contact/search", [](const httplib::Request&, httplib::Response& res) {
        res.set_chunked_content_provider("application/json", [](size_t offset, httplib::DataSink& sink) {
            if (offset > 0) return false;  // closes the connection mid-answer
            return sink.write("{\"code\":\"4800", 12);
        });
    });
    HttpOptions quick;
    quick.timeout_ms = 700;
    HttpTransport http(quick);
    DinamizeClient client(account(), http);
    const SyncOutcome slow = run_create(client);
    EXPECT_EQ(slow.category, ErrorCategory::Network) << slow.message;
    EXPECT_TRUE(slow.retryable);
    try {
        find_contact_code(client, "a@b.co", "7");
        FAIL();
    } catch (const DinamizeError& e) {
        EXPECT_EQ(e.category(), ErrorCategory::Network) << e.what();
        EXPECT_TRUE(e.retryable());
    }
}

TEST_F(HostileServerTest, AnAuthTokenThatCannotBeSentBackIsRefused) {
    server_.answer("/auth", envelope("480001", "\"Sucesso\"", R"({"auth-token": "abc\r\nX-Injected: 1"})"));
    DinamizeClient client(account(), http_);
    try {
        client.authenticate();
        ADD_FAILURE() << "a token with CR/LF was accepted";
    } catch (const DinamizeError& e) {
        EXPECT_EQ(e.category(), ErrorCategory::Validation) << e.what();
    }
    EXPECT_FALSE(client.has_token());
}

}  // namespace
}  // namespace dwu::test
