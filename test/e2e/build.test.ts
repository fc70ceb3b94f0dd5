import {readFile} from 'node:fs/promises';
import path from 'node:path';
import {afterAll, beforeAll, describe, expect, test} from 'vitest';
import type {BuildEvent, BuildResult} from '../../source/core/build-events.js';
import {catalogCopy, cleanUp, docker, eventsOf, readResult, recipeCopy, registryDigest, requireEngine, sequences, stackwiz, temporaryDirectory, uniqueRun} from './engine.js';

/**
 * The two-image tree (7 tiers: base, cuda, basic, 2 x framework, 2 x apps) on the real engine, one
 * scenario after the other: cold build, re-run, empty build cache, a changed apps tier, and the
 * images themselves.
 */
const {runId, registry} = uniqueRun('build');
let directory: string;
let catalog: string;
let recipe: string;
const timings: Record<string, number> = {};

const tierIds = [
	'base-busybox1-36',
	'cuda-12-1-1-busybox1-36',
	'basic-py3-11-cuda12-1-1',
	'framework-pytorch2-3-1-cu121-py3-11',
	'apps-demo1-0-pytorch2-3-1',
	'framework-pytorch2-4-1-cu121-py3-11',
	'apps-demo1-0-pytorch2-4-1',
];

/** What each tier's RUN steps write, to check that a building event shows the tier's own step. */
const markersOf = (id: string) => {
	const kind = id.split('-')[0]!;
	return kind === 'base' ? ['/stackwiz/base', '/stackwiz/run-id'] : [`/stackwiz/${kind === 'framework' ? 'framework-' : kind}`];
};

const out = (name: string) => path.join(directory, name);
const build = (name: string, ...extra: string[]) => stackwiz(['--non-interactive', recipe, '--catalog', catalog, '--no-bundled', '--out', out(name), ...extra]);

/** The state events of a run without "building" (a step can start and end within one progress update). */
const withoutBuilding = (events: BuildEvent[]) => Object.fromEntries(Object.entries(sequences(events)).map(([tier, list]) => [tier, list.filter(type => type !== 'building')]));

beforeAll(async () => {
	await requireEngine();
	directory = await temporaryDirectory('build');
	catalog = await catalogCopy(directory, runId);
	recipe = await recipeCopy(directory, registry, 'two-images');
});

afterAll(async () => {
	await cleanUp(registry);
	console.log(`e2e build timings (ms): ${JSON.stringify(timings)}`);
});

describe.sequential('a two-image tree on the real engine', () => {
	let cold: BuildResult;

	test('a) a cold build pushes every tier, and each tier\'s events are right', async () => {
		const run = await build('cold', '--json');
		timings['a cold build'] = run.ms;
		expect(run.stderr).toBe('');
		expect(run.code).toBe(0);
		const events = eventsOf(run);
		expect(events[0]).toMatchObject({type: 'start', push: true, registry, driver: 'docker'});
		expect(events.at(-1)).toMatchObject({type: 'finish', outcome: 'ok', message: null});
		expect(withoutBuilding(events)).toEqual(Object.fromEntries(tierIds.map(id => [id, ['queued', 'built', 'pushing', 'pushed']])));
		for (const event of events) {
			if (event.type === 'building' && event.step?.startsWith('RUN ')) {
				expect(markersOf(event.tier).some(marker => event.step!.includes(marker)), `${event.tier}: ${event.step}`).toBe(true);
			}
		}

		cold = await readResult(out('cold'));
		expect(cold).toMatchObject({outcome: 'ok', exitCode: 0, push: true, registry, sizeKind: 'compressed'});
		expect(cold.tiers.map(tier => [tier.id, tier.state, tier.result, tier.pushed])).toEqual(tierIds.map(id => [id, 'pushed', 'built', true]));
		for (const tier of cold.tiers) {
			expect(tier.digest, tier.id).toBe(await registryDigest(tier.tag));
			expect(tier.size, tier.id).toBeGreaterThan(200_000);
			expect(tier.durationMs, tier.id).toBeGreaterThan(0);
		}

		// The images users run, and what the shared tiers saved.
		expect(cold.images.map(image => [image.name, image.tier])).toEqual([
			['train-old', 'apps-demo1-0-pytorch2-3-1'],
			['train-new', 'apps-demo1-0-pytorch2-4-1'],
		]);
		const size = (id: string) => cold.tiers.find(tier => tier.id === id)!.size!;
		const shared = size('base-busybox1-36') + size('cuda-12-1-1-busybox1-36') + size('basic-py3-11-cuda12-1-1');
		expect(cold.sharing?.savedBytes).toBe(shared);
		expect(cold.pulls.find(pull => pull.have === 'train-old' && pull.want === 'train-new')?.bytes).toBe(size('framework-pytorch2-4-1-cu121-py3-11') + size('apps-demo1-0-pytorch2-4-1'));
	});

	test('b) a re-run rebuilds nothing: every tier is reused, or cached with --no-reuse', async () => {
		const again = await build('again');
		timings['b re-run (reuse)'] = again.ms;
		expect(again.code).toBe(0);
		const lines = again.stderr.trimEnd().split('\n');
		// The registry has every tier, so Docker has nothing to do and is not asked.
		expect(lines[0]).toBe(`stackwiz: 7 tiers, all already in ${registry}: nothing to build`);
		expect(lines.slice(1)).toEqual(tierIds.map(id => expect.stringMatching(new RegExp(`^${id} +reused +from the registry \\(sha256:[0-9a-f]{12}\\)$`))));
		expect(again.stdout).toContain('shared tiers: 2 images take ');
		const reused = await readResult(out('again'));
		expect(reused.tiers.map(tier => [tier.state, tier.digest])).toEqual(cold.tiers.map(tier => ['reused', tier.digest]));
		// Nothing to build, so the bake file has no targets left and bake never ran.
		const bake = JSON.parse(await readFile(path.join(out('again'), 'docker-bake.json'), 'utf8')) as {group: {default: {targets: string[]}}; target: Record<string, unknown>};
		expect(bake.group.default.targets).toEqual([]);

		const cached = await build('cached', '--json', '--no-reuse');
		timings['b re-run (--no-reuse)'] = cached.ms;
		expect(cached.code).toBe(0);
		expect(withoutBuilding(eventsOf(cached))).toEqual(Object.fromEntries(tierIds.map(id => [id, ['queued', 'cached', 'pushing', 'pushed']])));
		expect((await readResult(out('cached'))).tiers.map(tier => tier.digest)).toEqual(cold.tiers.map(tier => tier.digest));
	});

	test('c) with the build cache pruned and the local images gone, every tier comes back reused from the registry', async () => {
		expect(docker(['buildx', 'prune', '-af']).code).toBe(0);
		const local = docker(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}']).stdout.split('\n').filter(image => image.startsWith(`${registry}/`));
		expect(docker(['image', 'rm', ...local]).code).toBe(0);
		const run = await build('second-machine', '--json');
		timings['c empty cache'] = run.ms;
		expect(run.code).toBe(0);
		expect(sequences(eventsOf(run))).toEqual(Object.fromEntries(tierIds.map(id => [id, ['reused']])));
	});

	test('d) changing only the apps tier rebuilds only that tier, on top of the parent pulled from the registry', async () => {
		recipe = await recipeCopy(directory, registry, 'new-apps', 'demo@1.1');
		const run = await build('new-apps', '--json');
		timings['d apps changed'] = run.ms;
		expect(run.code).toBe(0);
		const changed = 'apps-demo1-1-pytorch2-4-1';
		expect(withoutBuilding(eventsOf(run))).toEqual({
			...Object.fromEntries(tierIds.filter(id => id !== 'apps-demo1-0-pytorch2-4-1').map(id => [id, ['reused']])),
			[changed]: ['queued', 'built', 'pushing', 'pushed'],
		});
		const bake = JSON.parse(await readFile(path.join(out('new-apps'), 'docker-bake.json'), 'utf8')) as {target: Record<string, {contexts: {parent: string}}>};
		const framework = cold.tiers.find(tier => tier.id === 'framework-pytorch2-4-1-cu121-py3-11')!;
		expect(Object.keys(bake.target)).toEqual([changed]);
		expect(bake.target[changed]!.contexts.parent).toBe(`docker-image://${framework.tag}@${framework.digest!}`);
		const result = await readResult(out('new-apps'));
		const tier = result.tiers.find(entry => entry.id === changed)!;
		expect(tier).toMatchObject({state: 'pushed', result: 'built', digest: await registryDigest(tier.tag)});
		expect(result.pulls.find(pull => pull.have === 'train-old' && pull.want === 'train-new')?.bytes).toBe(framework.size! + tier.size!);
	});

	test('g) the final images run, from the registry, and hold every tier\'s marker file', async () => {
		const started = Date.now();
		const result = await readResult(out('new-apps'));
		const expected: Record<string, string> = {
			'train-old': `${runId}\nbase\ncuda 12.1.1 nccl 2.17.1-1\npython 3.11.9\ntorch==2.3.1 cu121\ndemo 1.0\n`,
			'train-new': `${runId}\nbase\ncuda 12.1.1 nccl 2.17.1-1\npython 3.11.9\ntorch==2.4.1 cu121\ndemo 1.1\n`,
		};
		for (const image of result.images) {
			const reference = `${image.tag}@${image.digest!}`;
			docker(['image', 'rm', image.tag]);
			expect(docker(['pull', reference]).code, reference).toBe(0);
			const version = image.name === 'train-old' ? '2.3.1' : '2.4.1';
			const markers = docker(['run', '--rm', '--network', 'none', reference, 'cat', '/stackwiz/run-id', '/stackwiz/base', '/stackwiz/cuda', '/stackwiz/basic', `/stackwiz/framework-${version}`, '/stackwiz/apps']);
			expect(markers.stderr).toBe('');
			expect(markers.stdout, image.name).toBe(expected[image.name]);
			docker(['image', 'rm', reference]);
		}

		timings['g run images'] = Date.now() - started;
	});
});
