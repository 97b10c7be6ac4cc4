// The pull's change detection: what of a Dinamize contact counts, and its hash.
#include <gtest/gtest.h>

#include "core/sync/pull_diff.h"

using nlohmann::json;

namespace {

const dwu::FieldMap kMap = {{"dwu_phone", "cmp4"}, {"dwu_city", "cmp5"}};

json item() {
    return json{{"code", "123456"},
                {"email", "ana@example.com"},
                {"name", "Ana"},
                {"external_code", "42"},
                {"insert_date", "2025-01-15 10:30:00"},
                {"status", "V"},
                {"optout", false},
                {"spam", false},
                {"total_clicks", "10"},
                {"custom_fields", {{"cmp4", "+55 51 9999-0001"}, {"cmp5", "Porto Alegre"}, {"cmp9", "x"}}}};
}

}  // namespace

TEST(PullDiff, MapsEmailNameAndMappedFieldsOnly) {
    dwu::PulledContact c = dwu::pulled_contact(item(), kMap);
    EXPECT_EQ(c.code, "123456");
    EXPECT_EQ(c.fields, (json{{"dwu_email", "ana@example.com"},
                              {"dwu_name", "Ana"},
                              {"dwu_phone", "+55 51 9999-0001"},
                              {"dwu_city", "Porto Alegre"}}));
    EXPECT_EQ(c.email_status, "valid");
    EXPECT_EQ(c.hash.size(), 64u);
}

TEST(PullDiff, EmptyAndMissingValuesAreNull) {
    json i = item();
    i["name"] = "";
    i["custom_fields"].erase("cmp5");
    dwu::PulledContact c = dwu::pulled_contact(i, kMap);
    EXPECT_TRUE(c.fields["dwu_name"].is_null());
    EXPECT_TRUE(c.fields["dwu_city"].is_null());
}

TEST(PullDiff, HashIgnoresWhatIsNotTheLead) {
    const std::string h = dwu::pulled_contact(item(), kMap).hash;
    json i = item();
    i["external_code"] = "99";         // written by our own push
    i["total_clicks"] = "11";          // activity counters
    i["custom_fields"]["cmp9"] = "y";  // a field not mapped
    i["insert_date"] = "2026-01-01 00:00:00";
    EXPECT_EQ(dwu::pulled_contact(i, kMap).hash, h);
}

TEST(PullDiff, HashChangesWithAMappedFieldNameEmailOrStatus) {
    const std::string h = dwu::pulled_contact(item(), kMap).hash;
    json a = item();
    a["custom_fields"]["cmp5"] = "Canoas";
    json b = item();
    b["name"] = "Ana Maria";
    json c = item();
    c["email"] = "ana2@example.com";
    json d = item();
    d["optout"] = true;
    for (const json& changed : {a, b, c, d}) EXPECT_NE(dwu::pulled_contact(changed, kMap).hash, h) << changed.dump();
}

TEST(PullDiff, HashDoesNotDependOnKeyOrder) {
    json a = json::parse(R"({"code":"1","email":"a@b.co","name":"A","custom_fields":{"cmp4":"1","cmp5":"2"}})");
    json b = json::parse(R"({"custom_fields":{"cmp5":"2","cmp4":"1"},"name":"A","email":"a@b.co","code":"1"})");
    EXPECT_EQ(dwu::pulled_contact(a, kMap).hash, dwu::pulled_contact(b, kMap).hash);
}

TEST(PullDiff, EmailStatusFromFlags) {
    json i = item();
    EXPECT_EQ(dwu::email_status_of(i), "valid");
    i["status"] = "I";
    EXPECT_EQ(dwu::email_status_of(i), "invalid");
    i["optout"] = "1";
    EXPECT_EQ(dwu::email_status_of(i), "opted_out");
    i["spam"] = true;
    EXPECT_EQ(dwu::email_status_of(i), "spam_complaint");
}

TEST(PullDiff, MultiValueFieldsStayArraysNumbersBecomeStrings) {
    json i = item();
    i["custom_fields"]["cmp4"] = json::array({"12", 15});
    i["custom_fields"]["cmp5"] = 7;
    dwu::PulledContact c = dwu::pulled_contact(i, kMap);
    EXPECT_EQ(c.fields["dwu_phone"], json::array({"12", "15"}));
    EXPECT_EQ(c.fields["dwu_city"], "7");
}

TEST(PullDiff, RowsSkipItemsWithoutCodeOrEmail) {
    json no_code = item();
    no_code.erase("code");
    json no_email = item();
    no_email["email"] = "";
    long skipped = -1;
    json rows = dwu::pull_rows({item(), no_code, no_email, json("junk")}, kMap, &skipped);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(skipped, 3);
    EXPECT_EQ(rows[0]["code"], "123456");
    EXPECT_EQ(rows[0]["item"], item());
    EXPECT_EQ(rows[0]["hash"], dwu::pulled_contact(item(), kMap).hash);
}
