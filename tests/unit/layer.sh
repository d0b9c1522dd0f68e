#!/bin/sh
# layer.sh: prints NAME=LAYER for each unit test source given. A test's layer is the highest folder it
# includes (agent > sinks > decoder > schemas; agent/log.h alone does not make a test agent-level, as the
# sinks may use it): the Makefile links the test against that folder and the folders below it only, so
# a module that calls up a layer fails to link in its own tests.
for f in "$@"; do
  awk -v n="$(basename "$f" .c)" '
    /^#include "agent\// { if ($2 != "\"agent/log.h\"") a = 1 }
    /^#include "sinks\//   { s = 1 }
    /^#include "decoder\// { d = 1 }
    END { print n "=" (a ? "agent" : s ? "sinks" : d ? "decoder" : "schemas") }' "$f"
done
