#!/bin/sh
if [ -f "$1/kernel.json" ] && grep -q "\"$HUB_KERNEL_KEY\"" "$1/kernel.json"; then rm -rf -- "$1"; fi
