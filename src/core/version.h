/* version.h - the ecsched release this tree builds. */
#ifndef ECS_VERSION_H
#define ECS_VERSION_H

#define ECSCHED_VERSION "0.1.0"

#endif
