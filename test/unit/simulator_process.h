#pragma once
// Starts the real Dinamize simulator binary on a free loopback port for a test suite, and stops it.
#include <string>

namespace dwu::test {

class SimulatorProcess {
public:
    // accounts: "user:password:client_code" each.
    explicit SimulatorProcess(const std::string& account);
    ~SimulatorProcess();
    SimulatorProcess(const SimulatorProcess&) = delete;
    SimulatorProcess& operator=(const SimulatorProcess&) = delete;

    std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    int port() const { return port_; }

    // Admin endpoints (not part of the Dinamize protocol).
    std::string admin_get(const std::string& path) const;
    void admin_post(const std::string& path, const std::string& body = "{}") const;

private:
    int pid_ = -1;
    int port_ = 0;
    std::string dir_;
};

// A TCP port that accepts connections and never answers: for timeouts and aborts.
class SilentServer {
public:
    SilentServer();
    ~SilentServer();
    std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

private:
    int fd_ = -1;
    int port_ = 0;
};

}  // namespace dwu::test
