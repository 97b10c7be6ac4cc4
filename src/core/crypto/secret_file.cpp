#include "core/crypto/secret_file.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace dwu {
namespace {

struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
};

struct WipeOnExit {
    std::string& s;
    ~WipeOnExit() { OPENSSL_cleanse(s.data(), s.size()); }
};

}  // namespace

void with_secret_file(const std::string& path, const SecretFileRules& rules,
                      const std::function<void(std::string_view text)>& use) {
    const std::string named = std::string(rules.noun) + " \"" + path + "\"";
    const auto fail_errno = [&](const char* what, int err) {
        throw SecretFileError("cannot " + std::string(what) + " " + named + ": " +
                              std::generic_category().message(err));
    };
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail_errno("open", errno);
    FdCloser closer{fd};
    struct stat st;
    if (fstat(fd, &st) != 0) fail_errno("stat", errno);
    if (!S_ISREG(st.st_mode)) throw SecretFileError(named + " is not a regular file");
    if (rules.group_may_read && (st.st_mode & S_IRWXO))
        throw SecretFileError(named + " is accessible to other users; run chmod o-rwx on it");
    if (!rules.group_may_read && (st.st_mode & (S_IRWXG | S_IRWXO)))
        throw SecretFileError(named + " is accessible to its group or to other users; run chmod 600 on it");
    if (static_cast<unsigned long long>(st.st_size) > rules.max_bytes)
        throw SecretFileError(named + " is larger than " + rules.max_bytes_text);

    std::string text(static_cast<std::size_t>(st.st_size) + 1, '\0');  // never grows: no stray copies
    WipeOnExit wipe_text{text};
    std::size_t used = 0;
    while (used < text.size()) {
        const ssize_t n = ::read(fd, text.data() + used, text.size() - used);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail_errno("read", errno);
        if (n == 0) break;
        used += static_cast<std::size_t>(n);
    }
    if (used == text.size()) throw SecretFileError(named + " changed while being read");
    use(std::string_view(text.data(), used));
}

std::string_view trim_blanks(std::string_view s) {
    const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
    while (!s.empty() && blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && blank(s.back())) s.remove_suffix(1);
    return s;
}

void for_each_secret_line(std::string_view text,
                          const std::function<void(std::string_view line, std::size_t line_no)>& use) {
    std::size_t line_no = 0;
    for (std::size_t pos = 0; pos <= text.size();) {
        std::size_t eol = text.find('\n', pos);
        if (eol == std::string_view::npos) eol = text.size();
        const std::string_view line = trim_blanks(text.substr(pos, eol - pos));
        pos = eol + 1;
        line_no++;
        if (line.empty() || line.front() == '#') continue;
        use(line, line_no);
    }
}

}  // namespace dwu
