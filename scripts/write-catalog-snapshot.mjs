// Validates the bundled catalogs and stores them pre-parsed next to dist/, so that stackwiz starts
// without parsing YAML for files nobody edited. Part of `npm run build`: a broken catalog fails the build.
import {writeCatalogSnapshot} from '../dist/services/catalog-loader.js';

try {
	const count = await writeCatalogSnapshot();
	console.log(`catalog snapshot: ${count} files`);
} catch (error) {
	console.error(`stackwiz build: the bundled catalogs are invalid:\n${error.message}`);
	process.exitCode = 1;
}
