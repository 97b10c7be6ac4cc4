#pragma once
// How a Dinamize failure surfaces in SQL: SQLSTATE, message, detail (category and Dinamize code),
// hint. The one table to change (dinamize_sqlstate.cpp); used by dwu_translate_exception.
#include "core/dinamize/dinamize_errors.h"
#include "pg/cpp_boundary.h"

// Fills *error (palloc'd strings) from `e`. Call inside a catch block, as dwu_translate_exception does.
void dwu_describe_dinamize_error(const dwu::DinamizeError& e, SqlError* error);
