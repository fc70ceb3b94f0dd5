import {execFileSync} from 'node:child_process';
import {cp, mkdir, readdir, readFile} from 'node:fs/promises';
import path from 'node:path';
import {describe, expect, test, vi} from 'vitest';
import type {BuildResult} from '../../source/core/build-events.js';
import {alive, descendants, e2eCatalogArgs, e2eRecipeFile, expectCompleteOutput, expectNoLeftovers, recipeWithRegistry, startCli, useScratchDirectories, type Started} from '../helpers/cli-process.js';
import {useFakeRegistries} from '../helpers/fake-registry.js';
import {rawjsonDirectory} from './docker/fake-docker.js';

/**
 * SIGINT and SIGTERM in each phase of `stackwiz --non-interactive`, as a real process with the fault
 * docker (test/fixtures/bin-faults): exit 130, a line saying what was kept, no process of its own left
 * (the process table is read before and after), and an output directory that is complete or absent.
 * Building and pushing on a real engine, and the wizard, are in test/e2e/signals.test.ts.
 */

const signals = ['SIGINT', 'SIGTERM'] as const;
const startRegistry = useFakeRegistries();
const scratch = useScratchDirectories('stackwiz-signals-');

/** Signals `running` once `ready` holds, then checks that it and everything it started are gone. */
async function interrupt(running: Started, signal: NodeJS.Signals, ready: () => Promise<void> | void) {
	await vi.waitFor(ready, {timeout: 15_000, interval: 50});
	const children = await descendants(running.pid);
	const sent = Date.now();
	running.kill(signal);
	const run = await running.done;
	const stopMs = Date.now() - sent;
	for (const pid of children) {
		expect(await alive(pid), `child ${pid} outlived stackwiz`).toBe(false);
	}

	return {...run, stopMs, children};
}

describe.each(signals)('%s', signal => {
	test('while resolving (a catalog file that blocks on read): ended by the signal after the 3 s grace, nothing written', async () => {
		const directory = await scratch();
		const catalog = path.join(directory, 'catalog');
		await cp('test/fixtures/catalog-e2e', catalog, {recursive: true});
		// A FIFO with no writer: opening it blocks, as a catalog on a hung network mount does.
		execFileSync('mkfifo', [path.join(catalog, 'zz-blocked.yaml')]);
		const out = path.join(directory, 'out');
		const running = startCli(['--non-interactive', e2eRecipeFile, '--catalog', catalog, '--no-bundled', '--out', out]);
		const started = Date.now();
		const run = await interrupt(running, signal, async () => {
			// Blocked in open() of the FIFO: a thread of the process waits for a writer (wchan wait_for_partner).
			const wchan = await Promise.all((await readdir(`/proc/${running.pid}/task`)).map(async task => readFile(`/proc/${running.pid}/task/${task}/wchan`, 'utf8').catch(() => '')));
			const unsupported = wchan.every(value => value === '' || value === '0');
			expect(wchan.includes('wait_for_partner') || (unsupported && Date.now() - started > 2000)).toBe(true);
		});
		// The blocked read never returns, so after 3 s stackwiz ends itself with the signal's default action.
		expect(run.signal).toBe(signal);
		expect(run.stopMs).toBeGreaterThan(2500);
		expect(run.stopMs).toBeLessThan(4500);
		expect(run.stderr).toBe(`stackwiz: interrupted (still running 3 s after ${signal}).\n`);
		expect(await readdir(directory)).toEqual(['catalog']);
	}, 30_000);

	test('while checking docker (a daemon that hangs): exit 130 at once, the hung docker process is gone', async () => {
		const directory = await scratch();
		const out = path.join(directory, 'out');
		const pids = path.join(directory, 'pids');
		await mkdir(pids);
		// A registry that has none of the tiers, so the build needs Docker.
		const empty = await startRegistry('ok');
		const recipe = await recipeWithRegistry(directory, `${empty.host}/e2e`);
		const running = startCli(['--non-interactive', recipe, ...e2eCatalogArgs, '--out', out], {env: {FAULT_DOCKER_HANG: 'version', FAULT_DOCKER_PIDS: pids}});
		// The preflight starts its three docker calls at once; `docker version` is the one that hangs.
		const run = await interrupt(running, signal, async () => {
			expect(await readdir(pids)).toHaveLength(3);
		});
		expect(run.code).toBe(130);
		expect(run.stopMs).toBeLessThan(2500);
		expect(run.stderr).toBe('stackwiz: interrupted before the build started; nothing was built.\n');
		for (const pid of await readdir(pids)) {
			expect(await alive(Number(pid))).toBe(false);
		}

		await expectCompleteOutput(out, 7);
		await expectNoLeftovers(directory);
	}, 30_000);

	test('while asking the registry (one that never answers): exit 130 at once', async () => {
		const directory = await scratch();
		const silent = await startRegistry('silent');
		const recipe = await recipeWithRegistry(directory, `${silent.host}/e2e`);
		const out = path.join(directory, 'out');
		const running = startCli(['--non-interactive', recipe, ...e2eCatalogArgs, '--out', out]);
		const run = await interrupt(running, signal, () => {
			expect(silent.requests).toContain('GET /v2/');
		});
		expect(run.code, run.stderr).toBe(130);
		expect(run.stopMs).toBeLessThan(2500);
		expect(run.stderr).toBe('stackwiz: interrupted before the build started; nothing was built.\n');
		await expectCompleteOutput(out, 7);
	}, 30_000);

	test('while building, with a bake that ignores SIGINT: its whole process group is killed, exit 130', async () => {
		const directory = await scratch();
		const out = path.join(directory, 'out');
		const childPidFile = path.join(directory, 'bake-child.pid');
		const running = startCli(['--non-interactive', e2eRecipeFile, ...e2eCatalogArgs, '--out', out, '--no-push'], {env: {FAKE_DOCKER_CAPTURE: path.join(rawjsonDirectory, 'cancel'), FAKE_DOCKER_HOLD: 'stubborn', FAKE_DOCKER_CHILD_PID: childPidFile}});
		const run = await interrupt(running, signal, async () => {
			expect(running.output.stderr).toMatch(/^apps-demo1-0-pytorch2-4-1 +queued/m);
			expect(await readFile(childPidFile, 'utf8')).toMatch(/^\d+$/);
		});
		// bake's group, including the child it started, is in the process table before and not after.
		expect(run.children.length).toBeGreaterThanOrEqual(1);
		expect(await alive(Number(await readFile(childPidFile, 'utf8')))).toBe(false);
		expect(run.code).toBe(130);
		expect(run.stopMs).toBeLessThan(3000);
		expect(run.stderr).toContain('stackwiz: interrupted; no tier finished.\n');
		expect((JSON.parse(await readFile(path.join(out, 'build-result.json'), 'utf8')) as BuildResult).outcome).toBe('cancelled');
	}, 30_000);
});

test('a signal during start-up is an interruption too: exit 130, never a crash or a half-written output', async () => {
	// Signals at random moments of a dry run: whatever phase each one lands in, the output is complete or absent.
	const directory = await scratch();
	for (let attempt = 0; attempt < 8; attempt++) {
		const out = path.join(directory, `out-${attempt}`);
		const running = startCli(['--non-interactive', e2eRecipeFile, ...e2eCatalogArgs, '--out', out, '--dry-run']);
		await new Promise(resolve => {
			setTimeout(resolve, attempt * 60);
		});
		running.kill(attempt % 2 === 0 ? 'SIGINT' : 'SIGTERM');
		const run = await running.done;
		// Done (0), stopped (130), or, before the handlers are installed, ended by the signal itself.
		expect(run.code === 0 || run.code === 130 || run.signal === (attempt % 2 === 0 ? 'SIGINT' : 'SIGTERM'), JSON.stringify(run)).toBe(true);
		expect(run.stderr).not.toMatch(/^\s+at /m);
		const written = (await readdir(directory)).includes(`out-${attempt}`);
		if (written) {
			await expectCompleteOutput(out, 7);
		}

		await expectNoLeftovers(directory);
	}
}, 60_000);

test('a recipe with registry none also stops cleanly (no registry phase)', async () => {
	const directory = await scratch();
	const recipe = await recipeWithRegistry(directory, null);
	const pids = path.join(directory, 'pids');
	await mkdir(pids);
	const running = startCli(['--non-interactive', recipe, ...e2eCatalogArgs, '--out', path.join(directory, 'out')], {env: {FAULT_DOCKER_HANG: 'version', FAULT_DOCKER_PIDS: pids}});
	await vi.waitFor(async () => {
		expect(await readdir(pids)).toHaveLength(3);
	}, {timeout: 15_000});
	running.kill('SIGINT');
	expect((await running.done).code).toBe(130);
}, 30_000);
