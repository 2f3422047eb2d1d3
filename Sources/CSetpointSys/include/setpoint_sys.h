// System calls Swift's Glibc module does not expose (they need _GNU_SOURCE), wrapped in setpoint_sys.c.
#ifndef SETPOINT_SYS_H
#define SETPOINT_SYS_H

#include <spawn.h>

/// posix_spawn_file_actions_addclosefrom_np: the child closes every descriptor from `lowfd` up, so it gets only the
/// ones it is given (glibc 2.34+). Returns 0 or an errno value.
int setpoint_spawn_closefrom(posix_spawn_file_actions_t *actions, int lowfd);

/// pipe2(fds, O_CLOEXEC): a pipe no concurrently spawned child inherits. Returns 0, or -1 with errno set.
int setpoint_pipe_cloexec(int fds[2]);

#endif
