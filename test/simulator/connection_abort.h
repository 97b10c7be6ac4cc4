// Resets the TCP connection a request came on, from inside its handler, so the client gets no
// answer at all (the reset and lost_response faults).
#pragma once

#include <httplib.h>

namespace sim {

// httplib 0.11 gives handlers no access to their socket, so it is looked up among the process's
// open sockets by the request's address pair (local port, peer address, peer port), which only
// one open TCP connection can have. It is then disconnected with connect(AF_UNSPEC): Linux
// aborts the connection (RST) and the descriptor stays valid, so httplib's later write fails
// quietly and its own close() is harmless. Falls back to shutdown() (FIN, "empty reply").
// Returns false if the socket was not found or could not be disconnected.
bool abort_connection(const httplib::Request& req);

}  // namespace sim
