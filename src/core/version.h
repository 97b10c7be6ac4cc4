#pragma once
#include "core/pg_free.h"
// The version the extension, the client's User-Agent and the docs report: dwu_crm.control's
// default_version, passed by the build (Makefile, CMakeLists.txt), so it is written only there.
#ifndef DWU_CRM_VERSION
#error "DWU_CRM_VERSION comes from dwu_crm.control through the build (Makefile, CMakeLists.txt)"
#endif
