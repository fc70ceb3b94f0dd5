import {mkdtemp, readFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterEach, describe, expect, test, vi} from 'vitest';
import type {BakeTarget} from '../../../source/core/bake-progress.js';
import type {BuildEvent} from '../../../source/core/build-events.js';
import {runBake} from '../../../source/services/docker/bake-runner.js';
import {fakeDockerCalls, processRuns, rawjsonDirectory, useFakeDocker} from './fake-docker.js';

const captureTree: BakeTarget[] = [
	{id: 'base', parent: null},
	{id: 'mid', parent: 'base'},
	{id: 'leaf-a', parent: 'mid'},
	{id: 'leaf-b', parent: 'mid'},
];

afterEach(() => {
	vi.unstubAllEnvs();
});

async function setup(capture: string, settings: Record<string, string> = {}) {
	const directory = await mkdtemp(path.join(tmpdir(), 'stackwiz-bake-'));
	const log = path.join(directory, 'calls.jsonl');
	useFakeDocker({FAKE_DOCKER_CAPTURE: path.join(rawjsonDirectory, capture), FAKE_DOCKER_LOG: log, FAKE_DOCKER_CHUNK: '700', ...settings});
	const metadataFile = path.join(directory, 'bake-metadata.json');
	return {directory, log, metadataFile, args: ['buildx', 'bake', '-f', 'docker-bake.json', '--progress=rawjson', '--metadata-file', metadataFile, '--push']};
}

const types = (events: BuildEvent[], tier: string) => events.flatMap(event => ('tier' in event && event.tier === tier && event.type !== 'log' ? [event.type] : [])).filter((type, index, list) => type !== list[index - 1]);

describe('runBake against a fake docker replaying real captures', () => {
	test('cold push: streams every tier to pushed and reads the metadata file', async () => {
		const {directory, log, metadataFile, args} = await setup('cold-push');
		const events: BuildEvent[] = [];
		const result = await runBake({cwd: directory, args, metadataFile, targets: captureTree, push: true, env: {STACKWIZ_REGISTRY: '127.0.0.1:5000/x'}, signal: new AbortController().signal, onEvent: event => events.push(event)});
		expect(result).toMatchObject({exitCode: 0, interrupted: false, failures: [], errors: []});
		for (const tier of ['base', 'mid', 'leaf-a', 'leaf-b']) {
			expect(types(events, tier)).toEqual(['queued', 'building', 'built', 'pushing', 'pushed']);
		}

		expect(result.metadata?.get('base')).toEqual({
			digest: 'sha256:3c2ee63c537b0faa1a54bd88c5d3965467ff2957be8cc67ce8f762158428fd04',
			configDigest: 'sha256:f3484a73e8b8806264f9c5a6d2ea017e8b25850ed3a491744f9324b2793db5e7',
			imageName: '127.0.0.1:5000/stackwiz-capture/base:capture',
		});
		expect([...result.metadata!.keys()].sort()).toEqual(['base', 'leaf-a', 'leaf-b', 'mid']);
		expect(fakeDockerCalls(log)).toEqual([{args, cwd: directory, registry: '127.0.0.1:5000/x'}]);
	});

	test('failure: exit code 1, the failing tier with its log tail, no metadata', async () => {
		const {directory, metadataFile, args} = await setup('failure', {FAKE_DOCKER_FRAMING: 'oneline'});
		const events: BuildEvent[] = [];
		const result = await runBake({cwd: directory, args, metadataFile, targets: captureTree, push: true, signal: new AbortController().signal, onEvent: event => events.push(event)});
		expect(result.exitCode).toBe(1);
		expect(result.interrupted).toBe(false);
		expect(result.metadata).toBeNull();
		expect(result.failures.map(failure => [failure.tier, failure.logTail])).toEqual([['mid', ['mid: line 1', 'mid: line 2', 'mid: about to fail']]]);
		expect(types(events, 'base')).toEqual(['queued', 'building', 'cached', 'pushing', 'pushed']);
		expect(types(events, 'leaf-b')).toEqual(['queued', 'cancelled']);
	});

	test('abort: SIGINT reaches bake, every unfinished tier is cancelled, none failed', async () => {
		const {directory, metadataFile, args} = await setup('cancel', {FAKE_DOCKER_HOLD: 'cancel'});
		const events: BuildEvent[] = [];
		const controller = new AbortController();
		const running = runBake({cwd: directory, args, metadataFile, targets: captureTree, push: true, signal: controller.signal, onEvent: event => events.push(event)});
		await vi.waitFor(() => {
			expect(events.some(event => event.type === 'pushed' && event.tier === 'base')).toBe(true);
		}, {timeout: 10_000});
		const abortedAt = Date.now();
		controller.abort();
		const result = await running;
		expect(Date.now() - abortedAt).toBeLessThan(1500);
		expect(result).toMatchObject({exitCode: 1, interrupted: true, metadata: null, failures: []});
		expect(events.filter(event => event.type === 'cancelled')).toEqual([
			{type: 'cancelled', time: expect.any(Number), tier: 'mid', reason: 'interrupted'},
			{type: 'cancelled', time: expect.any(Number), tier: 'leaf-a', reason: 'interrupted'},
			{type: 'cancelled', time: expect.any(Number), tier: 'leaf-b', reason: 'interrupted'},
		]);
		expect(result.errors).toEqual(['failed to solve: Canceled: context canceled']);
	});

	test('abort: a bake that ignores SIGINT is killed with its whole process group', async () => {
		const {directory, metadataFile, args} = await setup('cancel', {FAKE_DOCKER_HOLD: 'stubborn'});
		const childPidFile = path.join(directory, 'child.pid');
		vi.stubEnv('FAKE_DOCKER_CHILD_PID', childPidFile);
		const controller = new AbortController();
		const running = runBake({cwd: directory, args, metadataFile, targets: captureTree, push: true, signal: controller.signal, onEvent() {}, killAfterMs: 300});
		const child = await vi.waitFor(async () => Number(await readFile(childPidFile, 'utf8')), {timeout: 10_000});
		expect(processRuns(child)).toBe(true);
		controller.abort();
		const result = await running;
		expect(result.interrupted).toBe(true);
		await vi.waitFor(() => {
			expect(processRuns(child)).toBe(false);
		});
	});

	test('an abort before the start runs nothing', async () => {
		const {directory, log, metadataFile, args} = await setup('cold-push');
		const controller = new AbortController();
		controller.abort();
		const events: BuildEvent[] = [];
		const result = await runBake({cwd: directory, args, metadataFile, targets: captureTree.slice(0, 1), push: true, signal: controller.signal, onEvent: event => events.push(event)});
		expect(result).toMatchObject({exitCode: 130, interrupted: true});
		expect(events.map(event => event.type)).toEqual(['queued', 'cancelled']);
		expect(fakeDockerCalls(log)).toEqual([]);
	});
});
