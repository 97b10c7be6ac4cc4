// bare_client: the yardstick of the sync benchmark (bench/run_sync.sh, measure b). A bare libcurl
// client that does nothing but what the sync workers must do at the very least: authenticate once
// at the Dinamize simulator, then send N `POST /emkt/contact/add` with C requests in flight (one
// easy handle per slot, each keeping its keep-alive connection), no database, no retries, no
// bookkeeping. Prints one line of key=value pairs for the script to read:
//   sent=N ok=N failed=N seconds=S per_second=R concurrency=C
// Exits 1 when the login fails or a request does not get the success envelope (480001).
#include <curl/curl.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct Options {
    std::string url;  // http://127.0.0.1:PORT
    std::string user;
    std::string password;
    std::string client_code;
    std::string list_code = "7";
    std::string prefix = "bare";  // e-mails are PREFIX.I@example.com: unique per run
    long count = 100000;
    long concurrency = 4;
    long lists = 1;  // contacts go round-robin to lists LIST, LIST+1, …, LIST+lists-1
};

const char* kUsage =
    "usage: bare_client --url http://127.0.0.1:PORT --user U --password P --client-code C\n"
    "                   [--list 7] [--lists 1] [--count 100000] [--concurrency 4] [--prefix bare]\n"
    "  --lists K spreads the contacts over K list codes (LIST … LIST+K-1), as the benchmark spreads\n"
    "  its leads over K accounts: the simulator's duplicate check scans a whole list per add.\n";

long parse_long(const std::string& flag, const char* text, long min) {
    char* end = nullptr;
    long v = std::strtol(text, &end, 10);
    if (!*text || *end || v < min) throw std::invalid_argument(flag + " needs an integer >= " + std::to_string(min));
    return v;
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string flag = argv[i];
        if (flag == "--help") {
            std::fputs(kUsage, stdout);
            std::exit(0);
        }
        if (i + 1 >= argc) throw std::invalid_argument("missing value after " + flag);
        const char* v = argv[++i];
        if (flag == "--url")
            o.url = v;
        else if (flag == "--user")
            o.user = v;
        else if (flag == "--password")
            o.password = v;
        else if (flag == "--client-code")
            o.client_code = v;
        else if (flag == "--list")
            o.list_code = v;
        else if (flag == "--prefix")
            o.prefix = v;
        else if (flag == "--count")
            o.count = parse_long(flag, v, 1);
        else if (flag == "--concurrency")
            o.concurrency = parse_long(flag, v, 1);
        else if (flag == "--lists")
            o.lists = parse_long(flag, v, 1);
        else
            throw std::invalid_argument("unknown option " + flag);
    }
    if (o.url.empty() || o.user.empty() || o.password.empty() || o.client_code.empty())
        throw std::invalid_argument("--url, --user, --password and --client-code are required");
    return o;
}

// JSON string literal (the values here are plain ASCII, but be correct anyway).
std::string quote(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
            continue;
        }
        out += c;
    }
    return out + "\"";
}

size_t append(char* data, size_t size, size_t n, void* target) {
    static_cast<std::string*>(target)->append(data, size * n);
    return size * n;
}

// The value of "key":"value" in a flat JSON text; "" when absent.
std::string string_field(const std::string& json, const std::string& key) {
    std::string needle = "\"" + key + "\":\"";
    std::size_t at = json.find(needle);
    if (at == std::string::npos) return "";
    at += needle.size();
    std::size_t end = json.find('"', at);
    return end == std::string::npos ? "" : json.substr(at, end - at);
}

// One slot: an easy handle (its connection stays open between requests) and its buffers.
struct Slot {
    CURL* easy = nullptr;
    std::string body;
    std::string answer;
};

void prepare(CURL* easy, const std::string& url, curl_slist* headers, std::string& body, std::string& answer) {
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, append);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 20000L);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
}

std::string authenticate(const Options& o) {
    CURL* easy = curl_easy_init();
    curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
    std::string body = "{\"user\":" + quote(o.user) + ",\"password\":" + quote(o.password) +
                       ",\"client_code\":" + quote(o.client_code) + "}";
    std::string answer;
    prepare(easy, o.url + "/auth", headers, body, answer);
    CURLcode rc = curl_easy_perform(easy);
    curl_easy_cleanup(easy);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) throw std::runtime_error(std::string("POST /auth failed: ") + curl_easy_strerror(rc));
    std::string token = string_field(answer, "auth-token");
    if (token.empty()) throw std::runtime_error("POST /auth gave no auth-token: " + answer.substr(0, 200));
    return token;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    try {
        o = parse(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bare_client: %s\n%s", e.what(), kUsage);
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    std::string token;
    try {
        token = authenticate(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bare_client: %s\n", e.what());
        return 1;
    }
    curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
    headers = curl_slist_append(headers, ("auth-token: " + token).c_str());
    const std::string url = o.url + "/emkt/contact/add";

    CURLM* multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, o.concurrency);
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, o.concurrency);
    std::vector<Slot> slots(static_cast<std::size_t>(std::min(o.concurrency, o.count)));
    long next = 0, ok = 0, failed = 0;
    std::string first_failure;
    auto start_one = [&](Slot& s) {
        ++next;
        const std::string list = std::to_string(std::stol(o.list_code) + (next - 1) % o.lists);
        s.body = "{\"contact-list_code\":" + quote(list) +
                 ",\"email\":" + quote(o.prefix + "." + std::to_string(next) + "@example.com") +
                 ",\"name\":" + quote("Bare " + std::to_string(next)) + "}";
        s.answer.clear();
        prepare(s.easy, url, headers, s.body, s.answer);
        curl_easy_setopt(s.easy, CURLOPT_PRIVATE, &s);
        curl_multi_add_handle(multi, s.easy);
    };

    const auto t0 = std::chrono::steady_clock::now();
    for (Slot& s : slots) {
        s.easy = curl_easy_init();
        start_one(s);
    }
    int running = 0;
    do {
        curl_multi_perform(multi, &running);
        int queued = 0;
        while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
            if (msg->msg != CURLMSG_DONE) continue;
            Slot* s = nullptr;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&s));
            const CURLcode rc = msg->data.result;
            curl_multi_remove_handle(multi, s->easy);
            if (rc == CURLE_OK && s->answer.find("\"code\":\"480001\"") != std::string::npos) {
                ++ok;
            } else {
                ++failed;
                if (first_failure.empty())
                    first_failure = rc != CURLE_OK ? curl_easy_strerror(rc) : s->answer.substr(0, 200);
            }
            if (next < o.count) {
                start_one(*s);
                ++running;  // keeps the loop going even if this was the last transfer in flight
            }
        }
        if (running > 0) curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
    } while (running > 0);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    for (Slot& s : slots) curl_easy_cleanup(s.easy);
    curl_multi_cleanup(multi);
    curl_slist_free_all(headers);
    curl_global_cleanup();
    std::printf("sent=%ld ok=%ld failed=%ld seconds=%.3f per_second=%.1f concurrency=%ld\n", next, ok, failed, seconds,
                ok / seconds, o.concurrency);
    if (failed > 0) std::fprintf(stderr, "bare_client: first failure: %s\n", first_failure.c_str());
    return failed > 0 ? 1 : 0;
}
