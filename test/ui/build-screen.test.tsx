/**
 * Step 6, the build screen. The component is fed recorded `docker buildx bake --progress=rawjson`
 * captures (test/fixtures/rawjson, tree base -> mid -> {leaf-a, leaf-b}) through the Build issue's
 * BakeTracker and reduceBuild; the whole app is driven to a build with a fake build service, for
 * the summary, Docker missing, and Ctrl+C stopping the bake.
 */
import {readFileSync} from 'node:fs';
import path from 'node:path';
import {afterEach, describe, expect, test, vi} from 'vitest';
import {BakeTracker} from '../../source/core/bake-progress.js';
import {buildResult, reduceAll, type BuildEvent, type BuildState, type TierImage} from '../../source/core/build-events.js';
import type {ResolvedImage} from '../../source/core/resolve.js';
import type {TierNode, TierTree} from '../../source/core/tier-tree.js';
import {UserError} from '../../source/errors.js';
import {BuildScreen} from '../../source/ui/screens/build-screen.js';
import type {BuildRequest} from '../../source/ui/services.js';
import {e2eCatalog} from '../helpers/catalog.js';
import {renderWizard} from './fixtures.js';
import {KEY, renderTui} from './helpers/render.js';

const fixtures = path.resolve('test/fixtures/rawjson');
const registry = '127.0.0.1:5000/stackwiz-capture';

/** The capture project as a tier tree: base -> mid -> {leaf-a, leaf-b}. */
const nodes = [
	{id: 'base', tier: 'base', parent: null, image: null, images: ['leaf-a', 'leaf-b']},
	{id: 'mid', tier: 'cuda', parent: 'base', image: null, images: ['leaf-a', 'leaf-b']},
	{id: 'leaf-a', tier: 'framework', parent: 'mid', image: 'leaf-a', images: ['leaf-a']},
	{id: 'leaf-b', tier: 'framework', parent: 'mid', image: 'leaf-b', images: ['leaf-b']},
].map(node => ({...node, tag: `${registry}/${node.id}:capture`}));

const tree = {
	registry,
	nodes: nodes as unknown as TierNode[],
	leaves: new Map([['leaf-a', 'leaf-a'], ['leaf-b', 'leaf-b']]),
	images: [{name: 'leaf-a'}, {name: 'leaf-b'}] as unknown as ResolvedImage[],
} satisfies TierTree;

/** A capture replayed as the bake runner would: a start event, the tracker's events on a clock, nothing more. */
function replay(name: string, options: {interrupted?: boolean} = {}): BuildEvent[] {
	let clock = 0;
	const now = () => {
		clock += 50;
		return clock;
	};

	const tracker = new BakeTracker({targets: nodes.map(node => ({id: node.id, parent: node.parent})), push: true, now});
	const events: BuildEvent[] = [
		{type: 'start', time: now(), tiers: nodes, push: true, registry, builder: 'default', driver: 'docker', buildx: '0.13.1'},
		...tracker.start(),
	];
	const text = readFileSync(path.join(fixtures, `${name}.stderr`), 'utf8');
	for (let index = 0; index < text.length; index += 2048) {
		events.push(...tracker.feed(text.slice(index, index + 2048)));
	}

	events.push(...tracker.finish({exitCode: Number(readFileSync(path.join(fixtures, `${name}.rc`), 'utf8').trim()), interrupted: options.interrupted ?? false}));
	return events;
}

/** The finish event the build service adds, with sizes so the summary can show what sharing saved. */
function finish(state: BuildState, outcome: 'ok' | 'failed' | 'cancelled', message: string | null): BuildEvent {
	const layer = (digest: string, size: number) => ({digest, size});
	const images = new Map<string, TierImage>([
		['base', {digest: 'sha256:b', layers: [layer('b', 1_000_000)], size: 1_000_000}],
		['mid', {digest: 'sha256:m', layers: [layer('b', 1_000_000), layer('m', 2_000_000)], size: 3_000_000}],
		['leaf-a', {digest: 'sha256:a', layers: [layer('b', 1_000_000), layer('m', 2_000_000), layer('a', 500_000)], size: 3_500_000}],
		['leaf-b', {digest: 'sha256:c', layers: [layer('b', 1_000_000), layer('m', 2_000_000), layer('c', 250_000)], size: 3_250_000}],
	]);
	const result = buildResult(state, {recipe: 'capture', outcome, exitCode: outcome === 'ok' ? 0 : outcome === 'failed' ? 1 : 130, message, leaves: tree.leaves, images, sizeKind: 'compressed', digests: new Map(), now: 10_000});
	return {type: 'finish', time: 10_000, outcome, message, result};
}

function screen(state: BuildState, now = 10_000) {
	return <BuildScreen state={state} tree={tree} now={now} tick={0} tailLines={3} columns={80} footer={['recipe: capture.yaml']}/>;
}

let cleanup: (() => void) | undefined;
afterEach(() => {
	cleanup?.();
	cleanup = undefined;
});

describe('BuildScreen from recorded bake captures', () => {
	test('cold push: tiers drawn as the tree, the running one with its step and log tail, then all pushed', async () => {
		const events = replay('cold-push');
		const firstLog = events.findIndex(event => event.type === 'log' && event.tier === 'base');
		const running = reduceAll(events.slice(0, firstLog + 1));
		const ui = await renderTui(screen(running, running.tiers['base']!.startedAt! + 1200));
		cleanup = ui.unmount;
		let frame = ui.frame();
		expect(frame).toMatch(/⠋ base +1\.2s {2}step 3\/3 RUN echo "base: writing marker"/);
		expect(frame).toMatch(/· └─ cuda +queued/);
		expect(frame).toMatch(/· {4}├─ framework +queued/);
		expect(frame).toContain('base │ base: writing marker');
		expect(frame).toContain('4 tiers');
		expect(frame).toMatch(/4 tiers · [\d.]+s · pushing to 127\.0\.0\.1:5000\/stackwiz-capture · Ctrl\+C stops/);

		const done = reduceAll(events);
		ui.rerender(screen(reduceAll([finish(done, 'ok', null)], done)));
		await ui.waitFor('4 tiers ready in');
		frame = ui.frame();
		for (const id of ['base', 'cuda', 'framework']) {
			expect(frame).toMatch(new RegExp(`✓ .*${id} +[\\d.]+s {2}pushed`));
		}

		expect(frame).toContain('4 built, 0 cached, 0 reused, all pushed');
		expect(frame).toContain('leaf-a  3.5 MB  leaf-a:capture');
		expect(frame).toContain('shared tiers save 3.0 MB: 3.8 MB stored instead of 6.8 MB as flat images');
		expect(frame).toContain('recipe: capture.yaml');
		// Finished tiers went to <Static>: each printed once, in the order they finished.
		expect(frame.match(/base +[\d.]+s {2}pushed/g)).toHaveLength(1);
		expect(frame.indexOf('base ')).toBeLessThan(frame.indexOf('4 tiers ready'));
	});

	test('finished tiers reach <Static> in tree order: a sibling that ends first waits for the one above', async () => {
		const start = replay('cold-push')[0]!;
		const done = (tier: string, time: number): BuildEvent[] => [{type: 'built', time, tier}, {type: 'pushed', time: time + 1, tier}];
		const early = reduceAll([start, ...done('base', 100), ...done('mid', 200), {type: 'building', time: 250, tier: 'leaf-a', step: 'RUN make', index: 1, total: 2, bytes: null}, ...done('leaf-b', 300)]);
		const ui = await renderTui(screen(early, 400));
		cleanup = ui.unmount;
		let frame = ui.frame();
		expect(frame).toMatch(/⠋ +├─ framework +0\.1s {2}step 1\/2 RUN make\n✓ +└─ framework +0\.0s {2}pushed/);
		ui.rerender(screen(reduceAll(done('leaf-a', 500), early), 600));
		await ui.waitFor(/✓ +├─ framework +0\.3s {2}pushed\n✓ +└─ framework/);
		frame = ui.frame();
		expect(frame.match(/framework/g)).toHaveLength(2);
	});

	test('a short terminal gets fewer log lines, so the live part never fills the screen', async () => {
		const events = replay('cold-push');
		const lastBaseLog = events.findLastIndex(event => event.type === 'log' && event.tier === 'base');
		const running = reduceAll(events.slice(0, lastBaseLog + 1));
		const tall = await renderTui(<BuildScreen state={running} tree={tree} now={20_000} tick={0} tailLines={3} rows={24} columns={80} footer={[]}/>);
		const tallLogs = tall.frame().split('\n').filter(line => line.includes(' │ ')).length;
		tall.unmount();
		const short = await renderTui(<BuildScreen state={running} tree={tree} now={20_000} tick={0} tailLines={3} rows={8} columns={80} footer={[]}/>, {columns: 80, rows: 8});
		cleanup = short.unmount;
		const shortLogs = short.frame().split('\n').filter(line => line.includes(' │ ')).length;
		expect(tallLogs).toBeGreaterThan(1);
		expect(shortLogs).toBe(1);
		expect(short.frame().split('\n').length).toBeLessThan(8);
	});

	test('cached push: every tier cached, then pushed', async () => {
		const done = reduceAll(replay('cached-push'));
		const ui = await renderTui(screen(reduceAll([finish(done, 'ok', null)], done)));
		cleanup = ui.unmount;
		expect(ui.frame()).toMatch(/✓ base +[\d.]+s {2}cached, pushed/);
		expect(ui.frame()).toContain('0 built, 4 cached, 0 reused, all pushed');
	});

	test('failure: the failing tier with its reason and log lines; the tiers above it not built', async () => {
		const done = reduceAll(replay('failure'));
		const ui = await renderTui(screen(reduceAll([finish(done, 'failed', 'tier mid failed at [1/2] RUN ...')], done)));
		cleanup = ui.unmount;
		const frame = ui.frame();
		expect(frame).toMatch(/✗ └─ cuda +[\d.]+s {2}failed: process "\/bin\/sh -c echo/);
		expect(frame).toMatch(/✗ +├─ framework +[\d.]*s? +cancelled/);
		expect(frame).toContain('✗ build failed: tier mid failed at [1/2] RUN ...');
		expect(frame).toContain('│ mid: about to fail');
		expect(frame).not.toContain('docker run');
		expect(frame).not.toContain('shared tiers save');
	});

	test('cancel: the build stops, base stays pushed', async () => {
		const done = reduceAll(replay('cancel', {interrupted: true}));
		const ui = await renderTui(screen(reduceAll([finish(done, 'cancelled', 'interrupted; finished and pushed: base.')], done)));
		cleanup = ui.unmount;
		expect(ui.frame()).toMatch(/✓ base +[\d.]+s {2}cached, pushed/);
		expect(ui.frame()).toContain('✗ build stopped: interrupted; finished and pushed: base.');
	});
});

/** Events for the e2e plan's tiers: each builds, prints a line, and is pushed; a finish with sizes. */
function planEvents(request: BuildRequest): BuildEvent[] {
	const {tree: planTree} = request.plan;
	let time = 1000;
	const events: BuildEvent[] = [{type: 'start', time, tiers: planTree.nodes.map(node => ({id: node.id, tier: node.tier, parent: node.parent, tag: node.tag, image: node.image, images: node.images})), push: request.push, registry: planTree.registry ?? null, builder: 'default', driver: 'docker', buildx: '0.13.1'}];
	for (const node of planTree.nodes) {
		time += 100;
		events.push(
			{type: 'building', time, tier: node.id, step: 'RUN echo', index: 1, total: 1, bytes: null},
			{type: 'log', time, tier: node.id, line: `${node.tier} says hello`},
			{type: 'built', time: time + 50, tier: node.id},
		);
		if (request.push) {
			events.push({type: 'pushing', time: time + 60, tier: node.id, bytes: {current: 5, total: 10}}, {type: 'pushed', time: time + 80, tier: node.id});
		}
	}

	const state = reduceAll(events);
	const images = new Map<string, TierImage>(planTree.nodes.map((node, index) => [node.id, {digest: `sha256:${index}`, layers: null, size: (index + 1) * 1_000_000}]));
	events.push({type: 'finish', time: time + 100, outcome: 'ok', message: null, result: buildResult(state, {recipe: 'r', outcome: 'ok', exitCode: 0, message: null, leaves: planTree.leaves, images, sizeKind: 'compressed', digests: new Map(), now: time + 100})});
	return events;
}

/** Through the wizard to the review with a registry (push on) and press "Build now". */
async function buildFromWizard(ui: Awaited<ReturnType<typeof renderWizard>>): Promise<void> {
	await ui.waitFor('step 1/10');
	await ui.press(KEY.space, KEY.enter);
	await ui.waitFor('step 2/10');
	await ui.press(KEY.down, KEY.enter);
	await ui.waitFor('step 3/10');
	await ui.press(KEY.enter, KEY.enter, KEY.enter, KEY.enter, KEY.enter, KEY.enter);
	await ui.waitFor('step 9/10');
	await ui.press(KEY.down, ...'127.0.0.1:5000/e2e'.split(''), KEY.enter, KEY.enter, KEY.enter, KEY.enter);
	await ui.waitFor('step 10/10');
	await ui.press(KEY.enter);
}

describe('the build step in the app', () => {
	test('Build now writes the files, streams the events per tier and ends with the summary', async () => {
		const ui = await renderWizard(await e2eCatalog(), {
			async * build(request) {
				for (const event of planEvents(request)) {
					await new Promise(resolve => {
						setImmediate(resolve);
					});
					yield event;
				}
			},
		});
		cleanup = ui.unmount;
		await buildFromWizard(ui);
		await ui.waitFor('4 tiers ready in');
		const frame = ui.frame();
		expect(frame).toMatch(/✓ base +[\d.]+s {2}pushed/);
		expect(frame).toContain('4 built, 0 cached, 0 reused, all pushed');
		expect(frame).toContain('recipe a100-pytorch.yaml   files .stackwiz/a100-pytorch');
		expect(ui.recorded.builds).toHaveLength(1);
		expect(ui.recorded.builds[0]!.push).toBe(true);
		expect(ui.recorded.builds[0]!.files).toBe(ui.recorded.outputs.get('.stackwiz/a100-pytorch'));
		await vi.waitFor(() => {
			expect(ui.recorded.exitCodes).toEqual([0]);
		});
		expect(ui.recorded.epilogue[0]).toBe('Try it:');
		expect(ui.recorded.epilogue[1]).toMatch(/^ {2}docker run --rm -it --gpus all 127\.0\.0\.1:5000\/e2e\/stackwiz\/framework:pytorch2\.4\.1-cu121-py3\.11-[0-9a-f]{8}$/);
		expect(ui.recorded.epilogue.at(-1)).toBe('  stackwiz --non-interactive a100-pytorch.yaml');
	});

	test('no Docker: the files are written anyway and the screen says how to build them (exit 2)', async () => {
		const ui = await renderWizard(await e2eCatalog(), {
			async * build() {
				throw new UserError('docker was not found on PATH.', 'Install Docker Engine and its CLI, then run again.');
			},
		});
		cleanup = ui.unmount;
		await buildFromWizard(ui);
		await ui.waitFor('Not building: docker was not found on PATH.');
		const frame = ui.frame();
		expect(frame).toContain('Install Docker Engine and its CLI, then run again.');
		expect(frame).toContain('✓ 4 Dockerfiles and docker-bake.json written to .stackwiz/a100-pytorch');
		await vi.waitFor(() => {
			expect(ui.recorded.exitCodes).toEqual([2]);
		});
		expect(ui.recorded.epilogue.slice(0, 2)).toEqual(['Build them with:', '  cd .stackwiz/a100-pytorch && docker buildx bake -f docker-bake.json --push']);
	});

	test('Ctrl+C during the build stops bake, waits for it, and exits 130', async () => {
		let aborted = false;
		const ui = await renderWizard(await e2eCatalog(), {
			async * build(request, signal) {
				const events = planEvents(request);
				yield events[0]!;
				yield events[1]!;
				await new Promise(resolve => {
					signal.addEventListener('abort', resolve, {once: true});
				});
				aborted = true;
				yield {type: 'cancelled', time: 5000, tier: request.plan.tree.nodes[0]!.id, reason: 'interrupted'};
				yield {type: 'finish', time: 5000, outcome: 'cancelled', message: 'interrupted; no tier finished.', result: null};
			},
		});
		cleanup = ui.unmount;
		await buildFromWizard(ui);
		await ui.waitFor('step 1/1 RUN echo');
		await ui.press(KEY.ctrlC);
		await ui.waitFor('build stopped: interrupted; no tier finished.');
		expect(aborted).toBe(true);
		await vi.waitFor(() => {
			expect(ui.recorded.exitCodes).toEqual([130]);
		});
	});
});
