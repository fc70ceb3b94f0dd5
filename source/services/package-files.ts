import {fileURLToPath} from 'node:url';

/**
 * The installed package's root directory (package.json, catalogs/, dist/), found from this module's
 * place in it: two levels down both after tsc (dist/services/) and in the bundle (dist/bundle/).
 */
export const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
