import {readFileSync} from 'node:fs';
import path from 'node:path';
import {describe, expect, test} from 'vitest';
import {BakeProgressParser, BakeTracker, dockerfileSteps, JsonStreamSplitter, type BakeTarget, type ProgressUpdate, type StreamItem} from '../../source/core/bake-progress.js';
import type {BuildEvent} from '../../source/core/build-events.js';

const fixtures = path.resolve('test/fixtures/rawjson');
const read = (file: string) => readFileSync(path.join(fixtures, file), 'utf8');
const exitCodeOf = (name: string) => Number(read(`${name}.rc`).trim());

/** The capture project: base -> mid -> {leaf-a, leaf-b} (test/fixtures/rawjson/README.md). */
const captureTree: BakeTarget[] = [
	{id: 'base', parent: null},
	{id: 'mid', parent: 'base'},
	{id: 'leaf-a', parent: 'mid'},
	{id: 'leaf-b', parent: 'mid'},
];

/** The capture project's Dockerfiles, for the step hints; `failure` and `cancel` replace mid's RUN. */
const midRun = {
	failure: 'RUN echo "mid: line 1" && echo "mid: line 2" && echo "mid: about to fail" >&2 && sleep 1 && exit 3',
	cancel: 'RUN echo "mid: sleeping" && sleep 60 && echo "mid: woke up"',
};
const captureSteps = (capture: keyof typeof midRun) =>
	new Map([
		['base', ['COPY marker.txt /stackwiz/marker.txt', 'RUN echo "base: writing marker" && mkdir -p /stackwiz && echo base > /stackwiz/base && dd if=/dev/urandom of=/stackwiz/base.bin bs=1024 count=1024 && echo "base: done"']],
		['mid', [midRun[capture]]],
		['leaf-a', ['RUN echo "leaf-a: building" && echo leaf-a > /stackwiz/leaf-a && ls /stackwiz']],
		['leaf-b', ['RUN echo "leaf-b: building" && echo leaf-b > /stackwiz/leaf-b && ls /stackwiz']],
	]);

function chunks(text: string, size: number): string[] {
	const list: string[] = [];
	for (let index = 0; index < text.length; index += size) {
		list.push(text.slice(index, index + size));
	}

	return list;
}

type ReplayOptions = {targets?: BakeTarget[]; push?: boolean; chunk?: number; framing?: 'indented' | 'oneline'; interrupted?: boolean; steps?: Map<string, string[]>};

function replay(name: string, options: ReplayOptions = {}): {events: BuildEvent[]; tracker: BakeTracker} {
	const text = read(`${name}${options.framing === 'oneline' ? '.oneline' : ''}.stderr`);
	const tracker = new BakeTracker({targets: options.targets ?? captureTree, push: options.push ?? true, now: () => 0, ...(options.steps ? {steps: options.steps} : {})});
	const events = tracker.start();
	for (const chunk of chunks(text, options.chunk ?? 4096)) {
		events.push(...tracker.feed(chunk));
	}

	events.push(...tracker.finish({exitCode: exitCodeOf(name), interrupted: options.interrupted ?? false}));
	return {events, tracker};
}

/** Per tier, the event types in order, repeats (progress updates) folded. */
function sequences(events: BuildEvent[]): Record<string, string[]> {
	const result: Record<string, string[]> = {};
	for (const event of events) {
		if (!('tier' in event) || event.type === 'log') {
			continue;
		}

		const list = (result[event.tier] ??= []);
		if (list.at(-1) !== event.type) {
			list.push(event.type);
		}
	}

	return result;
}

const pushedSequence = (kind: 'built' | 'cached', building = true) => ['queued', ...(building ? ['building'] : []), kind, 'pushing', 'pushed'];

describe('JsonStreamSplitter', () => {
	test('reads indented objects, one-line objects, empty objects and text lines in one stream', () => {
		const splitter = new JsonStreamSplitter();
		const items = splitter.push('{\n  "vertexes": [\n    {\n      "digest": "sha256:a",\n      "name": "x \\u0026\\u0026 y }"\n    }\n  ]\n}\n{}\n{"logs":[]}\nWARNING: No output specified\n   2 | >>> RUN echo "{"\n');
		items.push(...splitter.end());
		expect(items).toEqual<StreamItem[]>([
			{kind: 'json', value: {vertexes: [{digest: 'sha256:a', name: 'x && y }'}]}},
			{kind: 'json', value: {}},
			{kind: 'json', value: {logs: []}},
			{kind: 'text', line: 'WARNING: No output specified'},
			{kind: 'text', line: '   2 | >>> RUN echo "{"'},
		]);
	});

	test('gives the same items whatever the chunk boundaries', () => {
		const text = read('failure.stderr');
		const whole = new JsonStreamSplitter();
		const expected = [...whole.push(text), ...whole.end()];
		const bytewise = new JsonStreamSplitter();
		const actual = [...chunks(text, 1).flatMap(chunk => bytewise.push(chunk)), ...bytewise.end()];
		expect(actual).toEqual(expected);
		expect(expected.filter(item => item.kind === 'json')).toHaveLength(90);
		expect(expected.filter(item => item.kind === 'text')).toEqual([
			{kind: 'text', line: 'Dockerfile:2'},
			{kind: 'text', line: '--------------------'},
			{kind: 'text', line: '   1 |     FROM parent'},
			{kind: 'text', line: '   2 | >>> RUN echo "mid: line 1" && echo "mid: line 2" && echo "mid: about to fail" >&2 && sleep 1 && exit 3'},
			{kind: 'text', line: '   3 |     '},
			{kind: 'text', line: '--------------------'},
			{kind: 'text', line: 'ERROR: failed to solve: process "/bin/sh -c echo \\"mid: line 1\\" && echo \\"mid: line 2\\" && echo \\"mid: about to fail\\" >&2 && sleep 1 && exit 3" did not complete successfully: exit code: 3'},
		]);
	});

	test('both framings of every capture hold the same objects', () => {
		for (const name of ['cold-push', 'cached-push', 'failure', 'cancel', 'single-target', 'load']) {
			const indented = new JsonStreamSplitter();
			const oneline = new JsonStreamSplitter();
			expect([...oneline.push(read(`${name}.oneline.stderr`)), ...oneline.end()], name).toEqual([...indented.push(read(`${name}.stderr`)), ...indented.end()]);
		}
	});

	test('an unterminated value and a last line without newline come out as text at the end', () => {
		const splitter = new JsonStreamSplitter();
		expect(splitter.push('{"vertexes": [\nERROR: cut')).toEqual([]);
		expect(splitter.end()).toEqual([
			{kind: 'text', line: '{"vertexes": ['},
			{kind: 'text', line: 'ERROR: cut'},
		]);
	});

	test('text that only looks like JSON stays text', () => {
		const splitter = new JsonStreamSplitter();
		expect([...splitter.push('{not json}\n'), ...splitter.end()]).toEqual([{kind: 'text', line: '{not json}'}]);
	});
});

describe('BakeProgressParser', () => {
	const record = (object: unknown) => `${JSON.stringify(object)}\n`;
	const vertexUpdates = (updates: ProgressUpdate[]) => updates.filter((update): update is Extract<ProgressUpdate, {type: 'vertex'}> => update.type === 'vertex');

	test('merges records per digest: earliest start, completion once seen, cached and error sticky', () => {
		const parser = new BakeProgressParser(captureTree);
		parser.push(record({vertexes: [{digest: 'sha256:r', name: '[leaf-a 3/3] RUN make', started: '2026-01-01T00:00:02Z'}]}));
		parser.push(record({vertexes: [{digest: 'sha256:r', name: '[base 3/3] RUN make', started: '2026-01-01T00:00:01Z', cached: true}]}));
		parser.push(record({vertexes: [{digest: 'sha256:r', name: '[mid 3/3] RUN make', started: '2026-01-01T00:00:03Z', completed: '2026-01-01T00:00:04Z', error: 'first'}]}));
		parser.push(record({vertexes: [{digest: 'sha256:r', name: '[leaf-b 3/3] RUN make', completed: '2026-01-01T00:00:05Z', error: 'second'}]}));
		const [vertex] = parser.allVertices();
		expect(vertex).toEqual({
			digest: 'sha256:r',
			name: '[3/3] RUN make',
			instruction: 'RUN make',
			index: 3,
			total: 3,
			kind: 'step',
			started: '2026-01-01T00:00:01Z',
			completed: '2026-01-01T00:00:04Z',
			cached: true,
			error: 'first',
			prefixes: ['leaf-a', 'base', 'mid', 'leaf-b'],
			owner: 'base',
		});
	});

	test('credits a step to the most ancestral tier seen, even when a descendant reports it first', () => {
		const parser = new BakeProgressParser(captureTree);
		const first = vertexUpdates(parser.push(record({vertexes: [{digest: 'sha256:m', name: '[leaf-b 1/2] RUN echo mid', started: '2026-01-01T00:00:01Z'}]})));
		const second = vertexUpdates(parser.push(record({vertexes: [{digest: 'sha256:m', name: '[mid 1/2] RUN echo mid', started: '2026-01-01T00:00:01Z'}]})));
		expect(first.map(update => [update.previousOwner, update.vertex.owner])).toEqual([[null, 'leaf-b']]);
		expect(second.map(update => [update.previousOwner, update.vertex.owner])).toEqual([['leaf-b', 'mid']]);
	});

	test('with Dockerfile hints a step belongs to the ancestor whose Dockerfile has it, at once', () => {
		const parser = new BakeProgressParser(captureTree, new Map([['mid', ['RUN echo mid']], ['leaf-b', ['RUN echo leaf']]]));
		const updates = vertexUpdates(parser.push(record({vertexes: [{digest: 'sha256:m', name: '[leaf-b 1/2] RUN   echo mid', started: '2026-01-01T00:00:01Z'}]})));
		expect(updates.map(update => update.vertex.owner)).toEqual(['mid']);
	});

	test('a single-target build has no prefixes: everything but the bake definitions is that target\'s', () => {
		const parser = new BakeProgressParser([{id: 'base', parent: null}]);
		parser.push(read('single-target.stderr'));
		const owners = new Map(parser.allVertices().map(vertex => [vertex.name, vertex.owner]));
		expect(owners.get('[internal] load local bake definitions')).toBeNull();
		expect(owners.get('[internal] load build definition from Dockerfile')).toBe('base');
		expect(owners.get('[1/3] FROM docker.io/local/busybox:stable')).toBe('base');
		expect(owners.get('exporting to image')).toBe('base');
		expect(owners.get('pushing 127.0.0.1:5000/stackwiz-capture/base:single with docker')).toBe('base');
	});

	test('names tell the kinds of vertices apart', () => {
		const parser = new BakeProgressParser(captureTree);
		parser.push(read('cold-push.stderr'));
		const kinds = new Map(parser.allVertices().map(vertex => [vertex.name, vertex.kind]));
		expect(Object.fromEntries(kinds)).toMatchObject({
			'[internal] load local bake definitions': 'internal',
			'[internal] load build definition from Dockerfile': 'internal',
			'[1/3] FROM docker.io/local/busybox:stable': 'from',
			'[2/3] COPY marker.txt /stackwiz/marker.txt': 'step',
			'exporting to image': 'export',
			'pushing 127.0.0.1:5000/stackwiz-capture/mid:capture with docker': 'push',
		});
	});

	test('clamps status bytes: current above total, and the final record without total', () => {
		const parser = new BakeProgressParser(captureTree);
		parser.push(record({vertexes: [{digest: 'sha256:p', name: '[base] pushing r/base:t with docker', started: 'x'}]}));
		parser.push(record({statuses: [{id: 'pushing layer e8968dda3a55', vertex: 'sha256:p', total: 1_048_581, current: 36_352}]}));
		parser.push(record({statuses: [{id: 'pushing layer e8968dda3a55', vertex: 'sha256:p', total: 1_048_581, current: 1_053_696}]}));
		expect(parser.statusesOf('sha256:p')).toEqual([{id: 'pushing layer e8968dda3a55', name: null, current: 1_048_581, total: 1_048_581, completed: false}]);
		parser.push(record({statuses: [{id: 'pushing layer e8968dda3a55', vertex: 'sha256:p', current: 0, completed: 'y'}]}));
		expect(parser.statusesOf('sha256:p')).toEqual([{id: 'pushing layer e8968dda3a55', name: null, current: 1_048_581, total: 1_048_581, completed: true}]);
	});

	test('decodes logs split anywhere, even inside a UTF-8 character', () => {
		const parser = new BakeProgressParser(captureTree);
		parser.push(record({vertexes: [{digest: 'sha256:l', name: '[mid 1/2] RUN x'}]}));
		const bytes = Buffer.from('größe 1\nzwei\ndr', 'utf8');
		const lines: string[] = [];
		const collect = (updates: ProgressUpdate[]) => lines.push(...updates.flatMap(update => (update.type === 'log' ? [update.line] : [])));
		collect(parser.push(record({logs: [{vertex: 'sha256:l', stream: 1, data: bytes.subarray(0, 3).toString('base64')}]})));
		collect(parser.push(record({logs: [{vertex: 'sha256:l', stream: 1, data: bytes.subarray(3).toString('base64')}]})));
		collect(parser.end());
		expect(lines).toEqual(['größe 1', 'zwei', 'dr']);
		expect(parser.logTail('mid')).toEqual(['größe 1', 'zwei', 'dr']);
	});

	test('keeps memory bounded: a tier\'s log tail holds the last 30 lines', () => {
		const parser = new BakeProgressParser(captureTree);
		parser.push(record({vertexes: [{digest: 'sha256:l', name: '[mid 1/2] RUN x'}]}));
		const text = Array.from({length: 10_000}, (_, index) => `line ${index}`).join('\n');
		parser.push(record({logs: [{vertex: 'sha256:l', stream: 1, data: Buffer.from(`${text}\n`).toString('base64')}]}));
		const tail = parser.logTail('mid');
		expect(tail).toHaveLength(30);
		expect(tail[0]).toBe('line 9970');
		expect(tail.at(-1)).toBe('line 9999');
	});
});

describe('dockerfileSteps', () => {
	test('lists the instructions that become steps, continuation lines joined', () => {
		expect(dockerfileSteps('# c\nFROM parent\nLABEL a="b"\nENV X="1"\nRUN echo a && \\\n    echo b\nCOPY x /y\n')).toEqual(['RUN echo a && echo b', 'COPY x /y']);
	});
});

describe('BakeTracker replaying real captures', () => {
	const framings = ['indented', 'oneline'] as const;

	test.each(framings)('cold push (%s): every tier building -> built -> pushing -> pushed', framing => {
		for (const chunk of [1 << 20, 4096, 97]) {
			const {events} = replay('cold-push', {framing, chunk});
			expect(sequences(events)).toEqual({base: pushedSequence('built'), mid: pushedSequence('built'), 'leaf-a': pushedSequence('built'), 'leaf-b': pushedSequence('built')});
		}
	});

	test('cold push: push progress counts bytes up to the total, never above', () => {
		const {events} = replay('cold-push');
		const pushes = events.filter((event): event is Extract<BuildEvent, {type: 'pushing'}> => event.type === 'pushing' && event.tier === 'base').map(event => event.bytes);
		expect(pushes.at(-1)).toEqual({current: 1_048_598, total: 1_048_598});
		expect(pushes.every(bytes => bytes === null || bytes.current <= bytes.total)).toBe(true);
	});

	test('cold push: the steps each tier shows are its own', () => {
		const {events} = replay('cold-push');
		const steps = events.flatMap(event => (event.type === 'building' ? [`${event.tier}: ${event.step} (${event.index}/${event.total})`] : []));
		expect(steps).toEqual([
			'base: COPY marker.txt /stackwiz/marker.txt (2/3)',
			'base: RUN echo "base: writing marker" && mkdir -p /stackwiz && echo base > /stackwiz/base && dd if=/dev/urandom of=/stackwiz/base.bin bs=1024 count=1024 && echo "base: done" (3/3)',
			'mid: RUN echo "mid: reading base marker" && cat /stackwiz/base && echo mid > /stackwiz/mid (1/2)',
			'base: exporting to image (null/null)',
			'leaf-b: RUN echo "leaf-b: building" && echo leaf-b > /stackwiz/leaf-b && ls /stackwiz (1/2)',
			'mid: exporting to image (null/null)',
			'leaf-a: RUN echo "leaf-a: building" && echo leaf-a > /stackwiz/leaf-a && ls /stackwiz (1/2)',
			'leaf-b: exporting to image (null/null)',
			'leaf-a: exporting to image (null/null)',
		]);
	});

	test.each(framings)('cached push (%s): every tier says cached, then is pushed', framing => {
		const {events} = replay('cached-push', {framing, chunk: 333});
		expect(sequences(events)).toEqual({base: pushedSequence('cached', false), mid: pushedSequence('cached', false), 'leaf-a': pushedSequence('cached', false), 'leaf-b': pushedSequence('cached', false)});
	});

	test.each(framings)('failure (%s): the failing tier is named with its log tail, lower tiers stay pushed, the rest are cancelled', framing => {
		const {events, tracker} = replay('failure', {framing, chunk: 211});
		const reason = 'process "/bin/sh -c echo \\"mid: line 1\\" && echo \\"mid: line 2\\" && echo \\"mid: about to fail\\" >&2 && sleep 1 && exit 3" did not complete successfully: exit code: 3';
		expect(events.filter(event => event.type === 'failed')).toEqual([{type: 'failed', time: 0, tier: 'mid', reason, logTail: ['mid: line 1', 'mid: line 2', 'mid: about to fail']}]);
		expect(events.filter(event => event.type === 'cancelled')).toEqual([
			{type: 'cancelled', time: 0, tier: 'leaf-a', reason: 'not built: mid failed'},
			{type: 'cancelled', time: 0, tier: 'leaf-b', reason: 'not built: mid failed'},
		]);
		expect(sequences(events)['base']).toEqual(['queued', 'building', 'cached', 'pushing', 'pushed']);
		expect(tracker.failures()).toEqual([{tier: 'mid', step: '[1/2] RUN echo "mid: line 1" && echo "mid: line 2" && echo "mid: about to fail" >&2 && sleep 1 && exit 3', reason, logTail: ['mid: line 1', 'mid: line 2', 'mid: about to fail']}]);
		expect(tracker.errorLines()).toEqual([`failed to solve: ${reason}`]);
	});

	test('failure: a step first reported under a child sends the child back to queued; with hints the child never looks busy', () => {
		expect(sequences(replay('failure').events)).toMatchObject({mid: ['queued', 'building', 'failed'], 'leaf-a': ['queued', 'building', 'queued', 'cancelled'], 'leaf-b': ['queued', 'cancelled']});
		expect(sequences(replay('failure', {steps: captureSteps('failure')}).events)).toMatchObject({mid: ['queued', 'building', 'failed'], 'leaf-a': ['queued', 'cancelled'], 'leaf-b': ['queued', 'cancelled']});
	});

	test.each(framings)('cancel (%s): an interrupted build cancels the unfinished tiers and fails none', framing => {
		const {events} = replay('cancel', {framing, interrupted: true, steps: captureSteps('cancel')});
		expect(events.filter(event => event.type === 'failed')).toEqual([]);
		expect(sequences(events)).toEqual({base: ['queued', 'cached', 'pushing', 'pushed'], mid: ['queued', 'building', 'cancelled'], 'leaf-a': ['queued', 'cancelled'], 'leaf-b': ['queued', 'cancelled']});
		expect(events.filter(event => event.type === 'cancelled').map(event => (event as {reason: string}).reason)).toEqual(['interrupted', 'interrupted', 'interrupted']);
	});

	test('cancel by someone else (not our abort): the tiers say the bake was cancelled', () => {
		const {events} = replay('cancel');
		expect(events.filter(event => event.type === 'cancelled').map(event => (event as {reason: string}).reason)).toEqual(['bake was cancelled', 'bake was cancelled', 'bake was cancelled']);
	});

	test.each(framings)('single target (%s): no prefixes, one tier built and pushed', framing => {
		const {events} = replay('single-target', {framing, targets: [{id: 'base', parent: null}]});
		expect(sequences(events)).toEqual({base: pushedSequence('built')});
		expect(events.filter(event => event.type === 'log').map(event => (event as {line: string}).line)).toEqual(['base: writing marker', '1024+0 records in', '1024+0 records out', 'base: done']);
	});

	test.each(framings)('load (%s): without push a tier is final once built or cached', framing => {
		const {events} = replay('load', {framing, push: false, targets: [{id: 'base', parent: null}, {id: 'mid', parent: 'base'}]});
		expect(sequences(events)).toEqual({base: ['queued', 'building', 'cached'], mid: ['queued', 'building', 'built']});
	});

	test('a BuildKit push inside "exporting to image" (docker-container driver): pushing, then pushed when the export ends', () => {
		const tracker = new BakeTracker({targets: [{id: 'base', parent: null}, {id: 'cuda', parent: 'base'}], push: true, now: () => 0});
		const lines = [
			{vertexes: [{digest: 'sha256:r', name: '[base 2/2] RUN make', started: 'a'}]},
			{vertexes: [{digest: 'sha256:r', name: '[base 2/2] RUN make', started: 'a', completed: 'b'}]},
			{vertexes: [{digest: 'sha256:e', name: '[base] exporting to image', started: 'c'}]},
			{statuses: [{id: 'exporting layers', vertex: 'sha256:e', current: 0, started: 'c', completed: 'd'}]},
			{statuses: [{id: 'pushing layers', vertex: 'sha256:e', current: 0, started: 'd'}]},
			{statuses: [{id: 'pushing manifest for r/base:t@sha256:abc', vertex: 'sha256:e', current: 0, started: 'e'}]},
			{vertexes: [{digest: 'sha256:e', name: '[base] exporting to image', started: 'c', completed: 'f'}]},
		];
		const events = [...tracker.start(), ...tracker.feed(lines.map(line => JSON.stringify(line)).join('\n') + '\n')];
		expect(events.filter(event => event.type !== 'queued')).toEqual([
			{type: 'building', time: 0, tier: 'base', step: 'RUN make', index: 2, total: 2, bytes: null},
			{type: 'building', time: 0, tier: 'base', step: 'exporting to image', index: null, total: null, bytes: null},
			{type: 'built', time: 0, tier: 'base'},
			{type: 'pushing', time: 0, tier: 'base', bytes: null},
			{type: 'pushed', time: 0, tier: 'base'},
		]);
	});

	test('WARNING lines and failed cache imports become warnings, not failures', () => {
		const tracker = new BakeTracker({targets: [{id: 'base', parent: null}], push: false, now: () => 5});
		const events = tracker.feed(`WARNING: No output specified with docker-container driver\n${JSON.stringify({vertexes: [{digest: 'sha256:c', name: 'importing cache manifest from r/cache:base', started: 'a', completed: 'b', error: 'failed to configure registry cache importer: r/cache:base: not found'}]})}\n`);
		expect(events).toEqual([
			{type: 'warning', time: 5, message: 'No output specified with docker-container driver'},
			{type: 'warning', time: 5, message: 'importing cache manifest from r/cache:base failed (ignored): failed to configure registry cache importer: r/cache:base: not found'},
		]);
		expect(tracker.finish({exitCode: 0, interrupted: false})).toEqual([{type: 'cached', time: 5, tier: 'base'}]);
	});

	test('a bake that fails before any tier reports one says so on every tier', () => {
		const tracker = new BakeTracker({targets: captureTree.slice(0, 2), push: true, now: () => 1});
		tracker.feed('ERROR: failed to find target nosuch\n');
		expect(tracker.finish({exitCode: 1, interrupted: false})).toEqual([
			{type: 'cancelled', time: 1, tier: 'base', reason: 'stopped: bake failed'},
			{type: 'cancelled', time: 1, tier: 'mid', reason: 'stopped: bake failed'},
		]);
		expect(tracker.errorLines()).toEqual(['failed to find target nosuch']);
	});
});
