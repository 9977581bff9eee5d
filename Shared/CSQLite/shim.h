#include <sqlite3.h>

// SQLITE_TRANSIENT is a macro Swift cannot import: tells sqlite3_bind_* to copy the bytes.
static inline void (*csqlite_transient(void))(void *) { return (void (*)(void *))-1; }
