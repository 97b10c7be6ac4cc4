#pragma once
// Starts the real Dinamize simulator binary on a free loopback port for a test suite, and stops it.
#include <string>
#include <vector>

namespace dwu::test {

class SimulatorProcess {
public:
    // accounts: "user:password:client_code" each.
    explicit SimulatorProcess(const std::string& account);
    // With more command-line arguments, e.g. {"--list", "7:Clientes"}.
    SimulatorProcess(const std::string& account, const std::vector<std::string>& extra_args);
    ~SimulatorProcess();
    SimulatorProcess(const SimulatorProcess&) = delete;
    SimulatorProcess& operator=(const SimulatorProcess&) = delete;

    std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    int port() const { return port_; }

    // Admin endpoints (not part of the Dinamize protocol).
    std::string admin_get(const std::string& path) const;
    void admin_post(const std::string& path, const std::string& body = "{}") const;
    // The answer's body; throws unless HTTP 200.
    std::string admin_post_body(const std::string& path, const std::string& body) const;
    // The HTTP status (-1 without an answer); the body goes to `answer` if given.
    int admin_post_status(const std::string& path, const std::string& body, std::string* answer = nullptr) const;

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
