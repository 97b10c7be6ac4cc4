// The bulk import (dinamize_import.h): CSV building, the multipart/form-data request (written by
// libcurl's MIME API, read back by cpp-httplib's parser), and the round trip through the real
// simulator's POST /emkt/contact + /emkt/import/get.
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "api_fixture.h"
#include "core/dinamize/csv_writer.h"
#include "core/dinamize/dinamize_codes.h"
#include "core/dinamize/dinamize_errors.h"
#include "core/dinamize/dinamize_import.h"
#include "core/dinamize/utf8.h"

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

// What an in-process cpp-httplib server parsed of one request: the wire format of reference §6.
struct CapturedForm {
    std::string content_type;
    std::multimap<std::string, httplib::MultipartFormData> parts;
};

CapturedForm capture_form_post(const std::vector<FormPart>& parts) {
    httplib::Server server;
    CapturedForm seen;
    server.Post("/emkt/contact", [&](const httplib::Request& req, httplib::Response& res) {
        seen.content_type = req.get_header_value("Content-Type");
        seen.parts = req.files;
        res.set_content("{}", "application/json");
    });
    const int port = server.bind_to_any_port("127.0.0.1");  // listening from here on
    std::thread serving([&] { server.listen_after_bind(); });
    HttpTransport http(HttpOptions{});
    HttpResponse response;
    try {
        response = http.post_form("http://127.0.0.1:" + std::to_string(port) + "/emkt/contact", parts, {});
    } catch (...) {
        server.stop();
        serving.join();
        throw;
    }
    server.stop();
    serving.join();
    EXPECT_EQ(response.status, 200);
    return seen;
}

TEST(ImportForm, SendsTheImportPartsAsTheReferenceDescribes) {
    const std::string csv = "email;nome\r\na@example.com;\"x\r\n--\"\r\n\r\n--------------------------\r\n";
    const CapturedForm seen = capture_form_post({{"file", csv, "contacts.csv", "text/csv; charset=utf-8"},
                                                 {"command", "import", "", ""},
                                                 {"parameters", R"({"contact-list_code":"7"})", "", ""}});
    EXPECT_EQ(seen.content_type.rfind("multipart/form-data; boundary=", 0), 0u) << seen.content_type;
    ASSERT_EQ(seen.parts.size(), 3u);
    const auto& file = seen.parts.find("file")->second;
    EXPECT_EQ(file.filename, "contacts.csv");
    EXPECT_EQ(file.content_type, "text/csv; charset=utf-8");
    EXPECT_EQ(file.content, csv);  // byte for byte, boundary-like lines included
    for (const char* plain : {"command", "parameters"}) {
        ASSERT_EQ(seen.parts.count(plain), 1u) << plain;
        EXPECT_TRUE(seen.parts.find(plain)->second.filename.empty()) << plain;  // plain form fields
        EXPECT_TRUE(seen.parts.find(plain)->second.content_type.empty()) << plain;
    }
    EXPECT_EQ(seen.parts.find("command")->second.content, "import");
    EXPECT_EQ(seen.parts.find("parameters")->second.content, R"({"contact-list_code":"7"})");
}

TEST(ImportForm, MalformedPartsAreRefusedBeforeAnyRequest) {
    HttpTransport http(HttpOptions{});
    const std::string nowhere = "http://127.0.0.1:1/emkt/contact";  // never reached
    const std::vector<std::vector<FormPart>> bad = {
        {{"", "x", "", ""}},
        {{"a\"b", "x", "", ""}},
        {{"a\r\nb", "x", "", ""}},
        {{"file", "x", "con\ntacts.csv", ""}},
        {{"file", "x", "contacts.csv", "text/csv\r\nX-Injected: 1"}},
        {{"file", "x", std::string("a\0b", 3), ""}},
    };
    for (const auto& parts : bad) EXPECT_THROW(http.post_form(nowhere, parts, {}), std::invalid_argument);
}

TEST(ImportForm, ASilentServerTimesOutAsARetryableNetworkError) {
    test::SilentServer silent;
    HttpOptions options;
    options.timeout_ms = 300;
    HttpTransport http(options);
    try {
        http.post_form(silent.base_url() + "/emkt/contact", {{"command", "import", "", ""}}, {});
        FAIL() << "the silent server never answers";
    } catch (const DinamizeError& e) {
        EXPECT_EQ(e.category(), ErrorCategory::Network);
        EXPECT_TRUE(e.retryable());
        EXPECT_NE(std::string(e.what()).find("300 ms"), std::string::npos) << e.what();
    }
}

std::atomic<bool> form_abort{false};

TEST(ImportForm, AnAbortStopsAnUploadInFlight) {
    test::SilentServer silent;
    HttpOptions options;
    options.timeout_ms = 60000;
    HttpTransport http(options, [] { return form_abort.load(); });
    form_abort = false;
    std::thread trigger([] {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        form_abort = true;
    });
    const auto started = std::chrono::steady_clock::now();
    // Larger than the socket buffers: the abort must also stop a transfer stuck sending.
    EXPECT_THROW(http.post_form(silent.base_url() + "/emkt/contact",
                                {{"file", std::string(8u << 20, 'x'), "contacts.csv", "text/csv"}}, {}),
                 Interrupted);
    trigger.join();
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

TEST_F(ApiImportTest, MalformedPartsSendNothingNotEvenAuth) {
    EXPECT_THROW(client_.call_multipart("/emkt/contact", {{"command", "import", "", ""}, {"a\"b", "x", "", ""}}),
                 std::invalid_argument);
    EXPECT_EQ(requests_seen(), 0);
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
