#pragma once
#include "core/pg_free.h"
// Logins of the clients that job threads use, all through one account's own client on the pump's
// owner thread. A job thread's client (one per job: the account's client is not thread-safe)
// starts from the account client's token; when it needs a new one, this coordinator hands the
// question to the owner, where the account client either already holds a newer token (another
// job thread's login, moments ago) or logs in, through its own coordinator (the login lock shared
// with other processes); the job's client then adopts that token. So many jobs in flight still
// make one login per account at a time, and the account client keeps the token the worker stores
// and shares after the round.
#include "core/dinamize/dinamize_client.h"
#include "core/inflight/transfer_pump.h"

namespace dwu {

class SharedLogin : public LoginCoordinator {
public:
    // `account_client` is used on the owner thread only; both must outlive this coordinator.
    SharedLogin(TransferPump& pump, DinamizeClient& account_client) : pump_(pump), account_(account_client) {}

    // Always true: the job's client never logs in itself. Throws what the account client's login
    // threw (e.g. AUTH for refused credentials), or Interrupted when the pump stops.
    bool before_login(DinamizeClient& job_client) override;
    void after_login(DinamizeClient&, bool) noexcept override {}

    // The token the account client holds now, adopted by `job_client` (on the owner thread: call
    // through the pump, or before the job's thread starts).
    static void give_token(const DinamizeClient& account_client, DinamizeClient& job_client);

private:
    TransferPump& pump_;
    DinamizeClient& account_;
};

}  // namespace dwu
