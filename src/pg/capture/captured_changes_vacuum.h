#pragma once
// VACUUM of crm_captured_changes by the worker that empties it. Every captured write becomes a dead
// row once moved; left to autovacuum (a visit per database per minute) the table would grow by a
// minute of writes, and each move scans it whole (it has no index on purpose). Runs outside any
// transaction of the caller, as a top-level VACUUM (SKIP_LOCKED: another worker vacuuming it
// already is enough). Returns false if it failed (the error is logged). The rows moved since the
// last one, by any session, are counted in shared memory (note_captured_changes_moved()).
bool dwu_vacuum_captured_changes();
