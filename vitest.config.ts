import {defineConfig} from 'vitest/config';

/** Unit tests: no real Docker. The end-to-end suite (test/e2e) runs only via `npm run test:e2e`. */
export default defineConfig({
	test: {
		include: ['test/**/*.test.{ts,tsx}'],
		exclude: ['test/e2e/**', '**/node_modules/**'],
	},
});
