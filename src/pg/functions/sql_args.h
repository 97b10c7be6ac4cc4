#pragma once
// Arguments of the SQL functions as C++ values, and results built from C++ values. Every
// PostgreSQL call here runs under pg_guarded; the results own their memory (std::string).
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "pg/cpp_boundary.h"

// SQL NULL gives nullopt.
std::optional<std::string> dwu_text_arg(FunctionCallInfo fcinfo, int n);
// 22004 "<name> must not be NULL".
std::string dwu_required_text(FunctionCallInfo fcinfo, int n, const char* name);
// A Dinamize code argument (list, contact, field, import): required, digits only (22023).
std::string dwu_code_arg(FunctionCallInfo fcinfo, int n, const char* name);
// A jsonb argument, parsed; SQL NULL gives a JSON null.
nlohmann::json dwu_jsonb_arg(FunctionCallInfo fcinfo, int n);
std::optional<long> dwu_int_arg(FunctionCallInfo fcinfo, int n);
std::optional<bool> dwu_bool_arg(FunctionCallInfo fcinfo, int n);
// integer[] / bigint[] without NULL elements (22004 naming `name` otherwise); SQL NULL gives nullopt.
std::optional<std::vector<long long>> dwu_int_array_arg(FunctionCallInfo fcinfo, int n, const char* name);

// A materialized set-returning function's output: columns of text, jsonb, boolean or integer as
// the SQL declaration says; every row is appended at once (tuplestore in the query's memory).
class SrfResult {
public:
    explicit SrfResult(FunctionCallInfo fcinfo);
    struct Value {
        enum Kind { Null, Text, Json, Bool, Int } kind = Null;
        std::string text;  // Text and Json
        long long number = 0;
        bool flag = false;
    };
    static Value text(const std::optional<std::string>& v);
    static Value json(const std::string& json_text);
    static Value boolean(const std::optional<bool>& v);
    static Value integer(const std::optional<long long>& v);
    void add_row(const std::vector<Value>& row);

private:
    void* store_;  // Tuplestorestate*
    void* desc_;   // TupleDesc
};

// A jsonb Datum from JSON text (palloc'd in the current memory context).
Datum dwu_jsonb_datum(const std::string& json_text);
Datum dwu_text_datum(const std::string& text);

// A composite result (the function's declared row type) from values as SrfResult takes them.
Datum dwu_row_datum(FunctionCallInfo fcinfo, const std::vector<SrfResult::Value>& row);
