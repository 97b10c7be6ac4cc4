#include "pg/cpp_boundary.h"

#include <new>
#include <stdexcept>

namespace {

int sqlstate_for(const dwu::DinamizeError& e) {
    switch (e.category()) {
        case dwu::ErrorCategory::Network: return ERRCODE_CONNECTION_FAILURE;
        case dwu::ErrorCategory::Auth: return ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION;
        case dwu::ErrorCategory::Validation: return ERRCODE_DATA_EXCEPTION;
        case dwu::ErrorCategory::RateLimit: return ERRCODE_CONFIGURATION_LIMIT_EXCEEDED;
        case dwu::ErrorCategory::ApiError: return ERRCODE_EXTERNAL_ROUTINE_EXCEPTION;
    }
    return ERRCODE_EXTERNAL_ROUTINE_EXCEPTION;
}

}  // namespace

void dwu_translate_exception(SqlError* error) {
    try {
        throw;
    } catch (const SqlStateError& e) {
        error->sqlstate = e.sqlstate();
        error->message = pstrdup(e.what());
        if (e.hint()) error->hint = pstrdup(e.hint());
    } catch (const dwu::CryptoError& e) {
        switch (e.kind()) {
            case dwu::CryptoErrorKind::Tampered:
            case dwu::CryptoErrorKind::UnknownKeyVersion:
                error->sqlstate = ERRCODE_DATA_CORRUPTED;
                error->hint = pstrdup("The stored secret was altered, copied from another row, or sealed with a key "
                                      "that dwu_crm.encryption_key_file no longer holds.");
                break;
            case dwu::CryptoErrorKind::BadKey:
                error->sqlstate = ERRCODE_INVALID_PARAMETER_VALUE;
                error->hint = pstrdup("Check the file named by dwu_crm.encryption_key_file (VERSION:KEY lines, "
                                      "32-byte keys, readable only by the server's user).");
                break;
            case dwu::CryptoErrorKind::Internal:
                error->sqlstate = ERRCODE_INTERNAL_ERROR;
                break;
        }
        error->message = psprintf("dwu_crm encryption: %s", e.what());
    } catch (const dwu::DinamizeError& e) {
        error->sqlstate = sqlstate_for(e);
        error->message = pstrdup(e.what());
        error->detail = psprintf("category %s, Dinamize code %s", dwu::category_name(e.category()),
                                 e.dinamize_code().empty() ? "none" : e.dinamize_code().c_str());
        if (e.category() == dwu::ErrorCategory::Auth)
            error->hint = pstrdup("Check the account with dwu_crm.dinamize_configure().");
        else if (e.category() == dwu::ErrorCategory::RateLimit)
            error->hint = psprintf("Dinamize asks to wait %d s.", e.retry_after_seconds());
    } catch (const dwu::Interrupted&) {
        error->sqlstate = ERRCODE_QUERY_CANCELED;
        error->message = pstrdup("canceling statement: the Dinamize call was interrupted");
    } catch (const std::invalid_argument& e) {
        error->sqlstate = ERRCODE_INVALID_PARAMETER_VALUE;
        error->message = pstrdup(e.what());
    } catch (const std::bad_alloc&) {
        error->sqlstate = ERRCODE_OUT_OF_MEMORY;
        error->message = pstrdup("out of memory");
    } catch (const std::exception& e) {
        error->sqlstate = ERRCODE_INTERNAL_ERROR;
        error->message = pstrdup(e.what());
    } catch (...) {
        error->sqlstate = ERRCODE_INTERNAL_ERROR;
        error->message = pstrdup("unknown C++ exception");
    }
}

void dwu_raise(const SqlError& error) {
    ereport(ERROR, (errcode(error.sqlstate), errmsg("%s", error.message),
                    error.detail ? errdetail("%s", error.detail) : 0, error.hint ? errhint("%s", error.hint) : 0));
    pg_unreachable();
}
