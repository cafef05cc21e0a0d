/* taskdir.h - the durable record of a local task, shared by the local
 * launcher (local.c) and the supervisor process that runs the task's
 * containers (supervise.c); private to src/launch/.
 *
 * <log_dir>/<task id>/ holds:
 *   task.json       what to run (written by the launcher before anything starts)
 *   claim           who owns the start, created once and atomically (link(2)):
 *                   "supervisor <pid> <start time>" or "cancelled <unix ms>"
 *   state.json      the supervisor's pids, then how every container ended
 *   stop            the reason of a StopTask, written before the supervisor's SIGTERM
 *   supervisor.out  the supervisor's own output (not *.log: those are the
 *                   containers')
 *   <container>.log each container's output
 * and the indexes under <log_dir>: .active/<id> (a task not yet final),
 * .runs/<run token>/<id> and .tokens/<client token>/<id> (keys made safe
 * as file names). */
#ifndef ECS_LAUNCH_TASKDIR_H
#define ECS_LAUNCH_TASKDIR_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TASKDIR_TASK "task.json"
#define TASKDIR_STATE "state.json"
#define TASKDIR_CLAIM "claim"
#define TASKDIR_STOP "stop"
#define TASKDIR_SUPLOG "supervisor.out"
#define TASKDIR_ACTIVE ".active"
#define TASKDIR_RUNS ".runs"
#define TASKDIR_TOKENS ".tokens"

/* mkdir -p. 0 or -1 with errno. */
int taskdir_mkdirs(const char *path);

/* fsync a directory (after creating or renaming an entry in it). */
int taskdir_fsync(const char *dir);

/* Write text to dir/name atomically and durably: a temp file, fsync,
 * rename, fsync of dir. 0 or -1 with errno. */
int taskdir_write(const char *dir, const char *name, const char *text);
int taskdir_write_json(const char *dir, const char *name, const json_t *j);

/* dir/name parsed, or NULL (missing or unreadable). Caller decrefs. */
json_t *taskdir_read_json(const char *dir, const char *name);

/* dir/name's first line into buf (newline dropped). 0, or -1 with errno
 * (ENOENT: no such file). */
int taskdir_read_line(const char *dir, const char *name, char *buf, size_t len);

/* Create dir/claim holding text, only if no claim exists: 1 won, 0 someone
 * else claimed first, -1 with errno. The claim appears with its text
 * (link(2) of a written temp file), so no reader sees it empty. */
int taskdir_claim(const char *dir, const char *text);

/* A process's start time (field 22 of /proc/<pid>/stat, clock ticks since
 * boot), or -1 when it does not exist or is a zombie. */
int64_t taskdir_proc_start(pid_t pid);

/* pid runs and is the process that started at start (not a reused pid). */
int taskdir_proc_alive(pid_t pid, int64_t start);

/* Add, remove or list index entries: <log_dir>/<kind>/<key>/<id>, or
 * <log_dir>/<kind>/<id> when key is NULL. add: 0 or -1 with errno. list:
 * ids sorted (oldest first, as ids sort by creation), *ids the caller's
 * (launch_strings_free); 0 (none: *n = 0) or -1. */
int taskdir_index_add(const char *log_dir, const char *kind, const char *key, const char *id);
void taskdir_index_remove(const char *log_dir, const char *kind, const char *key, const char *id);
int taskdir_index_list(const char *log_dir, const char *kind, const char *key, char ***ids,
                       size_t *n);

/* Does id look like a task id (hex, 1..39 characters)? */
int taskdir_valid_id(const char *id);

/* task.json for one task of definition def (taskdef.c): NULL with reason
 * when a container has nothing to run or memory runs out. Caller decrefs. */
struct launch_request;
json_t *taskdir_record(const json_t *def, const struct launch_request *rq, const char *id,
                       const char *arn, const char *dir, char *reason, size_t reasonlen);

/* Read task <id> of log_dir back (taskload.c), as of now: RUNNING while
 * its supervisor lives, STOPPED with the recorded exits once it wrote them,
 * STOPPED with unknown = 1 once its supervisor is gone without writing
 * them (this call records that verdict in state.json and kills what is
 * left of the containers). A task nobody has claimed is cancelled here, so
 * a late supervisor never starts it: the caller must not be starting that
 * task itself. Returns TASKDIR_LOADED with *out filled (free its strings),
 * TASKDIR_CANCELLED (never started), TASKDIR_NONE (no readable record), or
 * ECS_ENOMEM. */
#define TASKDIR_NONE 0
#define TASKDIR_CANCELLED 1
#define TASKDIR_LOADED 2
struct launch_entry;
int taskdir_load(const char *log_dir, const char *id, struct launch_entry *out);

/* Free an entry's strings and containers, leaving it zeroed. */
void taskdir_entry_clear(struct launch_entry *e);

#endif
