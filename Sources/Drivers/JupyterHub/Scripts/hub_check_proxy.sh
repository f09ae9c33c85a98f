#!/bin/sh
NODE_PATH="$HUB_NODE_PATH" "$HUB_PROXY" --version
