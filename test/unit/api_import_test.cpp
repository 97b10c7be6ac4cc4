// The bulk import (dinamize_import.h): CSV and multipart building, and the round trip through the
// real simulator's POST /emkt/contact + /emkt/import/get.
#include "api_fixture.h"
#include "core/dinamize/csv_writer.h"
#include "core/dinamize/dinamize_codes.h"
#include "core/dinamize/dinamize_errors.h"
#include "core/dinamize/dinamize_import.h"
#include "core/dinamize/multipart.h"

namespace dwu::test {
namespace {

using nlohmann::json;

class ApiImportTest : public ApiTest {};

json by_email(const json& contacts, const std::string& email) {
    for (const auto& c : contacts)
        if (c["email"] == email) return c;
    return json();
}

TEST(ImportCsv, QuotesSeparatorsQuotesAndLineBreaks) {
    EXPECT_EQ(csv_field("plain", ';'), "plain");
    EXPECT_EQ(csv_field("a;b", ';'), "\"a;b\"");
    EXPECT_EQ(csv_field("a,b", ';'), "a,b");
    EXPECT_EQ(csv_field("say \"hi\"", ';'), "\"say \"\"hi\"\"\"");
    EXPECT_EQ(csv_field("two\nlines", ';'), "\"two\nlines\"");
    EXPECT_EQ(csv_field(" padded ", ';'), "\" padded \"");
    EXPECT_EQ(csv_field("", ';'), "");

    ContactImport im;
    im.list_code = "7";
    im.columns = {{import_field::kEmail}, {import_field::kName}};
    im.header = {"email", "nome"};
    im.rows = {{"a@example.com", "Ana; \"A\""}};
    EXPECT_EQ(import_csv(im), "email;nome\r\na@example.com;\"Ana; \"\"A\"\"\"\r\n");
    const json params = import_parameters(im);
    EXPECT_EQ(params["contact-list_code"], "7");
    EXPECT_EQ(params["separator"], ";");
    EXPECT_EQ(params["header"], true);
    EXPECT_EQ(params["file_columns"][1], json({{"Position", "1"}, {"Field", "2"}, {"Rule", "3"}}));

    im.rows = {{"a@example.com"}};
    EXPECT_THROW(import_csv(im), std::invalid_argument);  // narrower than the columns
    im.rows = {{"a@example.com", "\xC3("}};
    EXPECT_THROW(import_csv(im), std::invalid_argument);  // not UTF-8
    EXPECT_TRUE(is_valid_utf8("Jo\xC3\xA3o"));
    EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));  // a surrogate
}

TEST(Multipart, BoundaryIsFreshAndAbsentFromTheContent) {
    std::vector<MultipartPart> parts = {{"file", "x;y\r\n--dwu-crm-\r\n", "contacts.csv", "text/csv"},
                                        {"command", "import", "", ""}};
    MultipartBody a = build_multipart(parts), b = build_multipart(parts);
    const std::string prefix = "multipart/form-data; boundary=";
    ASSERT_EQ(a.content_type.rfind(prefix, 0), 0u);
    const std::string boundary = a.content_type.substr(prefix.size());
    EXPECT_NE(a.content_type, b.content_type);
    EXPECT_EQ(parts[0].data.find(boundary), std::string::npos);
    EXPECT_EQ(a.body.rfind("--" + boundary + "--\r\n"), a.body.size() - boundary.size() - 6);
    EXPECT_NE(a.body.find("Content-Disposition: form-data; name=\"file\"; filename=\"contacts.csv\"\r\n"
                          "Content-Type: text/csv\r\n\r\nx;y\r\n--dwu-crm-\r\n\r\n--" + boundary),
              std::string::npos);
    EXPECT_THROW(build_multipart({{"", "x", "", ""}}), std::invalid_argument);
    EXPECT_THROW(build_multipart({{"a\"b", "x", "", ""}}), std::invalid_argument);
}

TEST_F(ApiImportTest, RoundTripWithTrickyValuesAndOneBadRow) {
    const std::string existing = add("7", "maria@example.com", "Maria Old", {{"cmp4", "old"}, {"cmp9", "kept"}});
    ContactImport im;
    im.list_code = "7";
    im.header = {"E-mail", "Nome", "Lead", "Telefone"};
    im.columns = {{import_field::kEmail}, {import_field::kName}, {import_field::kExternalCode}, {"4"}};
    im.rows = {
        {"ana@example.com", "Ana; Souza", "1", "+55 51 9999-0000"},
        {"bruno@example.com", "Bruno \"Bê\" Lima", "2", ""},
        {"carla@example.com", "Carla\nSegunda Linha", "3", "a;b\"c\r\nd"},
        {"joao@example.com", "  João Ção  ", "4", "ü€𝄞"},
        {"not-an-email", "Bad Row", "5", "x"},
        {"MARIA@example.com", "Maria New", "6", "new"},
    };
    const long before = requests_to("/emkt/contact");
    const std::string code = import_contacts(client_, im);
    EXPECT_FALSE(code.empty());
    EXPECT_EQ(requests_to("/emkt/contact") - before, 1);  // one call for the whole file

    ImportStatus status = get_import(client_, code);
    EXPECT_EQ(status.code, code);
    ASSERT_TRUE(status.errors.has_value());
    EXPECT_EQ(*status.errors, 1);
    EXPECT_EQ(status.body["Inserted"], "4");
    EXPECT_EQ(status.body["Updated"], "1");

    const json contacts = sim_contacts("7");
    EXPECT_EQ(contacts.size(), 5u);
    EXPECT_EQ(by_email(contacts, "ana@example.com")["name"], "Ana; Souza");
    EXPECT_EQ(by_email(contacts, "ana@example.com")["external_code"], "1");
    EXPECT_EQ(by_email(contacts, "ana@example.com")["custom_fields"]["cmp4"], "+55 51 9999-0000");
    EXPECT_EQ(by_email(contacts, "bruno@example.com")["name"], "Bruno \"Bê\" Lima");
    EXPECT_EQ(by_email(contacts, "carla@example.com")["name"], "Carla\nSegunda Linha");
    EXPECT_EQ(by_email(contacts, "carla@example.com")["custom_fields"]["cmp4"], "a;b\"c\r\nd");
    EXPECT_EQ(by_email(contacts, "joao@example.com")["name"], "  João Ção  ");
    EXPECT_EQ(by_email(contacts, "joao@example.com")["custom_fields"]["cmp4"], "ü€𝄞");
    const json maria = by_email(contacts, "maria@example.com");
    EXPECT_EQ(maria["code"], existing);  // upserted by e-mail, not duplicated
    EXPECT_EQ(maria["name"], "Maria New");
    EXPECT_EQ(maria["custom_fields"]["cmp4"], "new");
    EXPECT_EQ(maria["custom_fields"]["cmp9"], "kept");
    EXPECT_TRUE(by_email(contacts, "not-an-email").is_null());

    // The typed search sees them too.
    ContactQuery q;
    q.list_code = "7";
    q.search = {{"cmp4", "*v*", ";b\""}};
    EXPECT_EQ(values_of(search_contacts(client_, q).items, "email"), std::vector<std::string>({"carla@example.com"}));
}

TEST_F(ApiImportTest, WithoutAHeaderRowAndAnotherSeparator) {
    ContactImport im;
    im.list_code = "9";
    im.separator = ',';
    im.columns = {{"5"}, {import_field::kEmail}};
    im.rows = {{"x,y", "a@example.com"}, {"", "b@example.com"}};
    const std::string code = import_contacts(client_, im);
    EXPECT_EQ(get_import(client_, code).errors, 0);
    const json contacts = sim_contacts("9");
    ASSERT_EQ(contacts.size(), 2u);
    EXPECT_EQ(by_email(contacts, "a@example.com")["custom_fields"]["cmp5"], "x,y");
    EXPECT_EQ(by_email(contacts, "b@example.com")["custom_fields"]["cmp5"], "");
}

TEST_F(ApiImportTest, ThousandsOfRowsGoInOneCall) {
    ContactImport im;
    im.list_code = "7";
    im.header = {"email", "nome", "cidade"};
    im.columns = {{import_field::kEmail}, {import_field::kName}, {"5"}};
    for (int i = 0; i < 5000; ++i)
        im.rows.push_back({"bulk" + std::to_string(i) + "@example.com", "Nome " + std::to_string(i), "Porto Alegre"});
    const std::string code = import_contacts(client_, im);
    EXPECT_EQ(requests_to("/emkt/contact"), 1);
    ImportStatus status = get_import(client_, code);
    EXPECT_EQ(status.errors, 0);
    EXPECT_EQ(status.body["Lines"], "5000");
    ContactQuery q;
    q.list_code = "7";
    q.page.page_size = kMaxPageSize;
    q.search = {{"cmp5", "=", "porto alegre"}};
    EXPECT_EQ(search_all_contacts(client_, q).items.size(), 5000u);
}

TEST_F(ApiImportTest, ReauthenticatesOnceWhenTheTokenExpired) {
    client_.authenticate();
    sim_->admin_post("/__sim/expire-tokens");
    ContactImport im;
    im.list_code = "7";
    im.columns = {{import_field::kEmail}};
    im.rows = {{"solo@example.com"}};
    const std::string code = import_contacts(client_, im);
    EXPECT_EQ(stats()["auth_ok"], 2);
    EXPECT_EQ(requests_to("/emkt/contact"), 2);  // refused with the old token, then accepted
    EXPECT_EQ(get_import(client_, code).errors, 0);
    EXPECT_EQ(sim_contacts("7").size(), 1u);
}

TEST_F(ApiImportTest, UnknownImportsAndNonMultipartUploadsAreRefused) {
    try {
        get_import(client_, "1");
        FAIL() << "no such import";
    } catch (const DinamizeError& e) {
        EXPECT_EQ(e.dinamize_code(), codes::kNotFound);
        EXPECT_EQ(e.category(), ErrorCategory::Validation);
    }
    try {
        client_.call("/emkt/contact", {{"command", "import"}});
        FAIL() << "a JSON body is not an import";
    } catch (const DinamizeError& e) {
        EXPECT_EQ(e.dinamize_code(), codes::kInvalidField);
    }
    try {
        client_.call_multipart("/emkt/contact", {{"command", "export", "", ""}});
        FAIL() << "only command=import exists";
    } catch (const DinamizeError& e) {
        EXPECT_EQ(e.dinamize_code(), codes::kInvalidField);
    }
}

}  // namespace
}  // namespace dwu::test
