/**
 * The real wizard in a real terminal: `bin/stackwiz.js` runs in an 80x24 tmux pane, keys go in
 * with send-keys and the screen is read with capture-pane. One whole flow (two images, a registry,
 * back and forth) ends with "Write files only"; the written files must equal what
 * `--non-interactive --dry-run` writes for the recipe the wizard saved.
 *
 * Needs tmux (the CI script installs it) and a built dist/ (`npm test` builds first).
 */
import {spawnSync} from 'node:child_process';
import {existsSync} from 'node:fs';
import {mkdtemp, readdir, readFile, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, beforeAll, describe, expect, test} from 'vitest';

const tmuxVersion = spawnSync('tmux', ['-V'], {encoding: 'utf8'});
const hasTmux = !tmuxVersion.error && tmuxVersion.status === 0;
const bin = path.resolve('bin/stackwiz.js');
const catalog = path.resolve('test/fixtures/catalog-e2e');
const socket = `stackwiz-e2e-${process.pid}`;
const session = 'wizard';

function tmux(...args: string[]): string {
	const result = spawnSync('tmux', ['-L', socket, ...args], {encoding: 'utf8'});
	if (result.status !== 0) {
		throw new Error(`tmux ${args.join(' ')} failed: ${result.stderr}`);
	}

	return result.stdout;
}

const screen = () => tmux('capture-pane', '-p', '-t', session);

/** Polls the pane until `expected` shows (the app renders asynchronously; no fixed sleeps). */
async function waitFor(expected: string | RegExp, timeoutMs = 15_000): Promise<string> {
	const deadline = Date.now() + timeoutMs;
	let last = '';
	while (Date.now() < deadline) {
		last = screen();
		if (typeof expected === 'string' ? last.includes(expected) : expected.test(last)) {
			return last;
		}

		await new Promise(resolve => {
			setTimeout(resolve, 50);
		});
	}

	throw new Error(`timed out waiting for ${String(expected)}; the screen was:\n${last}`);
}

/** One key (tmux key name), then wait for what it should show. */
async function key(name: string, expected: string | RegExp): Promise<string> {
	tmux('send-keys', '-t', session, name);
	return waitFor(expected);
}

/** Literal text, one character at a time as a person types it, then wait. */
async function type(text: string, expected: string | RegExp): Promise<string> {
	for (const character of text) {
		tmux('send-keys', '-t', session, '-l', character);
	}

	return waitFor(expected);
}

async function listFiles(directory: string, prefix = ''): Promise<Map<string, string>> {
	const files = new Map<string, string>();
	for (const entry of await readdir(directory, {withFileTypes: true})) {
		const relative = path.join(prefix, entry.name);
		if (entry.isDirectory()) {
			for (const [name, content] of await listFiles(path.join(directory, entry.name), relative)) {
				files.set(name, content);
			}
		} else {
			files.set(relative, await readFile(path.join(directory, entry.name), 'utf8'));
		}
	}

	return files;
}

describe.skipIf(!hasTmux)(hasTmux ? 'the wizard in a real terminal (tmux)' : 'the wizard in a real terminal (SKIPPED: tmux is not installed; apt-get install -y tmux)', () => {
	let cwd = '';

	beforeAll(async () => {
		if (!existsSync(path.resolve('dist/cli.js'))) {
			throw new Error('dist/ is missing: run `npm run build` (npm test does) before this test');
		}

		cwd = await mkdtemp(path.join(tmpdir(), 'stackwiz-tmux-'));
		// CI=true would make the wizard refuse (and Ink draw only final frames): a person at a terminal has no CI set.
		const command = `cd '${cwd}' && env -u CI -u CONTINUOUS_INTEGRATION -u NO_COLOR TERM=xterm-256color '${process.execPath}' '${bin}' --no-bundled --catalog '${catalog}'; echo "EXIT=$?"; sleep 600`;
		tmux('-f', '/dev/null', 'new-session', '-d', '-s', session, '-x', '80', '-y', '24', command);
		// Esc must reach the app at once, not after tmux's meta-key wait.
		tmux('set-option', '-s', 'escape-time', '0');
	});

	afterAll(async () => {
		spawnSync('tmux', ['-L', socket, 'kill-server']);
		if (cwd) {
			await rm(cwd, {recursive: true, force: true});
		}
	});

	test('a whole flow to "Write files only"; the files equal what --non-interactive --dry-run writes for the saved recipe', async () => {
		// Step 1: GPUs. Nothing pre-selected on a machine without nvidia-smi.
		let shown = await waitFor('step 1/10', 30_000);
		expect(shown).toContain('pick at least one GPU model to see the tree');
		await key('Space', '[x] A100');
		await key('Down', '› [ ] V100');
		shown = await key('Space', 'selected: A100, V100');
		await waitFor('Tier tree  4 tiers, 1 image');

		// Step 1b: the driver, typed and validated.
		await key('Enter', 'step 2/10');
		await key('Enter', 'Enter confirms the version');
		await type('550.54.15', 'driver version: 550.54.15');

		// Step 2: CUDA; the tree follows the cursor; 12.4.1 rules out PyTorch 2.3.1.
		shown = await key('Enter', 'step 3/10');
		expect(shown).toContain('› let stackwiz choose  now: CUDA 12.1.1 for PyTorch 2.4.1');
		await key('Down', 'CUDA Toolkit 12.4.1');
		shown = await key('Enter', 'step 4/10');
		expect(shown).toContain('× PyTorch 2.3.1  PyTorch 2.3.1 has no CUDA 12.4 build (it ships cu121)');

		// Back keeps the answer; change it to "let stackwiz choose".
		shown = await key('Left', 'step 3/10');
		expect(shown).toContain('› CUDA 12.4.1');
		await key('Up', '› let stackwiz choose');
		await key('Enter', 'step 4/10');

		// Step 3: framework, Python, extras, apps for image 1.
		await key('Enter', 'step 5/10');
		await key('?', 'The basic tier holds Python');
		await key('?', /step 5\/10[\s\S]*Ctrl\+C quit/);
		await key('Enter', 'step 6/10');
		await key('Enter', 'step 7/10');
		await key('Space', '[x] Demo app');
		await key('Enter', 'step 8/10');

		// Step 4: a second image on the same tree.
		await key('Down', '› Yes, add another image');
		shown = await key('Enter', 'image 2 of 2');
		expect(shown).toContain('step 3/10');
		await key('Enter', 'step 4/10');
		await key('Down', '› PyTorch 2.3.1');
		await key('Enter', 'step 5/10');
		await key('Enter', 'step 6/10');
		await key('Enter', 'step 7/10');
		await key('Space', '[x] Demo app');
		await key('Enter', 'step 8/10');
		await key('Enter', 'step 9/10');

		// Registry and output.
		await waitFor('› recipe name  a100-v100-pytorch');
		await key('Down', '› registry');
		await type('127.0.0.1:5000/e2e', 'push tiers');
		await key('Down', '› push tiers');
		await key('Down', '› output dir');
		await key('Down', '› recipe file');

		// Step 5: the review shows the whole tree with tags.
		shown = await key('Enter', 'step 10/10');
		expect(shown).toContain('7 tiers');
		expect(shown).toContain('tags: 127.0.0.1:5000/e2e/stackwiz/<tier>:<below>');
		expect(shown).toMatch(/│  └─ apps +demo1\.1-pytorch2\.4\.1-[0-9a-f]{8}/);
		expect(shown).toContain('› Build now  docker buildx bake, pushing to 127.0.0.1:5000/e2e');
		await key('Down', '› Write files only');
		shown = await key('Enter', 'EXIT=');
		expect(shown).toContain('✓ recipe saved to a100-v100-pytorch.yaml');
		expect(shown).toContain('✓ 7 Dockerfiles and docker-bake.json written to .stackwiz/a100-v100-pytorch');
		expect(shown).toContain('EXIT=0');
		for (const line of shown.split('\n')) {
			expect(line.length).toBeLessThanOrEqual(80);
		}

		// The saved recipe replays to the same files.
		const recipe = path.join(cwd, 'a100-v100-pytorch.yaml');
		const text = await readFile(recipe, 'utf8');
		expect(text).toContain('gpus: [A100, V100]');
		expect(text).toContain('driver: "550.54.15"');
		expect(text).toContain('registry: 127.0.0.1:5000/e2e');
		const replayOut = path.join(cwd, 'replayed');
		const replay = spawnSync(process.execPath, [bin, '--non-interactive', recipe, '--dry-run', '--out', replayOut, '--no-bundled', '--catalog', catalog], {cwd, encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}});
		expect({code: replay.status, stderr: replay.stderr}).toEqual({code: 0, stderr: expect.stringContaining('wrote 7 Dockerfiles') as unknown});
		const written = await listFiles(path.join(cwd, '.stackwiz', 'a100-v100-pytorch'));
		const replayed = await listFiles(replayOut);
		expect([...written.keys()].sort()).toEqual([...replayed.keys()].sort());
		expect(written.size).toBe(9);
		for (const [name, content] of replayed) {
			expect({name, content: written.get(name)}).toEqual({name, content});
		}
	}, 180_000);
});
