#pragma once
#include "core/pg_free.h"
// HTTP POST over libcurl, PostgreSQL-free. One transport keeps one connection cache, so calls to
// the same host reuse a kept-alive connection. Transfers run in a curl multi loop that checks an
// abort flag every few tens of milliseconds, so a shutdown or cancel never waits on the network.
// multipart/form-data bodies (the bulk import, reference §6) are written by libcurl's MIME API.
#include <curl/curl.h>

#include <memory>
#include <string>
#include <vector>

#include "core/dinamize/host_policy.h"

namespace dwu {

struct HttpOptions {
    long timeout_ms = 20000;         // whole request (Dinamize documents 20 s)
    long connect_timeout_ms = 5000;  // TCP + TLS handshake
    bool verify_tls = true;          // never off by default
    std::string ca_file;             // optional CA bundle (also for an https:// proxy); empty = system store
    // Every request goes through this proxy as a CONNECT tunnel (TLS stays end to end); empty: none
    // (the environment's http_proxy/https_proxy are ignored, as a server's environment is no setting).
    std::string proxy;
    // Hosts and addresses that may be called (host_policy.h); null: any (the unit tests).
    std::shared_ptr<const HostPolicy> hosts;
};

struct HttpResponse {
    long status = 0;
    std::string body;
    long duration_ms = 0;
    long new_connections = 0;  // connections this request opened (0: it reused a kept-alive one)
};

// One part of a multipart/form-data body (RFC 7578).
struct FormPart {
    std::string name;          // form field name, e.g. "file", "command"
    std::string data;          // the part's bytes
    std::string filename;      // non-empty: sent as a file part (filename="...")
    std::string content_type;  // optional, e.g. "text/csv; charset=utf-8"
};

// Throws std::invalid_argument for a part without a name, or with a name, filename or content
// type holding '"', CR, LF or NUL: we refuse them rather than let libcurl escape (or, for the
// content type, pass on) them.
void check_form_parts(const std::vector<FormPart>& parts);

// What DinamizeClient sends its requests through: HttpTransport (one request at a time, on the
// calling thread) or core/inflight's PumpedTransport (many at once, through one multi handle).
class HttpPoster {
public:
    virtual ~HttpPoster() = default;
    virtual HttpResponse post(const std::string& url, const std::string& content_type, const std::string& body,
                              const std::vector<std::string>& headers) = 0;
    virtual HttpResponse post_form(const std::string& url, const std::vector<FormPart>& parts,
                                   const std::vector<std::string>& headers) = 0;
};

// One request on an easy handle of its own, with every option HttpTransport sets (answer size
// limit, timeouts, TLS, proxy, the host policy's address check), for whoever runs it in a multi
// handle: HttpTransport's own loop, or a TransferPump among many. The body, parts and headers
// are referenced, not copied: they must outlive the transfer. The next prepare reuses the handle.
class HttpTransfer {
public:
    explicit HttpTransfer(const HttpOptions& options);  // `options` must outlive the transfer
    ~HttpTransfer();
    HttpTransfer(const HttpTransfer&) = delete;
    HttpTransfer& operator=(const HttpTransfer&) = delete;

    // Throw DinamizeError (NETWORK: a URL the host policy refuses) or std::invalid_argument (a part
    // check_form_parts refuses), before anything is sent.
    void prepare_post(const std::string& url, const std::string& content_type, const std::string& body,
                      const std::vector<std::string>& headers);
    void prepare_form(const std::string& url, const std::vector<FormPart>& parts,
                      const std::vector<std::string>& headers);

    CURL* easy() const;
    // The multi handle reported the transfer done with `result` (a CURLcode): the answer, or the
    // DinamizeError HttpTransport::post documents.
    HttpResponse finish(int result);

private:
    void prepare(const std::string& url, const std::string* content_type, const std::vector<std::string>& headers);
    struct State;
    const HttpOptions& options_;
    std::unique_ptr<State> state_;
};

// Polled while a transfer runs; returns true to abandon it. Must only read flags: it runs inside
// libcurl's loop, where neither exceptions nor PostgreSQL error handling may happen.
using AbortCheck = bool (*)();

class HttpTransport : public HttpPoster {
public:
    explicit HttpTransport(HttpOptions options, AbortCheck abort_check = nullptr);
    ~HttpTransport();
    HttpTransport(const HttpTransport&) = delete;
    HttpTransport& operator=(const HttpTransport&) = delete;

    // Throws DinamizeError on failure: NETWORK (refused, reset, timed out: a body that never ends
    // runs into timeout_ms; a URL or resolved address the host policy refuses), API_ERROR for an answer over 64 MiB
    // (refused by its Content-Length or stopped at the limit); Interrupted on abort. Header lines are "Name: value";
    // they may hold secrets and are never echoed in errors.
    HttpResponse post(const std::string& url, const std::string& content_type, const std::string& body,
                      const std::vector<std::string>& headers) override;
    // The same with a multipart/form-data body that libcurl builds from `parts` (its MIME API:
    // boundary, Content-Disposition, Content-Type). Throws std::invalid_argument, before any
    // request, for a part check_form_parts refuses.
    HttpResponse post_form(const std::string& url, const std::vector<FormPart>& parts,
                           const std::vector<std::string>& headers) override;

    const HttpOptions& options() const { return options_; }

private:
    HttpResponse perform(const std::string& url);  // runs the prepared transfer_

    struct Multi;
    HttpOptions options_;
    AbortCheck abort_check_;
    std::unique_ptr<Multi> multi_;
    HttpTransfer transfer_;
};

// scheme://host[:port] of a URL, without any user-info: safe to put in an error message.
std::string endpoint_for_messages(const std::string& url);

}  // namespace dwu
