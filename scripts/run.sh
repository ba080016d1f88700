#!/usr/bin/env bash
# Installs what syscg needs, builds it and runs the main job. Run as root.
# Until syscgfs exists (issue 3) the main job is a demo of the core model.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need_root
install_packages
cd "$SYSCG_ROOT"
build build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSYSCG_BENCH=OFF
exec ./build/core/syscg-model-demo "$@"
