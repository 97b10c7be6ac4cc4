// dinamize_sim: a local simulator of the Dinamize HTTP/JSON API for tests.
// Start-up and shutdown only; see sim_routes.cpp / admin_routes.cpp for the endpoints.
#include "admin_routes.h"
#include "invented_codes.h"
#include "sim_options.h"
#include "sim_routes.h"

#include <httplib.h>

#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

namespace {

// Writes atomically (temp file + rename) so a reader never sees a partial port number.
bool write_port_file(const std::string& path, int port) {
    std::string tmp = path + ".tmp." + std::to_string(getpid());
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << port << '\n';
        if (!out.flush()) return false;
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        return false;
    }
    return true;
}

sigset_t stop_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    return set;
}

}  // namespace

int main(int argc, char** argv) {
    sim::Options options;
    try {
        options = sim::parse_options(argc, argv);
    } catch (const std::invalid_argument& e) {
        std::cerr << "dinamize_sim: " << e.what() << '\n' << sim::usage();
        return 2;
    }

    // Before any thread starts: the codes are read, never written, once the server runs. The
    // strings live in `options` until main returns.
    for (const auto& [name, code] : options.codes) sim::invented::set_code(name, code.c_str());

    // SIGTERM/SIGINT are blocked in every thread (the server's pool inherits the mask) and taken
    // by one dedicated thread with sigwait, which stops the server outside signal context.
    sigset_t signals = stop_signals();
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    signal(SIGPIPE, SIG_IGN);

    sim::SimState state(options.accounts, sim::TokenPolicy{std::chrono::seconds(options.token_idle_seconds),
                                                           std::chrono::seconds(options.token_max_seconds)});
    sim::SimStats stats;
    sim::RateLimiter limiter(options.rate_limit_per_minute, std::chrono::seconds(options.rate_limit_window_seconds));
    sim::FaultInjector faults(options.faults, options.latency_ms);
    sim::RequestLog request_log;
    std::vector<std::string> clients;
    for (const auto& account : options.accounts) clients.push_back(account.client_code);
    sim::Catalog catalog(clients, options.lists);
    sim::Activity activity;
    sim::ImportLog imports;
    sim::SimContext ctx{state,   stats,    limiter, options.rate_limit_per_minute, faults, request_log,
                        catalog, activity, imports};

    httplib::Server server;
    unsigned threads = options.threads;
    server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    // httplib's default sets SO_REUSEPORT, which would let a second simulator silently share a
    // fixed port; SO_REUSEADDR alone still allows quick restarts on the same port.
    socket_t listening = INVALID_SOCKET;
    server.set_socket_options([&listening](socket_t sock) {
        int yes = 1;
        setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        listening = sock;
    });
    // Without it each answer waits ~40 ms on loopback: httplib writes headers and body separately,
    // and Nagle holds the body until the client's delayed ACK. Set on the listening socket;
    // Linux copies it to every accepted one.
    server.set_tcp_nodelay(true);
    sim::register_protocol_routes(server, ctx);
    sim::register_admin_routes(server, ctx);
    sim::register_fallbacks(server, ctx, options.verbose);

    std::atomic<bool> finished{false};
    std::thread signal_thread([&] {
        int sig = 0;
        sigwait(&signals, &sig);
        // Delay faults end at once: httplib's stop() waits for every running handler.
        faults.stop();
        // stop() is a no-op until listen_after_bind() has started, so repeat until it has returned.
        while (!finished) {
            server.stop();
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    });

    int port = options.port;
    bool bound =
        (port == 0) ? (port = server.bind_to_any_port(options.host)) > 0 : server.bind_to_port(options.host, port);
    // Debian's libcpp-httplib listens with a backlog of 5: 32 clients connecting at once overflowed
    // it, and each dropped SYN came back a second later. listen() again raises it on the same socket.
    if (bound && listening != INVALID_SOCKET) ::listen(listening, 1024);
    int status = 0;
    if (!bound) {
        std::cerr << "dinamize_sim: cannot bind " << options.host << ':' << options.port << '\n';
        status = 1;
    } else if (!options.port_file.empty() && !write_port_file(options.port_file, port)) {
        std::cerr << "dinamize_sim: cannot write port file " << options.port_file << '\n';
        status = 1;
    } else {
        // The socket already listens after bind, so the port is usable from here on.
        std::cout << "dinamize_sim listening on " << options.host << ':' << port << std::endl;
        if (!server.listen_after_bind()) status = 1;
    }

    finished = true;
    pthread_kill(signal_thread.native_handle(), SIGTERM);  // wakes sigwait if no signal came
    signal_thread.join();
    if (!options.port_file.empty() && bound) std::remove(options.port_file.c_str());
    return status;
}
