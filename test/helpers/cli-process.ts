import {spawn} from 'node:child_process';
import {mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, expect} from 'vitest';

export const binPath = path.resolve('bin/stackwiz.js');
export const faultDockerDirectory = path.resolve('test/fixtures/bin-faults');
export const e2eRecipeFile = path.resolve('test/fixtures/recipes/e2e-two-images.yaml');
export const e2eCatalogArgs = ['--catalog', path.resolve('test/fixtures/catalog-e2e'), '--no-bundled'];

export type Finished = {code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number};
export type Started = {pid: number; output: {stdout: string; stderr: string}; kill: (signal: NodeJS.Signals) => void; done: Promise<Finished>};

/**
 * Starts `bin/stackwiz.js` as CI does (no TTY, CI=true, no colour). `path` replaces PATH (the fault
 * docker first, by default); `env` adds to the environment.
 */
export function startCli(args: string[], options: {env?: Record<string, string | undefined>; path?: string; cwd?: string} = {}): Started {
	const started = Date.now();
	const env: Record<string, string | undefined> = {
		...process.env,
		NO_COLOR: '1',
		CI: 'true',
		PATH: options.path ?? `${faultDockerDirectory}${path.delimiter}${process.env['PATH'] ?? ''}`,
		...options.env,
	};
	const child = spawn(process.execPath, [binPath, ...args], {stdio: ['ignore', 'pipe', 'pipe'], env, cwd: options.cwd ?? process.cwd()});
	const output = {stdout: '', stderr: ''};
	child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output.stdout += chunk));
	child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
	const done = new Promise<Finished>(resolve => {
		child.on('close', (code, signal) => {
			resolve({code, signal, ...output, ms: Date.now() - started});
		});
	});
	return {pid: child.pid!, output, kill: signal => child.kill(signal), done};
}

/** The e2e two-image recipe with another registry (or none), written into `directory`. */
export async function recipeWithRegistry(directory: string, registry: string | null, extra = ''): Promise<string> {
	const text = await readFile(e2eRecipeFile, 'utf8');
	const edited = registry === null ? text.replace(/^registry: .*\n/m, '') : text.replace(/^registry: .*$/m, `registry: ${registry}`);
	const file = path.join(directory, `recipe-${Math.random().toString(36).slice(2, 8)}.yaml`);
	await writeFile(file, `${edited}${extra}`);
	return file;
}

/** The pids of every live process whose parent chain leads to `root` (zombies left out). */
export async function descendants(root: number): Promise<number[]> {
	const parents = new Map<number, number>();
	for (const name of await readdir('/proc')) {
		if (!/^\d+$/.test(name)) {
			continue;
		}

		const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		if (stat && fields[0] !== 'Z') {
			parents.set(Number(name), Number(fields[1]));
		}
	}

	const found: number[] = [];
	let frontier = [root];
	while (frontier.length > 0) {
		const next = [...parents].filter(([, parent]) => frontier.includes(parent)).map(([pid]) => pid);
		found.push(...next);
		frontier = next;
	}

	return found;
}

/** Whether a process runs (a zombie does not count). */
export async function alive(pid: number): Promise<boolean> {
	const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
	return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

/** The files of a complete output directory: the plan, the bake file and one Dockerfile per tier, nothing half-done. */
export async function expectCompleteOutput(out: string, tiers: number): Promise<void> {
	const entries = await readdir(out, {recursive: true});
	expect(entries.filter(entry => entry.endsWith('Dockerfile'))).toHaveLength(tiers);
	expect(entries).toContain('stackwiz-plan.json');
	expect(entries).toContain('docker-bake.json');
	JSON.parse(await readFile(path.join(out, 'docker-bake.json'), 'utf8'));
	JSON.parse(await readFile(path.join(out, 'stackwiz-plan.json'), 'utf8'));
	expect(entries.filter(entry => /\.tmp$|\.tmp-|\.old-/.test(entry))).toEqual([]);
}

/** No staging or backup directory of an output left next to it. */
export async function expectNoLeftovers(parent: string): Promise<void> {
	expect((await readdir(parent)).filter(entry => /\.tmp-|\.old-/.test(entry))).toEqual([]);
}

/** The one-sentence shape of a stackwiz error: "stackwiz: <sentence>.\n<fix>\n", no stack trace. */
export function expectOneSentence(stderr: string): void {
	const lines = stderr.trimEnd().split('\n').filter(line => line.startsWith('stackwiz: '));
	expect(lines.length, stderr).toBeGreaterThanOrEqual(1);
	expect(lines.at(-1)).toMatch(/^stackwiz: [^\n]+[.?!)]$/);
	expect(stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
}

/** Temporary directories for one test file (`<prefix>XXXXXX`), removed after its last test. */
export function useScratchDirectories(prefix: string): () => Promise<string> {
	const directories: string[] = [];
	afterAll(async () => {
		await Promise.all(directories.map(async directory => rm(directory, {recursive: true, force: true})));
	});
	return async () => {
		const directory = await mkdtemp(path.join(tmpdir(), prefix));
		directories.push(directory);
		return directory;
	};
}
