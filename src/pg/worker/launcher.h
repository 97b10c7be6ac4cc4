#pragma once
// The launcher: a worker with no database that waits for dwu_crm.database to exist, then starts
// (and, if it stops, restarts) the sync worker connected to it. It spares the server a FATAL
// crash loop while the database is not created yet.
void dwu_register_launcher(void);
