#include "core/dinamize/untrusted_json.h"

#include "core/dinamize/utf8.h"

#include <vector>

namespace dwu {
namespace {

constexpr std::string_view kCutMark = "...";

struct Scan {
    int depth = 0;      // deepest nesting seen (stops growing past the limit)
    size_t values = 0;  // containers + commas outside strings: at least the values held, less one
    bool nul_escape = false;
};

// One pass over the bytes, tracking strings exactly as a JSON lexer does (a string opens at '"'
// outside a string and closes at the next '"' not escaped by '\'), so the brackets counted are
// those the parser would nest. Stops as soon as the depth or the value count passes its limit.
Scan scan(std::string_view text, int max_depth, size_t max_values) {
    Scan s;
    int depth = 0;
    bool in_string = false;
    const size_t n = text.size();
    for (size_t i = 0; i < n; ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\') {
                // \u0000 is the one escape PostgreSQL's text and jsonb cannot hold.
                if (i + 5 < n && text.compare(i + 1, 5, "u0000") == 0) s.nul_escape = true;
                ++i;  // the escaped character cannot close the string
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        switch (c) {
            case '"':
                in_string = true;
                break;
            case '[':
            case '{':
                ++s.values;
                if (++depth > s.depth) s.depth = depth;
                if (s.depth > max_depth || s.values > max_values) return s;
                break;
            case ']':
            case '}':
                if (depth > 0) --depth;
                break;
            case ',':
                if (++s.values > max_values) return s;
                break;
            default:
                break;
        }
    }
    return s;
}

}  // namespace

int json_nesting_depth(std::string_view text, int stop_above) {
    return scan(text, stop_above, static_cast<size_t>(-1)).depth;
}

UntrustedJson parse_untrusted_json(std::string_view text, int max_depth) {
    UntrustedJson out;
    out.value = nlohmann::json(nlohmann::json::value_t::discarded);
    std::string repaired;
    if (!is_valid_utf8(text)) {
        repaired = repair_utf8(text);
        text = repaired;
        out.repaired = true;
    }
    const Scan s = scan(text, max_depth, kMaxJsonValues);
    out.has_nul = s.nul_escape;
    if (s.depth > max_depth) {
        out.too_deep = true;
        out.problem = "JSON nested deeper than " + std::to_string(max_depth) + " levels";
        return out;
    }
    if (s.values > kMaxJsonValues) {
        out.too_large = true;
        out.problem = "JSON with more than " + std::to_string(kMaxJsonValues) + " values";
        return out;
    }
    // nlohmann's lexer takes a NUL byte for the end of the input: `{"code":"480001"}\0<anything>`
    // would parse. JSON has no raw NUL anywhere (in a string it must be escaped): not JSON.
    if (text.find('\0') != std::string_view::npos) {
        out.problem = "malformed JSON";
        return out;
    }
    // Iterator input: no copy; allow_exceptions = false: a syntax error (or a number too large
    // for a double) gives a discarded value, never a throw.
    out.value = nlohmann::json::parse(text.data(), text.data() + text.size(), nullptr, /*allow_exceptions=*/false);
    out.ok = !out.value.is_discarded();
    if (!out.ok) out.problem = "malformed JSON";
    // The scan saw a \u0000 escape; a key given twice keeps only its last value, so the value
    // itself says whether one is left (the fuzzer found {"k": "a\u0000", "k": "b"}).
    if (out.ok && out.has_nul) out.has_nul = json_has_nul(out.value);
    return out;
}

std::string storable_text(std::string_view s, size_t max_bytes) {
    std::string out;
    out.reserve(s.size() < max_bytes ? s.size() : max_bytes);
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    bool cut = false;
    for (size_t i = 0; i < s.size();) {
        size_t len = utf8_sequence_length(p + i, s.size() - i);
        std::string_view piece;
        if (len == 0) {
            piece = kReplacementCharacter;
            len = 1;
        } else if (p[i] == 0) {
            i += len;  // NUL: dropped
            continue;
        } else if ((p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r') || p[i] == 0x7F) {
            piece = kReplacementCharacter;  // terminal escapes and the like have no place in a log line
        } else {
            piece = s.substr(i, len);
        }
        if (out.size() + piece.size() > max_bytes) {
            cut = true;
            break;
        }
        out += piece;
        i += len;
    }
    if (cut && max_bytes >= kCutMark.size()) {
        out.resize(utf8_prefix_length(out, max_bytes - kCutMark.size()));
        out += kCutMark;
    }
    return out;
}

bool json_has_nul(const nlohmann::json& v) {
    std::vector<const nlohmann::json*> stack{&v};
    while (!stack.empty()) {
        const nlohmann::json* j = stack.back();
        stack.pop_back();
        if (j->is_string()) {
            if (j->get_ref<const std::string&>().find('\0') != std::string::npos) return true;
        } else if (j->is_object()) {
            for (auto it = j->begin(); it != j->end(); ++it) {
                if (it.key().find('\0') != std::string::npos) return true;
                stack.push_back(&it.value());
            }
        } else if (j->is_array()) {
            for (const auto& e : *j) stack.push_back(&e);
        }
    }
    return false;
}

bool is_dinamize_code(std::string_view s) {
    if (s.empty() || s.size() > 18) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

std::string json_scalar_text(const nlohmann::json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_integer()) return v.dump();  // signed or unsigned, never a lossy cast
    return {};
}

const char* json_kind(const nlohmann::json& v) {
    switch (v.type()) {
        case nlohmann::json::value_t::string:
            return "a string";
        case nlohmann::json::value_t::array:
            return "an array";
        case nlohmann::json::value_t::object:
            return "an object";
        case nlohmann::json::value_t::boolean:
            return "a boolean";
        case nlohmann::json::value_t::number_integer:
        case nlohmann::json::value_t::number_unsigned:
        case nlohmann::json::value_t::number_float:
            return "a number";
        case nlohmann::json::value_t::null:
            return "null";
        case nlohmann::json::value_t::binary:
        case nlohmann::json::value_t::discarded:
            return "no value";
    }
    return "no value";
}

}  // namespace dwu
