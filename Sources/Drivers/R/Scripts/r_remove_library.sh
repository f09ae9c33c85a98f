#!/bin/sh
if [ -f "$1/.labsync.json" ]; then rm -rf -- "$1"; elif [ -e "$1" ]; then echo "labsync: R library $1 has no labsync marker; not removed" >&2; exit 3; fi
