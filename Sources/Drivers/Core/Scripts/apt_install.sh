#!/bin/sh
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends "$@" || { apt-get update && apt-get install -y --no-install-recommends "$@"; }
