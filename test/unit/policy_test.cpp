// Retry policy, code classification, lead → contact mapping, outcome rows: pure logic.
#include <gtest/gtest.h>

#include "core/sync/contact_mapping.h"
#include "core/dinamize/dinamize_client.h"
#include "core/dinamize/dinamize_codes.h"
#include "core/sync/outcome_record.h"
#include "core/sync/retry_policy.h"

namespace dwu {
namespace {

SyncOutcome failure(ErrorCategory category, bool retryable, int attempt) {
    SyncOutcome o;
    o.attempt = attempt;
    o.category = category;
    o.retryable = retryable;
    return o;
}

TEST(RetryPolicy, BacksOffFiveTenTwentySecondsWithinJitter) {
    RetryPolicy policy;  // 3 attempts, 5 s base, ±25 %
    const long expected[] = {5000, 10000};
    for (int attempt = 1; attempt <= 2; attempt++) {
        for (double r : {0.0, 0.5, 0.999}) {
            const RetryDecision d = decide(failure(ErrorCategory::Network, true, attempt), policy, r);
            EXPECT_EQ(d.fate, JobFate::Retry);
            EXPECT_GE(d.delay_ms, expected[attempt - 1] * 3 / 4);
            EXPECT_LE(d.delay_ms, expected[attempt - 1] * 5 / 4);
            EXPECT_FALSE(d.refund_attempt);
        }
    }
    policy.max_attempts = 4;
    EXPECT_EQ(decide(failure(ErrorCategory::Network, true, 3), policy, 0.5).delay_ms, 20000);
}

TEST(RetryPolicy, FailsAfterTheLastAttempt) {
    EXPECT_EQ(decide(failure(ErrorCategory::Network, true, 3), RetryPolicy{}, 0.5).fate, JobFate::Failed);
}

TEST(RetryPolicy, ValidationErrorsFailAtOnce) {
    EXPECT_EQ(decide(failure(ErrorCategory::Validation, false, 1), RetryPolicy{}, 0.5).fate, JobFate::Failed);
}

TEST(RetryPolicy, RateLimitWaitsRetryAfterAndRefundsTheAttempt) {
    SyncOutcome o = failure(ErrorCategory::RateLimit, true, 3);
    o.retry_after_seconds = 17;
    const RetryDecision d = decide(o, RetryPolicy{}, 0.5);
    EXPECT_EQ(d.fate, JobFate::Retry);
    EXPECT_EQ(d.delay_ms, 17000);
    EXPECT_TRUE(d.refund_attempt);
}

TEST(RetryPolicy, SuccessCompletes) {
    SyncOutcome o;
    o.ok = true;
    EXPECT_EQ(decide(o, RetryPolicy{}, 0.5).fate, JobFate::Completed);
}

TEST(Codes, ClassifiesKnownAndUnknownCodes) {
    EXPECT_EQ(codes::classify_code("240004").category, ErrorCategory::Auth);
    EXPECT_FALSE(codes::classify_code("240004").retryable);
    EXPECT_EQ(codes::classify_code("240024").category, ErrorCategory::RateLimit);
    EXPECT_TRUE(codes::classify_code(codes::kInvalidToken).reauthenticate);
    EXPECT_TRUE(codes::classify_code(codes::kDuplicateEmail).duplicate);
    const CodeClass unknown = codes::classify_code("123456");
    EXPECT_EQ(unknown.category, ErrorCategory::ApiError);
    EXPECT_TRUE(unknown.reauthenticate);  // reference §2: one re-authentication
    EXPECT_TRUE(unknown.retryable);       // then retried later: the lookups found nothing, max_attempts bounds it
    EXPECT_FALSE(unknown.known());
}

TEST(Envelope, ReadsRetryAfterAsStringOrNumber) {
    EXPECT_EQ(retry_after_seconds(nlohmann::json{{"retry-after", "17"}}), 17);
    EXPECT_EQ(retry_after_seconds(nlohmann::json{{"retry-after", 9}}), 9);
    const int rest_of_minute = retry_after_seconds(nlohmann::json::object());
    EXPECT_GE(rest_of_minute, 1);
    EXPECT_LE(rest_of_minute, 60);
}

TEST(Envelope, MalformedAnswersAreRetryable) {
    HttpResponse garbage{200, "<html>oops</html>", 1};
    try {
        parse_envelope(garbage, "/emkt/contact/add");
        FAIL();
    } catch (const DinamizeError& e) {
        EXPECT_EQ(e.category(), ErrorCategory::ApiError);
        EXPECT_TRUE(e.retryable());
    }
    HttpResponse server_error{502, "Bad gateway", 1};
    try {
        parse_envelope(server_error, "/auth");
        FAIL();
    } catch (const DinamizeError& e) {
        EXPECT_EQ(e.category(), ErrorCategory::Network);
        EXPECT_TRUE(e.retryable());
    }
}

TEST(FieldMap, ParsesColumnToCustomFieldPairs) {
    const FieldMap map = parse_field_map(" dwu_phone:cmp4 , dwu_city:cmp5,");
    ASSERT_EQ(map.size(), 2u);
    EXPECT_EQ(map[0], (std::pair<std::string, std::string>{"dwu_phone", "cmp4"}));
    EXPECT_EQ(map[1], (std::pair<std::string, std::string>{"dwu_city", "cmp5"}));
    EXPECT_TRUE(parse_field_map("").empty());
}

TEST(FieldMap, RejectsBadEntries) {
    EXPECT_THROW(parse_field_map("dwu_phone"), std::invalid_argument);
    EXPECT_THROW(parse_field_map("phone:cmp4"), std::invalid_argument);
    EXPECT_THROW(parse_field_map("dwu_phone:field4"), std::invalid_argument);
    EXPECT_THROW(parse_field_map("dwu_phone:cmp4,dwu_city:cmp4"), std::invalid_argument);
    EXPECT_THROW(parse_field_map("dwu_phone;drop table:cmp4"), std::invalid_argument);
}

TEST(ContactMapping, MapsALeadRow) {
    const auto lead = nlohmann::json::parse(
        R"({"dwu_id": 42, "dwu_email": "ana@example.com", "dwu_name": "Ana", "dwu_phone": "+55 51 9999-0000",
            "dwu_tags": ["vip", "bf"], "dwu_city": null})");
    const Contact c = contact_from_lead(lead, parse_field_map("dwu_phone:cmp4,dwu_tags:cmp6,dwu_city:cmp7"));
    EXPECT_EQ(c.email, "ana@example.com");
    EXPECT_EQ(c.name, "Ana");
    EXPECT_EQ(c.external_code, "42");
    EXPECT_EQ(c.custom_fields["cmp4"], "+55 51 9999-0000");
    EXPECT_EQ(c.custom_fields["cmp6"], nlohmann::json::array({"vip", "bf"}));
    EXPECT_FALSE(c.custom_fields.contains("cmp7"));  // NULL columns are not sent
    const nlohmann::json req = add_contact_request(c, "7");
    EXPECT_EQ(req["contact-list_code"], "7");
    EXPECT_EQ(req["email"], "ana@example.com");
}

TEST(ContactMapping, RejectsALeadWithoutEmail) {
    EXPECT_THROW(contact_from_lead(nlohmann::json{{"dwu_id", 1}}, {}), std::invalid_argument);
}

TEST(OutcomeRows, CarryWhatTheRecordingStatementReads) {
    SyncOutcome o = failure(ErrorCategory::RateLimit, true, 2);
    o.job_id = 9;
    o.lead_id = 4;
    o.operation = "create";
    o.retry_after_seconds = 30;
    o.message = "limit";
    const nlohmann::json rows = outcome_rows({{o, decide(o, RetryPolicy{}, 0.5)}});
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0]["fate"], "queued");
    EXPECT_EQ(rows[0]["category"], "RATE_LIMIT");
    EXPECT_EQ(rows[0]["retry_after"], 30);
    EXPECT_EQ(rows[0]["refund"], true);
    EXPECT_TRUE(rows[0]["contact_code"].is_null());
}

}  // namespace
}  // namespace dwu
