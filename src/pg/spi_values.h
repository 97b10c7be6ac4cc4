#pragma once
// Values copied out of an SPI result into memory that outlives SPI_finish(), and back: the
// glue's one set of these helpers. The dwu_spi_* ones are plain C (safe under pg_guarded and
// inside dwu_run_in_transaction); the std::string ones run only outside them.
#include <cstddef>
#include <string>

#include "pg/pg_headers.h"

// Column `col` (1-based) of the tuple as text, copied into `into`; nullptr when NULL.
char* dwu_spi_text(HeapTuple tuple, TupleDesc desc, int col, MemoryContext into);
// A bytea column copied into `into`; nullptr when NULL.
bytea* dwu_spi_bytea(HeapTuple tuple, TupleDesc desc, int col, MemoryContext into);
// An int2/int4/int8/bool column as int64; 0 when NULL.
int64 dwu_spi_int(HeapTuple tuple, TupleDesc desc, int col);

// A palloc'd bytea holding `len` bytes of `data`.
bytea* dwu_make_bytea(const char* data, size_t len);

// C++ copies of what the C helpers returned.
std::string dwu_bytes_of(const bytea* b);
std::string dwu_or_empty(const char* s);
