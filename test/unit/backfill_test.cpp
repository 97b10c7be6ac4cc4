// Backfills through the bulk import (backfill.h) against the real simulator: one import, the
// report, the list read back, codes mapped to jobs; what the import rejects goes one by one.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "api_fixture.h"
#include "core/sync/backfill.h"
#include "core/dinamize/dinamize_errors.h"

namespace dwu::test {
namespace {

using nlohmann::json;

class BackfillTest : public ApiTest {};

BackfillItem item(long long job, const std::string& email, const std::string& name, json custom = json::object()) {
    BackfillItem i;
    i.job_id = job;
    i.contact.email = email;
    i.contact.name = name;
    i.contact.external_code = std::to_string(job + 1000);
    i.contact.custom_fields = std::move(custom);
    return i;
}

std::string code_for(const json& contacts, const std::string& email) {
    for (const auto& c : contacts)
        if (c["email"] == email) return c["code"].is_string() ? c["code"].get<std::string>() : c["code"].dump();
    return {};
}

BackfillSleep no_sleep() {
    return [](long) { return true; };
}

TEST_F(BackfillTest, ManyContactsCostThreeRequestsAndEveryJobGetsItsCode) {
    std::vector<BackfillItem> items;
    for (int i = 1; i <= 300; i++)
        items.push_back(item(i, "lead" + std::to_string(i) + "@example.com", "Lead " + std::to_string(i),
                             json{{"cmp4", "+55 51 " + std::to_string(i)}}));
    const long before = requests_seen();
    const BackfillReport r = backfill_contacts(client_, "7", items, no_sleep());
    EXPECT_EQ(r.requests, 3);                                  // import, report, one page of the list
    EXPECT_EQ(requests_seen() - before, 4) << stats().dump();  // + /auth
    EXPECT_FALSE(r.import_code.empty());
    EXPECT_EQ(r.rejected_rows, 0);
    EXPECT_TRUE(r.send_one_by_one.empty());
    ASSERT_EQ(r.codes.size(), 300u);
    const json contacts = sim_contacts("7");
    ASSERT_EQ(contacts.size(), 300u);
    for (const auto& [job, code] : r.codes)
        EXPECT_EQ(code, code_for(contacts, "lead" + std::to_string(job) + "@example.com")) << job;
    for (const auto& c : contacts)
        if (c["email"] == "lead7@example.com") {
            EXPECT_EQ(c["name"], "Lead 7");
            EXPECT_EQ(c["external_code"], "1007");
            EXPECT_EQ(c["custom_fields"]["cmp4"], "+55 51 7");
        }
}

TEST_F(BackfillTest, RejectedRowsAndArrayValuesAreSentOneByOne) {
    std::vector<BackfillItem> items{item(1, "ok1@example.com", "Ok"), item(2, "not-an-email", "Bad"),
                                    item(3, "ok2@example.com", "Ok 2"),
                                    item(4, "multi@example.com", "Multi", json{{"cmp5", json::array({"a", "b"})}})};
    const BackfillReport r = backfill_contacts(client_, "7", items, no_sleep());
    EXPECT_EQ(r.rejected_rows, 1);
    EXPECT_EQ(r.codes.size(), 2u);
    EXPECT_EQ(r.codes.count(1), 1u);
    EXPECT_EQ(r.codes.count(3), 1u);
    std::vector<long long> one_by_one = r.send_one_by_one;
    std::sort(one_by_one.begin(), one_by_one.end());
    EXPECT_EQ(one_by_one, (std::vector<long long>{2, 4}));
}

TEST_F(BackfillTest, AnExistingContactKeepsItsCodeAndTakesTheNewValues) {
    const std::string existing = add("7", "known@example.com", "Old name");
    const BackfillReport r = backfill_contacts(client_, "7", {item(9, "Known@Example.com", "New name")}, no_sleep());
    ASSERT_EQ(r.codes.count(9), 1u);
    EXPECT_EQ(r.codes.at(9), existing);
    const json contacts = sim_contacts("7");
    ASSERT_EQ(contacts.size(), 1u);
    EXPECT_EQ(contacts[0]["name"], "New name");
}

TEST_F(BackfillTest, TheListIsReadPageByPage) {
    std::vector<BackfillItem> items;
    for (int i = 1; i <= 25; i++) items.push_back(item(i, "p" + std::to_string(i) + "@example.com", "P"));
    BackfillOptions options;
    options.page_size = 10;
    const BackfillReport r = backfill_contacts(client_, "7", items, no_sleep(), options);
    EXPECT_EQ(r.codes.size(), 25u);
    EXPECT_EQ(r.requests, 2 + 3);  // import, report, 3 pages
}

TEST_F(BackfillTest, AFailedImportThrowsAndNothingIsClaimedDone) {
    admin("/__sim/faults", json{{"http_5xx", 1.0}});
    EXPECT_THROW(backfill_contacts(client_, "7", {item(1, "a@example.com", "A")}, no_sleep()), DinamizeError);
}

TEST(BackfillImport, ColumnsCoverEveryCustomFieldInAStableOrder) {
    std::vector<BackfillItem> items{item(1, "a@example.com", "A", json{{"cmp12", "x"}}),
                                    item(2, "b@example.com", "B", json{{"cmp4", 7}})};
    const ImportBuild b = build_backfill_import("7", items);
    EXPECT_EQ(b.import.header, (std::vector<std::string>{"email", "name", "external_code", "cmp12", "cmp4"}));
    ASSERT_EQ(b.import.columns.size(), 5u);
    EXPECT_EQ(b.import.columns[3].field, "12");
    EXPECT_EQ(b.import.columns[4].field, "4");
    EXPECT_EQ(b.import.rows[0], (std::vector<std::string>{"a@example.com", "A", "1001", "x", ""}));
    EXPECT_EQ(b.import.rows[1], (std::vector<std::string>{"b@example.com", "B", "1002", "", "7"}));
    EXPECT_EQ(b.included, (std::vector<long long>{1, 2}));
}

TEST(BackfillImport, AReportIsFinalOnceItCountsErrors) {
    ImportStatus s;
    EXPECT_FALSE(import_finished(s));
    s.errors = 0;
    EXPECT_TRUE(import_finished(s));
    s.body = json{{"Status", "PROCESSING"}, {"Errors", "0"}};
    EXPECT_FALSE(import_finished(s));
    s.body = json{{"Status", "FINISHED"}, {"Errors", "0"}};
    EXPECT_TRUE(import_finished(s));
}

}  // namespace
}  // namespace dwu::test
