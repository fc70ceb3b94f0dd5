import {describe, expect, test} from 'vitest';
import {buildResult, initialBuildState, reduceAll, reduceBuild, type BuildEvent, type BuildState, type TierImage, type TierInfo} from '../../source/core/build-events.js';

/** base -> cuda -> fw -> {app-a, app-b}: two images sharing three tiers. */
const tiers: TierInfo[] = [
	{id: 'base', tier: 'base', parent: null, tag: 'r/stackwiz/base:1', image: null, images: ['a', 'b']},
	{id: 'cuda', tier: 'cuda', parent: 'base', tag: 'r/stackwiz/cuda:1', image: null, images: ['a', 'b']},
	{id: 'fw', tier: 'framework', parent: 'cuda', tag: 'r/stackwiz/framework:1', image: null, images: ['a', 'b']},
	{id: 'app-a', tier: 'apps', parent: 'fw', tag: 'r/stackwiz/apps:a', image: 'a', images: ['a']},
	{id: 'app-b', tier: 'apps', parent: 'fw', tag: 'r/stackwiz/apps:b', image: 'b', images: ['b']},
];

const start = (push = true): BuildEvent => ({type: 'start', time: 1000, tiers, push, registry: push ? 'r' : null, builder: 'default', driver: 'docker', buildx: '0.13.1+ds1'});

describe('reduceBuild', () => {
	test('start lays out every tier queued, in tree order', () => {
		const state = reduceBuild(initialBuildState, start());
		expect(state.status).toBe('running');
		expect(state.order).toEqual(['base', 'cuda', 'fw', 'app-a', 'app-b']);
		expect(Object.values(state.tiers).map(tier => tier.phase)).toEqual(['queued', 'queued', 'queued', 'queued', 'queued']);
	});

	test('a tier goes queued -> building -> built -> pushing -> pushed, with its step and times', () => {
		const states = [
			start(),
			{type: 'building', time: 1100, tier: 'base', step: 'RUN make', index: 2, total: 3, bytes: null},
			{type: 'building', time: 1200, tier: 'base', step: 'RUN make', index: 2, total: 3, bytes: {current: 5, total: 10}},
			{type: 'built', time: 1500, tier: 'base'},
			{type: 'pushing', time: 1600, tier: 'base', bytes: {current: 1, total: 2}},
			{type: 'pushed', time: 1900, tier: 'base'},
		].reduce<BuildState[]>((list, event) => [...list, reduceBuild(list.at(-1) ?? initialBuildState, event as BuildEvent)], []);
		expect(states.map(state => state.tiers['base']!.phase)).toEqual(['queued', 'building', 'building', 'built', 'pushing', 'pushed']);
		expect(states[2]!.tiers['base']).toMatchObject({step: 'RUN make', index: 2, total: 3, bytes: {current: 5, total: 10}, startedAt: 1100});
		expect(states[5]!.tiers['base']).toMatchObject({result: 'built', step: null, bytes: null, startedAt: 1100, finishedAt: 1900});
	});

	test('events that do not fit the phase leave the state object untouched', () => {
		const pushed = reduceAll([start(), {type: 'cached', time: 1, tier: 'base'}, {type: 'pushed', time: 2, tier: 'base'}]);
		for (const event of [
			{type: 'building', time: 3, tier: 'base', step: 'x', index: null, total: null, bytes: null},
			{type: 'failed', time: 3, tier: 'base', reason: 'late', logTail: []},
			{type: 'cancelled', time: 3, tier: 'base', reason: 'late'},
			{type: 'reused', time: 3, tier: 'base', digest: 'sha256:x'},
			{type: 'built', time: 3, tier: 'nosuch'},
		] as BuildEvent[]) {
			expect(reduceBuild(pushed, event)).toBe(pushed);
		}

		const queued = reduceBuild(initialBuildState, start());
		expect(reduceBuild(queued, {type: 'pushing', time: 1, tier: 'base', bytes: null})).toBe(queued);
		expect(reduceBuild(queued, {type: 'queued', time: 1, tier: 'base'})).toBe(queued);
	});

	test('without push a built tier is final; a late cancel does not change it', () => {
		const built = reduceAll([start(false), {type: 'built', time: 1200, tier: 'base'}]);
		expect(built.tiers['base']).toMatchObject({phase: 'built', finishedAt: 1200});
		expect(reduceBuild(built, {type: 'cancelled', time: 1300, tier: 'base', reason: 'interrupted'})).toBe(built);
	});

	test('a tier shown building on its parent\'s step goes back to queued', () => {
		const state = reduceAll([start(), {type: 'building', time: 1, tier: 'cuda', step: 'RUN x', index: 1, total: 2, bytes: null}, {type: 'queued', time: 2, tier: 'cuda'}]);
		expect(state.tiers['cuda']).toMatchObject({phase: 'queued', step: null});
	});

	test('reused, failed and cancelled tiers keep their digest or reason', () => {
		const state = reduceAll([
			start(),
			{type: 'reused', time: 1100, tier: 'base', digest: 'sha256:b'},
			{type: 'building', time: 1200, tier: 'cuda', step: 'RUN x', index: 1, total: 2, bytes: null},
			{type: 'failed', time: 1300, tier: 'cuda', reason: 'exit code: 3', logTail: ['boom']},
			{type: 'cancelled', time: 1300, tier: 'fw', reason: 'not built: cuda failed'},
		]);
		expect(state.tiers['base']).toMatchObject({phase: 'reused', result: 'reused', digest: 'sha256:b'});
		expect(state.tiers['cuda']).toMatchObject({phase: 'failed', reason: 'exit code: 3', logTail: ['boom'], startedAt: 1200, finishedAt: 1300});
		expect(state.tiers['fw']).toMatchObject({phase: 'cancelled', reason: 'not built: cuda failed'});
	});

	test('log lines and warnings are kept in bounded tails', () => {
		const lines = Array.from({length: 100}, (_, index): BuildEvent => ({type: 'log', time: index, tier: 'base', line: `line ${index}`}));
		const warnings = Array.from({length: 80}, (_, index): BuildEvent => ({type: 'warning', time: index, message: `w${index}`}));
		const state = reduceAll([start(), ...lines, ...warnings]);
		expect(state.tiers['base']!.logTail).toHaveLength(30);
		expect(state.tiers['base']!.logTail[0]).toBe('line 70');
		expect(state.warnings).toHaveLength(50);
		expect(state.warnings.at(-1)).toBe('w79');
	});

	test('finish records the outcome', () => {
		const state = reduceAll([start(), {type: 'finish', time: 2000, outcome: 'failed', message: 'tier x failed', result: null}]);
		expect(state).toMatchObject({status: 'done', outcome: 'failed', message: 'tier x failed', finishedAt: 2000});
	});
});

describe('buildResult', () => {
	const mb = 1_000_000;
	const layer = (name: string, size: number) => ({digest: `sha256:${name}`, size});
	const image = (digest: string, layers: Array<{digest: string; size: number}>): TierImage => ({digest, layers, size: layers.reduce((sum, entry) => sum + entry.size, 0)});
	const base = [layer('os', 30 * mb), layer('base', 5 * mb)];
	const cuda = [...base, layer('cuda', 2000 * mb)];
	const fw = [...cuda, layer('fw', 1500 * mb)];
	const images = new Map([
		['base', image('sha256:1', base)],
		['cuda', image('sha256:2', cuda)],
		['fw', image('sha256:3', fw)],
		['app-a', image('sha256:4', [...fw, layer('a', 100 * mb)])],
		['app-b', image('sha256:5', [...fw, layer('b', 300 * mb)])],
	]);
	const finished = reduceAll([
		start(),
		{type: 'reused', time: 1000, tier: 'base', digest: 'sha256:1'},
		{type: 'reused', time: 1000, tier: 'cuda', digest: 'sha256:2'},
		...(['fw', 'app-a', 'app-b'] as const).flatMap((id, index): BuildEvent[] => [
			{type: 'building', time: 1000 + index * 100, tier: id, step: 'RUN x', index: 1, total: 2, bytes: null},
			{type: 'built', time: 2000, tier: id},
			{type: 'pushed', time: 2500, tier: id},
		]),
	]);
	const input = {recipe: 'r', outcome: 'ok' as const, exitCode: 0, message: null, leaves: new Map([['a', 'app-a'], ['b', 'app-b']]), images, sizeKind: 'compressed' as const, digests: new Map([['fw', 'sha256:3']]), now: 3000};

	test('per tier: state, digest, the bytes it adds over its parent, duration', () => {
		const result = buildResult(finished, input);
		expect(result.tiers.map(tier => [tier.id, tier.state, tier.result, tier.pushed, tier.digest, tier.size, tier.imageSize, tier.durationMs])).toEqual([
			['base', 'reused', 'reused', false, 'sha256:1', 35 * mb, 35 * mb, null],
			['cuda', 'reused', 'reused', false, 'sha256:2', 2000 * mb, 2035 * mb, null],
			['fw', 'pushed', 'built', true, 'sha256:3', 1500 * mb, 3535 * mb, 1500],
			['app-a', 'pushed', 'built', true, 'sha256:4', 100 * mb, 3635 * mb, 1400],
			['app-b', 'pushed', 'built', true, 'sha256:5', 300 * mb, 3835 * mb, 1300],
		]);
		expect(result).toMatchObject({recipe: 'r', registry: 'r', push: true, outcome: 'ok', exitCode: 0, startedAt: new Date(1000).toISOString(), durationMs: 2000, sizeKind: 'compressed'});
	});

	test('the images users run, what the shared tiers saved, and what a node holding one image pulls for another', () => {
		const result = buildResult(finished, input);
		expect(result.images).toEqual([
			{name: 'a', tier: 'app-a', tag: 'r/stackwiz/apps:a', digest: 'sha256:4', size: 3635 * mb},
			{name: 'b', tier: 'app-b', tag: 'r/stackwiz/apps:b', digest: 'sha256:5', size: 3835 * mb},
		]);
		expect(result.sharing).toEqual({flatBytes: 7470 * mb, storedBytes: 3935 * mb, savedBytes: 3535 * mb});
		expect(result.pulls).toEqual([
			{have: 'a', want: 'b', bytes: 300 * mb, wantBytes: 3835 * mb},
			{have: 'b', want: 'a', bytes: 100 * mb, wantBytes: 3635 * mb},
		]);
	});

	test('without layer lists the difference of totals stands in; an unknown size leaves out what depends on it', () => {
		const local = new Map([...images].map(([id, entry]) => [id, {digest: null, layers: null, size: entry.size}]));
		expect(buildResult(finished, {...input, images: local}).tiers.map(tier => tier.size)).toEqual([35 * mb, 2000 * mb, 1500 * mb, 100 * mb, 300 * mb]);
		const partial = new Map(images);
		partial.delete('app-b');
		const result = buildResult(finished, {...input, images: partial});
		expect(result.sharing).toBeNull();
		expect(result.images[1]!.size).toBeNull();
		// Image a is still fully known: a node holding b pulls only a's own tier.
		expect(result.pulls).toEqual([{have: 'b', want: 'a', bytes: 100 * mb, wantBytes: 3635 * mb}]);
	});
});
