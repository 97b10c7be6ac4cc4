#include "pg/spi_values.h"

char* dwu_spi_text(HeapTuple tuple, TupleDesc desc, int col, MemoryContext into) {
    char* v = SPI_getvalue(tuple, desc, col);
    return v ? MemoryContextStrdup(into, v) : nullptr;
}

bytea* dwu_spi_bytea(HeapTuple tuple, TupleDesc desc, int col, MemoryContext into) {
    bool isnull = false;
    Datum v = SPI_getbinval(tuple, desc, col, &isnull);
    if (isnull) return nullptr;
    bytea* b = DatumGetByteaPP(v);
    bytea* out = static_cast<bytea*>(MemoryContextAlloc(into, VARSIZE_ANY(b)));
    memcpy(out, b, VARSIZE_ANY(b));
    return out;
}

int64 dwu_spi_int(HeapTuple tuple, TupleDesc desc, int col) {
    bool isnull = false;
    Datum v = SPI_getbinval(tuple, desc, col, &isnull);
    if (isnull) return 0;
    switch (SPI_gettypeid(desc, col)) {
        case INT8OID:
            return DatumGetInt64(v);
        case INT2OID:
            return DatumGetInt16(v);
        case BOOLOID:
            return DatumGetBool(v);
        default:
            return DatumGetInt32(v);
    }
}

bytea* dwu_make_bytea(const char* data, size_t len) {
    bytea* b = static_cast<bytea*>(palloc(VARHDRSZ + len));
    SET_VARSIZE(b, VARHDRSZ + len);
    memcpy(VARDATA(b), data, len);
    return b;
}

std::string dwu_bytes_of(const bytea* b) {
    return b ? std::string(VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b)) : std::string();
}

std::string dwu_or_empty(const char* s) { return s ? std::string(s) : std::string(); }
