# PGXS build of dwu_crm.so: the PostgreSQL-free core (src/core) plus the PostgreSQL glue (src/pg).
# Unit tests, the Dinamize simulator and benchmarks are built by CMakeLists.txt.
EXTENSION = dwu_crm
MODULE_big = dwu_crm
DATA = $(wildcard sql/dwu_crm--*.sql)
# The version is written once, as the control file's default_version: the library (User-Agent,
# dwu_crm.library_version()) and CMakeLists.txt take it from there, and its install script must exist.
EXTVERSION := $(shell sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" $(EXTENSION).control)
ifeq ($(wildcard sql/$(EXTENSION)--$(EXTVERSION).sql),)
$(error $(EXTENSION).control names version '$(EXTVERSION)', but sql/$(EXTENSION)--$(EXTVERSION).sql does not exist)
endif

CORE_SRCS = $(wildcard src/core/*/*.cpp)
PG_SRCS = $(wildcard src/pg/*.cpp src/pg/*/*.cpp)

# The core builds folder by folder, one translation unit each (.unity/core_<folder>.cpp includes
# the folder's .cpp files): nlohmann/json is parsed and instantiated once per folder instead of
# once per file, which halves a build from scratch. `make DWU_UNITY=no` builds file by file.
# (src/pg cannot: its files include PostgreSQL headers, whose macros must not meet the next file.)
DWU_UNITY ?= yes
CORE_FOLDERS = $(notdir $(patsubst %/,%,$(wildcard src/core/*/)))
ifeq ($(DWU_UNITY),yes)
CORE_OBJS = $(CORE_FOLDERS:%=.unity/core_%.o)
else
CORE_OBJS = $(CORE_SRCS:.cpp=.o)
endif
OBJS = $(CORE_OBJS) $(PG_SRCS:.cpp=.o)
EXTRA_CLEAN = .unity $(CORE_SRCS:.cpp=.o)

REGRESS = schema trigger change_capture bad_input worker_presence accounts response_codes api_enqueue api_contacts api_catalog api_history api_import api_errors api_cancel audit webhooks pull_conflicts outbound

PG_CONFIG ?= /usr/lib/postgresql/15/bin/pg_config

# PostgreSQL headers as system headers: their C-isms ('register') must not drown our own warnings.
PG_CPPFLAGS = -isystem $(shell $(PG_CONFIG) --includedir-server) -Isrc -DDWU_CRM_VERSION='"$(EXTVERSION)"'
PG_CXXFLAGS = -std=c++17 -fvisibility=hidden -Wall -Wextra -Werror -Wno-register
SHLIB_LINK += -lcurl -lhiredis -lcrypto -lstdc++

# No LLVM bitcode: clang would compile our C++17 without PG_CXXFLAGS, and JIT-inlining this code is pointless.
override with_llvm = no
# Rebuild objects when a header they include changes.
override autodepend = yes

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Rewritten only when the folder's file list changes, so an unchanged list rebuilds nothing.
.unity/core_%.cpp: FORCE
	@mkdir -p .unity
	@printf '#include "%s"\n' $(patsubst src/%,%,$(sort $(wildcard src/core/$*/*.cpp))) >$@.new
	@if cmp -s $@.new $@; then rm $@.new; else mv $@.new $@; fi
.PHONY: FORCE
FORCE:

# ccache when installed: a rebuild compiles only what changed, even after make clean.
ifneq ($(shell command -v ccache 2>/dev/null),)
override CXX := ccache $(CXX)
endif
