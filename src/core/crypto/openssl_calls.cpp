#include "core/crypto/openssl_calls.h"

#include <openssl/err.h>

namespace dwu {

std::string openssl_failure(const char* call) {
    const unsigned long code = ERR_get_error();  // the earliest error says what went wrong
    ERR_clear_error();
    std::string msg = std::string(call) + " failed";
    if (code != 0) {
        char text[256];
        ERR_error_string_n(code, text, sizeof text);
        msg += ": ";
        msg += text;
    }
    return msg;
}

}  // namespace dwu
