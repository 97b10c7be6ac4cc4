#include <new>
#include <stdexcept>

#include "core/dinamize/dinamize_api.h"
#include "pg/cpp_boundary.h"
#include "pg/dinamize_sqlstate.h"

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
                error->hint = pstrdup(
                    "The stored secret was altered, copied from another row, bound to a base URL, user or client code "
                    "changed "
                    "outside dwu_crm.dinamize_configure(), or sealed with a key "
                    "that dwu_crm.encryption_key_file no longer holds.");
                break;
            case dwu::CryptoErrorKind::BadKey:
                error->sqlstate = ERRCODE_INVALID_PARAMETER_VALUE;
                error->hint = pstrdup(
                    "Check the file named by dwu_crm.encryption_key_file (VERSION:KEY lines, "
                    "32-byte keys, readable only by the server's user).");
                break;
            case dwu::CryptoErrorKind::Internal:
                error->sqlstate = ERRCODE_INTERNAL_ERROR;
                break;
        }
        error->message = psprintf("dwu_crm encryption: %s", e.what());
    } catch (const dwu::DinamizeError& e) {
        dwu_describe_dinamize_error(e, error);
    } catch (const dwu::PageLimitExceeded& e) {
        error->sqlstate = ERRCODE_PROGRAM_LIMIT_EXCEEDED;
        error->message = pstrdup(e.what());
        error->hint = pstrdup("Read the pages one at a time (all_pages => false) or use a larger page_size.");
    } catch (const dwu::ReadLimitExceeded& e) {
        const bool rows = e.cap() == dwu::ReadLimitExceeded::Cap::Items;
        error->sqlstate = ERRCODE_PROGRAM_LIMIT_EXCEEDED;
        error->message = pstrdup(e.what());
        error->hint = psprintf(
            "dwu_crm.%s caps what one dinamize_* call reads (a superuser may raise it): narrow the filters or "
            "the date window, or read page by page (dinamize_search with page => n, all_pages => false).",
            rows ? "api_max_rows" : "api_max_bytes");
    } catch (const dwu::Interrupted&) {
        error->sqlstate = ERRCODE_QUERY_CANCELED;
        error->interrupted = true;
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

void dwu_raise(const SqlError& error, bool hide_statement) {
    ereport(ERROR, (errcode(error.sqlstate), errmsg("%s", error.message), errhidestmt(hide_statement),
                    error.detail ? errdetail("%s", error.detail) : 0, error.hint ? errhint("%s", error.hint) : 0));
    pg_unreachable();
}

void dwu_raise_caught(ErrorData* pg_error, const SqlError& cpp_error, bool hide_statement) {
    if (pg_error) {
        if (hide_statement) pg_error->hide_stmt = true;
        ReThrowError(pg_error);
    }
    // A Dinamize call abandoned because of a query cancel, statement_timeout or termination:
    // PostgreSQL raises the precise error itself (57014 "due to statement timeout", FATAL, ...).
    if (cpp_error.interrupted) CHECK_FOR_INTERRUPTS();
    if (cpp_error.sqlstate) dwu_raise(cpp_error, hide_statement);
}
