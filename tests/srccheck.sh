#!/usr/bin/env bash
# srccheck.sh: the C sources use no C library function that keeps hidden state between calls (strtok,
# gmtime, localtime, ctime, asctime, strsignal, readdir's static variants...): walcast parses configs and
# records on several threads at once (REST requests, connectors, snapshot readers), and such a function
# called on two threads corrupts both (ASan found strtok's saved pointer freed under another thread's config
# parse in test_rest's create race). Use the _r variant. Prints each use with its file and line; exits 1 if any.
set -euo pipefail
cd "$(dirname "$0")/.."
pattern='(^|[^_[:alnum:]])(strtok|gmtime|localtime|ctime|asctime|strsignal|getpwnam|getpwuid|getgrnam|getgrgid|gethostbyname|ttyname|ptsname|ecvt|fcvt|rand|lgamma|readdir)[[:space:]]*\('
if hits=$(grep -EnH "$pattern" --include='*.c' --include='*.h' -r agent decoder sinks schemas | grep -Ev '^[^:]*:[0-9]+:[[:space:]]*(/\*|\*)'); then
  echo "srccheck: functions that are not thread-safe (use the _r variant):" >&2
  echo "$hits" >&2
  exit 1
fi
echo "srccheck: no thread-unsafe C library calls in agent/ decoder/ sinks/ schemas/"
