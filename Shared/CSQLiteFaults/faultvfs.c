#include "faultvfs.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

// One write (or truncation) since its file's last sync: enough to undo it (the bytes and size before) and
// to do it again (the bytes written, or the size truncated to).
typedef struct Change {
    int truncate;
    sqlite3_int64 offset; // write: where; truncate: the new size
    int length;           // write: bytes written
    unsigned char *after; // write: the bytes written
    sqlite3_int64 sizeBefore;
    unsigned char *before; // bytes there before: [offset, min(offset+length, sizeBefore)) for a write,
    sqlite3_int64 beforeLength; // [offset, sizeBefore) for a truncation
} Change;

typedef struct TrackedFile {
    char *path;
    Change *changes;
    size_t count, capacity;
    // A sync of it failed: its later syncs fail too, until the power loss, so nothing unsynced when it
    // failed becomes durable by a later sync (Linux may have dropped those pages and reports the error once).
    int syncFailed;
    struct TrackedFile *next;
} TrackedFile;

typedef struct Disk {
    int32_t id;
    char *prefix;
    size_t prefixLength;
    int crashed, full;
    int32_t failingSyncs;
    int64_t syncs;
    // Files of the disk open now: a destroyed disk is freed once the last is closed.
    int64_t openFiles;
    int destroyed;
    // Writes (and truncations) made to the disk's files; the one numbered `crashAtWrite` (if > 0) and every
    // later one fail, the disk crashed: the power cut in the middle of the write stream.
    int64_t writes, crashAtWrite;
    TrackedFile *files;
    struct Disk *next;
} Disk;

typedef struct FaultFile {
    sqlite3_file base;
    Disk *disk;          // nil: not tracked (a temporary file, or a file on no disk)
    TrackedFile *tracked;
    sqlite3_file *real;  // the real VFS's file, allocated right after this struct
} FaultFile;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static Disk *disks = NULL;
static int32_t nextDisk = 1;
static sqlite3_vfs *realVFS = NULL;
static sqlite3_vfs faultVFS;
static sqlite3_io_methods faultMethods;

static void freeChanges(TrackedFile *file) {
    for (size_t i = 0; i < file->count; i++) {
        free(file->changes[i].after);
        free(file->changes[i].before);
    }
    file->count = 0;
}

static Disk *diskOfPath(const char *path) {
    if (path == NULL) return NULL;
    for (Disk *disk = disks; disk; disk = disk->next) {
        if (strncmp(path, disk->prefix, disk->prefixLength) == 0 && path[disk->prefixLength] == '/') return disk;
    }
    return NULL;
}

static Disk *diskWithID(int32_t id) {
    for (Disk *disk = disks; disk; disk = disk->next) {
        if (disk->id == id) return disk;
    }
    return NULL;
}

static TrackedFile *trackedFile(Disk *disk, const char *path) {
    for (TrackedFile *file = disk->files; file; file = file->next) {
        if (strcmp(file->path, path) == 0) return file;
    }
    TrackedFile *file = calloc(1, sizeof(TrackedFile));
    if (file == NULL) return NULL;
    file->path = strdup(path);
    if (file->path == NULL) {
        free(file);
        return NULL;
    }
    file->next = disk->files;
    disk->files = file;
    return file;
}

// Room for one more change, made before the write it records: a write that could not be recorded could
// not be undone.
static int reserve(TrackedFile *file) {
    if (file->count < file->capacity) return SQLITE_OK;
    size_t capacity = file->capacity ? file->capacity * 2 : 64;
    Change *changes = realloc(file->changes, capacity * sizeof(Change));
    if (changes == NULL) return SQLITE_NOMEM;
    file->changes = changes;
    file->capacity = capacity;
    return SQLITE_OK;
}

// Reads [offset, offset+length) of the real file into a new buffer (the caller frees it).
static int readBefore(sqlite3_file *real, sqlite3_int64 offset, sqlite3_int64 length, unsigned char **bytes) {
    *bytes = NULL;
    if (length <= 0) return SQLITE_OK;
    *bytes = malloc((size_t)length);
    if (*bytes == NULL) return SQLITE_NOMEM;
    int rc = real->pMethods->xRead(real, *bytes, (int)length, offset);
    return rc == SQLITE_IOERR_SHORT_READ ? SQLITE_OK : rc;
}

// MARK: - File methods

static void freeDisk(Disk *disk) {
    while (disk->files) {
        TrackedFile *file = disk->files;
        disk->files = file->next;
        freeChanges(file);
        free(file->changes);
        free(file->path);
        free(file);
    }
    free(disk->prefix);
    free(disk);
}

static int faultClose(sqlite3_file *file) {
    FaultFile *f = (FaultFile *)file;
    int rc = f->real->pMethods->xClose(f->real);
    if (f->disk) {
        pthread_mutex_lock(&lock);
        f->disk->openFiles--;
        if (f->disk->destroyed && f->disk->openFiles == 0) freeDisk(f->disk);
        pthread_mutex_unlock(&lock);
        f->disk = NULL;
    }
    return rc;
}

static int faultRead(sqlite3_file *file, void *buffer, int amount, sqlite3_int64 offset) {
    FaultFile *f = (FaultFile *)file;
    return f->real->pMethods->xRead(f->real, buffer, amount, offset);
}

// A write or truncation of a tracked file, the lock held: counted against the disk's cut, and refused once
// the disk has crashed (nothing more reaches it).
static int crashedBy(Disk *disk) {
    if (disk->crashAtWrite > 0 && ++disk->writes >= disk->crashAtWrite) disk->crashed = 1;
    return disk->crashed;
}

static int faultWrite(sqlite3_file *file, const void *buffer, int amount, sqlite3_int64 offset) {
    FaultFile *f = (FaultFile *)file;
    if (f->disk == NULL) return f->real->pMethods->xWrite(f->real, buffer, amount, offset);
    pthread_mutex_lock(&lock);
    int rc = SQLITE_OK;
    sqlite3_int64 size = 0;
    Change change = {0};
    if (crashedBy(f->disk)) {
        rc = SQLITE_IOERR_WRITE;
        goto done;
    }
    rc = f->real->pMethods->xFileSize(f->real, &size);
    if (rc != SQLITE_OK) goto done;
    if (f->disk->full && offset + amount > size) {
        rc = SQLITE_FULL;
        goto done;
    }
    change.offset = offset;
    change.length = amount;
    change.sizeBefore = size;
    change.beforeLength = offset < size ? (size - offset < amount ? size - offset : amount) : 0;
    rc = readBefore(f->real, offset, change.beforeLength, &change.before);
    if (rc != SQLITE_OK) goto done;
    change.after = malloc((size_t)amount);
    if (change.after == NULL) {
        rc = SQLITE_NOMEM;
        goto done;
    }
    memcpy(change.after, buffer, (size_t)amount);
    rc = reserve(f->tracked);
    if (rc != SQLITE_OK) goto done;
    rc = f->real->pMethods->xWrite(f->real, buffer, amount, offset);
    if (rc == SQLITE_OK) {
        f->tracked->changes[f->tracked->count++] = change;
        change = (Change){0};
    }
done:
    free(change.after);
    free(change.before);
    pthread_mutex_unlock(&lock);
    return rc;
}

static int faultTruncate(sqlite3_file *file, sqlite3_int64 size) {
    FaultFile *f = (FaultFile *)file;
    if (f->disk == NULL) return f->real->pMethods->xTruncate(f->real, size);
    pthread_mutex_lock(&lock);
    int rc = SQLITE_OK;
    sqlite3_int64 current = 0;
    Change change = {.truncate = 1, .offset = size};
    if (crashedBy(f->disk)) {
        rc = SQLITE_IOERR_TRUNCATE;
        goto done;
    }
    rc = f->real->pMethods->xFileSize(f->real, &current);
    if (rc != SQLITE_OK) goto done;
    change.sizeBefore = current;
    change.beforeLength = current > size ? current - size : 0;
    rc = readBefore(f->real, size, change.beforeLength, &change.before);
    if (rc != SQLITE_OK) goto done;
    rc = reserve(f->tracked);
    if (rc != SQLITE_OK) goto done;
    rc = f->real->pMethods->xTruncate(f->real, size);
    if (rc == SQLITE_OK) {
        f->tracked->changes[f->tracked->count++] = change;
        change = (Change){0};
    }
done:
    free(change.before);
    pthread_mutex_unlock(&lock);
    return rc;
}

// A sync of a tracked file, the lock held: everything written so far is now on the disk, for good.
static int syncTracked(Disk *disk, TrackedFile *tracked) {
    if (disk->crashed) return SQLITE_IOERR_FSYNC;
    if (tracked && tracked->syncFailed) return SQLITE_IOERR_FSYNC;
    if (disk->failingSyncs > 0) {
        disk->failingSyncs--;
        if (tracked) tracked->syncFailed = 1;
        return SQLITE_IOERR_FSYNC;
    }
    if (tracked) freeChanges(tracked);
    disk->syncs++;
    return SQLITE_OK;
}

static int faultSync(sqlite3_file *file, int flags) {
    FaultFile *f = (FaultFile *)file;
    if (f->disk == NULL) return f->real->pMethods->xSync(f->real, flags);
    // The real file is not synced: the disk is simulated, and its power loss is what the test asks for.
    pthread_mutex_lock(&lock);
    int rc = syncTracked(f->disk, f->tracked);
    pthread_mutex_unlock(&lock);
    return rc;
}

static int faultFileSize(sqlite3_file *file, sqlite3_int64 *size) {
    FaultFile *f = (FaultFile *)file;
    return f->real->pMethods->xFileSize(f->real, size);
}

static int faultLock(sqlite3_file *file, int level) {
    FaultFile *f = (FaultFile *)file;
    return f->real->pMethods->xLock(f->real, level);
}

static int faultUnlock(sqlite3_file *file, int level) {
    FaultFile *f = (FaultFile *)file;
    return f->real->pMethods->xUnlock(f->real, level);
}

static int faultCheckReservedLock(sqlite3_file *file, int *out) {
    FaultFile *f = (FaultFile *)file;
    return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int faultFileControl(sqlite3_file *file, int op, void *argument) {
    FaultFile *f = (FaultFile *)file;
    // Preallocation (chunk size) would grow the file behind the tracked writes' back.
    if (f->disk && op == SQLITE_FCNTL_SIZE_HINT) return SQLITE_OK;
    return f->real->pMethods->xFileControl(f->real, op, argument);
}

static int faultSectorSize(sqlite3_file *file) {
    FaultFile *f = (FaultFile *)file;
    return f->real->pMethods->xSectorSize(f->real);
}

static int faultDeviceCharacteristics(sqlite3_file *file) {
    FaultFile *f = (FaultFile *)file;
    return f->real->pMethods->xDeviceCharacteristics(f->real);
}

// The log's index in shared memory is not durable on any disk: SQLite rebuilds it from the log on opening.
static int faultShmMap(sqlite3_file *file, int page, int size, int extend, void volatile **memory) {
    FaultFile *f = (FaultFile *)file;
    return f->real->pMethods->xShmMap(f->real, page, size, extend, memory);
}

static int faultShmLock(sqlite3_file *file, int offset, int n, int flags) {
    FaultFile *f = (FaultFile *)file;
    return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

static void faultShmBarrier(sqlite3_file *file) {
    FaultFile *f = (FaultFile *)file;
    f->real->pMethods->xShmBarrier(f->real);
}

static int faultShmUnmap(sqlite3_file *file, int deleteFlag) {
    FaultFile *f = (FaultFile *)file;
    return f->real->pMethods->xShmUnmap(f->real, deleteFlag);
}

static int faultFetch(sqlite3_file *file, sqlite3_int64 offset, int amount, void **pages) {
    // No memory-mapped reads: every read goes through xRead.
    (void)file;
    (void)offset;
    (void)amount;
    *pages = NULL;
    return SQLITE_OK;
}

static int faultUnfetch(sqlite3_file *file, sqlite3_int64 offset, void *page) {
    (void)file;
    (void)offset;
    (void)page;
    return SQLITE_OK;
}

// MARK: - VFS methods

static int faultOpen(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *outFlags) {
    (void)vfs;
    FaultFile *f = (FaultFile *)file;
    memset(f, 0, sizeof(FaultFile));
    f->real = (sqlite3_file *)(f + 1);
    int rc = realVFS->xOpen(realVFS, name, f->real, flags, outFlags);
    if (rc != SQLITE_OK) return rc;
    if (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL | SQLITE_OPEN_MAIN_JOURNAL)) {
        pthread_mutex_lock(&lock);
        Disk *disk = diskOfPath(name);
        if (disk) {
            f->tracked = trackedFile(disk, name);
            if (f->tracked) {
                f->disk = disk;
                disk->openFiles++;
            }
        }
        pthread_mutex_unlock(&lock);
    }
    f->base.pMethods = &faultMethods;
    return SQLITE_OK;
}

static int faultDelete(sqlite3_vfs *vfs, const char *name, int syncDirectory) {
    (void)vfs;
    pthread_mutex_lock(&lock);
    Disk *disk = diskOfPath(name);
    if (disk && disk->crashed) {
        pthread_mutex_unlock(&lock);
        return SQLITE_IOERR_DELETE;
    }
    // A deletion is taken as durable at once: what the file held is gone whatever was synced.
    int rc = realVFS->xDelete(realVFS, name, syncDirectory);
    if (disk && rc == SQLITE_OK) {
        for (TrackedFile *file = disk->files; file; file = file->next) {
            if (strcmp(file->path, name) == 0) freeChanges(file);
        }
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

static int faultAccess(sqlite3_vfs *vfs, const char *name, int flags, int *out) {
    (void)vfs;
    return realVFS->xAccess(realVFS, name, flags, out);
}

static int faultFullPathname(sqlite3_vfs *vfs, const char *name, int size, char *out) {
    (void)vfs;
    return realVFS->xFullPathname(realVFS, name, size, out);
}

static void *faultDlOpen(sqlite3_vfs *vfs, const char *name) {
    (void)vfs;
    return realVFS->xDlOpen(realVFS, name);
}

static void faultDlError(sqlite3_vfs *vfs, int size, char *out) {
    (void)vfs;
    realVFS->xDlError(realVFS, size, out);
}

static void (*faultDlSym(sqlite3_vfs *vfs, void *handle, const char *symbol))(void) {
    (void)vfs;
    return realVFS->xDlSym(realVFS, handle, symbol);
}

static void faultDlClose(sqlite3_vfs *vfs, void *handle) {
    (void)vfs;
    realVFS->xDlClose(realVFS, handle);
}

static int faultRandomness(sqlite3_vfs *vfs, int size, char *out) {
    (void)vfs;
    return realVFS->xRandomness(realVFS, size, out);
}

static int faultSleep(sqlite3_vfs *vfs, int microseconds) {
    (void)vfs;
    return realVFS->xSleep(realVFS, microseconds);
}

static int faultCurrentTime(sqlite3_vfs *vfs, double *out) {
    (void)vfs;
    return realVFS->xCurrentTime(realVFS, out);
}

static int faultGetLastError(sqlite3_vfs *vfs, int size, char *out) {
    (void)vfs;
    return realVFS->xGetLastError(realVFS, size, out);
}

static int faultCurrentTimeInt64(sqlite3_vfs *vfs, sqlite3_int64 *out) {
    (void)vfs;
    return realVFS->xCurrentTimeInt64(realVFS, out);
}

int faultvfs_register(void) {
    pthread_mutex_lock(&lock);
    if (realVFS != NULL) {
        pthread_mutex_unlock(&lock);
        return SQLITE_OK;
    }
    int rc = sqlite3_initialize();
    sqlite3_vfs *real = rc == SQLITE_OK ? sqlite3_vfs_find("unix") : NULL;
    if (real == NULL) {
        pthread_mutex_unlock(&lock);
        return rc == SQLITE_OK ? SQLITE_ERROR : rc;
    }
    faultMethods = (sqlite3_io_methods){
        .iVersion = 3,
        .xClose = faultClose,
        .xRead = faultRead,
        .xWrite = faultWrite,
        .xTruncate = faultTruncate,
        .xSync = faultSync,
        .xFileSize = faultFileSize,
        .xLock = faultLock,
        .xUnlock = faultUnlock,
        .xCheckReservedLock = faultCheckReservedLock,
        .xFileControl = faultFileControl,
        .xSectorSize = faultSectorSize,
        .xDeviceCharacteristics = faultDeviceCharacteristics,
        .xShmMap = faultShmMap,
        .xShmLock = faultShmLock,
        .xShmBarrier = faultShmBarrier,
        .xShmUnmap = faultShmUnmap,
        .xFetch = faultFetch,
        .xUnfetch = faultUnfetch,
    };
    faultVFS = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)sizeof(FaultFile) + real->szOsFile,
        .mxPathname = real->mxPathname,
        .zName = "faultvfs",
        .xOpen = faultOpen,
        .xDelete = faultDelete,
        .xAccess = faultAccess,
        .xFullPathname = faultFullPathname,
        .xDlOpen = faultDlOpen,
        .xDlError = faultDlError,
        .xDlSym = faultDlSym,
        .xDlClose = faultDlClose,
        .xRandomness = faultRandomness,
        .xSleep = faultSleep,
        .xCurrentTime = faultCurrentTime,
        .xGetLastError = faultGetLastError,
        .xCurrentTimeInt64 = faultCurrentTimeInt64,
    };
    realVFS = real;
    rc = sqlite3_vfs_register(&faultVFS, 0);
    if (rc != SQLITE_OK) realVFS = NULL;
    pthread_mutex_unlock(&lock);
    return rc;
}

// MARK: - Disks

int32_t faultvfs_disk_create(const char *prefix) {
    Disk *disk = calloc(1, sizeof(Disk));
    if (disk == NULL) return 0;
    disk->prefix = strdup(prefix);
    if (disk->prefix == NULL) {
        free(disk);
        return 0;
    }
    disk->prefixLength = strlen(prefix);
    while (disk->prefixLength > 1 && disk->prefix[disk->prefixLength - 1] == '/') disk->prefix[--disk->prefixLength] = 0;
    pthread_mutex_lock(&lock);
    disk->id = nextDisk++;
    disk->next = disks;
    disks = disk;
    pthread_mutex_unlock(&lock);
    return disk->id;
}

void faultvfs_disk_destroy(int32_t id) {
    pthread_mutex_lock(&lock);
    for (Disk **link = &disks; *link; link = &(*link)->next) {
        if ((*link)->id != id) continue;
        Disk *disk = *link;
        *link = disk->next;
        // Files still open keep it, out of the list, until the last is closed.
        if (disk->openFiles > 0) {
            disk->destroyed = 1;
        } else {
            freeDisk(disk);
        }
        break;
    }
    pthread_mutex_unlock(&lock);
}

void faultvfs_disk_crash(int32_t id) {
    pthread_mutex_lock(&lock);
    Disk *disk = diskWithID(id);
    if (disk) disk->crashed = 1;
    pthread_mutex_unlock(&lock);
}

void faultvfs_disk_crash_at_write(int32_t id, int64_t write) {
    pthread_mutex_lock(&lock);
    Disk *disk = diskWithID(id);
    if (disk) {
        disk->writes = 0;
        disk->crashAtWrite = write;
    }
    pthread_mutex_unlock(&lock);
}

void faultvfs_disk_fail_syncs(int32_t id, int32_t count) {
    pthread_mutex_lock(&lock);
    Disk *disk = diskWithID(id);
    if (disk) disk->failingSyncs = count;
    pthread_mutex_unlock(&lock);
}

void faultvfs_disk_set_full(int32_t id, int32_t full) {
    pthread_mutex_lock(&lock);
    Disk *disk = diskWithID(id);
    if (disk) disk->full = full != 0;
    pthread_mutex_unlock(&lock);
}

int64_t faultvfs_disk_unsynced_writes(int32_t id) {
    int64_t count = 0;
    pthread_mutex_lock(&lock);
    Disk *disk = diskWithID(id);
    for (TrackedFile *file = disk ? disk->files : NULL; file; file = file->next) count += (int64_t)file->count;
    pthread_mutex_unlock(&lock);
    return count;
}

int64_t faultvfs_disk_syncs(int32_t id) {
    pthread_mutex_lock(&lock);
    Disk *disk = diskWithID(id);
    int64_t syncs = disk ? disk->syncs : 0;
    pthread_mutex_unlock(&lock);
    return syncs;
}

int32_t faultvfs_sync_path(const char *path) {
    pthread_mutex_lock(&lock);
    Disk *disk = diskOfPath(path);
    if (disk == NULL) {
        pthread_mutex_unlock(&lock);
        int descriptor = open(path, O_RDONLY | O_CLOEXEC);
        if (descriptor < 0) return -1;
        int rc = fdatasync(descriptor);
        close(descriptor);
        return rc == 0 ? 0 : -1;
    }
    TrackedFile *tracked = NULL;
    for (TrackedFile *file = disk->files; file; file = file->next) {
        if (strcmp(file->path, path) == 0) tracked = file;
    }
    int rc = syncTracked(disk, tracked);
    pthread_mutex_unlock(&lock);
    if (rc != SQLITE_OK) {
        errno = EIO;
        return -1;
    }
    return 0;
}

// splitmix64: the power loss's draws, the same for the same seed.
static uint64_t nextRandom(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int writeAll(int descriptor, const unsigned char *bytes, sqlite3_int64 length, sqlite3_int64 offset) {
    while (length > 0) {
        ssize_t written = pwrite(descriptor, bytes, (size_t)length, (off_t)offset);
        if (written < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        bytes += written;
        length -= written;
        offset += written;
    }
    return 0;
}

static int redo(int descriptor, const Change *change, sqlite3_int64 length) {
    if (change->truncate) return ftruncate(descriptor, (off_t)change->offset);
    return writeAll(descriptor, change->after, length, change->offset);
}

int64_t faultvfs_disk_power_loss(int32_t id, int32_t mode, uint64_t seed) {
    pthread_mutex_lock(&lock);
    Disk *disk = diskWithID(id);
    if (disk == NULL) {
        pthread_mutex_unlock(&lock);
        return -1;
    }
    // A connection still open would keep pages and a log index the rewrite below makes wrong.
    if (disk->openFiles > 0) {
        pthread_mutex_unlock(&lock);
        return -2;
    }
    uint64_t random = seed;
    int64_t lost = 0;
    int failed = 0;
    for (TrackedFile *file = disk->files; file && !failed; file = file->next) {
        file->syncFailed = 0;
        if (file->count == 0) continue;
        int descriptor = open(file->path, O_RDWR | O_CLOEXEC);
        if (descriptor < 0 && errno == ENOENT) {
            // Deleted since: nothing of it is left to lose.
            freeChanges(file);
            continue;
        }
        if (descriptor < 0) {
            failed = 1;
            break;
        }
        // Back to what the last sync covered: each change undone, the last first.
        for (size_t i = file->count; i-- > 0 && !failed;) {
            const Change *change = &file->changes[i];
            if (change->truncate) {
                failed = ftruncate(descriptor, (off_t)change->sizeBefore) != 0
                    || writeAll(descriptor, change->before, change->beforeLength, change->offset) != 0;
            } else {
                failed = writeAll(descriptor, change->before, change->beforeLength, change->offset) != 0
                    || ftruncate(descriptor, (off_t)change->sizeBefore) != 0;
            }
        }
        // Then what reached the platter after all, in order.
        size_t prefix = mode == FAULTVFS_KEEP_PREFIX_TEAR_NEXT ? (size_t)(nextRandom(&random) % (file->count + 1)) : 0;
        for (size_t i = 0; i < file->count && !failed; i++) {
            const Change *change = &file->changes[i];
            switch (mode) {
            case FAULTVFS_KEEP_PREFIX_TEAR_NEXT:
                if (i < prefix) {
                    failed = redo(descriptor, change, change->length) != 0;
                } else {
                    lost++;
                    if (i == prefix && !change->truncate && change->length > 512) {
                        sqlite3_int64 sectors = change->length / 512;
                        sqlite3_int64 torn = 512 * (sqlite3_int64)(1 + nextRandom(&random) % (uint64_t)(sectors - 1 > 0 ? sectors - 1 : 1));
                        if (torn < change->length) failed = redo(descriptor, change, torn) != 0;
                    }
                }
                break;
            case FAULTVFS_KEEP_RANDOM_SUBSET:
                if (nextRandom(&random) & 1) {
                    failed = redo(descriptor, change, change->length) != 0;
                } else {
                    lost++;
                }
                break;
            default:
                lost++;
                break;
            }
        }
        close(descriptor);
        freeChanges(file);
    }
    disk->crashed = 0;
    disk->crashAtWrite = 0;
    disk->full = 0;
    disk->failingSyncs = 0;
    pthread_mutex_unlock(&lock);
    return failed ? -1 : lost;
}
