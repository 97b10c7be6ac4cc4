// The PostgreSQL-free part of the SQL functions over the Dinamize API: argument parsing and
// validation (filters, order_by, status_contact), item -> row cells, leads -> bulk import.
#include <gtest/gtest.h>

#include <stdexcept>

#include "core/dinamize/api_rows.h"
#include "core/dinamize/dinamize_import.h"

using nlohmann::json;
namespace rows = dwu::rows;

TEST(ApiRows, FiltersAsConditionsOrEqualities) {
    auto c = rows::search_conditions(json::parse(
        R"([{"field": "email", "operator": "*v*", "value": "acme"}, {"field": "cmp7", "value": 3}, {"field": "x", "value": true}])"));
    ASSERT_EQ(c.size(), 3u);
    EXPECT_EQ(c[0].field, "email");
    EXPECT_EQ(c[0].op, "*v*");
    EXPECT_EQ(c[0].value, "acme");
    EXPECT_EQ(c[1].op, "=");  // the default operator
    EXPECT_EQ(c[1].value, "3");
    EXPECT_EQ(c[2].value, "true");

    c = rows::search_conditions(json::parse(R"({"email": "a@b.com", "name": "Ana"})"));
    ASSERT_EQ(c.size(), 2u);
    EXPECT_EQ(c[0].field, "email");
    EXPECT_EQ(c[0].op, "=");
    EXPECT_TRUE(rows::search_conditions(json()).empty());
    EXPECT_TRUE(rows::search_conditions(json::array()).empty());
}

TEST(ApiRows, BadFiltersAreRefusedNamingTheProblem) {
    const char* bad[] = {R"("email")",
                         R"([{"field": "email", "operator": "LIKE", "value": "a"}])",
                         R"([{"field": "e mail", "value": "a"}])",
                         R"([{"field": "email"}])",
                         R"([{"value": "a"}])",
                         R"([{"field": "email", "value": [1]}])",
                         R"([{"field": "email", "value": "a", "op": "="}])",
                         R"([{"field": "email", "operator": 1, "value": "a"}])",
                         R"([42])",
                         R"({"email": null})"};
    for (const char* f : bad) EXPECT_THROW(rows::search_conditions(json::parse(f)), std::invalid_argument) << f;
    try {
        rows::search_conditions(json::parse(R"([{"field": "email", "operator": "LIKE", "value": "a"}])"));
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("LIKE"), std::string::npos);
    }
}

TEST(ApiRows, OrderBy) {
    auto k = rows::sort_keys(" name desc , email,cmp4 ASC ");
    ASSERT_EQ(k.size(), 3u);
    EXPECT_EQ(k[0].field, "name");
    EXPECT_EQ(k[0].type, "DESC");
    EXPECT_EQ(k[1].field, "email");
    EXPECT_EQ(k[1].type, "ASC");
    EXPECT_EQ(k[2].field, "cmp4");
    EXPECT_TRUE(rows::sort_keys("").empty());
    EXPECT_TRUE(rows::sort_keys("   ").empty());
    EXPECT_THROW(rows::sort_keys("name sideways"), std::invalid_argument);
    EXPECT_THROW(rows::sort_keys("name,,email"), std::invalid_argument);
    EXPECT_THROW(rows::sort_keys("na;me"), std::invalid_argument);
    EXPECT_THROW(rows::sort_keys("name DESC extra"), std::invalid_argument);
}

TEST(ApiRows, StatusContact) {
    EXPECT_EQ(rows::status_contact(""), "");
    EXPECT_EQ(rows::status_contact("no_rest"), "NO_REST");
    EXPECT_EQ(rows::status_contact("REST_ONLY"), "REST_ONLY");
    EXPECT_THROW(rows::status_contact("SLEEPING"), std::invalid_argument);
}

TEST(ApiRows, ContactItemBecomesCells) {
    const json item = json::parse(R"({"code": 123456, "email": "a@b.com", "name": null, "optout": "false",
        "spam": 1, "status": "V", "custom_fields": {"cmp4": ["1", "2"]}, "extra": {"x": 1}})");
    const rows::ContactRow r = rows::contact_row(item);
    EXPECT_EQ(r.contact_code, "123456");  // numbers as text
    EXPECT_EQ(r.email, "a@b.com");
    EXPECT_FALSE(r.name.has_value());           // null -> SQL NULL
    EXPECT_FALSE(r.external_code.has_value());  // absent -> SQL NULL
    EXPECT_EQ(r.optout, false);
    EXPECT_EQ(r.spam, true);
    EXPECT_EQ(json::parse(r.custom_fields), json::parse(R"({"cmp4": ["1", "2"]})"));
    EXPECT_EQ(json::parse(r.raw), item);  // raw keeps everything
    EXPECT_EQ(rows::contact_row(json::parse(R"({"code": "1"})")).custom_fields, "{}");
    EXPECT_FALSE(rows::bool_cell(json::parse(R"({"b": "maybe"})"), "b").has_value());
}

TEST(ApiRows, HistoryKinds) {
    const rows::HistoryRow r = rows::history_row(json::parse(
        R"({"Kind": "6", "Time": "2025-03-01 10:16:00", "external_code": "900", "GenericInfo": "5001", "GenericInfo2": "77"})"));
    EXPECT_EQ(r.kind, 6);
    EXPECT_EQ(r.kind_name, "click");
    EXPECT_EQ(r.generic_info2, "77");
    EXPECT_EQ(rows::history_row(json::parse(R"({"Kind": 13})")).kind_name, "bounce");
    EXPECT_FALSE(rows::history_row(json::parse(R"({"Kind": "42"})")).kind_name.has_value());
    EXPECT_FALSE(rows::history_row(json::parse(R"({"Kind": "x"})")).kind.has_value());
}

TEST(ApiRows, LeadsBecomeAnImport) {
    const std::vector<json> leads = {
        json::parse(R"({"dwu_id": 7, "dwu_email": "a@b.com", "dwu_name": "Ana", "dwu_phone": "+55 51 9999"})"),
        json::parse(R"({"dwu_id": 8, "dwu_email": "c@d.com", "dwu_name": null, "dwu_phone": null})")};
    const dwu::ContactImport im = rows::import_from_leads("4", leads, dwu::parse_field_map("dwu_phone:cmp9"));
    EXPECT_EQ(im.list_code, "4");
    ASSERT_EQ(im.columns.size(), 4u);
    EXPECT_EQ(im.columns[0].field, dwu::import_field::kEmail);
    EXPECT_EQ(im.columns[2].field, dwu::import_field::kExternalCode);
    EXPECT_EQ(im.columns[3].field, "9");
    ASSERT_EQ(im.rows.size(), 2u);
    EXPECT_EQ(im.rows[0], (std::vector<std::string>{"a@b.com", "Ana", "7", "+55 51 9999"}));
    EXPECT_EQ(im.rows[1][0], "c@d.com");
    EXPECT_EQ(im.rows[1][2], "8");
    EXPECT_NO_THROW(dwu::import_csv(im));
    EXPECT_THROW(rows::import_from_leads("4", {}, {}), std::invalid_argument);
    EXPECT_THROW(rows::import_from_leads("4", {json::parse(R"({"dwu_id": 9})")}, {}), std::invalid_argument);
}
