// Typed contact calls (dinamize_api.h) against the real simulator: CRUD, search operators,
// ordering, status_contact, paging with `next`, the all-pages walk and argument validation.
#include <set>

#include "../simulator/invented_codes.h"
#include "api_fixture.h"
#include "core/dinamize/dinamize_codes.h"
#include "core/dinamize/dinamize_errors.h"
#include "core/dinamize/dinamize_import.h"

namespace dwu::test {
namespace {

using nlohmann::json;

class ApiContactTest : public ApiTest {};

std::string dinamize_code_of(const std::function<void()>& call) {
    try {
        call();
    } catch (const DinamizeError& e) {
        EXPECT_EQ(e.category(), ErrorCategory::Validation) << e.what();
        EXPECT_FALSE(e.retryable());
        return e.dinamize_code();
    }
    ADD_FAILURE() << "expected a DinamizeError";
    return {};
}

TEST_F(ApiContactTest, AddGetUpdateDeleteRoundTrip) {
    Contact v = contact_from_json({{"email", "ana@example.com"},
                                   {"name", "Ana"},
                                   {"external_code", "L-1"},
                                   {"custom_fields", {{"cmp4", "51 9999"}, {"cmp6", json::array({"3", "5"})}}}});
    const std::string code = add_contact(client_, "7", v);
    ASSERT_FALSE(code.empty());

    json item = get_contact(client_, "7", code);
    EXPECT_EQ(item["code"], code);
    EXPECT_EQ(item["email"], "ana@example.com");
    EXPECT_EQ(item["name"], "Ana");
    EXPECT_EQ(item["external_code"], "L-1");
    EXPECT_EQ(item["custom_fields"]["cmp4"], "51 9999");
    EXPECT_EQ(item["custom_fields"]["cmp6"], json::array({"3", "5"}));

    Contact change;
    change.name = "Ana Souza";
    change.custom_fields = {{"cmp4", "51 8888"}};
    update_contact(client_, "7", code, change);
    item = get_contact(client_, "7", code);
    EXPECT_EQ(item["name"], "Ana Souza");
    EXPECT_EQ(item["custom_fields"]["cmp4"], "51 8888");
    EXPECT_EQ(item["custom_fields"]["cmp6"], json::array({"3", "5"}));  // merged, not replaced

    delete_contact(client_, "7", code);
    EXPECT_EQ(dinamize_code_of([&] { get_contact(client_, "7", code); }), codes::kNotFound);
    EXPECT_TRUE(sim_contacts("7").empty());
}

TEST_F(ApiContactTest, DuplicateNotFoundAndServerValidationCodes) {
    add("7", "dup@example.com");
    EXPECT_EQ(dinamize_code_of([&] { add("7", "DUP@example.com"); }), codes::kDuplicateEmail);
    EXPECT_EQ(dinamize_code_of([&] {
                  update_contact(client_, "7", "999999", contact_from_json({{"name", "x"}}));
              }),
              codes::kNotFound);
    EXPECT_EQ(dinamize_code_of([&] { delete_contact(client_, "7", "999999"); }), codes::kNotFound);
    // A well-formed field name the simulator does not know: refused by Dinamize, not by us.
    ContactQuery q;
    q.list_code = "7";
    q.search = {{"favourite_colour", "=", "blue"}};
    EXPECT_EQ(dinamize_code_of([&] { search_contacts(client_, q); }), codes::kInvalidField);
}

TEST_F(ApiContactTest, EveryDocumentedOperatorFilters) {
    add("7", "ana@alpha.com", "Ana", {{"cmp5", "10"}});
    add("7", "bruno@beta.com", "Bruno", {{"cmp5", "20"}});
    add("7", "carla@alpha.org", "Carla", {{"cmp5", "30"}});
    auto emails = [&](const std::string& field, const std::string& op, const std::string& value) {
        ContactQuery q;
        q.list_code = "7";
        q.search = {{field, op, value}};
        q.order = {{"email", "asc"}};
        return values_of(search_contacts(client_, q).items, "email");
    };
    using V = std::vector<std::string>;
    EXPECT_EQ(emails("cmp5", "=", "20"), V({"bruno@beta.com"}));
    EXPECT_EQ(emails("cmp5", "!=", "20"), V({"ana@alpha.com", "carla@alpha.org"}));
    EXPECT_EQ(emails("cmp5", ">", "10"), V({"bruno@beta.com", "carla@alpha.org"}));
    EXPECT_EQ(emails("cmp5", ">=", "20"), V({"bruno@beta.com", "carla@alpha.org"}));
    EXPECT_EQ(emails("cmp5", "<", "20"), V({"ana@alpha.com"}));
    EXPECT_EQ(emails("cmp5", "<=", "20"), V({"ana@alpha.com", "bruno@beta.com"}));
    EXPECT_EQ(emails("email", "*v*", "alpha"), V({"ana@alpha.com", "carla@alpha.org"}));
    EXPECT_EQ(emails("email", "!*v*", "alpha"), V({"bruno@beta.com"}));
    EXPECT_EQ(emails("name", "v*", "Br"), V({"bruno@beta.com"}));
    EXPECT_EQ(emails("name", "!v*", "Br"), V({"ana@alpha.com", "carla@alpha.org"}));
    EXPECT_EQ(emails("email", "*v", ".org"), V({"carla@alpha.org"}));
    EXPECT_EQ(emails("email", "!*v", ".org"), V({"ana@alpha.com", "bruno@beta.com"}));

    ContactQuery both;  // conditions are AND-ed
    both.list_code = "7";
    both.search = {{"email", "*v*", "alpha"}, {"cmp5", ">", "15"}};
    EXPECT_EQ(values_of(search_contacts(client_, both).items, "email"), V({"carla@alpha.org"}));
}

TEST_F(ApiContactTest, OrdersAndFiltersByRestStatus) {
    add("7", "a@example.com", "Zé");
    add("7", "b@example.com", "Maria");
    Contact resting;
    resting.email = "c@example.com";
    resting.name = "Ana";
    resting.date_rest = "2999-12-31";
    add_contact(client_, "7", resting);

    ContactQuery q;
    q.list_code = "7";
    q.order = {{"name", "DESC"}};
    EXPECT_EQ(values_of(search_contacts(client_, q).items, "email"),
              std::vector<std::string>({"a@example.com", "b@example.com", "c@example.com"}));
    q.order = {{"name", "asc"}};
    EXPECT_EQ(values_of(search_contacts(client_, q).items, "email").front(), "c@example.com");

    q.status_contact = "REST_ONLY";
    EXPECT_EQ(values_of(search_contacts(client_, q).items, "email"), std::vector<std::string>({"c@example.com"}));
    q.status_contact = "NO_REST";
    EXPECT_EQ(search_contacts(client_, q).items.size(), 2u);

    q.status_contact.clear();
    q.custom_filter = "1873706";  // a saved segment: sent, accepted (segments are not simulated)
    EXPECT_EQ(contact_search_request(q)["custom_filter"], "1873706");
    EXPECT_EQ(search_contacts(client_, q).items.size(), 3u);
}

TEST_F(ApiContactTest, PagesSayNextAndNeverATotal) {
    for (int i = 0; i < 25; ++i) add("9", "p" + std::to_string(100 + i) + "@example.com");
    ContactQuery q;
    q.list_code = "9";
    q.page = {1, 10};
    Page first = search_contacts(client_, q);
    EXPECT_EQ(first.items.size(), 10u);
    EXPECT_TRUE(first.next);
    EXPECT_FALSE(first.extra.contains("total"));
    EXPECT_FALSE(first.extra.contains("items"));
    q.page.page_number = 3;
    Page last = search_contacts(client_, q);
    EXPECT_EQ(last.items.size(), 5u);
    EXPECT_FALSE(last.next);
    q.page.page_number = 4;
    EXPECT_TRUE(search_contacts(client_, q).items.empty());
}

TEST_F(ApiContactTest, WalksAllPagesAndGuardsAgainstRunawayWalks) {
    for (int i = 0; i < 25; ++i) add("9", "w" + std::to_string(100 + i) + "@example.com");
    ContactQuery q;
    q.list_code = "9";
    q.page = {5, 7};  // the walk starts at page 1 whatever page_number says
    const long before = requests_to("/emkt/contact/search");
    AllPages all = search_all_contacts(client_, q);
    EXPECT_EQ(all.items.size(), 25u);
    EXPECT_EQ(all.pages, 4);
    EXPECT_TRUE(all.complete);
    EXPECT_EQ(requests_to("/emkt/contact/search") - before, 4);
    std::set<std::string> codes;
    for (const auto& item : all.items) codes.insert(item["code"].get<std::string>());
    EXPECT_EQ(codes.size(), 25u);

    EXPECT_THROW(search_all_contacts(client_, q, 2), PageLimitExceeded);
    AllPages cut = search_all_contacts(client_, q, 2, OnPageLimit::Truncate);
    EXPECT_FALSE(cut.complete);
    EXPECT_EQ(cut.pages, 2);
    EXPECT_EQ(cut.items.size(), 14u);

    // Exactly as many pages as allowed: complete, no error.
    q.page.page_size = 25;
    EXPECT_TRUE(search_all_contacts(client_, q, 1).complete);
}

TEST_F(ApiContactTest, AWalkEndsOnAnEmptyPageWhateverNextSays) {
    long calls = 0;
    AllPages all = fetch_all_pages(
        [&](long n) {
            ++calls;
            Page p;
            p.next = true;  // a server that always says "more"
            if (n == 1) p.items.push_back(json{{"code", "1"}});
            return p;
        },
        10);
    EXPECT_EQ(calls, 2);
    EXPECT_EQ(all.items.size(), 1u);
    EXPECT_TRUE(all.complete);
}

TEST_F(ApiContactTest, BadArgumentsFailBeforeAnyRequest) {
    ContactQuery q;
    q.list_code = "7";
    auto with = [&](auto change) {
        ContactQuery c = q;
        change(c);
        return c;
    };
    auto expect_invalid = [&](const std::function<void()>& call, const std::string& words) {
        try {
            call();
            ADD_FAILURE() << "expected std::invalid_argument mentioning " << words;
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
        }
    };
    expect_invalid([&] { search_contacts(client_, with([](ContactQuery& c) { c.list_code = ""; })); },
                   "contact-list_code is required");
    expect_invalid([&] { search_contacts(client_, with([](ContactQuery& c) { c.list_code = "7a"; })); }, "digits only");
    expect_invalid([&] { search_contacts(client_, with([](ContactQuery& c) { c.page.page_size = 0; })); },
                   "page_size must be between 1 and 10000");
    expect_invalid([&] { search_contacts(client_, with([](ContactQuery& c) { c.page.page_size = 10001; })); },
                   "page_size must be between 1 and 10000");
    expect_invalid([&] { search_contacts(client_, with([](ContactQuery& c) { c.page.page_number = 0; })); },
                   "page_number");
    expect_invalid([&] { search_contacts(client_, with([](ContactQuery& c) {
                                             c.search = {{"email", "~", "x"}};
                                         })); },
                   "unknown operator");
    expect_invalid([&] { search_contacts(client_, with([](ContactQuery& c) {
                                             c.search = {{"", "=", "x"}};
                                         })); },
                   "field name");
    expect_invalid([&] { search_contacts(client_, with([](ContactQuery& c) {
                                             c.order = {{"name", "UP"}};
                                         })); },
                   "ASC or DESC");
    expect_invalid([&] { search_contacts(client_, with([](ContactQuery& c) { c.status_contact = "RESTING"; })); },
                   "status_contact");
    expect_invalid([&] { search_all_contacts(client_, q, 0); }, "max_pages");
    expect_invalid([&] { add("7", "not-an-email"); }, "not a valid e-mail");
    expect_invalid([&] { add_contact(client_, "7", Contact{}); }, "email is required");
    expect_invalid([&] { update_contact(client_, "7", "100001", Contact{}); }, "nothing to update");
    expect_invalid(
        [&] {
            update_contact(client_, "7", "", contact_from_json({{"name", "x"}}));
        },
        "contact_code is required");
    expect_invalid([&] { get_contact(client_, "", "100001"); }, "contact-list_code is required");
    expect_invalid([&] { delete_contact(client_, "7", "abc"); }, "contact_code");
    expect_invalid([&] { contact_from_json({{"phone", "1"}}); }, "unknown contact value");
    expect_invalid([&] { contact_from_json({{"custom_fields", {{"phone", "1"}}}}); }, "cmpN");
    expect_invalid([&] { contact_from_json({{"email", "a@@b.com"}}); }, "not a valid e-mail");
    expect_invalid([&] { search_fields(client_, "", Query{}); }, "contact-list_code is required");
    expect_invalid([&] { add_field(client_, FieldDefinition{"7", "", "VC"}); }, "title");
    expect_invalid([&] { add_field(client_, FieldDefinition{"7", "X", "text"}); }, "two capital letters");
    expect_invalid(
        [&] {
            update_field(client_, FieldChange{"7", "4", std::nullopt, std::nullopt, std::nullopt});
        },
        "nothing to update");
    expect_invalid([&] { search_field_lov(client_, "7", "", {1, 100}); }, "field_code is required");
    expect_invalid([&] { search_optouts(client_, "7", Query{{}, {}, {1, 20000}}); }, "page_size");
    HistoryQuery h;
    h.list_code = "7";
    h.kinds = {3};
    expect_invalid([&] { contact_history(client_, h); }, "history kind 3");
    h.kinds = {};
    h.date_start = "2025-02-01";
    h.date_end = "2025-01-31 10:00:00";
    expect_invalid([&] { contact_history(client_, h); }, "before date_start");
    h.date_end = "2025-13-01";
    expect_invalid([&] { contact_history(client_, h); }, "date_end");
    expect_invalid([&] { get_import(client_, ""); }, "import code is required");
    ContactImport im;
    im.list_code = "7";
    im.columns = {{import_field::kName, "3"}};
    im.rows = {{"Ana"}};
    expect_invalid([&] { import_contacts(client_, im); }, "e-mail column");

    EXPECT_EQ(requests_seen(), 0) << stats().dump();
    EXPECT_EQ(stats()["auth_ok"], 0);
}

TEST_F(ApiContactTest, NoErrorTextContainsThePassword) {
    std::vector<std::string> messages;
    auto collect = [&](const std::function<void()>& call) {
        try {
            call();
            ADD_FAILURE() << "expected an error";
        } catch (const std::exception& e) {
            messages.push_back(e.what());
        }
    };
    add("7", "x@example.com");
    collect([&] { add("7", "x@example.com"); });
    collect([&] { get_contact(client_, "7", "424242"); });
    collect([&] { search_contacts(client_, ContactQuery{"7", {{"bogus", "=", "1"}}, {}, "", "", {}}); });
    collect([&] { get_import(client_, "1"); });
    collect([&] {
        DinamizeClient wrong(account(std::string(kApiPassword) + "x"), http_);
        search_contacts(wrong, ContactQuery{"7", {}, {}, "", "", {}});
    });
    collect([&] {
        HttpTransport http(HttpOptions{});
        DinamizeClient nowhere(Account("http://127.0.0.1:1", kApiUser, kApiPassword, kApiClient), http);
        get_contact(nowhere, "7", "1");
    });
    ASSERT_EQ(messages.size(), 6u);
    for (const auto& m : messages) {
        EXPECT_EQ(m.find(kApiPassword), std::string::npos) << m;
        EXPECT_EQ(m.find("Pw-9f3Kq"), std::string::npos) << m;
    }
}

}  // namespace
}  // namespace dwu::test

namespace dwu::test {
namespace {

TEST(InventedCodes, TheClientTableMatchesTheSimulator) {
    EXPECT_EQ(codes::kInvalidToken, sim::invented::kInvalidToken);
    EXPECT_EQ(codes::kInvalidField, sim::invented::kValidation);
    EXPECT_EQ(codes::kDuplicateEmail, sim::invented::kDuplicateEmail);
    EXPECT_EQ(codes::kNotFound, sim::invented::kNotFound);
    EXPECT_EQ(codes::kDuplicateTitle, sim::invented::kDuplicateTitle);
    const CodeClass title = codes::classify_code(codes::kDuplicateTitle);
    EXPECT_EQ(title.category, ErrorCategory::Validation);
    EXPECT_FALSE(title.retryable);
    EXPECT_FALSE(title.reauthenticate);
    EXPECT_FALSE(title.duplicate);  // not "the contact already exists"
}

TEST(ContactFromJson, ConvertsScalarsAndSkipsNulls) {
    Contact v = contact_from_json(
        {{"email", "a@example.com"},
         {"name", nullptr},
         {"custom_fields", {{"cmp4", 42}, {"cmp5", true}, {"cmp6", nlohmann::json::array({1, "b"})}}}});
    EXPECT_EQ(v.email, "a@example.com");
    EXPECT_FALSE(v.name.has_value());
    EXPECT_EQ(v.custom_fields["cmp4"], "42");
    EXPECT_EQ(v.custom_fields["cmp5"], "true");
    EXPECT_EQ(v.custom_fields["cmp6"], nlohmann::json::array({"1", "b"}));
    EXPECT_THROW(contact_from_json(nlohmann::json::array()), std::invalid_argument);
    EXPECT_THROW(contact_from_json({{"name", 5}}), std::invalid_argument);
    EXPECT_THROW(contact_from_json({{"custom_fields", {{"cmp04", "x"}}}}), std::invalid_argument);
    EXPECT_THROW(contact_from_json({{"date_rest", "31/12/2025"}}), std::invalid_argument);
}

}  // namespace
}  // namespace dwu::test
