/* supervise.h - the process that runs one local task's containers and
 * writes how they ended (the hidden `ecsched __supervise` command). */
#ifndef ECS_LAUNCH_SUPERVISE_H
#define ECS_LAUNCH_SUPERVISE_H

/* Run the task recorded in taskdir (see launch/taskdir.h): detach from the
 * caller's session and descriptors, claim the start, run the containers,
 * apply the essential-container rule and StopTask's SIGTERM-then-SIGKILL,
 * and write the final state. notify_fd (or -1) gets one byte once the
 * containers run ('1') and is closed; it is closed without a byte when
 * this supervisor starts nothing. Returns the process exit status: 0 when
 * the task ran (or was claimed by someone else first), 1 when taskdir
 * cannot be read or written. */
int launch_supervise(const char *taskdir, int notify_fd);

#endif
