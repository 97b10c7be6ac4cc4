#include "redis_server_process.h"

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace dwu::test {
namespace {

constexpr const char* kRedisServer = "/usr/bin/redis-server";

bool answers_ping(int port) {
    timeval tv{0, 200 * 1000};
    redisContext* c = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (!c) return false;
    bool ok = false;
    if (!c->err && redisSetTimeout(c, tv) == REDIS_OK) {
        auto* reply = static_cast<redisReply*>(redisCommand(c, "PING"));
        ok = reply != nullptr;  // PONG, or NOAUTH from a server with a password: either way it is up
        if (reply) freeReplyObject(reply);
    }
    redisFree(c);
    return ok;
}

std::string file_tail(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string all = ss.str();
    return all.size() > 2000 ? all.substr(all.size() - 2000) : all;
}

// Starts redis-server with `args` (those after the program's name) and waits until `port`
// answers PING; returns the child's pid. `what` and `log` (its log file) go into the errors.
pid_t start_until_ping(std::vector<std::string> args, int port, const std::string& what, const std::string& log) {
    args.insert(args.begin(), kRedisServer);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a crashed test binary
        if (getppid() != parent) _exit(126);
        execv(kRedisServer, argv.data());
        _exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        if (answers_ping(port)) return pid;
        int status = 0;
        if (waitpid(pid, &status, WNOHANG) == pid)
            throw std::runtime_error(what + " exited at start: " + file_tail(log));
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    throw std::runtime_error(what + " did not answer PING within 10 s on port " + std::to_string(port));
}

}  // namespace

int unused_port() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        if (fd >= 0) close(fd);
        throw std::runtime_error("cannot find a free loopback port");
    }
    close(fd);
    return ntohs(addr.sin_port);
}

RedisServerProcess::RedisServerProcess(std::string password) : password_(std::move(password)) {
    char tmpl[] = "/tmp/dwu_redis_XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    port_ = unused_port();
    start();
}

RedisServerProcess::~RedisServerProcess() {
    stop();  // SIGKILL also ends a paused server
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

void RedisServerProcess::start() {
    if (pid_ > 0) throw std::logic_error("redis-server already running");
    const std::string port = std::to_string(port_);
    const std::string log = dir_ + "/redis.log";
    std::vector<std::string> args{"--port", port, "--bind",    "127.0.0.1", "--save",      "",  "--appendonly", "no",
                                  "--dir",  dir_, "--logfile", log,         "--daemonize", "no"};
    if (!password_.empty()) {
        args.push_back("--requirepass");
        args.push_back(password_);
    }
    pid_ = start_until_ping(std::move(args), port_, "redis-server", log);
}

void RedisServerProcess::stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
}

SentinelProcess::SentinelProcess(const std::string& name, int master_port) {
    char tmpl[] = "/tmp/dwu_sentinel_XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    port_ = unused_port();
    const std::string conf = dir_ + "/sentinel.conf";
    const std::string log = dir_ + "/sentinel.log";
    {
        std::ofstream out(conf);  // the sentinel rewrites it: a file of its own
        out << "port " << port_ << "\nbind 127.0.0.1\ndir " << dir_ << "\nlogfile " << log << "\n"
            << "sentinel monitor " << name << " 127.0.0.1 " << master_port << " 1\n";
    }
    pid_ = start_until_ping({conf, "--sentinel"}, port_, "redis sentinel", log);
}

SentinelProcess::~SentinelProcess() {
    if (pid_ > 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

void RedisServerProcess::pause() {
    if (pid_ > 0) kill(pid_, SIGSTOP);
}

void RedisServerProcess::resume() {
    if (pid_ > 0) kill(pid_, SIGCONT);
}

}  // namespace dwu::test
