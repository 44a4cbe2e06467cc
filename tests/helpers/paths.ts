// Where things are, for helpers that run from dist/tests/helpers/.

import { fileURLToPath } from 'node:url';

/** Repository root. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
