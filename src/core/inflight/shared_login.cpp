#include "core/inflight/shared_login.h"

namespace dwu {

void SharedLogin::give_token(const DinamizeClient& account_client, DinamizeClient& job_client) {
    if (account_client.has_token())
        job_client.adopt_token(account_client.token(), account_client.token_issued_at(),
                               account_client.token_last_used());
}

bool SharedLogin::before_login(DinamizeClient& job_client) {
    pump_.on_owner([&] {
        // Another job's login since this job's client took its token: that one will do.
        const bool newer =
            account_.has_token() && account_.token() != job_client.token() && !account_.token_due_for_renewal();
        if (!newer) account_.login();
        give_token(account_, job_client);
    });
    return true;
}

}  // namespace dwu
