import path from 'node:path';
import {afterAll, beforeAll, expect, test, vi} from 'vitest';
import {catalogCopy, cleanUp, processesRunning, processesUsing, readResult, recipeCopy, requireEngine, stackwiz, startStackwiz, temporaryDirectory, uniqueRun} from './engine.js';

/** Ctrl-C in the middle of a build, then the same build again. */
const {runId, registry} = uniqueRun('sigint');
let directory: string;

beforeAll(async () => {
	await requireEngine();
	directory = await temporaryDirectory('sigint');
});

afterAll(async () => {
	await cleanUp(registry);
});

test('f) SIGINT mid-build: exit 130 at once, no docker or buildx process left, and the next run picks up from the cache', async () => {
	// The apps steps sleep for a duration unique to this run, so their build containers can be found.
	const seconds = 40 + Math.floor(Math.random() * 50);
	const sleepy = await catalogCopy(directory, runId, (_version, install) => install.replace('> /stackwiz/apps', `> /stackwiz/apps && sleep ${seconds}`));
	const recipe = await recipeCopy(directory, registry, 'two-images');
	const out = path.join(directory, 'out');
	const running = startStackwiz(['--non-interactive', recipe, '--catalog', sleepy, '--no-bundled', '--out', out]);
	// Both apps steps sleeping: every tier below them has finished its steps.
	await vi.waitFor(
		async () => {
			expect(await processesRunning(`sleep ${seconds}`)).toHaveLength(2);
		},
		{timeout: 60_000, interval: 100},
	);
	expect(running.output.stderr).toMatch(/^apps-demo1-0-pytorch2-\d-1 +building +RUN echo demo 1\.0 > \/stackwiz\/apps && sleep \d+/m);

	const interruptedAt = Date.now();
	running.signal('SIGINT');
	const run = await running.done;
	const stopMs = Date.now() - interruptedAt;
	console.log(`e2e interrupt: stopped ${stopMs} ms after SIGINT, run took ${run.ms} ms`);
	expect(run.code).toBe(130);
	expect(stopMs).toBeLessThan(2500);
	expect(await processesUsing(out)).toEqual([]);
	expect(run.stderr).toMatch(/^apps-demo1-0-pytorch2-3-1 +cancelled +interrupted$/m);
	expect(run.stderr).not.toMatch(/ failed /);
	expect(run.stderr).toContain('stackwiz: interrupted; finished and pushed: ');
	expect((await readResult(out)).outcome).toBe('cancelled');
	// BuildKit cancels the running step too.
	await vi.waitFor(
		async () => {
			expect(await processesRunning(`sleep ${seconds}`)).toEqual([]);
		},
		{timeout: 10_000, interval: 100},
	);

	// The same tree without the sleep: everything below apps comes from the registry or the cache.
	const quick = await catalogCopy(path.join(directory, 'quick'), runId);
	const rerun = await stackwiz(['--non-interactive', recipe, '--catalog', quick, '--no-bundled', '--out', out]);
	console.log(`e2e interrupt: re-run took ${rerun.ms} ms`);
	expect(rerun.code).toBe(0);
	const result = await readResult(out);
	for (const tier of result.tiers.filter(entry => !entry.id.startsWith('apps-'))) {
		expect(['reused', 'cached'], tier.id).toContain(tier.result);
	}

	expect(result.tiers.filter(tier => tier.id.startsWith('apps-')).map(tier => tier.state)).toEqual(['pushed', 'pushed']);
});
