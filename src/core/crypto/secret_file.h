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

// s without leading and trailing blanks (space, tab, CR).
std::string_view trim_blanks(std::string_view s);

// Calls use(line, line_no) for each line of a secret file's text that is neither blank nor a
// '#' comment, trimmed; line_no counts from 1 and is for messages (never quote a secret's line).
void for_each_secret_line(std::string_view text,
                          const std::function<void(std::string_view line, std::size_t line_no)>& use);

}  // namespace dwu
