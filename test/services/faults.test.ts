import {mkdir, readdir, readFile} from 'node:fs/promises';
import path from 'node:path';
import {describe, expect, test, vi} from 'vitest';
import type {BuildResult} from '../../source/core/build-events.js';
import {alive, e2eCatalogArgs, e2eRecipeFile, expectCompleteOutput, expectNoLeftovers, expectOneSentence, recipeWithRegistry, startCli, useScratchDirectories} from '../helpers/cli-process.js';
import {useFakeRegistries, type RegistryMode} from '../helpers/fake-registry.js';
import {closedPort, rawjsonDirectory} from './docker/fake-docker.js';

/**
 * `stackwiz --non-interactive` against faults, as a real process with a fake docker (test/fixtures/
 * bin-faults) and fake registries: each fault gives one sentence with its fix, its exit code, a
 * complete output directory (or the earlier one), no leftover process, and the same command without
 * the fault then succeeds. The real-engine faults are in test/e2e/faults.test.ts.
 */

const tiers = 7;
const startRegistry = useFakeRegistries();
const scratch = useScratchDirectories('stackwiz-faults-');

async function registry(mode: RegistryMode): Promise<string> {
	return (await startRegistry(mode)).host;
}

type Fault = {
	name: string;
	/** The recipe's registry host for the faulty run; a fake that answers is used otherwise. */
	registry?: () => Promise<string>;
	env?: Record<string, string>;
	/** PATH without any docker. */
	noDocker?: boolean;
	code: number;
	message: RegExp;
};

const faults: Fault[] = [
	{name: 'docker absent', noDocker: true, code: 2, message: /^stackwiz: docker was not found on PATH\.\nInstall Docker Engine/},
	{name: 'daemon down', env: {FAKE_DOCKER_DAEMON: 'down'}, code: 2, message: /^stackwiz: the Docker daemon is not reachable: Cannot connect to the Docker daemon at unix:\/\/\/var\/run\/docker\.sock\. Is the docker daemon running\?\nStart the daemon/},
	{name: 'buildx absent', env: {FAKE_BUILDX_VERSION: 'missing'}, code: 2, message: /^stackwiz: docker buildx is not installed\.\nInstall the buildx plugin/},
	{name: 'buildx too old', env: {FAKE_BUILDX_VERSION: 'github.com/docker/buildx v0.10.4 c513d34'}, code: 2, message: /^stackwiz: docker buildx 0\.10\.4 is too old: stackwiz needs 0\.12\.0 or newer for --progress=rawjson\.\nUpgrade the buildx plugin/},
	{name: 'registry unreachable', registry: async () => `127.0.0.1:${await closedPort()}`, code: 2, message: /^stackwiz: registry 127\.0\.0\.1:\d+ is not reachable \(ECONNREFUSED\)\.\nStart the registry or fix `registry:` in the recipe, or build without pushing with --no-push\./},
	{name: 'registry answering 500', registry: async () => registry('error'), code: 2, message: /^stackwiz: registry 127\.0\.0\.1:\d+ answered HTTP 500 at \/v2\/, so it does not look like a registry\.\n/},
	{name: 'registry wanting a login nobody gave (401)', registry: async () => registry('unauthorized'), env: {FAULT_IMAGETOOLS: 'unauthorized'}, code: 2, message: /^stackwiz: cannot read 127\.0\.0\.1:\d+\/e2e\/stackwiz\/base:busybox1\.36-[0-9a-f]{8} from its registry: unexpected status from HEAD request to .*: 401 Unauthorized\.\nLog in with `docker login`/},
	{name: 'registry that never answers', registry: async () => registry('silent'), code: 2, message: /^stackwiz: registry 127\.0\.0\.1:\d+ is not reachable \(no answer within 10 s\)\.\n/},
];

describe('faults before the build: exit 2, one sentence and the fix, complete files, nothing built', () => {
	test.each(faults)('$name', async fault => {
		const directory = await scratch();
		const out = path.join(directory, 'out');
		const pids = path.join(directory, 'pids');
		await mkdir(pids);
		// A unit test never depends on a registry of the machine: the faulty run and the fixed one push to fakes.
		const host = fault.registry ? await fault.registry() : await registry('ok');
		const recipe = await recipeWithRegistry(directory, `${host}/e2e`);
		const log = path.join(directory, 'docker.jsonl');
		const env = {FAULT_DOCKER_PIDS: pids, FAKE_DOCKER_LOG: log, FAKE_DOCKER_CAPTURE: path.join(rawjsonDirectory, 'cold-push'), ...fault.env};
		const run = await startCli(['--non-interactive', recipe, ...e2eCatalogArgs, '--out', out], {env, ...(fault.noDocker ? {path: directory} : {})}).done;
		expect(run.code, run.stderr).toBe(fault.code);
		expect(run.stdout).toBe('');
		expect(run.stderr).toMatch(fault.message);
		expectOneSentence(run.stderr);
		// Planning wrote the files before the docker checks; they are whole, and no build ran.
		await expectCompleteOutput(out, tiers);
		await expectNoLeftovers(directory);
		expect(await readdir(out)).not.toContain('build-result.json');
		const calls = (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean).map(line => (JSON.parse(line) as {args: string[]}).args.slice(0, 2).join(' '));
		expect(calls).not.toContain('buildx bake');
		for (const pid of await readdir(pids)) {
			expect(await alive(Number(pid)), `docker ${pid}`).toBe(false);
		}

		// Without the fault, the same command goes through.
		const fixed = await recipeWithRegistry(directory, `${await registry('ok')}/e2e`);
		const again = await startCli(['--non-interactive', fixed, ...e2eCatalogArgs, '--out', out], {env: {FAKE_DOCKER_CAPTURE: path.join(rawjsonDirectory, 'cold-push')}}).done;
		expect(again.code, again.stderr).toBe(0);
		expect((JSON.parse(await readFile(path.join(out, 'build-result.json'), 'utf8')) as BuildResult).outcome).toBe('ok');
	}, 40_000);
});

test('docker absent, but the registry has every tier: nothing to build, so nothing runs through Docker (exit 0)', async () => {
	const directory = await scratch();
	const out = path.join(directory, 'out');
	const recipe = await recipeWithRegistry(directory, `${await registry('full')}/e2e`);
	const run = await startCli(['--non-interactive', recipe, ...e2eCatalogArgs, '--out', out], {path: directory}).done;
	expect(run.code, run.stderr).toBe(0);
	const lines = run.stderr.trim().split('\n');
	expect(lines[0]).toMatch(/^stackwiz: 7 tiers, all already in 127\.0\.0\.1:\d+\/e2e: nothing to build$/);
	expect(lines.slice(1)).toHaveLength(tiers);
	const result = JSON.parse(await readFile(path.join(out, 'build-result.json'), 'utf8')) as BuildResult;
	expect(result.outcome).toBe('ok');
	expect(result.tiers.map(tier => tier.state)).toEqual(Array.from({length: tiers}, () => 'reused'));
	await expectCompleteOutput(out, tiers);
});

describe('faults during the build', () => {
	test('a tier failing: exit 1, the failed step and its reason in one sentence and the fix; the result says failed', async () => {
		const directory = await scratch();
		const out = path.join(directory, 'out');
		const run = await startCli(['--non-interactive', e2eRecipeFile, ...e2eCatalogArgs, '--out', out, '--no-push'], {env: {FAKE_DOCKER_CAPTURE: path.join(rawjsonDirectory, 'failure')}}).done;
		expect(run.code).toBe(1);
		// The capture comes from another tree, so the failed step is bake's own error line here (test/e2e/failure.test.ts has the real one).
		expect(run.stderr).toMatch(/^stackwiz: docker buildx bake failed: failed to solve: process "\/bin\/sh -c .+" did not complete successfully: exit code: 3; no tier finished\.\nRun it yourself to see its full output: cd \S+ && docker buildx bake -f docker-bake\.json\n$/m);
		expect((JSON.parse(await readFile(path.join(out, 'build-result.json'), 'utf8')) as BuildResult).outcome).toBe('failed');
		await expectCompleteOutput(out, tiers);
		await expectNoLeftovers(directory);

		const again = await startCli(['--non-interactive', e2eRecipeFile, ...e2eCatalogArgs, '--out', out, '--no-push'], {env: {FAKE_DOCKER_CAPTURE: path.join(rawjsonDirectory, 'load')}}).done;
		expect(again.code).toBe(0);
		expect((JSON.parse(await readFile(path.join(out, 'build-result.json'), 'utf8')) as BuildResult).outcome).toBe('ok');
	}, 30_000);

	test('bake killed from outside: exit 1, "was killed by SIGKILL", no docker process left, the result says failed', async () => {
		const directory = await scratch();
		const out = path.join(directory, 'out');
		const pids = path.join(directory, 'pids');
		await mkdir(pids);
		const running = startCli(['--non-interactive', e2eRecipeFile, ...e2eCatalogArgs, '--out', out, '--no-push'], {env: {FAKE_DOCKER_CAPTURE: path.join(rawjsonDirectory, 'cancel'), FAKE_DOCKER_HOLD: 'cancel', FAULT_DOCKER_PIDS: pids}});
		await vi.waitFor(() => {
			expect(running.output.stderr).toMatch(/^apps-demo1-0-pytorch2-4-1 +queued/m);
		}, {timeout: 15_000});
		// The one docker process still running is bake (the preflight ones have exited).
		const bake = await vi.waitFor(async () => {
			const live = [];
			for (const pid of await readdir(pids)) {
				if (await alive(Number(pid))) {
					live.push(Number(pid));
				}
			}

			expect(live).toHaveLength(1);
			return live[0]!;
		}, {timeout: 5000});
		process.kill(bake, 'SIGKILL');
		const run = await running.done;
		expect(run.code).toBe(1);
		expect(run.stderr).toContain('stackwiz: docker buildx bake was killed by SIGKILL; no tier finished.\nRun the same command again: finished steps come from the build cache.\n');
		expect((JSON.parse(await readFile(path.join(out, 'build-result.json'), 'utf8')) as BuildResult).outcome).toBe('failed');
		for (const pid of await readdir(pids)) {
			expect(await alive(Number(pid))).toBe(false);
		}

		const again = await startCli(['--non-interactive', e2eRecipeFile, ...e2eCatalogArgs, '--out', out, '--no-push'], {env: {FAKE_DOCKER_CAPTURE: path.join(rawjsonDirectory, 'load')}}).done;
		expect(again.code).toBe(0);
	}, 30_000);
});
