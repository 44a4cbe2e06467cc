#!/usr/bin/env node
// @ts-check
// Provides the mediasoup-worker binary at the path mediasoup looks at by
// default (node_modules/mediasoup/worker/out/Release/mediasoup-worker).
// Runs as this project's postinstall, because mediasoup's own install script
// is not run (npm's allowScripts) and could not work here anyway: it downloads
// from GitHub and pip, and our machines reach only npm and Debian.
//
// Tries, in order:
//   1. nothing to do: MEDIASOUP_WORKER_BIN points to a file, or a working
//      binary is already in place;
//   2. the local cache (one binary per mediasoup version, distro, arch and
//      stand-in subprojects; cache.mjs);
//   3. mediasoup's official prebuilt binary from GitHub (prebuilt.mjs;
//      VCALL_SKIP_PREBUILT=1 skips it);
//   4. building it from the sources inside the mediasoup npm package against
//      Debian's libraries (build.mjs; apt.mjs installs the Debian packages
//      when run as root).
// 3 and 4 run under a lock (lock.mjs), so that parallel installs build once.
// Any failure exits non-zero with one paragraph saying what to do.
//
// Environment: VCALL_SKIP_WORKER=1 skips everything; VCALL_WORKER_CACHE sets
// the cache directory (default ${XDG_CACHE_HOME:-~/.cache}/vcall).
// The modules are in scripts/mediasoup-worker/ (see its README.md).

import { installWorker } from './mediasoup-worker/install.mjs';
import { failureMessage } from './mediasoup-worker/output.mjs';

installWorker().then(
	() => process.exit(0),
	error => {
		console.error(failureMessage(error));
		process.exit(1);
	}
);
