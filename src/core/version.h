#pragma once
#include "core/pg_free.h"
// One place for the version the extension, the client's User-Agent and the docs report.
#define DWU_CRM_VERSION "0.1.0"
