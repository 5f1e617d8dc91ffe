#! /bin/sh
# Copyright (c) 2026 The protostack authors.
#
# Licensed under the Apache License, Version 2.0.
#
# jit-cc-fds.sh FD... -- CC [ARG...]
#
# A compiler for the JIT's tests ($PROTOSTACK_CC): fails, naming it, if
# any descriptor FD is open in it, else runs CC with the ARGs.

while [ $# -gt 0 ] && [ "$1" != -- ]; do
    if [ -e "/proc/$$/fd/$1" ]; then
        echo "descriptor $1 is open in the compiler" >&2
        exit 1
    fi
    shift
done
shift
exec "$@"
