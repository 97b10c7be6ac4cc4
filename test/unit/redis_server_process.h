#pragma once
// A real redis-server for a test suite: started on a free loopback port with no persistence,
// ready once it answers PING, killed at destruction. stop()/start() simulate an outage on the same
// port; pause()/resume() (SIGSTOP/SIGCONT) make it accept connections but never answer.
#include <string>

namespace dwu::test {

class RedisServerProcess {
public:
    explicit RedisServerProcess(std::string password = "");
    ~RedisServerProcess();
    RedisServerProcess(const RedisServerProcess&) = delete;
    RedisServerProcess& operator=(const RedisServerProcess&) = delete;

    int port() const { return port_; }
    bool running() const { return pid_ > 0; }

    void start();   // same port and password; waits until it answers PING (bounded)
    void stop();    // SIGKILL: an outage, not a clean shutdown
    void pause();   // SIGSTOP
    void resume();  // SIGCONT

private:
    std::string password_;
    std::string dir_;
    int port_ = 0;
    int pid_ = -1;
};

// A Redis Sentinel (redis-server --sentinel) on a free loopback port monitoring one master,
// `name` at 127.0.0.1:master_port with a quorum of 1; ready once it answers PING, killed at
// destruction. Re-point it with SENTINEL REMOVE / SENTINEL MONITOR.
class SentinelProcess {
public:
    SentinelProcess(const std::string& name, int master_port);
    ~SentinelProcess();
    SentinelProcess(const SentinelProcess&) = delete;
    SentinelProcess& operator=(const SentinelProcess&) = delete;

    int port() const { return port_; }

private:
    std::string dir_;
    int port_ = 0;
    int pid_ = -1;
};

// A loopback TCP port on which nothing listens (bound, then released).
int unused_port();

}  // namespace dwu::test
