import {defineConfig} from 'vitest/config';

/** The wizard latency benchmark runs in vitest for its TSX transform; it is never part of `npm test`. */
export default defineConfig({
	test: {
		include: ['bench/**/*.bench.tsx'],
		testTimeout: 300_000,
	},
});
