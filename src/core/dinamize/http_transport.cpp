#include "core/dinamize/http_transport.h"

#include <curl/curl.h>
#include <netdb.h>
#include <sys/socket.h>

#include <chrono>
#include <mutex>
#include <new>
#include <stdexcept>

#include "core/dinamize/dinamize_errors.h"
#include "core/version.h"

namespace dwu {
// Named, not anonymous: HttpTransfer::State (external linkage) holds them.
namespace transfer_detail {

// Where the answer's bytes go, and why the write callback stopped taking them.
struct BodySink {
    std::string* body;
    bool too_large = false;
    bool out_of_memory = false;
};

// What the opensocket callback needs, and what it refused.
struct SocketGate {
    const HostPolicy* hosts;  // null: no address check (no policy, or a proxy resolves the name)
    std::string refused;      // the last address refused, for the error message
};

}  // namespace transfer_detail

namespace {

using transfer_detail::BodySink;
using transfer_detail::SocketGate;

constexpr size_t kMaxResponseBytes = 64u * 1024 * 1024;  // a Dinamize page of 10,000 contacts fits
constexpr int kPollMs = 50;                              // how often an abort is noticed

void global_init_once() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// A C callback: it must never throw.
extern "C" size_t append_body(char* data, size_t size, size_t count, void* userdata) {
    auto* sink = static_cast<BodySink*>(userdata);
    const size_t n = size * count;
    if (n > kMaxResponseBytes - sink->body->size()) {  // (size() never passes the limit: no overflow)
        sink->too_large = true;
        return 0;  // makes curl fail with CURLE_WRITE_ERROR
    }
    try {
        sink->body->append(data, n);
    } catch (...) {
        sink->out_of_memory = true;
        return 0;
    }
    return n;
}

// A C callback: it must never throw. Checks the address libcurl resolved before any packet goes
// to it; CURL_SOCKET_BAD makes libcurl try the name's next address, or fail with COULDNT_CONNECT.
extern "C" curl_socket_t open_checked_socket(void* clientp, curlsocktype, curl_sockaddr* address) {
    auto* gate = static_cast<SocketGate*>(clientp);
    if (gate->hosts && !gate->hosts->address_allowed(&address->addr)) {
        char text[64] = "?";
        getnameinfo(&address->addr, address->addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST);
        try {
            gate->refused = text;
        } catch (...) {
        }
        return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype, address->protocol);
}

bool retryable(CURLcode code) {
    switch (code) {
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CERTPROBLEM:
            return false;  // configuration problems: retrying cannot help
        default:
            return true;
    }
}

void check_form_value(const std::string& value, const char* what) {
    if (value.find_first_of(std::string("\"\r\n\0", 4)) != std::string::npos)
        throw std::invalid_argument(std::string("multipart ") + what + " must not contain '\"', CR, LF or NUL");
}

// A curl_mime_* call's result: only running out of memory (or a bug of ours) fails it.
void check_mime(CURLcode code) {
    if (code == CURLE_OUT_OF_MEMORY) throw std::bad_alloc();
    if (code != CURLE_OK) throw std::runtime_error(std::string("libcurl MIME: ") + curl_easy_strerror(code));
}

[[noreturn]] void throw_curl_error(CURLcode code, const BodySink& sink, const SocketGate& gate, const std::string& url,
                                   long timeout_ms) {
    std::string msg = endpoint_for_messages(url) + ": ";
    if (code == CURLE_COULDNT_CONNECT && !gate.refused.empty())
        throw DinamizeError(ErrorCategory::Network, "",
                            msg + "refused to connect to " + gate.refused +
                                ": not a public address, and no address entry of dwu_crm.allowed_hosts covers it",
                            true);
    if (sink.too_large || code == CURLE_FILESIZE_EXCEEDED) {
        // An answer arrived, and it is not a Dinamize answer (the largest, a page of 10,000
        // contacts, is far smaller): API_ERROR like any other answer that is not the envelope.
        throw DinamizeError(ErrorCategory::ApiError, "",
                            msg + "answer larger than " + std::to_string(kMaxResponseBytes / (1024 * 1024)) +
                                " MiB, abandoned (no Dinamize answer is that large)",
                            true);
    }
    if (sink.out_of_memory)
        msg += "out of memory while reading the answer";
    else if (code == CURLE_OPERATION_TIMEDOUT)
        msg += "no complete answer within " + std::to_string(timeout_ms) + " ms";
    else if (code == CURLE_PEER_FAILED_VERIFICATION)
        msg += "the server's TLS certificate is not trusted (a company proxy's or private CA goes in dwu_crm.ca_file)";
    else
        msg += curl_easy_strerror(code);
    throw DinamizeError(ErrorCategory::Network, "", msg, retryable(code));
}

}  // namespace

// What one transfer owns while it runs. The deleters live here, not in the anonymous namespace: a
// member of a class with external linkage must not have a field whose type has internal linkage.
struct HttpTransfer::State {
    struct EasyDeleter {
        void operator()(CURL* h) const { curl_easy_cleanup(h); }
    };
    struct MimeFree {
        void operator()(curl_mime* m) const { curl_mime_free(m); }
    };
    struct SlistFree {
        void operator()(curl_slist* l) const { curl_slist_free_all(l); }
    };
    std::unique_ptr<CURL, EasyDeleter> easy{curl_easy_init()};
    std::unique_ptr<curl_mime, MimeFree> mime;  // freed before the next prepare (after the handle is detached)
    std::unique_ptr<curl_slist, SlistFree> headers;
    std::string url;
    HttpResponse response;
    BodySink sink{nullptr};
    SocketGate gate{nullptr, {}};
    std::chrono::steady_clock::time_point started;
};

HttpTransfer::HttpTransfer(const HttpOptions& options) : options_(options) {
    global_init_once();
    state_ = std::make_unique<State>();
    if (!state_->easy) throw std::runtime_error("libcurl initialisation failed");
}

HttpTransfer::~HttpTransfer() = default;

CURL* HttpTransfer::easy() const { return state_->easy.get(); }

void HttpTransfer::prepare_post(const std::string& url, const std::string& content_type, const std::string& body,
                                const std::vector<std::string>& headers) {
    CURL* easy = state_->easy.get();
    curl_easy_reset(easy);  // keeps the connection cache, clears per-request options
    state_->mime.reset();
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    prepare(url, &content_type, headers);
}

void HttpTransfer::prepare_form(const std::string& url, const std::vector<FormPart>& parts,
                                const std::vector<std::string>& headers) {
    check_form_parts(parts);
    CURL* easy = state_->easy.get();
    curl_easy_reset(easy);
    // curl_mime_data copies each part's bytes; freed at the next prepare or with the transfer.
    state_->mime.reset(curl_mime_init(easy));
    if (!state_->mime) throw std::bad_alloc();
    for (const auto& p : parts) {
        curl_mimepart* part = curl_mime_addpart(state_->mime.get());
        if (!part) throw std::bad_alloc();
        check_mime(curl_mime_name(part, p.name.c_str()));
        check_mime(curl_mime_data(part, p.data.data(), p.data.size()));
        if (!p.filename.empty()) check_mime(curl_mime_filename(part, p.filename.c_str()));
        if (!p.content_type.empty()) check_mime(curl_mime_type(part, p.content_type.c_str()));
    }
    curl_easy_setopt(easy, CURLOPT_MIMEPOST, state_->mime.get());  // a POST; libcurl writes the Content-Type
    prepare(url, nullptr, headers);
}

// content_type: the Content-Type header line's value, or nullptr to leave it to libcurl.
void HttpTransfer::prepare(const std::string& url, const std::string* content_type,
                           const std::vector<std::string>& headers) {
    State& st = *state_;
    CURL* easy = st.easy.get();
    st.headers.reset();
    auto add_header = [&](const std::string& line) {
        curl_slist* next = curl_slist_append(st.headers.get(), line.c_str());
        if (!next) throw std::bad_alloc();
        st.headers.release();
        st.headers.reset(next);
    };
    if (content_type) add_header("Content-Type: " + *content_type);
    add_header("Expect:");  // no 100-continue round trip
    for (const auto& h : headers) add_header(h);

    if (options_.hosts) {
        const std::string why = options_.hosts->refusal(url);
        if (!why.empty())
            throw DinamizeError(ErrorCategory::Network, "", endpoint_for_messages(url) + ": " + why, false);
    }

    st.url = url;
    st.response = HttpResponse{};
    st.sink = BodySink{&st.response.body};
    st.gate = SocketGate{options_.proxy.empty() ? options_.hosts.get() : nullptr, {}};
    curl_easy_setopt(easy, CURLOPT_URL, st.url.c_str());
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, open_checked_socket);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, &st.gate);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, st.headers.get());
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, append_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &st.sink);
    // A Content-Length over the limit is refused before its body is read (CURLE_FILESIZE_EXCEEDED);
    // a chunked or unannounced body is stopped by append_body at the same limit.
    curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(kMaxResponseBytes));
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, options_.timeout_ms);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, options_.connect_timeout_ms);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM inside a PostgreSQL process
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "dwu_crm/" DWU_CRM_VERSION);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
    if (!options_.ca_file.empty()) {
        curl_easy_setopt(easy, CURLOPT_CAINFO, options_.ca_file.c_str());
        curl_easy_setopt(easy, CURLOPT_PROXY_CAINFO, options_.ca_file.c_str());
    }
    curl_easy_setopt(easy, CURLOPT_PROXY, options_.proxy.c_str());  // "": no proxy, whatever the environment says
    curl_easy_setopt(easy, CURLOPT_HTTPPROXYTUNNEL, options_.proxy.empty() ? 0L : 1L);
    // Redirects stay off (libcurl's default, stated): a 3xx is an answer, never a second request.
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    st.started = std::chrono::steady_clock::now();
}

HttpResponse HttpTransfer::finish(int result) {
    State& st = *state_;
    st.response.duration_ms = static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - st.started).count());
    const auto code = static_cast<CURLcode>(result);
    if (code != CURLE_OK) throw_curl_error(code, st.sink, st.gate, st.url, options_.timeout_ms);
    curl_easy_getinfo(st.easy.get(), CURLINFO_RESPONSE_CODE, &st.response.status);
    curl_easy_getinfo(st.easy.get(), CURLINFO_NUM_CONNECTS, &st.response.new_connections);
    HttpResponse out = std::move(st.response);
    st.response = HttpResponse{};
    st.sink = BodySink{&st.response.body};
    return out;
}

struct HttpTransport::Multi {
    struct MultiDeleter {
        void operator()(CURLM* h) const { curl_multi_cleanup(h); }
    };
    std::unique_ptr<CURLM, MultiDeleter> handle{curl_multi_init()};
};

HttpTransport::HttpTransport(HttpOptions options, AbortCheck abort_check)
    : options_(std::move(options)), abort_check_(abort_check), multi_(std::make_unique<Multi>()), transfer_(options_) {
    if (!multi_->handle) throw std::runtime_error("libcurl initialisation failed");
}

HttpTransport::~HttpTransport() = default;

void check_form_parts(const std::vector<FormPart>& parts) {
    for (const auto& p : parts) {
        if (p.name.empty()) throw std::invalid_argument("multipart part without a name");
        check_form_value(p.name, "part name");
        check_form_value(p.filename, "filename");
        check_form_value(p.content_type, "content type");
    }
}

HttpResponse HttpTransport::post(const std::string& url, const std::string& content_type, const std::string& body,
                                 const std::vector<std::string>& headers) {
    transfer_.prepare_post(url, content_type, body, headers);
    return perform(url);
}

HttpResponse HttpTransport::post_form(const std::string& url, const std::vector<FormPart>& parts,
                                      const std::vector<std::string>& headers) {
    transfer_.prepare_form(url, parts, headers);
    return perform(url);
}

HttpResponse HttpTransport::perform(const std::string& url) {
    CURL* easy = transfer_.easy();
    CURLM* multi = multi_->handle.get();
    curl_multi_add_handle(multi, easy);
    // Always detach the easy handle, whichever way we leave.
    struct Detach {
        CURLM* m;
        CURL* e;
        ~Detach() { curl_multi_remove_handle(m, e); }
    } detach{multi, easy};

    int running = 1;
    while (running) {
        if (curl_multi_perform(multi, &running) != CURLM_OK)
            throw DinamizeError(ErrorCategory::Network, "", endpoint_for_messages(url) + ": transfer failed", true);
        if (!running) break;
        if (abort_check_ && abort_check_()) throw Interrupted();
        curl_multi_poll(multi, nullptr, 0, kPollMs, nullptr);
    }

    CURLcode result = CURLE_OK;
    int pending = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &pending))
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == easy) result = msg->data.result;
    return transfer_.finish(result);
}

std::string endpoint_for_messages(const std::string& url) {
    const auto scheme_end = url.find("://");
    const size_t host_start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
    size_t host_end = url.find_first_of("/?#", host_start);
    if (host_end == std::string::npos) host_end = url.size();
    std::string authority = url.substr(host_start, host_end - host_start);
    const auto at = authority.rfind('@');
    if (at != std::string::npos) authority.erase(0, at + 1);  // drop user:password@
    return url.substr(0, host_start) + authority;
}

}  // namespace dwu
