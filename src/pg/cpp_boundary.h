#pragma once
// Crossing between C++ (exceptions, destructors) and PostgreSQL (ereport longjmps) in SQL-callable
// functions, as pg_duckdb does it:
//  - C++ code calls PostgreSQL only through pg_guarded(): an ERROR inside is caught there, copied,
//    and rethrown as a C++ PgException once the longjmp is over. The guarded lambda must own no
//    C++ objects with destructors (a longjmp would skip them).
//  - Each SQL entry point runs its C++ body inside dwu_sql_entry(), which catches everything
//    and raises the PostgreSQL error only after every C++ object of the body is destroyed.
#include <exception>
#include <stdexcept>
#include <string>

#include "core/dinamize/dinamize_errors.h"
#include "core/crypto/secret_box.h"
#include "pg/pg_headers.h"

struct PgException {
    ErrorData* edata;
};

// A C++ error that already knows its SQLSTATE (bad arguments of a SQL function, for instance).
class SqlStateError : public std::runtime_error {
public:
    SqlStateError(int sqlstate, const std::string& message, const char* hint = nullptr)
        : std::runtime_error(message), sqlstate_(sqlstate), hint_(hint) {}
    int sqlstate() const { return sqlstate_; }
    const char* hint() const { return hint_; }

private:
    int sqlstate_;
    const char* hint_;  // a string literal
};

template <class F>
void pg_guarded(F&& body) {
    MemoryContext cxt = CurrentMemoryContext;
    ErrorData* volatile edata = nullptr;  // set after the longjmp: must not live in a register
    PG_TRY();
    {
        body();
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(cxt);
        edata = CopyErrorData();
        FlushErrorState();
    }
    PG_END_TRY();
    if (edata) throw PgException{edata};
}

// A C++ failure translated for ereport: SQLSTATE, message, detail, hint (palloc'd copies).
struct SqlError {
    int sqlstate = 0;
    char* message = nullptr;
    char* detail = nullptr;
    char* hint = nullptr;
    bool interrupted = false;  // dwu::Interrupted: let PostgreSQL raise its own cancel/timeout error
};

// Sets *error from the exception in flight (call inside a catch block). PgException is handled by
// the caller (its ErrorData is rethrown as is, keeping the original SQLSTATE).
void dwu_translate_exception(SqlError* error);

// Raises the translated error. Never returns.
[[noreturn]] void dwu_raise(const SqlError& error);

// Runs a SQL function's C++ body (a lambda returning Datum) and converts whatever it throws into a
// PostgreSQL error, raised only after the body's C++ objects are gone. This frame owns none.
template <class F>
Datum dwu_sql_entry(F&& body) {
    ErrorData* pg_error = nullptr;
    SqlError cpp_error;
    Datum result = 0;
    try {
        result = body();
    } catch (const PgException& e) {
        pg_error = e.edata;
    } catch (...) {
        dwu_translate_exception(&cpp_error);
    }
    if (pg_error) ReThrowError(pg_error);
    // A Dinamize call abandoned because of a query cancel, statement_timeout or termination:
    // PostgreSQL raises the precise error itself (57014 "due to statement timeout", FATAL, ...).
    if (cpp_error.interrupted) CHECK_FOR_INTERRUPTS();
    if (cpp_error.sqlstate) dwu_raise(cpp_error);
    return result;
}
