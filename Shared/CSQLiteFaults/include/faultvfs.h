#ifndef MESH_FAULTVFS_H
#define MESH_FAULTVFS_H

#include <stdint.h>

/// A SQLite VFS over the system's own ("unix") that remembers every write to a database, its log or its
/// journal since that file's last sync, so a simulated power loss can undo them: all, a random subset, or a
/// prefix with the next write torn. Writes go through to the real file (reads see them, as they would see
/// the page cache); what a sync covers is dropped from memory. Files belong to a disk, named by a folder:
/// a disk can crash (every later write, sync, truncate or delete fails, as nothing more reaches it), fail its
/// next syncs, or be full. Registered as "faultvfs", never as the default.
///
/// The log SQLite writes without syncing (`synchronous=NORMAL`) is synced by the caller outside SQLite
/// (`WriteAheadLogSync`): `faultvfs_sync_path` is that sync for a file of a fault disk.

/// Registers the VFS once; SQLITE_OK or SQLite's error.
int faultvfs_register(void);

/// Makes the folder `prefix` (an absolute path, resolved) a disk; returns its id (> 0), or 0 on no memory.
int32_t faultvfs_disk_create(const char *prefix);
/// Forgets a disk and what it remembers, once its files still open are closed.
void faultvfs_disk_destroy(int32_t disk);

/// From now on nothing reaches the disk: writes, syncs, truncations and deletions fail with SQLITE_IOERR.
void faultvfs_disk_crash(int32_t disk);
/// Counting from now, the `write`-th write (or truncation) to the disk's files fails and crashes the disk,
/// as does every later one: the power cut in the middle of the write stream. 0: never.
void faultvfs_disk_crash_at_write(int32_t disk, int64_t write);
/// The next `count` syncs fail (SQLITE_IOERR_FSYNC from SQLite's own, -1 from `faultvfs_sync_path`), and every
/// later sync of a file whose sync failed fails too, until the power loss: what a failed sync would have
/// covered never becomes durable by a later one (Linux may drop the dirty pages and report the error once).
void faultvfs_disk_fail_syncs(int32_t disk, int32_t count);
/// While set, a write that would grow a file fails with SQLITE_FULL.
void faultvfs_disk_set_full(int32_t disk, int32_t full);

/// How a power loss treats the writes not yet synced.
enum {
    /// Every unsynced write is lost.
    FAULTVFS_LOSE_ALL = 0,
    /// The first k unsynced writes of each file reach it (k drawn from the seed), the next one torn at a
    /// 512-byte boundary, the rest lost.
    FAULTVFS_KEEP_PREFIX_TEAR_NEXT = 1,
    /// Each unsynced write reaches the file or not, drawn from the seed, in any combination.
    FAULTVFS_KEEP_RANDOM_SUBSET = 2,
};

/// The power goes: each file of the disk is set back to what its last sync covered, then the writes `mode`
/// keeps are applied again in their order. The disk's files must be closed (every connection to them). The
/// disk then works again. Returns the number of unsynced writes lost (torn counts as lost), -1 on an I/O
/// error, or -2 (nothing done) while a file of the disk is still open.
int64_t faultvfs_disk_power_loss(int32_t disk, int32_t mode, uint64_t seed);

/// Writes made to the disk's files and not yet covered by a sync.
int64_t faultvfs_disk_unsynced_writes(int32_t disk);
/// Syncs the disk's files have had (SQLite's and `faultvfs_sync_path`'s), failed ones not counted.
int64_t faultvfs_disk_syncs(int32_t disk);

/// A sync of one file of a disk from outside SQLite, as `fdatasync` on it: 0, or -1 (crashed, or failing).
/// A path on no disk is synced for real.
int32_t faultvfs_sync_path(const char *path);

#endif
