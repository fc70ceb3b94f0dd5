import {spawnSync} from 'node:child_process';
import {existsSync} from 'node:fs';
import {mkdtemp, readFile, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, beforeAll, describe, expect, test, vi} from 'vitest';
import {alive, descendants} from '../helpers/cli-process.js';
import {catalogCopy, cleanUpRun, processesRunning, processesUsing, readResult, recipeCopy, registryDigest, registryHost, requireEngine, type Running, stackwiz, startStackwiz, temporaryDirectory, uniqueRun} from './engine.js';
import {startRegistryProxy, type RegistryProxy} from './registry-proxy.js';

/**
 * SIGINT and SIGTERM on a real engine: mid-build (the build containers running), mid-push (a registry
 * that stops answering while tiers are pushed), and in the wizard on a real terminal. Each: exit 130
 * (or, where stackwiz has to end itself, death by that signal: 130/143 to the shell), no process left
 * (the process table is read before and after), and the terminal as it was. The non-interactive
 * phases before the build (resolving, writing, preflight, registry look-ups) are covered with a fake
 * docker in test/services/signals.test.ts.
 */
const {runId, registry} = uniqueRun('signals');
let directory: string;
const proxies: RegistryProxy[] = [];

beforeAll(async () => {
	await requireEngine();
	directory = await temporaryDirectory('signals');
});

afterAll(async () => {
	await cleanUpRun({runId, registries: [registry, `${registry}-wizard`], directory, proxies});
});

/** Sends `signal` and returns the run, how long it took to stop, and the processes it had started. */
async function interrupt(running: Running, signal: NodeJS.Signals) {
	const children = await descendants(running.pid);
	const sent = Date.now();
	running.signal(signal);
	const run = await running.done;
	return {...run, stopMs: Date.now() - sent, children};
}

async function expectGone(pids: number[]): Promise<void> {
	for (const pid of pids) {
		expect(await alive(pid), `process ${pid} outlived stackwiz`).toBe(false);
	}
}

describe('building', () => {
	test('SIGTERM while the build containers run: exit 130 at once, bake and its containers stopped, the result says cancelled', async () => {
		const seconds = 40 + Math.floor(Math.random() * 50);
		const work = path.join(directory, 'term');
		const sleepy = await catalogCopy(work, `${runId}-term`, (_version, install) => install.replace('> /stackwiz/apps', `> /stackwiz/apps && sleep ${seconds}`));
		const recipe = await recipeCopy(work, registry, 'term');
		const out = path.join(work, 'out');
		const running = startStackwiz(['--non-interactive', recipe, '--catalog', sleepy, '--no-bundled', '--out', out]);
		await vi.waitFor(async () => {
			expect(await processesRunning(`sleep ${seconds}`)).toHaveLength(2);
		}, {timeout: 90_000, interval: 100});
		const run = await interrupt(running, 'SIGTERM');
		console.log(`e2e signals: stopped ${run.stopMs} ms after SIGTERM`);
		expect(run.code).toBe(130);
		expect(run.stopMs).toBeLessThan(2500);
		expect(run.children.length).toBeGreaterThanOrEqual(2);
		await expectGone(run.children);
		expect(await processesUsing(out)).toEqual([]);
		expect(run.stderr).toContain('stackwiz: interrupted; finished and pushed: ');
		expect((await readResult(out)).outcome).toBe('cancelled');
		await vi.waitFor(async () => {
			expect(await processesRunning(`sleep ${seconds}`)).toEqual([]);
		}, {timeout: 10_000, interval: 100});
	});
});

describe('pushing', () => {
	test.each(['SIGINT', 'SIGTERM'] as const)('%s while a push hangs on a registry that stopped answering: exit 130, nothing left; a re-run finishes', async signal => {
		let stalledAt = 0;
		const proxy: RegistryProxy = await startRegistryProxy({
			vanishAfter(method, url) {
				// The first tier's manifest goes through; after it the registry hangs.
				if (method === 'PUT' && url.includes('/manifests/') && stalledAt === 0) {
					proxy.stall();
					stalledAt = proxy.requests.length;
				}

				return false;
			},
		});
		proxies.push(proxy);
		const work = path.join(directory, `push-${signal}`);
		const catalog = await catalogCopy(work, `${runId}-${signal}`);
		const recipe = await recipeCopy(work, `${proxy.host}/e2e-${runId}`, `push-${signal}`);
		const out = path.join(work, 'out');
		const running = startStackwiz(['--non-interactive', recipe, '--catalog', catalog, '--no-bundled', '--out', out]);
		// A push is under way and waiting on the stalled registry.
		await vi.waitFor(() => {
			expect(stalledAt).toBeGreaterThan(0);
			expect(proxy.requests.length).toBeGreaterThan(stalledAt);
			expect(running.output.stderr).toMatch(/ pushing /);
		}, {timeout: 90_000, interval: 100});
		const run = await interrupt(running, signal);
		console.log(`e2e signals: stopped ${run.stopMs} ms after ${signal} mid-push`);
		expect(run.code).toBe(130);
		expect(run.stopMs).toBeLessThan(3000);
		await expectGone(run.children);
		expect(await processesUsing(out)).toEqual([]);
		expect(run.stderr).toMatch(/^stackwiz: interrupted; finished and pushed: [a-z0-9-]+(, [a-z0-9-]+)*\.$/m);
		const cancelled = await readResult(out);
		expect(cancelled.outcome).toBe('cancelled');
		const pushed = cancelled.tiers.filter(tier => tier.state === 'pushed').map(tier => tier.id);
		expect(pushed.length).toBeGreaterThanOrEqual(1);

		await proxy.vanish();
		await proxy.revive();
		const rerun = await stackwiz(['--non-interactive', recipe, '--catalog', catalog, '--no-bundled', '--out', out]);
		expect(rerun.code, rerun.stderr).toBe(0);
		const result = await readResult(out);
		for (const tier of result.tiers) {
			expect(tier.state, tier.id).toBe(pushed.includes(tier.id) ? 'reused' : 'pushed');
			expect(await registryDigest(tier.tag.replace(proxy.host, registryHost)), tier.id).not.toBeNull();
		}
	});
});

const tmuxVersion = spawnSync('tmux', ['-V'], {encoding: 'utf8'});
const hasTmux = !tmuxVersion.error && tmuxVersion.status === 0;

describe.skipIf(!hasTmux)('the wizard on a real terminal (tmux)', () => {
	const socket = `stackwiz-signals-${process.pid}`;
	const bin = path.resolve('bin/stackwiz.js');
	const catalog = path.resolve('test/fixtures/catalog-e2e');
	let cwd = '';
	let count = 0;

	const tmux = (...args: string[]) => {
		const result = spawnSync('tmux', ['-L', socket, ...args], {encoding: 'utf8'});
		if (result.status !== 0) {
			throw new Error(`tmux ${args.join(' ')} failed: ${result.stderr}`);
		}

		return result.stdout;
	};

	beforeAll(async () => {
		if (!existsSync(path.resolve('dist/cli.js'))) {
			throw new Error('dist/ is missing: run `npm run build` first');
		}

		cwd = await mkdtemp(path.join(tmpdir(), 'stackwiz-signals-tmux-'));
	});

	afterAll(async () => {
		spawnSync('tmux', ['-L', socket, 'kill-server']);
		await rm(cwd, {recursive: true, force: true});
	});

	const screen = (session: string) => tmux('capture-pane', '-p', '-t', session);

	/** One key (tmux key name, or literal text with `literal`), then wait for what it should show. */
	async function key(session: string, name: string, expected: string | RegExp, literal = false): Promise<void> {
		if (literal) {
			for (const character of name) {
				tmux('send-keys', '-t', session, '-l', character);
			}
		} else {
			tmux('send-keys', '-t', session, name);
		}

		await vi.waitFor(() => {
			expect(screen(session)).toMatch(expected);
		}, {timeout: 15_000, interval: 50});
	}

	/** Starts the wizard in a fresh pane; after it ends, the pane prints its exit status and the terminal modes. */
	async function startWizard(catalogDirectory = catalog): Promise<{session: string; pid: number}> {
		const session = `w${count++}`;
		const command = `cd '${cwd}' && env -u CI -u CONTINUOUS_INTEGRATION -u NO_COLOR TERM=xterm-256color '${process.execPath}' '${bin}' --no-bundled --catalog '${catalogDirectory}'; echo "EXIT=$?"; stty -a | tr '\\n' ' ' | sed 's/^/STTY: /'; echo; sleep 600`;
		tmux('-f', '/dev/null', 'new-session', '-d', '-s', session, '-x', '100', '-y', '30', command);
		tmux('set-option', '-s', 'escape-time', '0');
		await vi.waitFor(() => {
			expect(tmux('capture-pane', '-p', '-t', session)).toContain('step 1/10');
		}, {timeout: 30_000, interval: 50});
		const shell = Number(tmux('display', '-p', '-t', session, '#{pane_pid}').trim());
		const node = [];
		for (const pid of await descendants(shell)) {
			if ((await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).includes(bin)) {
				node.push(pid);
			}
		}

		expect(node).toHaveLength(1);
		// Ink has the terminal: raw mode on, cursor hidden.
		expect(tmux('display', '-p', '-t', session, '#{cursor_flag}').trim()).toBe('0');
		return {session, pid: node[0]!};
	}

	async function finish(session: string): Promise<{exit: string; stty: string; cursor: string; ms: number}> {
		const started = Date.now();
		const screen = await vi.waitFor(() => {
			const shown = tmux('capture-pane', '-p', '-J', '-S', '-100', '-t', session);
			expect(shown).toMatch(/STTY: .+/);
			return shown;
		}, {timeout: 10_000, interval: 50});
		return {
			exit: /EXIT=(\d+)/.exec(screen)?.[1] ?? '',
			stty: /STTY: (.+)/.exec(screen)?.[1] ?? '',
			cursor: tmux('display', '-p', '-t', session, '#{cursor_flag}').trim(),
			ms: Date.now() - started,
		};
	}

	test.each([
		['SIGINT', '130'],
		['SIGTERM', '143'],
	] as const)('%s to the wizard: exit 130 (or shell status %s where stackwiz must end itself after 3 s); raw mode off, echo on, cursor shown, no child left', async (signal, status) => {
		const {session, pid} = await startWizard();
		const children = await descendants(pid);
		process.kill(pid, signal);
		const {exit, stty, cursor, ms} = await finish(session);
		console.log(`e2e signals: wizard ended ${ms} ms after ${signal}, status ${exit}`);
		// 130 when the wizard returns on the abort; the signal's own status when stackwiz has to end it.
		expect(['130', status]).toContain(exit);
		expect(ms).toBeLessThan(4500);
		expect(stty).toMatch(/(^| )icanon( |$)/);
		expect(stty).toMatch(/(^| )echo( |$)/);
		expect(cursor).toBe('1');
		await expectGone([pid, ...children]);
	});

	test('SIGTERM while the wizard builds: bake and its build containers stopped, exit 130, the terminal restored', async () => {
		const seconds = 40 + Math.floor(Math.random() * 50);
		const work = path.join(directory, 'wizard-build');
		const sleepy = await catalogCopy(work, `${runId}-wizard`, (_version, install) => install.replace('> /stackwiz/apps', `> /stackwiz/apps && sleep ${seconds}`));
		const {session, pid} = await startWizard(sleepy);
		// One image: A100, driver 550.54.15, the defaults, the demo app, this run's registry, then "Build now".
		await key(session, 'Space', '[x] A100');
		await key(session, 'Enter', 'step 2/10');
		await key(session, 'Enter', 'Enter confirms the version');
		await key(session, '550.54.15', 'driver version: 550.54.15', true);
		for (const step of [3, 4, 5, 6, 7]) {
			await key(session, 'Enter', `step ${step}/10`);
		}

		await key(session, 'Space', '[x] Demo app');
		await key(session, 'Enter', 'step 8/10');
		await key(session, 'Enter', 'step 9/10');
		await key(session, 'Down', '› registry');
		await key(session, `${registry}-wizard`, 'push tiers', true);
		await key(session, 'Down', '› push tiers');
		await key(session, 'Down', '› output dir');
		await key(session, 'Down', '› recipe file');
		await key(session, 'Enter', 'step 10/10');
		await key(session, 'Enter', /building|queued/);
		await vi.waitFor(async () => {
			expect(await processesRunning(`sleep ${seconds}`)).toHaveLength(1);
		}, {timeout: 90_000, interval: 100});
		const children = await descendants(pid);
		expect(children.length).toBeGreaterThanOrEqual(2);
		process.kill(pid, 'SIGTERM');
		const {exit, stty, cursor, ms} = await finish(session);
		console.log(`e2e signals: wizard build ended ${ms} ms after SIGTERM, status ${exit}`);
		expect(exit).toBe('130');
		expect(ms).toBeLessThan(3000);
		expect(stty).toMatch(/(^| )icanon( |$)/);
		expect(stty).toMatch(/(^| )echo( |$)/);
		expect(cursor).toBe('1');
		await expectGone([pid, ...children]);
		await vi.waitFor(async () => {
			expect(await processesRunning(`sleep ${seconds}`)).toEqual([]);
		}, {timeout: 10_000, interval: 100});
	});

	test('Ctrl-C typed in the wizard: exit 130, the terminal restored', async () => {
		const {session, pid} = await startWizard();
		tmux('send-keys', '-t', session, 'C-c');
		const {exit, stty, cursor} = await finish(session);
		expect(exit).toBe('130');
		expect(stty).toMatch(/(^| )icanon( |$)/);
		expect(stty).toMatch(/(^| )echo( |$)/);
		expect(cursor).toBe('1');
		await expectGone([pid]);
	});
});
