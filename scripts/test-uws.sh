#!/usr/bin/env bash
# Runs the suites that do not need a browser with the uWebSockets.js listener,
# inside the cached Debian 13 root (scripts/trixie-run.sh), where its binaries
# load (glibc >= 2.38). `npm run test:uws` builds first; this script expects
# dist/ to be built. Arguments are passed on to scripts/uws-suites.mjs (suite
# files to run).

set -euo pipefail

LISTENER=uws exec bash "$(dirname "$0")/trixie-run.sh" node scripts/uws-suites.mjs "$@"
