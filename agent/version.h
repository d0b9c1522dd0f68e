/* version.h: walcast's version, written into every event's source.version as "walcast-<version>". */
#ifndef WALCAST_VERSION_H
#define WALCAST_VERSION_H
#define WALCAST_VERSION "0.1.0"
#endif
