#pragma once
// Reading a file of secrets (the encryption key file, the webhook secret file) the one careful way:
// a regular file, not readable by other users, bounded in size, read with POSIX I/O into one
// buffer that is wiped on the way out (an ifstream would leave copies in its own buffer).
#include "core/pg_free.h"

#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace dwu {

// What the file is called in errors ("key file"), how large it may be, who besides its owner may
// read it.
struct SecretFileRules {
    const char* noun;
    std::size_t max_bytes;
    const char* max_bytes_text;  // "1 MiB"
    bool group_may_read;
};

// The file is unusable: the message names the file and what to do, never its content.
class SecretFileError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Hands the file's text to use() while it is held; throws SecretFileError, or what use() throws.
void with_secret_file(const std::string& path, const SecretFileRules& rules,
                      const std::function<void(std::string_view text)>& use);

}  // namespace dwu
