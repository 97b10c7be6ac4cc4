#include "simulator_process.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#ifndef DINAMIZE_SIM_PATH
#error "DINAMIZE_SIM_PATH must name the simulator binary"
#endif

namespace dwu::test {

SimulatorProcess::SimulatorProcess(const std::string& account) : SimulatorProcess(account, {}) {}

SimulatorProcess::SimulatorProcess(const std::string& account, const std::vector<std::string>& extra_args) {
    char tmpl[] = "/tmp/dwu_sim_XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    const std::string port_file = dir_ + "/port";
    std::vector<std::string> args = {DINAMIZE_SIM_PATH, "--port", "0", "--port-file", port_file, "--account", account};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        execv(DINAMIZE_SIM_PATH, argv.data());
        _exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        std::ifstream in(port_file);
        if (in >> port_ && port_ > 0) return;
        if (waitpid(pid_, nullptr, WNOHANG) == pid_) throw std::runtime_error("simulator exited at start");
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("simulator did not start within 10 s");
}

SimulatorProcess::~SimulatorProcess() {
    if (pid_ > 0) {
        kill(pid_, SIGTERM);
        waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

std::string SimulatorProcess::admin_get(const std::string& path) const {
    httplib::Client cli("127.0.0.1", port_);
    auto res = cli.Get(path.c_str());
    if (!res || res->status != 200) throw std::runtime_error("admin GET failed: " + path);
    return res->body;
}

void SimulatorProcess::admin_post(const std::string& path, const std::string& body) const {
    httplib::Client cli("127.0.0.1", port_);
    auto res = cli.Post(path.c_str(), body, "application/json");
    if (!res || res->status != 200) throw std::runtime_error("admin POST failed: " + path);
}

std::string SimulatorProcess::admin_post_body(const std::string& path, const std::string& body) const {
    std::string answer;
    if (admin_post_status(path, body, &answer) != 200)
        throw std::runtime_error("admin POST failed: " + path + ": " + answer);
    return answer;
}

int SimulatorProcess::admin_post_status(const std::string& path, const std::string& body, std::string* answer) const {
    httplib::Client cli("127.0.0.1", port_);
    auto res = cli.Post(path.c_str(), body, "application/json");
    if (!res) return -1;
    if (answer) *answer = res->body;
    return res->status;
}

SilentServer::SilentServer() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd_, 16) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        throw std::runtime_error("silent server: cannot listen");
    port_ = ntohs(addr.sin_port);  // connections complete in the backlog; nobody ever answers
}

SilentServer::~SilentServer() {
    if (fd_ >= 0) close(fd_);
}

}  // namespace dwu::test
