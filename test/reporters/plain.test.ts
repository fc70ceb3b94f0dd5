import {describe, expect, test} from 'vitest';
import type {BuildEvent, BuildResult, TierInfo} from '../../source/core/build-events.js';
import {jsonReporter} from '../../source/reporters/json.js';
import {formatBytes, formatDuration, formatSummary, plainReporter} from '../../source/reporters/plain.js';

const tiers: TierInfo[] = [
	{id: 'base', tier: 'base', parent: null, tag: 'r/e2e/stackwiz/base:1', image: null, images: ['a', 'b']},
	{id: 'fw', tier: 'framework', parent: 'base', tag: 'r/e2e/stackwiz/framework:1', image: null, images: ['a', 'b']},
	{id: 'app-a', tier: 'apps', parent: 'fw', tag: 'r/e2e/stackwiz/apps:a', image: 'a', images: ['a']},
	{id: 'app-b', tier: 'apps', parent: 'fw', tag: 'r/e2e/stackwiz/apps:b', image: 'b', images: ['b']},
];

const result: BuildResult = {
	recipe: 'two',
	registry: 'r/e2e',
	push: true,
	outcome: 'failed',
	exitCode: 1,
	message: 'tier app-b failed',
	startedAt: '2026-11-22T00:00:00.000Z',
	durationMs: 4000,
	sizeKind: 'compressed',
	tiers: [
		{id: 'base', tier: 'base', parent: null, tag: 'r/e2e/stackwiz/base:1', image: null, state: 'reused', result: 'reused', pushed: false, digest: 'sha256:b', durationMs: null, size: 35_000_000, imageSize: 35_000_000, reason: null},
		{id: 'fw', tier: 'framework', parent: 'base', tag: 'r/e2e/stackwiz/framework:1', image: null, state: 'pushed', result: 'cached', pushed: true, digest: 'sha256:f', durationMs: 1200, size: 1_500_000_000, imageSize: 1_535_000_000, reason: null},
		{id: 'app-a', tier: 'apps', parent: 'fw', tag: 'r/e2e/stackwiz/apps:a', image: 'a', state: 'pushed', result: 'built', pushed: true, digest: 'sha256:a', durationMs: 65_000, size: 262_500, imageSize: 1_535_262_500, reason: null},
		{id: 'app-b', tier: 'apps', parent: 'fw', tag: 'r/e2e/stackwiz/apps:b', image: 'b', state: 'failed', result: null, pushed: false, digest: null, durationMs: 900, size: null, imageSize: null, reason: 'exit code: 3'},
	],
	images: [
		{name: 'a', tier: 'app-a', tag: 'r/e2e/stackwiz/apps:a', digest: 'sha256:a', size: 1_535_262_500},
		{name: 'b', tier: 'app-b', tag: 'r/e2e/stackwiz/apps:b', digest: null, size: null},
	],
	sharing: null,
	pulls: [],
};

function capture() {
	const out = {stdout: '', stderr: ''};
	return {out, io: {stdout: (text: string) => (out.stdout += text), stderr: (text: string) => (out.stderr += text)}};
}

describe('formatting', () => {
	test('bytes in decimal units, durations in seconds or minutes', () => {
		expect([0, 999, 1000, 262_500, 1_500_000, 3_535_000_000].map(bytes => formatBytes(bytes))).toEqual(['0 B', '999 B', '1.0 kB', '262.5 kB', '1.5 MB', '3.5 GB']);
		expect([0, 1234, 59_949, 65_000, 600_000].map(ms => formatDuration(ms))).toEqual(['0.0s', '1.2s', '59.9s', '1m05s', '10m00s']);
	});

	test('the summary: per tier state, size and time, then the images', () => {
		expect(formatSummary(result)).toBe(
			[
				'TIER   STATE           SIZE       TIME',
				'base   reused          35.0 MB    -',
				'fw     cached, pushed  1.5 GB     1.2s',
				'app-a  built, pushed   262.5 kB   1m05s',
				'app-b  failed          -          0.9s',
				'',
				'images',
				'  a  r/e2e/stackwiz/apps:a@sha256:a  1.5 GB',
				'  b  r/e2e/stackwiz/apps:b',
				'',
			].join('\n'),
		);
	});

	test('the summary says what the shared tiers saved and what a node holding the first image pulls', () => {
		const shared: BuildResult = {
			...result,
			sharing: {flatBytes: 7_470_000_000, storedBytes: 3_935_000_000, savedBytes: 3_535_000_000},
			pulls: [
				{have: 'a', want: 'b', bytes: 300_000_000, wantBytes: 3_835_000_000},
				{have: 'b', want: 'a', bytes: 100_000_000, wantBytes: 3_635_000_000},
			],
		};
		expect(formatSummary(shared).split('\n').slice(-3)).toEqual(['shared tiers: 2 images take 3.9 GB as tiers instead of 7.5 GB built flat (3.5 GB saved)', 'a node that holds a pulls 300.0 MB of 3.8 GB for b', '']);
	});
});

describe('plainReporter', () => {
	const events: BuildEvent[] = [
		{type: 'start', time: 0, tiers, push: true, registry: 'r/e2e', builder: 'default', driver: 'docker', buildx: '0.13.1+ds1'},
		{type: 'reused', time: 0, tier: 'base', digest: 'sha256:0123456789abcdef0123'},
		{type: 'queued', time: 0, tier: 'fw'},
		{type: 'queued', time: 0, tier: 'app-a'},
		{type: 'queued', time: 0, tier: 'app-b'},
		{type: 'building', time: 100, tier: 'fw', step: 'RUN pip install torch', index: 1, total: 2, bytes: null},
		{type: 'building', time: 200, tier: 'fw', step: 'RUN pip install torch', index: 1, total: 2, bytes: {current: 1, total: 2}},
		{type: 'log', time: 250, tier: 'fw', line: 'Collecting torch'},
		{type: 'built', time: 1300, tier: 'fw'},
		{type: 'pushing', time: 1400, tier: 'fw', bytes: null},
		{type: 'pushing', time: 1500, tier: 'fw', bytes: {current: 5, total: 10}},
		{type: 'warning', time: 1550, message: 'something odd'},
		{type: 'pushed', time: 2600, tier: 'fw'},
		{type: 'cached', time: 2700, tier: 'app-a'},
		{type: 'building', time: 2700, tier: 'app-b', step: 'RUN false', index: 1, total: 2, bytes: null},
		{type: 'failed', time: 3600, tier: 'app-b', reason: 'process "/bin/sh -c false" did not complete successfully: exit code: 1', logTail: ['one', 'two']},
		{type: 'cancelled', time: 3600, tier: 'app-a', reason: 'stopped: app-b failed (cached, not pushed)'},
		{type: 'finish', time: 4000, outcome: 'failed', message: 'tier app-b failed at [1/2] RUN false: exit code 1.\nFix it.', result},
	];

	test('one line per tier state change on stderr, the summary on stdout', () => {
		const {out, io} = capture();
		const reporter = plainReporter(io);
		for (const event of events) {
			reporter.event(event);
		}

		expect(out.stderr.split('\n')).toEqual([
			'stackwiz: 4 tiers with buildx 0.13.1+ds1, builder default (docker driver), pushing to r/e2e',
			'base   reused     from the registry (sha256:0123456789ab)',
			'fw     queued     r/e2e/stackwiz/framework:1',
			'app-a  queued     r/e2e/stackwiz/apps:a',
			'app-b  queued     r/e2e/stackwiz/apps:b',
			'fw     building   RUN pip install torch (1/2)',
			'fw     built      in 1.2s',
			'fw     pushing    to r/e2e/stackwiz/framework:1',
			'stackwiz: warning: something odd',
			'fw     pushed     in 2.5s',
			'app-a  cached     every step from the build cache',
			'app-b  building   RUN false (1/2)',
			'app-b  failed     process "/bin/sh -c false" did not complete successfully: exit code: 1',
			'    | one',
			'    | two',
			'app-a  cancelled  stopped: app-b failed (cached, not pushed)',
			'stackwiz: tier app-b failed at [1/2] RUN false: exit code 1.',
			'Fix it.',
			'',
		]);
		expect(out.stdout).toBe(formatSummary(result));
		expect(out.stderr).not.toContain('\u001B[');
	});

	test('every tier already in the registry: the first line says there is nothing to build', () => {
		const {out, io} = capture();
		const reporter = plainReporter(io);
		reporter.event({...events[0]!, builder: null, driver: null, buildx: null} as BuildEvent);
		expect(out.stderr).toBe('stackwiz: 4 tiers, all already in r/e2e: nothing to build\n');
	});

	test('--json: every event as one JSON line on stdout, nothing on stderr', () => {
		const {out, io} = capture();
		const reporter = jsonReporter(io);
		for (const event of events) {
			reporter.event(event);
		}

		const lines = out.stdout.trimEnd().split('\n');
		expect(lines.map(line => JSON.parse(line) as BuildEvent)).toEqual(events);
		expect(out.stderr).toBe('');
	});
});
