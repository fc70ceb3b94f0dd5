import {execFileSync, spawnSync} from 'node:child_process';
import {mkdir, readdir, readFile, rm, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {afterAll, beforeAll, describe, expect, test, vi} from 'vitest';
import {descendants, expectCompleteOutput, expectNoLeftovers, expectOneSentence} from '../helpers/cli-process.js';
import {catalogCopy, cleanUpRun, processesRunning, processesUsing, readResult, recipeCopy, registryDigest, registryHost, requireEngine, stackwiz, startStackwiz, temporaryDirectory, uniqueRun} from './engine.js';
import {startRegistryProxy, type RegistryProxy} from './registry-proxy.js';

/**
 * Faults on a real engine: the registry vanishing in the middle of the pushes, bake's buildx process
 * killed from outside, and a disk that is really full (a small tmpfs). Each: one clear sentence, the
 * right exit code, nothing half-written, and a re-run that recovers from the cache and the registry.
 */
const {runId, registry} = uniqueRun('faults');
let directory: string;
const proxies: RegistryProxy[] = [];

beforeAll(async () => {
	await requireEngine();
	directory = await temporaryDirectory('faults');
});

afterAll(async () => {
	await cleanUpRun({runId, registries: [registry], directory, proxies});
});

/** The registry's digest of a tag pushed through a proxy (same repositories, other host). */
async function digestBehind(proxy: RegistryProxy, tag: string): Promise<string | null> {
	return registryDigest(tag.replace(proxy.host, registryHost));
}

describe('the registry vanishing mid-push', () => {
	test('exit 1 with one sentence; the tiers pushed before stay; a re-run reuses them and pushes the rest', async () => {
		const proxy = await startRegistryProxy({vanishAfter: (method, url) => method === 'PUT' && url.includes('/manifests/')});
		proxies.push(proxy);
		const work = path.join(directory, 'vanish');
		const catalog = await catalogCopy(work, `${runId}-vanish`);
		const recipe = await recipeCopy(work, `${proxy.host}/e2e-${runId}`, 'vanish');
		const out = path.join(work, 'out');
		const run = await stackwiz(['--non-interactive', recipe, '--catalog', catalog, '--no-bundled', '--out', out]);
		console.log(`e2e faults: vanish run ${run.ms} ms\n${run.stderr}`);
		expect(run.code).toBe(1);
		expectOneSentence(run.stderr);
		const failed = await readResult(out);
		expect(failed.outcome).toBe('failed');
		const pushed = failed.tiers.filter(tier => tier.state === 'pushed');
		expect(pushed.length).toBeGreaterThanOrEqual(1);
		expect(run.stderr).toMatch(new RegExp(`^stackwiz: pushing to ${proxy.host} failed: .*connection refused.*; finished and pushed: ${pushed.map(tier => tier.id).join(', ')}\\.\nCheck the registry \\(and \`docker login ${proxy.host}\`\\), then run the same command again: pushed tiers are reused, the rest come from the build cache\\.$`, 'm'));
		for (const tier of pushed) {
			// In the registry; the result has no digest for it, as the registry could not be asked afterwards.
			expect(await digestBehind(proxy, tier.tag), tier.id).not.toBeNull();
		}

		expect(failed.tiers.filter(tier => tier.state !== 'pushed').length).toBeGreaterThanOrEqual(1);
		expect(await processesUsing(out)).toEqual([]);

		await proxy.revive();
		const rerun = await stackwiz(['--non-interactive', recipe, '--catalog', catalog, '--no-bundled', '--out', out]);
		console.log(`e2e faults: re-run after the registry came back ${rerun.ms} ms`);
		expect(rerun.code, rerun.stderr).toBe(0);
		const result = await readResult(out);
		for (const tier of result.tiers) {
			expect(['pushed', 'reused'], tier.id).toContain(tier.state);
			expect(await digestBehind(proxy, tier.tag), tier.id).not.toBeNull();
			if (pushed.some(before => before.id === tier.id)) {
				expect(tier.state, tier.id).toBe('reused');
			}
		}
	});
});

describe('bake killed from outside', () => {
	test('SIGKILL to the buildx process mid-build: exit 1, one sentence, no build container left; a re-run builds from the cache', async () => {
		const seconds = 40 + Math.floor(Math.random() * 50);
		const work = path.join(directory, 'killed');
		const sleepy = await catalogCopy(work, `${runId}-killed`, (_version, install) => install.replace('> /stackwiz/apps', `> /stackwiz/apps && sleep ${seconds}`));
		const recipe = await recipeCopy(work, registry, 'killed');
		const out = path.join(work, 'out');
		const running = startStackwiz(['--non-interactive', recipe, '--catalog', sleepy, '--no-bundled', '--out', out]);
		await vi.waitFor(async () => {
			expect(await processesRunning(`sleep ${seconds}`)).toHaveLength(2);
		}, {timeout: 90_000, interval: 200});
		// The buildx plugin the docker CLI started for bake: a descendant of this stackwiz, found by pid.
		const plugin = [];
		for (const pid of await descendants(running.pid)) {
			const commandLine = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
			if (commandLine[0]?.endsWith('docker-buildx') && commandLine.includes('bake')) {
				plugin.push(pid);
			}
		}

		expect(plugin).toHaveLength(1);
		process.kill(plugin[0]!, 'SIGKILL');
		const run = await running.done;
		console.log(`e2e faults: killed bake\n${run.stderr.split('\n').filter(line => line.startsWith('stackwiz')).join('\n')}`);
		expect(run.code).toBe(1);
		expect(run.stderr).toMatch(/^stackwiz: docker buildx bake (was killed by SIGKILL|stopped without an error message \(exit code 255: its buildx process was killed or crashed\)); finished and pushed: .+\.\nRun the same command again: finished steps come from the build cache and pushed tiers from the registry\.$/m);
		expect((await readResult(out)).outcome).toBe('failed');
		expect(await processesUsing(out)).toEqual([]);
		// BuildKit cancels the solve when its client goes: the build containers stop too.
		await vi.waitFor(async () => {
			expect(await processesRunning(`sleep ${seconds}`)).toEqual([]);
		}, {timeout: 20_000, interval: 200});

		const quick = await catalogCopy(path.join(work, 'quick'), `${runId}-killed`);
		const rerun = await stackwiz(['--non-interactive', recipe, '--catalog', quick, '--no-bundled', '--out', out]);
		expect(rerun.code, rerun.stderr).toBe(0);
		const result = await readResult(out);
		for (const tier of result.tiers.filter(entry => !entry.id.startsWith('apps-'))) {
			expect(['reused', 'cached'], tier.id).toContain(tier.result);
		}
	});
});

describe('a really full disk (a 1 MiB tmpfs)', () => {
	let mount: string | undefined;

	beforeAll(async () => {
		const target = path.join(directory, 'small');
		await mkdir(target);
		if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', target]).status === 0) {
			mount = target;
		}
	});

	afterAll(() => {
		if (mount) {
			execFileSync('umount', [mount]);
		}
	});

	test('ENOSPC writing the output: exit 2, one sentence, the earlier output intact; after freeing space a re-run writes it', async context => {
		if (!mount) {
			context.skip('mounting a tmpfs needs root');
			return;
		}

		const out = path.join(mount, 'out');
		const e2e = ['--catalog', path.resolve('test/fixtures/catalog-e2e'), '--no-bundled'];
		const first = await stackwiz(['--non-interactive', path.resolve('test/fixtures/recipes/e2e-two-images.yaml'), ...e2e, '--out', out, '--dry-run']);
		expect(first.code).toBe(0);
		const before = await readFile(path.join(out, 'docker-bake.json'), 'utf8');
		// Fill the disk, then ask for a different output (another registry changes every file).
		spawnSync('dd', ['if=/dev/zero', `of=${path.join(mount, 'filler')}`, 'bs=4k'], {stdio: 'ignore'});
		const other = path.join(directory, 'other.yaml');
		await writeFile(other, (await readFile('test/fixtures/recipes/e2e-two-images.yaml', 'utf8')).replace(/^registry: .*$/m, 'registry: 127.0.0.1:5000/e2e-other'));
		const full = await stackwiz(['--non-interactive', other, ...e2e, '--out', out, '--dry-run']);
		expect(full.code).toBe(2);
		expect(full.stderr).toBe(`stackwiz: cannot write ${out} (ENOSPC: the disk is full); nothing was changed there.\nFree some disk space and run again.\n`);
		expect(await readFile(path.join(out, 'docker-bake.json'), 'utf8')).toBe(before);
		await expectCompleteOutput(out, 7);
		expect((await readdir(mount)).sort()).toEqual(['filler', 'out']);

		await rm(path.join(mount, 'filler'));
		const again = await stackwiz(['--non-interactive', other, ...e2e, '--out', out, '--dry-run']);
		expect(again.code).toBe(0);
		expect(await readFile(path.join(out, 'docker-bake.json'), 'utf8')).toContain('127.0.0.1:5000/e2e-other');
		await expectNoLeftovers(mount);
	});
});
