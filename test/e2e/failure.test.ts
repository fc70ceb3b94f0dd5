import path from 'node:path';
import {afterAll, beforeAll, expect, test} from 'vitest';
import {catalogCopy, cleanUp, readResult, recipeCopy, registryDigest, requireEngine, stackwiz, temporaryDirectory, uniqueRun} from './engine.js';

/** A cold build of the two-image tree in which the second image's apps tier fails. */
const {runId, registry} = uniqueRun('fail');
let directory: string;

beforeAll(async () => {
	await requireEngine();
	directory = await temporaryDirectory('fail');
});

afterAll(async () => {
	await cleanUp(registry);
});

test('e) a failing tier: exit 1, the message names it with its log, the tiers below it stay pushed', async () => {
	// demo 1.1 fails after a while, so its parents have been exported and pushed by then.
	const catalog = await catalogCopy(directory, runId, (version, install) => (version === '1.1' ? 'echo "demo: compiling" && echo "demo: about to fail" >&2 && sleep 3 && exit 3' : install));
	const recipe = await recipeCopy(directory, registry, 'failing', 'demo@1.1');
	const out = path.join(directory, 'out');
	const run = await stackwiz(['--non-interactive', recipe, '--catalog', catalog, '--no-bundled', '--out', out]);
	console.log(`e2e failure timing (ms): ${run.ms}`);
	expect(run.code).toBe(1);

	const failed = 'apps-demo1-1-pytorch2-4-1';
	const step = 'RUN echo "demo: compiling" && echo "demo: about to fail" >&2 && sleep 3 && exit 3';
	const reason = 'process "/bin/sh -c echo \\"demo: compiling\\" && echo \\"demo: about to fail\\" >&2 && sleep 3 && exit 3" did not complete successfully: exit code: 3';
	const lines = run.stderr.split('\n');
	const failedLine = lines.findIndex(line => new RegExp(`^${failed} +failed +`).test(line));
	expect(lines[failedLine]).toMatch(new RegExp(`^${failed} +failed +`));
	expect(lines[failedLine]!.replace(/^\S+ +failed +/, '')).toBe(reason);
	// The step's stdout and stderr lines (BuildKit does not keep their order across the two streams).
	expect(lines.slice(failedLine + 1, failedLine + 3).sort()).toEqual(['    | demo: about to fail', '    | demo: compiling']);
	const message = lines.find(line => line.startsWith('stackwiz: tier '));
	expect(message).toMatch(new RegExp(`^stackwiz: tier ${failed} failed at \\[1/2\\] ${step.replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ${reason.replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&')}; finished and pushed: .*base-busybox1-36.*\\.$`));
	expect(lines).toContain('Fix that step in the catalog or recipe (its last log lines are above) and run again; finished tiers are not built again.');

	const result = await readResult(out);
	expect(result).toMatchObject({outcome: 'failed', exitCode: 1});
	const states = Object.fromEntries(result.tiers.map(tier => [tier.id, tier.state]));
	expect(states[failed]).toBe('failed');
	// The failed tier's ancestors finished and are in the registry; nothing else is reported failed.
	for (const id of ['base-busybox1-36', 'cuda-12-1-1-busybox1-36', 'basic-py3-11-cuda12-1-1', 'framework-pytorch2-4-1-cu121-py3-11']) {
		const tier = result.tiers.find(entry => entry.id === id)!;
		expect(tier.state, id).toBe('pushed');
		expect(await registryDigest(tier.tag), id).toBe(tier.digest);
	}

	for (const tier of result.tiers.filter(entry => entry.id !== failed)) {
		expect(['pushed', 'cancelled'], tier.id).toContain(tier.state);
		if (tier.state === 'pushed') {
			expect(await registryDigest(tier.tag), tier.id).toBe(tier.digest);
		}
	}

	expect(await registryDigest(result.tiers.find(tier => tier.id === failed)!.tag)).toBeNull();
});
