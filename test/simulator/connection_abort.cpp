#include "connection_abort.h"

#include <dirent.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstdlib>
#include <string>

namespace sim {
namespace {

struct SocketAddress {
    std::string host;
    int port = -1;
};

// Numeric host and port, formatted as httplib formats Request::remote_addr/local_addr.
bool describe(const sockaddr_storage& addr, socklen_t len, SocketAddress& out) {
    if (addr.ss_family != AF_INET && addr.ss_family != AF_INET6) return false;
    char host[NI_MAXHOST];
    char port[NI_MAXSERV];
    if (getnameinfo(reinterpret_cast<const sockaddr*>(&addr), len, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return false;
    out.host = host;
    out.port = std::atoi(port);
    return true;
}

bool is_connection_of(int fd, const httplib::Request& req) {
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) return false;
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    SocketAddress local;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 || !describe(addr, len, local) ||
        local.port != req.local_port)
        return false;
    len = sizeof addr;
    SocketAddress peer;  // fails with ENOTCONN on the listening socket
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 || !describe(addr, len, peer)) return false;
    return peer.port == req.remote_port && peer.host == req.remote_addr;
}

int find_connection_socket(const httplib::Request& req) {
    DIR* dir = opendir("/proc/self/fd");
    if (!dir) return -1;
    int found = -1;
    while (dirent* entry = readdir(dir)) {
        char* end = nullptr;
        long fd = std::strtol(entry->d_name, &end, 10);
        if (end == entry->d_name || *end != '\0' || fd == dirfd(dir)) continue;
        if (is_connection_of(static_cast<int>(fd), req)) {
            found = static_cast<int>(fd);
            break;
        }
    }
    closedir(dir);
    return found;
}

}  // namespace

bool abort_connection(const httplib::Request& req) {
    int fd = find_connection_socket(req);
    if (fd < 0) return false;
    sockaddr unspec{};
    unspec.sa_family = AF_UNSPEC;
    if (connect(fd, &unspec, sizeof unspec) == 0) return true;
    return shutdown(fd, SHUT_RDWR) == 0;
}

}  // namespace sim
