#include <sqlite3.h>

// Turns off SQLite's allocation statistics, which take a process-wide mutex on every allocation. Only takes
// effect before the library initialises (the first connection); later it returns SQLITE_MISUSE and changes
// nothing. sqlite3_config is variadic, which Swift cannot call.
static inline int csqlite_disable_memory_statistics(void) { return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }
