// Lists, custom fields, list-of-values, opt-outs and contact history (dinamize_api.h) against the
// real simulator, with the "Dinamize side" played through its /__sim/ admin endpoints.
#include "api_fixture.h"
#include "core/dinamize/dinamize_codes.h"
#include "core/dinamize/dinamize_errors.h"

namespace dwu::test {
namespace {

using nlohmann::json;
using V = std::vector<std::string>;

class ApiCatalogTest : public ApiTest {};

std::string code_of_error(const std::function<void()>& call) {
    try {
        call();
    } catch (const DinamizeError& e) {
        EXPECT_EQ(e.category(), ErrorCategory::Validation) << e.what();
        return e.dinamize_code();
    }
    ADD_FAILURE() << "expected a DinamizeError";
    return {};
}

TEST_F(ApiCatalogTest, ContactListsAreTheSeededOnesPlusListsInUse) {
    Page lists = search_contact_lists(client_, Query{});
    EXPECT_EQ(values_of(lists.items, "code"), V({"7", "9"}));
    EXPECT_EQ(values_of(lists.items, "title"), V({"Clientes", "Newsletter"}));
    EXPECT_FALSE(lists.next);

    add("12", "implicit@example.com");  // any numeric list code still takes contacts
    admin("/__sim/lists", {{"client_code", kApiClient}, {"code", "3"}, {"title", "Eventos"}});
    lists = search_contact_lists(client_, Query{});
    EXPECT_EQ(values_of(lists.items, "code"), V({"3", "7", "9", "12"}));
    EXPECT_EQ(lists.items.back()["title"], "Lista 12");

    Query q;
    q.order = {{"title", "DESC"}};
    q.page = {1, 2};
    lists = search_contact_lists(client_, q);
    EXPECT_EQ(values_of(lists.items, "title"), V({"Newsletter", "Lista 12"}));
    EXPECT_TRUE(lists.next);
    q.search = {{"title", "v*", "cli"}};
    EXPECT_EQ(values_of(search_contact_lists(client_, q).items, "code"), V({"7"}));
}

TEST_F(ApiCatalogTest, CustomFieldsAreAddedSearchedAndUpdated) {
    const std::string phone = add_field(client_, FieldDefinition{"7", "Telefone", "VC"});
    FieldDefinition stage{"7", "Estágio", "LV"};
    stage.is_searchable = true;
    const std::string stage_code = add_field(client_, stage);
    EXPECT_EQ(phone, "4");  // 1-3 are system fields
    EXPECT_EQ(stage_code, "5");

    Query q;
    q.search = {{"title", "=", "telefone"}};
    Page found = search_fields(client_, "7", q);
    ASSERT_EQ(found.items.size(), 1u);
    EXPECT_EQ(found.items[0]["code"], "4");
    EXPECT_EQ(found.items[0]["code_name"], "cmp4");
    EXPECT_EQ(found.items[0]["type"], "VC");
    EXPECT_EQ(found.items[0]["is_uniquevalue"], false);

    q.search = {{"type", "=", "LV"}};
    EXPECT_EQ(values_of(search_fields(client_, "7", q).items, "title"), V({"Estágio"}));
    EXPECT_TRUE(search_fields(client_, "9", Query{}).items.empty());  // fields belong to a list

    FieldChange change{"7", phone, std::string("Celular"), true, std::nullopt};
    update_field(client_, change);
    q.search = {{"code", "=", phone}};
    found = search_fields(client_, "7", q);
    ASSERT_EQ(found.items.size(), 1u);
    EXPECT_EQ(found.items[0]["title"], "Celular");
    EXPECT_EQ(found.items[0]["is_uniquevalue"], true);

    EXPECT_EQ(code_of_error([&] {
                  add_field(client_, FieldDefinition{"7", "celular", "VC"});
              }),
              codes::kDuplicateTitle);
    EXPECT_EQ(code_of_error([&] {
                  update_field(client_, FieldChange{"7", stage_code, std::string("Celular"), {}, {}});
              }),
              codes::kDuplicateTitle);
    EXPECT_EQ(code_of_error([&] {
                  update_field(client_, FieldChange{"7", "99", std::string("X"), {}, {}});
              }),
              codes::kNotFound);
}

TEST_F(ApiCatalogTest, ListOfValuesComeFromBodyList) {
    const std::string field = add_field(client_, FieldDefinition{"7", "Estágio", "LV"});
    for (const char* label : {"Lead", "Cliente", "Ex-cliente"})
        admin("/__sim/field-lov",
              {{"client_code", kApiClient}, {"list", "7"}, {"field_code", field}, {"value", label}});
    Page values = search_field_lov(client_, "7", field);
    EXPECT_EQ(values_of(values.items, "code"), V({"1", "2", "3"}));
    EXPECT_EQ(values_of(values.items, "value"), V({"Lead", "Cliente", "Ex-cliente"}));
    EXPECT_FALSE(values.next);
    values = search_field_lov(client_, "7", field, {2, 2});
    EXPECT_EQ(values_of(values.items, "value"), V({"Ex-cliente"}));
    EXPECT_EQ(code_of_error([&] { search_field_lov(client_, "7", "42"); }), codes::kNotFound);
}

TEST_F(ApiCatalogTest, OptoutsMadeOnTheDinamizeSideAreSearchable) {
    const std::string ana = add("7", "ana@example.com");
    add("7", "bia@example.com");
    add("7", "caio@example.com");
    admin("/__sim/optout",
          {{"client_code", kApiClient}, {"list", "7"}, {"contact_code", ana}, {"request_date", "2025-01-10 09:00:00"}});
    admin("/__sim/optout", {{"client_code", kApiClient},
                            {"list", "7"},
                            {"email", "bia@example.com"},
                            {"origin", "D"},
                            {"request_date", "2025-03-05 18:30:00"}});

    Query q;
    q.order = {{"request_date", "DESC"}};
    Page all = search_optouts(client_, "7", q);
    ASSERT_EQ(all.items.size(), 2u);
    EXPECT_EQ(all.items[0]["email"], "bia@example.com");
    EXPECT_EQ(all.items[0]["origin"], "D");  // spam complaint
    EXPECT_EQ(all.items[1]["request_date"], "2025-01-10 09:00:00");

    q.search = {{"request_date", ">", "2025-02-01 00:00:00"}};
    EXPECT_EQ(values_of(search_optouts(client_, "7", q).items, "email"), V({"bia@example.com"}));
    EXPECT_TRUE(search_optouts(client_, "9", Query{}).items.empty());

    json a = get_contact(client_, "7", ana);
    EXPECT_EQ(a["optout"], true);
    EXPECT_EQ(a["spam"], false);
    ContactQuery spam;
    spam.list_code = "7";
    spam.search = {{"email", "=", "bia@example.com"}};
    json b = search_contacts(client_, spam).items.at(0);
    EXPECT_EQ(b["optout"], true);
    EXPECT_EQ(b["spam"], true);
}

TEST_F(ApiCatalogTest, ContactHistoryByKindWindowAndPage) {
    const std::string ana = add("7", "ana@example.com", "Ana");
    Contact ext;
    ext.external_code = "lead-42";
    update_contact(client_, "7", ana, ext);
    auto event = [&](int kind, const std::string& time, const std::string& info2 = "") {
        admin("/__sim/event", {{"client_code", kApiClient},
                               {"list", "7"},
                               {"contact_code", ana},
                               {"kind", kind},
                               {"time", time},
                               {"action_code", "5551"},
                               {"info2", info2}});
    };
    event(4, "2025-04-01 08:00:00");
    event(5, "2025-04-01 09:00:00");
    event(6, "2025-04-01 09:01:00", "77");
    event(8, "2025-04-02 10:00:00", "DE");
    event(9, "2025-04-03 11:00:00");

    HistoryQuery q;
    q.list_code = "7";
    q.kinds = {kHistoryClick};
    HistoryPage clicks = contact_history(client_, q);
    ASSERT_EQ(clicks.items.size(), 1u);
    EXPECT_EQ(clicks.items[0]["Kind"], "6");
    EXPECT_EQ(clicks.items[0]["GenericInfo"], "5551");
    EXPECT_EQ(clicks.items[0]["GenericInfo2"], "77");
    EXPECT_EQ(clicks.items[0]["external_code"], "lead-42");
    EXPECT_EQ(clicks.last_sync.size(), 19u);

    q.kinds = {};
    q.date_start = "2025-04-01 08:30:00";
    q.date_end = "2025-04-02";  // the whole day
    EXPECT_EQ(values_of(contact_history(client_, q).items, "Kind"), V({"5", "6", "8"}));

    q.date_start = q.date_end = "";
    q.page = {1, 2};
    HistoryPage first = contact_history(client_, q);
    EXPECT_EQ(values_of(first.items, "Kind"), V({"4", "5"}));
    EXPECT_TRUE(first.next);
    q.page.page_number = 3;
    EXPECT_FALSE(contact_history(client_, q).next);
    AllPages all = contact_history_all(client_, q);
    EXPECT_EQ(values_of(all.items, "Kind"), V({"4", "5", "6", "8", "9"}));
    EXPECT_EQ(all.pages, 3);
    EXPECT_TRUE(all.extra.contains("last_sync"));

    q.selection = {"9999"};  // another send
    EXPECT_TRUE(contact_history(client_, q).items.empty());

    json contact = get_contact(client_, "7", ana);
    EXPECT_EQ(contact["status"], "I");  // hard bounce (DE)
    EXPECT_EQ(contact["spam"], true);   // kind 9
    EXPECT_EQ(search_optouts(client_, "7", Query{}).items.at(0)["origin"], "D");
}

TEST_F(ApiCatalogTest, ChangesMadeOnTheDinamizeSideAreVisible) {
    const std::string code = add("7", "old@example.com", "Old");
    json answer = admin("/__sim/contact-update", {{"client_code", kApiClient},
                                                  {"list", "7"},
                                                  {"contact_code", code},
                                                  {"name", "Changed in Dinamize"},
                                                  {"email", "new@example.com"},
                                                  {"custom_fields", {{"cmp8", "x"}}},
                                                  {"status", "I"}});
    EXPECT_EQ(answer["contact"]["name"], "Changed in Dinamize");
    ContactQuery q;
    q.list_code = "7";
    q.search = {{"name", "*v*", "dinamize"}};
    Page found = search_contacts(client_, q);
    ASSERT_EQ(found.items.size(), 1u);
    EXPECT_EQ(found.items[0]["email"], "new@example.com");
    EXPECT_EQ(found.items[0]["custom_fields"]["cmp8"], "x");
    EXPECT_EQ(found.items[0]["status"], "I");

    std::string body;
    EXPECT_EQ(sim_->admin_post_status(
                  "/__sim/event",
                  json{{"client_code", kApiClient}, {"list", "7"}, {"contact_code", code}, {"kind", 3}}.dump(), &body),
              400);
    EXPECT_EQ(
        sim_->admin_post_status("/__sim/optout",
                                json{{"client_code", kApiClient}, {"list", "7"}, {"contact_code", "1"}}.dump(), &body),
        400);
    EXPECT_EQ(json::parse(body)["code"], "249004");
}

}  // namespace
}  // namespace dwu::test

namespace dwu::test {
namespace {

TEST(SimulatorLists, AMalformedListFlagStopsTheSimulatorAtStart) {
    EXPECT_THROW(SimulatorProcess("u@example.com:pw:300001", {"--list", "x1:Bad"}), std::runtime_error);
    EXPECT_THROW(SimulatorProcess("u@example.com:pw:300001", {"--list", "5:"}), std::runtime_error);
    EXPECT_THROW(SimulatorProcess("u@example.com:pw:300001", {"--list", "5:A", "--list", "05:B"}), std::runtime_error);
}

TEST(SimulatorLists, WithoutListFlagsListOneIsSeeded) {
    SimulatorProcess sim("u@example.com:pw:300001");
    HttpTransport http(HttpOptions{});
    DinamizeClient client(Account(sim.base_url(), "u@example.com", "pw", "300001"), http);
    Page lists = search_contact_lists(client, Query{});
    ASSERT_EQ(lists.items.size(), 1u);
    EXPECT_EQ(lists.items[0]["code"], "1");
}

}  // namespace
}  // namespace dwu::test
