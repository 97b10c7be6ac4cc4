#include "admin_data_routes.h"

#include "api_error.h"
#include "contact.h"
#include "envelope.h"
#include "invented_codes.h"
#include "json_fields.h"
#include "sim_time.h"

#include <functional>
#include <optional>
#include <stdexcept>

namespace sim {
namespace {

using nlohmann::json;

// A bad admin request (HTTP 400 without an envelope code).
struct AdminError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

using AdminHandler = std::function<json(SimContext&, const json& body)>;

void add_admin_post(httplib::Server& server, SimContext& ctx, const char* path, AdminHandler handler) {
    server.Post(path, [&ctx, handler](const httplib::Request& req, httplib::Response& res) {
        try {
            json body = json::parse(req.body, nullptr, false);
            if (body.is_discarded() || !body.is_object()) throw AdminError("the body must be a JSON object");
            send_json(res, handler(ctx, body));
        } catch (const ApiError& e) {
            send_json(res, json{{"error", e.what()}, {"code", e.code()}}, 400);
        } catch (const AdminError& e) {
            send_json(res, json{{"error", e.what()}}, 400);
        }
    });
}

std::string account_of(SimContext& ctx, const json& body) {
    std::string client = optional_string(body, "client_code").value_or("");
    if (!ctx.state.is_account(client)) throw AdminError("client_code must name a configured account");
    return client;
}

std::string text(const json& body, const char* key, bool required) {
    auto v = optional_string(body, key);
    if (required && (!v || v->empty())) throw AdminError(std::string(key) + " is required");
    return v.value_or("");
}

std::uint64_t optional_code(const json& body, const char* key) {
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) return 0;
    return std::stoull(required_numeric_code(body, key));
}

bool optional_flag(const json& body, const char* key) {
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) return false;
    if (!it->is_boolean()) throw AdminError(std::string(key) + " must be a boolean");
    return it->get<bool>();
}

// The contact named by contact_code or email.
struct ContactRef {
    std::string client;
    std::string list;
    std::uint64_t code = 0;
    std::string email;
};

ContactRef contact_ref(SimContext& ctx, const json& body) {
    ContactRef ref{account_of(ctx, body), required_numeric_code(body, "list"), optional_code(body, "contact_code"),
                   text(body, "email", false)};
    if (ref.code == 0 && ref.email.empty()) throw AdminError("contact_code or email is required");
    return ref;
}

Contact modify(SimContext& ctx, const ContactRef& ref, const std::function<void(Contact&)>& change) {
    return ctx.state.modify_contact(ref.client, ref.list, ref.code, ref.email, change);
}

HistoryEvent event_for(const Contact& c, long kind, std::string time) {
    HistoryEvent e;
    e.kind = kind;
    e.time = std::move(time);
    e.contact_code = std::to_string(c.code);
    e.email = c.email;
    e.external_code = c.external_code;
    return e;
}

std::string when(const json& body, const char* key) {
    std::string t = text(body, key, false);
    if (t.empty()) return now_local_datetime();
    if (t.size() != 19 || !is_date_or_datetime(t)) throw AdminError(std::string(key) + " must be YYYY-MM-DD HH:MM:SS");
    return t;
}

// Opt-out (origin "D": spam complaint): the contact's flags, the opt-out record, the event.
json opt_out(SimContext& ctx, const ContactRef& ref, const std::string& origin, const std::string& time,
             HistoryEvent* event_template) {
    const bool spam = origin == "D";
    Contact c = modify(ctx, ref, [spam](Contact& contact) {
        contact.optout = true;
        if (spam) contact.spam = true;
    });
    OptoutRecord record{c.email, std::to_string(c.code), time, origin};
    ctx.activity.add_optout(ref.client, ref.list, record);
    HistoryEvent e = event_for(c, spam ? 9 : 7, time);
    if (event_template) {
        e.generic_info = event_template->generic_info;
        e.generic_info2 = event_template->generic_info2;
    }
    ctx.activity.add_event(ref.client, ref.list, e);
    return json{{"optout", to_item(record)}, {"event", to_item(e)}};
}

json post_list(SimContext& ctx, const json& body) {
    std::string client = account_of(ctx, body);
    std::string code = required_numeric_code(body, "code");
    std::string title = text(body, "title", true);
    ctx.catalog.put_list(client, code, title);
    return json{{"code", code}, {"title", title}};
}

json post_field(SimContext& ctx, const json& body) {
    std::string client = account_of(ctx, body);
    std::string list = required_numeric_code(body, "list");
    FieldInput in;
    in.title = text(body, "title", true);
    in.type = text(body, "type", false);
    if (in.type.empty()) in.type = "VC";
    in.code = optional_code(body, "code");
    in.is_required = optional_flag(body, "is_required");
    in.is_uniquevalue = optional_flag(body, "is_uniquevalue");
    in.is_searchable = optional_flag(body, "is_searchable");
    return json{{"code", ctx.catalog.add_field(client, list, in)}};
}

json post_field_lov(SimContext& ctx, const json& body) {
    std::string client = account_of(ctx, body);
    std::string list = required_numeric_code(body, "list");
    std::uint64_t field = std::stoull(required_numeric_code(body, "field_code"));
    std::string value = text(body, "value", true);
    return json{{"code", ctx.catalog.add_lov_value(client, list, field, value, optional_code(body, "code"))}};
}

json post_contact_update(SimContext& ctx, const json& body) {
    ContactRef ref = contact_ref(ctx, body);
    std::string status = text(body, "status", false);
    if (!status.empty() && status != "V" && status != "I") throw AdminError("status must be V or I");
    ContactInput input = read_contact_input(body);
    Contact c = modify(ctx, ref, [](Contact&) {});
    ctx.state.update_contact(ref.client, ref.list, c.code, input);  // checks e-mail uniqueness
    ref.code = c.code;
    c = modify(ctx, ref, [&status](Contact& contact) {
        if (!status.empty()) contact.status = status;
    });
    return json{{"contact", to_item(c)}};
}

json post_optout(SimContext& ctx, const json& body) {
    ContactRef ref = contact_ref(ctx, body);
    std::string origin = text(body, "origin", false);
    if (origin.empty()) origin = "U";  // [I] any value but "D" means an unsubscribe (§9)
    return opt_out(ctx, ref, origin, when(body, "request_date"), nullptr);
}

json post_event(SimContext& ctx, const json& body) {
    ContactRef ref = contact_ref(ctx, body);
    auto kind_it = body.find("kind");
    long kind = -1;
    if (kind_it != body.end() && kind_it->is_number_unsigned()) kind = static_cast<long>(kind_it->get<std::uint64_t>());
    if (kind_it != body.end() && kind_it->is_string()) {
        auto c = canonical_numeric(kind_it->get<std::string>());
        if (c && c->size() <= 3) kind = std::stol(*c);
    }
    if (!is_history_kind(kind)) throw AdminError("kind must be a history kind: 4-9 or 13");
    HistoryEvent tmpl;
    tmpl.generic_info = text(body, "action_code", false);
    tmpl.generic_info2 = text(body, "info2", false);
    const std::string time = when(body, "time");
    if (kind == 7 || kind == 9) return opt_out(ctx, ref, kind == 9 ? "D" : "U", time, &tmpl);
    const bool hard_bounce = (kind == 8 || kind == 13) && (tmpl.generic_info2 == "DE" || tmpl.generic_info2 == "CE");
    Contact c = modify(ctx, ref, [hard_bounce](Contact& contact) {
        if (hard_bounce) contact.status = "I";
    });
    HistoryEvent e = event_for(c, kind, time);
    e.generic_info = tmpl.generic_info;
    e.generic_info2 = tmpl.generic_info2;
    ctx.activity.add_event(ref.client, ref.list, e);
    return json{{"event", to_item(e)}};
}

// A contact removed on Dinamize's side (by its code), as another tool or a person would: no login,
// no request in the log.
json post_contact_delete(SimContext& ctx, const json& body) {
    const ContactRef ref = contact_ref(ctx, body);
    if (ref.code == 0) throw AdminError("contact_code is required");
    ctx.state.delete_contact(ref.client, ref.list, ref.code);
    return json{{"deleted", std::to_string(ref.code)}};
}

}  // namespace

void register_admin_data_routes(httplib::Server& server, SimContext& ctx) {
    add_admin_post(server, ctx, "/__sim/lists", post_list);
    add_admin_post(server, ctx, "/__sim/fields", post_field);
    add_admin_post(server, ctx, "/__sim/field-lov", post_field_lov);
    add_admin_post(server, ctx, "/__sim/contact-update", post_contact_update);
    add_admin_post(server, ctx, "/__sim/contact-delete", post_contact_delete);
    add_admin_post(server, ctx, "/__sim/optout", post_optout);
    add_admin_post(server, ctx, "/__sim/event", post_event);
}

void reset_admin_data(SimContext& ctx) {
    ctx.catalog.reset();
    ctx.activity.reset();
    ctx.imports.reset();
}

}  // namespace sim
