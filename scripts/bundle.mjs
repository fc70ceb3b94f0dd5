// Bundles the compiled CLI (dist/cli.js and the commands it imports lazily) into dist/bundle/, the
// code bin/stackwiz.js runs: one file per command instead of a few hundred modules, so start-up does
// not spend its time resolving and compiling execa's, zod's and yaml's files one by one. The
// interactive path's packages (Ink, React) stay outside: only the wizard loads them. Part of
// `npm run build`, after tsc and the catalog snapshot.
import {build} from 'rolldown';

const interactiveOnly = /^(?:ink|ink-select-input|react|react-devtools-core|@inquirer\/prompts)(?:\/|$)/;

await build({
	input: {cli: 'dist/cli.js'},
	platform: 'node',
	external: id => interactiveOnly.test(id),
	logLevel: 'warn',
	output: {dir: 'dist/bundle', format: 'esm', minify: true, sourcemap: true, cleanDir: true, chunkFileNames: '[name]-[hash].js'},
});
