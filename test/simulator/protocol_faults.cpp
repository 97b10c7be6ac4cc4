#include "protocol_faults.h"

#include "connection_abort.h"

#include <iostream>

namespace sim {
namespace {

// What a proxy in front of a failing backend sends: a short HTML page, not an envelope.
void send_http_5xx(httplib::Response& res, int status) {
    const char* reason = status == 500   ? "Internal Server Error"
                         : status == 502 ? "Bad Gateway"
                                         : "Service Unavailable";
    std::string title = std::to_string(status) + " " + reason;
    res.status = status;
    res.set_content("<html><head><title>" + title + "</title></head><body><h1>" + title + "</h1></body></html>\n",
                    "text/html");
}

// HTTP 200 and the start of a success envelope, cut off: a client must not take "480001" from a
// body it cannot parse.
void send_malformed_json(httplib::Response& res) {
    res.status = 200;
    res.set_content("{\"code\":\"480001\",\"code_detail\":\"Sucesso\",\"body\":{\"co",
                    "application/json; charset=utf-8");
}

// No answer at all. Status 200 keeps httplib's error handler (status >= 400) out of it; its
// attempt to write the (empty) answer afterwards fails on the reset socket.
void reset_connection(const httplib::Request& req, httplib::Response& res) {
    res.status = 200;
    if (abort_connection(req)) return;
    // Socket not found: promise a body and fail to produce it, so the client still gets a broken
    // answer (headers, then the connection closes) rather than a normal one.
    std::cerr << "dinamize_sim: could not reset the connection of " << req.path
              << "; sending a truncated answer instead" << std::endl;
    res.set_content_provider(64, "application/json; charset=utf-8",
                             [](std::size_t, std::size_t, httplib::DataSink&) { return false; });
}

}  // namespace

void note_fault(SimContext& ctx, RequestRecord& record, FaultKind kind, bool replaces_answer) {
    ctx.stats.count_fault(kind);
    record.fault = kind;
    if (replaces_answer) record.outcome = fault_name(kind);
}

bool inject_before_processing(SimContext& ctx, FaultKind kind, const httplib::Request& req, httplib::Response& res,
                              LoggedRequest& log) {
    switch (kind) {
        case FaultKind::kHttp5xx:
            note_fault(ctx, log.record(), kind, true);
            send_http_5xx(res, ctx.faults.pick_5xx_status());
            return true;
        case FaultKind::kReset:
            note_fault(ctx, log.record(), kind, true);
            log.commit();  // the client may look at the log as soon as it sees the reset
            reset_connection(req, res);
            return true;
        case FaultKind::kMalformedJson:
            note_fault(ctx, log.record(), kind, true);
            send_malformed_json(res);
            return true;
        case FaultKind::kDelay:
            note_fault(ctx, log.record(), kind, false);
            ctx.faults.delay();
            return false;
        default:
            return false;
    }
}

void lose_answer(SimContext& ctx, const httplib::Request& req, httplib::Response& res, LoggedRequest& log,
                 const std::string& unsent_code) {
    note_fault(ctx, log.record(), FaultKind::kLostResponse, true);
    log.record().unsent_code = unsent_code;
    log.commit();
    reset_connection(req, res);
}

}  // namespace sim
