#pragma once
// Crossing between C++ (exceptions, destructors) and PostgreSQL (ereport longjmps), as pg_duckdb
// does it:
//  - C++ code calls PostgreSQL only through pg_guarded(): an ERROR inside is caught there, copied,
//    and rethrown as a C++ PgException once the longjmp is over. The guarded lambda must own no
//    C++ objects with destructors (a longjmp would skip them).
//  - Every PostgreSQL entry point is written by one of the macros at the end (DWU_SQL_FUNCTION,
//    DWU_PG_INIT, DWU_BGWORKER_MAIN) or wrapped by dwu_c_callback<> (hooks, transaction and exit
//    callbacks, GUC check hooks): the C frame they write owns nothing, and runs the C++ body inside
//    dwu_boundary(), which catches everything and raises the PostgreSQL error only after every C++
//    object of the body is destroyed. scripts/check_sources.sh fails on an entry point written by
//    hand.
#include <exception>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "core/dinamize/dinamize_errors.h"
#include "core/crypto/secret_box.h"
#include "pg/pg_headers.h"

// A PostgreSQL ERROR caught by pg_guarded, carried through C++ frames; dwu_boundary re-raises it
// as it was (same SQLSTATE, detail, hint). A std::exception, so a last catch logs its message.
class PgException : public std::exception {
public:
    explicit PgException(ErrorData* error) : edata(error) {}
    const char* what() const noexcept override { return edata && edata->message ? edata->message : "PostgreSQL error"; }
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
    { body(); }
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

// Raises the translated error. Never returns. hide_statement: the server log gets no STATEMENT
// line (the statement carried a secret).
[[noreturn]] void dwu_raise(const SqlError& error, bool hide_statement = false);

// Raises what a boundary caught: the PostgreSQL error as it was, else the translated C++ one.
// Returns only when nothing was caught.
void dwu_raise_caught(ErrorData* pg_error, const SqlError& cpp_error, bool hide_statement = false);

// Runs the C++ body of an entry point and converts whatever it throws into a PostgreSQL error,
// raised only after the body's C++ objects are gone. This frame owns none; the body's result must
// be plain C (Datum, bool, void). HideStatement: for a function whose arguments carry a secret, no
// error it raises logs the statement text.
template <bool HideStatement = false, class F>
auto dwu_boundary(F&& body) -> decltype(body()) {
    using Result = decltype(body());
    ErrorData* pg_error = nullptr;
    SqlError cpp_error;
    if constexpr (std::is_void_v<Result>) {
        try {
            body();
        } catch (const PgException& e) {
            pg_error = e.edata;
        } catch (...) {
            dwu_translate_exception(&cpp_error);
        }
        dwu_raise_caught(pg_error, cpp_error, HideStatement);
    } else {
        static_assert(std::is_trivially_copyable_v<Result>, "an entry point returns plain C values");
        Result result{};
        try {
            result = body();
        } catch (const PgException& e) {
            pg_error = e.edata;
        } catch (...) {
            dwu_translate_exception(&cpp_error);
        }
        dwu_raise_caught(pg_error, cpp_error, HideStatement);
        return result;
    }
}

// A C callback for PostgreSQL (a hook, a transaction or exit callback, a GUC check hook) whose body
// is the C++ function Body, run inside dwu_boundary: RegisterXactCallback(dwu_c_callback<f>, arg).
template <auto Body>
struct CCallback;
template <class R, class... Args, R (*Body)(Args...)>
struct CCallback<Body> {
    static R call(Args... args) {
        return dwu_boundary([&] { return Body(args...); });
    }
};
template <auto Body>
constexpr auto dwu_c_callback = &CCallback<Body>::call;

// A SQL-callable function `name` (C linkage, exported: PostgreSQL 15 exports only its info record)
// whose C++ body is `Datum body(FunctionCallInfo)`.
#define DWU_SQL_FUNCTION(name, body)                            \
    extern "C" {                                                \
    PG_FUNCTION_INFO_V1(name);                                  \
    PGDLLEXPORT Datum name(PG_FUNCTION_ARGS);                   \
    }                                                           \
    Datum name(PG_FUNCTION_ARGS) {                              \
        return dwu_boundary([fcinfo] { return body(fcinfo); }); \
    }

// The same for a function whose arguments carry a secret (a password): no error it raises writes
// the statement to the server log (errhidestmt), whatever log_min_error_statement says.
#define DWU_SQL_FUNCTION_WITH_SECRET_ARGS(name, body)                 \
    extern "C" {                                                      \
    PG_FUNCTION_INFO_V1(name);                                        \
    PGDLLEXPORT Datum name(PG_FUNCTION_ARGS);                         \
    }                                                                 \
    Datum name(PG_FUNCTION_ARGS) {                                    \
        return dwu_boundary<true>([fcinfo] { return body(fcinfo); }); \
    }

// A background worker's entry point `name` (bgw_function_name) whose body is `void body(Datum)`.
#define DWU_BGWORKER_MAIN(name, body)       \
    extern "C" {                            \
    PGDLLEXPORT void name(Datum);           \
    }                                       \
    void name(Datum arg) {                  \
        dwu_boundary([arg] { body(arg); }); \
    }

// The module's magic block and _PG_init, whose body is `void body()`.
#define DWU_PG_INIT(body)             \
    extern "C" {                      \
    PG_MODULE_MAGIC;                  \
    PGDLLEXPORT void _PG_init(void);  \
    }                                 \
    void _PG_init(void) {             \
        dwu_boundary([] { body(); }); \
    }
