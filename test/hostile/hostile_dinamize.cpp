// hostile_dinamize: a server at base_url that answers what no Dinamize should, for the hostile
// answers test (test/e2e/test_hostile_answers.sh). /auth always succeeds; every other call is
// answered as the current mode says. In mode "normal" it is just Dinamize enough for the worker's
// queue to drain (contact add/update/search/delete, list search). Loopback only.
//
//   hostile_dinamize --port 0 --port-file F      then   POST /__hostile/mode  (body: a mode name)
//                                                       GET  /__hostile/calls (calls per path)
#include <httplib.h>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace {

const std::set<std::string> kModes = {
    "normal",       // Dinamize enough to drain the queue
    "deep",         // a body nested 100,000 arrays deep
    "huge",         // a 100 MB answer
    "bad_utf8",     // raw bytes that are not UTF-8 in code_detail
    "long_detail",  // a valid code_detail of 400 bytes whose byte 200 splits a character
    "nul",          // NULs (\u0000) in code_detail and in the new contact's code
    "huge_number",  // the new contact's code is a number of 40 digits
    "wrong_types",  // strings where objects belong, arrays where strings belong
    "bad_code",     // contact/add succeeds with a contact code that is not digits
    "long_fields",  // request_unique of 500 characters, an error code of 80 digits
    "html",         // HTTP 200 with an HTML page
    "garbage",      // HTTP 200 with bytes that are no JSON at all
    "slow",         // HTTP 200, then one byte a second, never ending
    "reset",        // half an answer, then the connection is closed
};

std::mutex mutex;
std::string mode = "normal";
std::map<std::string, long> calls;
std::atomic<long> next_code{900000};

std::string envelope(const std::string& code, const std::string& detail, const std::string& body,
                     const std::string& request_unique = "0123456789abcdef0123456789abcdef") {
    return "{\"code\":\"" + code + "\",\"code_detail\":\"" + detail + "\",\"body\":" + body + ",\"request_unique\":\"" +
           request_unique + "\",\"warning\":[]}";
}

void send(httplib::Response& res, const std::string& text, const char* type = "application/json; charset=utf-8") {
    res.status = 200;
    res.set_content(text, type);
}

// What a well-behaved Dinamize answers (just enough of it).
void answer_normally(const std::string& path, httplib::Response& res) {
    if (path == "/emkt/contact/add")
        send(res, envelope("480001", "Sucesso", "{\"code\":\"" + std::to_string(next_code++) + "\"}"));
    else if (path == "/emkt/contact/search" || path == "/emkt/contact-list/search")
        send(res, envelope("480001", "Sucesso", "{\"items\":[],\"next\":false}"));
    else
        send(res, envelope("480001", "Sucesso", "{}"));
}

void answer(const std::string& path, const std::string& how, httplib::Response& res) {
    if (how == "normal") return answer_normally(path, res);
    if (how == "deep") {
        std::string body(100000, '[');
        body.append(100000, ']');
        return send(res, envelope("480001", "Sucesso", body));
    }
    if (how == "huge") {
        static const std::string big = envelope("480001", "Sucesso", "{\"x\":\"" + std::string(100 << 20, 'A') + "\"}");
        return send(res, big);
    }
    if (how == "bad_utf8") return send(res, envelope("249002", "Campo inv\xe1lido \xff\xfe\xc3", "{}"));
    if (how == "long_detail") {
        std::string detail = "a";
        for (int i = 0; i < 200; ++i) detail += "\xc3\xa9";  // é: byte 200 is the middle of one
        return send(res, envelope("249002", detail, "{}"));
    }
    if (how == "nul") {
        if (path == "/emkt/contact/add") return send(res, envelope("480001", "Sucesso", "{\"code\":\"12\\u00003\"}"));
        return send(res, envelope("249002", "bad\\u0000detail", "{}"));
    }
    if (how == "huge_number") {
        if (path == "/emkt/contact/add")
            return send(res, envelope("480001", "Sucesso", "{\"code\":1234567890123456789012345678901234567890}"));
        return send(res, "{\"code\":1e999999,\"code_detail\":\"Sucesso\",\"body\":{}}");
    }
    if (how == "wrong_types")
        return send(
            res, "{\"code\":[\"480001\"],\"code_detail\":{\"a\":1},\"body\":\"not an object\",\"request_unique\":7}");
    if (how == "bad_code") {
        if (path == "/emkt/contact/add") return send(res, envelope("480001", "Sucesso", "{\"code\":\"abc\"}"));
        return answer_normally(path, res);
    }
    if (how == "long_fields") {
        if (path == "/emkt/contact/add")
            return send(res, envelope("480001", "Sucesso", "{\"code\":\"" + std::to_string(next_code++) + "\"}",
                                      std::string(500, 'u')));
        return send(res, envelope(std::string(80, '9'), "Erro", "{}"));
    }
    if (how == "html") return send(res, "<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html");
    if (how == "garbage") {
        static const char bytes[] = "\x00\x01\x02 not json \xff";
        return send(res, std::string(bytes, sizeof bytes - 1), "application/json");
    }
    if (how == "slow") {
        res.status = 200;
        res.set_chunked_content_provider("application/json", [](size_t, httplib::DataSink& sink) {
            std::this_thread::sleep_for(std::chrono::seconds(1));
            return sink.write("{", 1);
        });
        return;
    }
    if (how == "reset") {
        res.status = 200;
        res.set_chunked_content_provider("application/json", [](size_t offset, httplib::DataSink& sink) {
            if (offset > 0) return false;  // closes the connection mid-answer
            return sink.write("{\"code\":\"4800", 11);
        });
        return;
    }
}

bool write_port_file(const std::string& path, int port) {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << port << '\n';
        if (!out.flush()) return false;
    }
    return std::rename(tmp.c_str(), path.c_str()) == 0;
}

}  // namespace

int main(int argc, char** argv) {
    int port = 0;
    std::string port_file;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--port")
            port = std::stoi(argv[i + 1]);
        else if (flag == "--port-file")
            port_file = argv[i + 1];
        else if (flag == "--mode")
            mode = argv[i + 1];
    }
    signal(SIGPIPE, SIG_IGN);
    httplib::Server server;
    server.Post("/auth", [](const httplib::Request&, httplib::Response& res) {
        send(res, envelope("480001", "Sucesso", "{\"auth-token\":\"hostile-token\",\"manager\":true}"));
    });
    server.Post("/__hostile/mode", [](const httplib::Request& req, httplib::Response& res) {
        if (!kModes.count(req.body)) {
            res.status = 400;
            return res.set_content("unknown mode\n", "text/plain");
        }
        std::lock_guard<std::mutex> lock(mutex);
        mode = req.body;
        res.set_content(mode + "\n", "text/plain");
    });
    server.Get("/__hostile/calls", [](const httplib::Request&, httplib::Response& res) {
        std::lock_guard<std::mutex> lock(mutex);
        std::string text;
        for (const auto& [path, n] : calls) text += path + " " + std::to_string(n) + "\n";
        res.set_content(text, "text/plain");
    });
    server.Post(R"(/emkt/.*)", [](const httplib::Request& req, httplib::Response& res) {
        std::string how;
        {
            std::lock_guard<std::mutex> lock(mutex);
            how = mode;
            ++calls[req.path];
        }
        answer(req.path, how, res);
    });
    const int bound =
        port == 0 ? server.bind_to_any_port("127.0.0.1") : (server.bind_to_port("127.0.0.1", port) ? port : -1);
    if (bound <= 0 || (!port_file.empty() && !write_port_file(port_file, bound))) {
        std::cerr << "hostile_dinamize: cannot listen or write the port file\n";
        return 1;
    }
    server.listen_after_bind();
    return 0;
}
