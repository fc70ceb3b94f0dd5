import {defineConfig} from 'vitest/config';

/** Unit tests: no real Docker. The end-to-end suite (test/e2e) runs only via `npm run test:e2e`. */
export default defineConfig({
	test: {
		include: ['test/**/*.test.{ts,tsx}'],
		exclude: ['test/e2e/**', '**/node_modules/**'],
		// Several unit tests spawn bin/stackwiz.js and a fake docker; on a busy 2-core machine that takes seconds.
		testTimeout: 30_000,
	},
});
