#pragma once
// Whether the worker's database has the extension, and at the version of this library. Between
// installing a new library and `ALTER EXTENSION dwu_crm UPDATE` the database still has the old
// version's objects: the worker then waits (and says so once) rather than call functions the old
// schema does not have. The application's writes go on meanwhile: the capture trigger only needs
// crm_captured_changes, which the worker moves into the queue once the update has run.
#include <string>

enum class ExtensionState {
    kMissing,       // no CREATE EXTENSION yet (or the check's transaction failed)
    kOtherVersion,  // installed at another version than this library's
    kReady,
};

// One short transaction; installed_version gets pg_extension.extversion when there is one.
ExtensionState dwu_extension_state(std::string& installed_version);
