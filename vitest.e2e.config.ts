import {defineConfig} from 'vitest/config';

/**
 * End-to-end tests against a real Docker Engine, buildx and the registry on 127.0.0.1:5000
 * (scripts/setup-docker-engine.sh). One file at a time: the scenarios share the engine.
 */
export default defineConfig({
	test: {
		include: ['test/e2e/**/*.test.ts'],
		fileParallelism: false,
		testTimeout: 180_000,
		hookTimeout: 180_000,
	},
});
