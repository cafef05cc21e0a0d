/* taskdir.c - atomic files, the start claim, process identity and the
 * indexes of a local task's durable record (see taskdir.h). */
#include "launch/taskdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/hash.h"

int taskdir_mkdirs(const char *path)
{
    char buf[PATH_MAX];
    char *p;

    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (p = buf + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

int taskdir_fsync(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc;

    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

/* Write text to a new temp file in dir, fsynced; its path into tmp. */
static int write_temp(const char *dir, const char *name, const char *text, char *tmp, size_t len)
{
    static unsigned long seq;
    size_t n = strlen(text);
    size_t done = 0;
    int fd;

    /* pid + counter: two writers (launcher and supervisor) never share one */
    if (snprintf(tmp, len, "%s/.%s.%ld.%lu.tmp", dir, name, (long)getpid(),
                 __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED)) >= (int)len) {
        errno = ENAMETOOLONG;
        return -1;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    while (done < n) {
        ssize_t w = write(fd, text + done, n - done);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;

            close(fd);
            unlink(tmp);
            errno = e;
            return -1;
        }
        done += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        int e = errno;

        unlink(tmp);
        errno = e;
        return -1;
    }
    return 0;
}

int taskdir_write(const char *dir, const char *name, const char *text)
{
    char tmp[PATH_MAX];
    char path[PATH_MAX];

    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (write_temp(dir, name, text, tmp, sizeof(tmp)) != 0)
        return -1;
    if (rename(tmp, path) != 0) {
        int e = errno;

        unlink(tmp);
        errno = e;
        return -1;
    }
    return taskdir_fsync(dir);
}

int taskdir_write_json(const char *dir, const char *name, const json_t *j)
{
    char *text = json_dumps(j, JSON_COMPACT);
    int rc;

    if (text == NULL) {
        errno = ENOMEM;
        return -1;
    }
    rc = taskdir_write(dir, name, text);
    free(text);
    return rc;
}

json_t *taskdir_read_json(const char *dir, const char *name)
{
    char path[PATH_MAX];

    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
        return NULL;
    return json_load_file(path, 0, NULL);
}

int taskdir_read_line(const char *dir, const char *name, char *buf, size_t len)
{
    char path[PATH_MAX];
    FILE *f;

    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    f = fopen(path, "re");
    if (f == NULL)
        return -1;
    if (fgets(buf, (int)len, f) == NULL)
        buf[0] = '\0';
    fclose(f);
    buf[strcspn(buf, "\n")] = '\0';
    return 0;
}

int taskdir_claim(const char *dir, const char *text)
{
    char tmp[PATH_MAX];
    char path[PATH_MAX];
    int rc;

    if (snprintf(path, sizeof(path), "%s/%s", dir, TASKDIR_CLAIM) >= (int)sizeof(path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (write_temp(dir, TASKDIR_CLAIM, text, tmp, sizeof(tmp)) != 0)
        return -1;
    /* link(2) fails with EEXIST when the claim is taken: O_EXCL's
     * exclusivity, with the text already in place */
    rc = link(tmp, path);
    if (rc != 0 && errno == EEXIST)
        rc = 0;
    else if (rc == 0)
        rc = 1;
    {
        int e = errno;

        unlink(tmp);
        errno = e;
    }
    if (rc == 1 && taskdir_fsync(dir) != 0)
        return -1;
    return rc;
}

int64_t taskdir_proc_start(pid_t pid)
{
    char path[64];
    char buf[1024];
    const char *p;
    FILE *f;
    size_t n;
    int field;
    char state;
    long long start = -1;

    if (pid <= 0)
        return -1;
    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    f = fopen(path, "re");
    if (f == NULL)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* the command name (field 2) may hold spaces and parentheses: count
     * fields from the last ')' */
    p = strrchr(buf, ')');
    if (p == NULL || sscanf(p + 1, " %c", &state) != 1)
        return -1;
    if (state == 'Z' || state == 'X')
        return -1;
    /* p is at the ')' ending field 2; each space begins the next field */
    for (field = 2; *p != '\0' && field < 22; p++) {
        if (*p == ' ')
            field++;
    }
    if (field != 22 || sscanf(p, "%lld", &start) != 1)
        return -1;
    return (int64_t)start;
}

int taskdir_proc_alive(pid_t pid, int64_t start)
{
    int64_t now = taskdir_proc_start(pid);

    return now >= 0 && now == start;
}

/* A key as one file name: [A-Za-z0-9_-] kept, everything else %XX; a long
 * key is cut and given its hash (readers compare the key in task.json, so
 * a collision only costs a look). */
static void safe_name(const char *key, char *out, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    const unsigned char *k;

    for (k = (const unsigned char *)key; *k != '\0' && o + 4 < len && o < 160; k++) {
        if ((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') ||
            *k == '_' || *k == '-') {
            out[o++] = (char)*k;
            continue;
        }
        out[o++] = '%';
        out[o++] = hex[*k >> 4];
        out[o++] = hex[*k & 15];
    }
    out[o] = '\0';
    if (*k != '\0')
        snprintf(out + o, len - o, "~%08x", (unsigned)hash_fnv32(key));
}

static int index_dir(const char *log_dir, const char *kind, const char *key, char *out, size_t len)
{
    char name[200];
    int n;

    if (key == NULL) {
        n = snprintf(out, len, "%s/%s", log_dir, kind);
    } else {
        safe_name(key, name, sizeof(name));
        n = snprintf(out, len, "%s/%s/%s", log_dir, kind, name);
    }
    if (n < 0 || (size_t)n >= len) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

int taskdir_index_add(const char *log_dir, const char *kind, const char *key, const char *id)
{
    char dir[PATH_MAX];
    char path[PATH_MAX];
    int fd;

    if (index_dir(log_dir, kind, key, dir, sizeof(dir)) != 0 || taskdir_mkdirs(dir) != 0)
        return -1;
    if (snprintf(path, sizeof(path), "%s/%s", dir, id) >= (int)sizeof(path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    close(fd);
    /* the entry and, when new, the key's directory itself */
    if (taskdir_fsync(dir) != 0)
        return -1;
    if (key != NULL && snprintf(path, sizeof(path), "%s/%s", log_dir, kind) < (int)sizeof(path))
        return taskdir_fsync(path);
    return 0;
}

void taskdir_index_remove(const char *log_dir, const char *kind, const char *key, const char *id)
{
    char dir[PATH_MAX];
    char path[PATH_MAX];

    if (index_dir(log_dir, kind, key, dir, sizeof(dir)) != 0)
        return;
    if (snprintf(path, sizeof(path), "%s/%s", dir, id) < (int)sizeof(path))
        unlink(path);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int taskdir_index_list(const char *log_dir, const char *kind, const char *key, char ***ids,
                       size_t *n)
{
    char dir[PATH_MAX];
    DIR *d;
    struct dirent *de;
    size_t cap = 0;
    int oom = 0;

    *ids = NULL;
    *n = 0;
    if (index_dir(log_dir, kind, key, dir, sizeof(dir)) != 0)
        return -1;
    d = opendir(dir);
    if (d == NULL)
        return errno == ENOENT ? 0 : -1;
    while ((de = readdir(d)) != NULL) {
        if (!taskdir_valid_id(de->d_name))
            continue;
        if (*n == cap) {
            size_t ncap = cap == 0 ? 16 : cap * 2;
            char **nv = realloc(*ids, ncap * sizeof(*nv));

            if (nv == NULL) {
                oom = 1;
                break;
            }
            *ids = nv;
            cap = ncap;
        }
        (*ids)[*n] = strdup(de->d_name);
        if ((*ids)[*n] == NULL) {
            oom = 1;
            break;
        }
        (*n)++;
    }
    closedir(d);
    if (oom) {
        while (*n > 0)
            free((*ids)[--*n]);
        free(*ids);
        *ids = NULL;
        errno = ENOMEM;
        return -1;
    }
    if (*n > 1)
        qsort(*ids, *n, sizeof(**ids), cmp_str);
    return 0;
}

int taskdir_valid_id(const char *id)
{
    size_t len = strspn(id, "0123456789abcdef");

    return len > 0 && len < 40 && id[len] == '\0';
}
