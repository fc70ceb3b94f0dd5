import {spawn, spawnSync} from 'node:child_process';
import {cp, mkdtemp, readdir, readFile, readlink, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {parse, stringify} from 'yaml';
import type {BuildEvent, BuildResult} from '../../source/core/build-events.js';

/**
 * Helpers for the end-to-end tests: a real Docker Engine with buildx and a registry on
 * 127.0.0.1:5000 (scripts/setup-docker-engine.sh). Every run works under its own repository
 * prefix and its own copy of the test catalog (with a run id baked into the base tier), so runs
 * never share tags, and builds are really cold.
 */

export const registryHost = '127.0.0.1:5000';
export const binPath = path.resolve('bin/stackwiz.js');
const e2eCatalog = path.resolve('test/fixtures/catalog-e2e');
const e2eRecipe = path.resolve('test/fixtures/recipes/e2e-two-images.yaml');

/** Throws with the fix when the engine, the registry or the base image is missing. */
export async function requireEngine(): Promise<void> {
	const fix = 'run scripts/setup-docker-engine.sh (as root) first';
	if (spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], {encoding: 'utf8'}).status !== 0) {
		throw new Error(`no Docker Engine answers: ${fix}`);
	}

	if (spawnSync('docker', ['image', 'inspect', 'local/busybox:stable'], {encoding: 'utf8'}).status !== 0) {
		throw new Error(`the base image local/busybox:stable is missing: ${fix}`);
	}

	const response = await fetch(`http://${registryHost}/v2/`).catch(() => undefined);
	if (response?.status !== 200) {
		throw new Error(`no registry answers on http://${registryHost}/v2/: ${fix}`);
	}
}

/** A fresh repository prefix and run id: "127.0.0.1:5000/e2e-lx3k9q-4f2a". */
export function uniqueRun(label: string): {runId: string; registry: string} {
	const runId = `${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
	return {runId, registry: `${registryHost}/e2e-${runId}`};
}

export async function temporaryDirectory(label: string): Promise<string> {
	return mkdtemp(path.join(tmpdir(), `stackwiz-e2e-${label}-`));
}

/**
 * A copy of the test catalog whose base tier also writes /stackwiz/run-id (so every tier hash is
 * new to this run), with `edit` applied to the apps versions' install steps.
 */
export async function catalogCopy(directory: string, runId: string, appsInstall?: (version: string, install: string) => string): Promise<string> {
	const target = path.join(directory, 'catalog');
	await cp(e2eCatalog, target, {recursive: true});
	const osFile = path.join(target, 'os.yaml');
	const os = parse(await readFile(osFile, 'utf8')) as {versions: Array<{install: string[]}>};
	for (const version of os.versions) {
		version.install = [`mkdir -p /stackwiz && echo ${runId} > /stackwiz/run-id`, ...version.install];
	}

	await writeFile(osFile, stringify(os));
	if (appsInstall) {
		const appsFile = path.join(target, 'apps.yaml');
		const apps = parse(await readFile(appsFile, 'utf8')) as {apps: Array<{versions: Array<{version: string; install: string[]}>}>};
		for (const version of apps.apps[0]!.versions) {
			version.install = version.install.map(step => appsInstall(version.version, step));
		}

		await writeFile(appsFile, stringify(apps));
	}

	return target;
}

/** The two-image test recipe with this run's registry; `newApps` replaces the second image's apps. */
export async function recipeCopy(directory: string, registry: string, name: string, newApps?: string): Promise<string> {
	const recipe = parse(await readFile(e2eRecipe, 'utf8')) as {registry: string; images: Array<{apps: string[]}>};
	recipe.registry = registry;
	if (newApps) {
		recipe.images[1]!.apps = [newApps];
	}

	const file = path.join(directory, `${name}.yaml`);
	await writeFile(file, stringify(recipe));
	return file;
}

export type Run = {code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number};

export type Running = {pid: number; output: {stdout: string; stderr: string}; signal: (name: NodeJS.Signals) => void; done: Promise<Run>};

/** Starts `bin/stackwiz.js` without a TTY, as CI does. */
export function startStackwiz(args: string[]): Running {
	const started = Date.now();
	const child = spawn(process.execPath, [binPath, ...args], {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, NO_COLOR: '1', CI: 'true'}});
	const output = {stdout: '', stderr: ''};
	child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output.stdout += chunk));
	child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
	const done = new Promise<Run>(resolve => {
		child.on('close', (code, signal) => {
			resolve({code, signal, ...output, ms: Date.now() - started});
		});
	});
	return {pid: child.pid!, output, signal: name => child.kill(name), done};
}

export async function stackwiz(args: string[]): Promise<Run> {
	return startStackwiz(args).done;
}

/** The `--json` event lines of a run. */
export function eventsOf(run: Run): BuildEvent[] {
	return run.stdout
		.split('\n')
		.filter(Boolean)
		.map(line => JSON.parse(line) as BuildEvent);
}

/** Per tier, the state events in order, progress repeats folded. */
export function sequences(events: BuildEvent[]): Record<string, string[]> {
	const result: Record<string, string[]> = {};
	for (const event of events) {
		if ('tier' in event && event.type !== 'log') {
			const list = (result[event.tier] ??= []);
			if (list.at(-1) !== event.type) {
				list.push(event.type);
			}
		}
	}

	return result;
}

export async function readResult(out: string): Promise<BuildResult> {
	return JSON.parse(await readFile(path.join(out, 'build-result.json'), 'utf8')) as BuildResult;
}

/** The manifest digest the registry holds for a tag, or null. */
export async function registryDigest(tag: string): Promise<string | null> {
	const [name, reference] = [tag.slice(0, tag.lastIndexOf(':')), tag.slice(tag.lastIndexOf(':') + 1)];
	const repository = name.slice(registryHost.length + 1);
	const response = await fetch(`http://${registryHost}/v2/${repository}/manifests/${reference}`, {
		method: 'HEAD',
		headers: {accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json'},
	});
	return response.status === 200 ? response.headers.get('docker-content-digest') : null;
}

export function docker(args: string[]): {code: number | null; stdout: string; stderr: string} {
	const result = spawnSync('docker', args, {encoding: 'utf8', timeout: 120_000});
	return {code: result.status, stdout: result.stdout, stderr: result.stderr};
}

/** Removes this run's images from the local store and its manifests from the registry. */
export async function cleanUp(registry: string): Promise<void> {
	const images = docker(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}']).stdout.split('\n').filter(image => image.startsWith(`${registry}/`));
	if (images.length > 0) {
		docker(['image', 'rm', '--force', ...images]);
	}

	const prefix = registry.slice(registryHost.length + 1);
	for (const tier of ['base', 'cuda', 'basic', 'framework', 'apps', 'patch']) {
		const repository = `${prefix}/stackwiz/${tier}`;
		const response = await fetch(`http://${registryHost}/v2/${repository}/tags/list`);
		const tags = response.status === 200 ? ((await response.json()) as {tags?: string[] | null}).tags ?? [] : [];
		for (const tag of tags) {
			const digest = await registryDigest(`${registryHost}/${repository}:${tag}`);
			if (digest) {
				await fetch(`http://${registryHost}/v2/${repository}/manifests/${digest}`, {method: 'DELETE'});
			}
		}
	}
}

/** Processes (other than zombies) whose command line or working directory mentions `directory`. */
export async function processesUsing(directory: string): Promise<string[]> {
	const found: string[] = [];
	for (const pid of (await readdir('/proc')).filter(name => /^\d+$/.test(name))) {
		try {
			const commandLine = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ').trim();
			const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '');
			if (commandLine !== '' && (commandLine.includes(directory) || cwd === directory || cwd.startsWith(`${directory}/`))) {
				found.push(`${pid} ${commandLine}`);
			}
		} catch {
			// The process ended while we looked.
		}
	}

	return found;
}

/** Processes whose command line is exactly `text` (the RUN step of a build container, for example). */
export async function processesRunning(text: string): Promise<string[]> {
	const found: string[] = [];
	for (const pid of (await readdir('/proc')).filter(name => /^\d+$/.test(name))) {
		const commandLine = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
		if (commandLine.replaceAll('\0', ' ').trim() === text) {
			found.push(pid);
		}
	}

	return found;
}

/**
 * Tears down what one e2e file made: its registry proxies, the local tags of its run (also those under
 * the proxies' hosts), its repositories in the registry and its temporary directory.
 */
export async function cleanUpRun(run: {runId: string; registries: string[]; directory?: string; proxies: Array<{close: () => Promise<void>}>}): Promise<void> {
	await Promise.all(run.proxies.map(async proxy => proxy.close()));
	const mine = docker(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}']).stdout.split('\n').filter(image => image.includes(`/e2e-${run.runId}`));
	if (mine.length > 0) {
		docker(['image', 'rm', '--force', ...mine]);
	}

	for (const registry of run.registries) {
		await cleanUp(registry);
	}

	if (run.directory) {
		await rm(run.directory, {recursive: true, force: true});
	}
}
