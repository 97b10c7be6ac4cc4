#include "core/dinamize/multipart.h"

#include <openssl/rand.h>

#include <random>
#include <stdexcept>

namespace dwu {
namespace {

constexpr int kMaxBoundaryDraws = 16;

std::string random_boundary() {
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
        // The boundary is not a secret; any unpredictable-enough source will do.
        std::random_device rd;
        for (auto& b : bytes) b = static_cast<unsigned char>(rd());
    }
    static const char hex[] = "0123456789abcdef";
    std::string out = "dwu-crm-";
    for (unsigned char b : bytes) {
        out += hex[b >> 4];
        out += hex[b & 0x0f];
    }
    return out;
}

void check_header_value(const std::string& value, const char* what) {
    if (value.find_first_of("\"\r\n") != std::string::npos)
        throw std::invalid_argument(std::string("multipart ") + what + " must not contain '\"', CR or LF");
}

bool occurs_in(const std::vector<MultipartPart>& parts, const std::string& boundary) {
    for (const auto& p : parts)
        if (p.data.find(boundary) != std::string::npos || p.name.find(boundary) != std::string::npos ||
            p.filename.find(boundary) != std::string::npos)
            return true;
    return false;
}

}  // namespace

MultipartBody build_multipart(const std::vector<MultipartPart>& parts) {
    size_t size = 64;
    for (const auto& p : parts) {
        if (p.name.empty()) throw std::invalid_argument("multipart part without a name");
        check_header_value(p.name, "part name");
        check_header_value(p.filename, "filename");
        check_header_value(p.content_type, "content type");
        size += p.data.size() + p.name.size() + p.filename.size() + p.content_type.size() + 160;
    }
    std::string boundary = random_boundary();
    for (int i = 1; occurs_in(parts, boundary); ++i) {
        if (i >= kMaxBoundaryDraws) throw std::runtime_error("could not draw a multipart boundary");
        boundary = random_boundary();
    }
    MultipartBody out;
    out.content_type = "multipart/form-data; boundary=" + boundary;
    out.body.reserve(size);
    for (const auto& p : parts) {
        out.body += "--" + boundary + "\r\n";
        out.body += "Content-Disposition: form-data; name=\"" + p.name + "\"";
        if (!p.filename.empty()) out.body += "; filename=\"" + p.filename + "\"";
        out.body += "\r\n";
        if (!p.content_type.empty()) out.body += "Content-Type: " + p.content_type + "\r\n";
        out.body += "\r\n";
        out.body += p.data;
        out.body += "\r\n";
    }
    out.body += "--" + boundary + "--\r\n";
    return out;
}

}  // namespace dwu
