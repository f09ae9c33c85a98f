#!/bin/sh
set -e
cfg="$HUB_CONFIG"
# Ends in .py: traitlets drops the last extension and adds ".py", and
# silently loads nothing when that file is missing.
new="$HUB_CONFIG_DIR/jupyterhub_config.new.py"
umask 022
cat > "$new"
"$HUB_VENV/bin/python" -c '
import os, sys
from jupyterhub.app import JupyterHub
app = JupyterHub()
app.load_config_file(os.path.basename(sys.argv[1]), path=os.path.dirname(sys.argv[1]))
if sys.argv[1] not in app.loaded_config_files:
    sys.exit("labsync: %s was not loaded" % sys.argv[1])
print("labsync: config loads; authenticator", app.authenticator_class.__name__, "spawner", app.spawner_class.__name__)
' "$new" || { echo "labsync: the new config does not load; the current one stays" >&2; rm -f "$new"; exit 1; }
if [ -f "$cfg" ]; then cp -f "$cfg" "$cfg.prev"; fi
mv -f "$new" "$cfg"
