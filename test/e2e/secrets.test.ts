import {spawn, spawnSync} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {mkdir, readdir, readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {parse, stringify} from 'yaml';
import {afterAll, beforeAll, describe, expect, test} from 'vitest';
import {startCli, type Finished} from '../helpers/cli-process.js';
import {catalogCopy, cleanUpRun, docker, readResult, recipeCopy, requireEngine, temporaryDirectory, uniqueRun} from './engine.js';
import {startRegistryProxy, type RegistryProxy} from './registry-proxy.js';

/**
 * Secrets on a real engine. A build secret (a private pip index token) reaches the RUN steps that read
 * /run/secrets/<id> and nothing else: not the image history, config, layers, generated files, logs or
 * --json. Registry credentials (a `docker login` to a registry that wants one) appear nowhere either.
 */
const {runId, registry} = uniqueRun('secrets');
let directory: string;
const proxies: RegistryProxy[] = [];

beforeAll(async () => {
	await requireEngine();
	directory = await temporaryDirectory('secrets');
});

afterAll(async () => {
	await cleanUpRun({runId, registries: [registry], directory, proxies});
});

/** stackwiz with the real docker on PATH and extra environment. */
async function build(args: string[], env: Record<string, string> = {}): Promise<Finished> {
	return startCli(args, {path: process.env['PATH'] ?? '', env}).done;
}

/** Every file under a directory, as text. */
async function filesUnder(root: string): Promise<Map<string, string>> {
	const files = new Map<string, string>();
	for (const entry of await readdir(root, {recursive: true, withFileTypes: true})) {
		if (entry.isFile()) {
			const full = path.join(entry.parentPath, entry.name);
			files.set(path.relative(root, full), await readFile(full, 'latin1'));
		}
	}

	return files;
}

/** Where `needle` shows up: the run's output, the files in `out`, and each image's history, inspect and saved layers. */
async function leaks(needle: string, runs: Finished[], out: string, images: string[]): Promise<string[]> {
	const found: string[] = [];
	for (const [index, run] of runs.entries()) {
		if (run.stdout.includes(needle) || run.stderr.includes(needle)) {
			found.push(`output of run ${index}`);
		}
	}

	for (const [file, text] of await filesUnder(out)) {
		if (text.includes(needle)) {
			found.push(`file ${file}`);
		}
	}

	for (const image of images) {
		if (docker(['history', '--no-trunc', image]).stdout.includes(needle)) {
			found.push(`history of ${image}`);
		}

		if (docker(['image', 'inspect', image]).stdout.includes(needle)) {
			found.push(`inspect of ${image}`);
		}

		const saved = spawnSync('docker', ['save', image], {maxBuffer: 512 * 1024 * 1024});
		if (saved.stdout.includes(Buffer.from(needle))) {
			found.push(`layers of ${image}`);
		}
	}

	return found;
}

describe('a build secret', () => {
	test('reaches the steps that read it as a file, and nothing else', async () => {
		const token = `tok-${randomBytes(12).toString('hex')}`;
		const work = path.join(directory, 'build-secret');
		// The apps steps of the catalog read the secret too (only a check, nothing is kept).
		const catalog = await catalogCopy(work, `${runId}-secret`, (_version, install) => `test -s /run/secrets/pip-index && ${install}`);
		const recipeFile = await recipeCopy(work, registry, 'secret');
		const recipe = parse(await readFile(recipeFile, 'utf8')) as {secrets?: unknown; images: Array<{patch?: unknown}>};
		recipe.secrets = [{id: 'pip-index', env: 'PIP_INDEX_TOKEN'}];
		recipe.images[1]!.patch = {version: '1', run: ['wc -c < /run/secrets/pip-index > /stackwiz/secret-length']};
		await writeFile(recipeFile, stringify(recipe));
		const out = path.join(work, 'out');
		const args = ['--non-interactive', recipeFile, '--catalog', catalog, '--no-bundled', '--out', out];

		// Without the variable: refused before anything is built.
		const unset = await build(args);
		expect(unset.code).toBe(2);
		expect(unset.stderr).toBe('stackwiz: the build reads a secret whose variable is not set: $PIP_INDEX_TOKEN (secret pip-index).\nExport PIP_INDEX_TOKEN and run again; bake hands it to BuildKit as a build secret, never as a build arg or image layer.\n');
		expect(await readdir(out)).not.toContain('build-result.json');

		const first = await build(args, {PIP_INDEX_TOKEN: token});
		console.log(`e2e secrets: build ${first.ms} ms`);
		expect(first.code, first.stderr).toBe(0);
		const bake = JSON.parse(await readFile(path.join(out, 'docker-bake.json'), 'utf8')) as {target: Record<string, {secret?: string[]; args?: unknown}>};
		const withSecret = Object.entries(bake.target).filter(([, target]) => target.secret).map(([id]) => id).sort();
		expect(withSecret.map(id => id.replace(/-.*/, ''))).toEqual(['apps', 'apps', 'patch']);
		for (const id of withSecret) {
			expect(bake.target[id]!.secret).toEqual(['id=pip-index,env=PIP_INDEX_TOKEN']);
		}

		expect(Object.values(bake.target).some(target => 'args' in target)).toBe(false);
		const patchId = withSecret.find(id => id.startsWith('patch-'))!;
		expect(await readFile(path.join(out, patchId, 'Dockerfile'), 'utf8')).toContain('RUN --mount=type=secret,id=pip-index,target=/run/secrets/pip-index,required=true wc -c < /run/secrets/pip-index > /stackwiz/secret-length\n');

		// Again with --json: every tier comes back from the registry.
		const again = await build([...args, '--json'], {PIP_INDEX_TOKEN: token});
		expect(again.code).toBe(0);

		const result = await readResult(out);
		const images = result.tiers.map(tier => tier.tag);
		const leaf = result.images.find(image => image.name === 'train-new')!.tag;
		// The step saw the secret: the file it wrote holds the token's length, not the token.
		expect(docker(['run', '--rm', '--entrypoint', 'cat', leaf, '/stackwiz/secret-length']).stdout.trim()).toBe(String(token.length));
		expect(await leaks(token, [unset, first, again], out, images)).toEqual([]);
	});

	test('a step that prints the secret: stackwiz shows *** in its place, in the log tail, the message and the result', async () => {
		const token = `tok-${randomBytes(12).toString('hex')}`;
		const work = path.join(directory, 'print-secret');
		const catalog = await catalogCopy(work, `${runId}-print`);
		const recipeFile = await recipeCopy(work, registry, 'print');
		const recipe = parse(await readFile(recipeFile, 'utf8')) as {secrets?: unknown; images: Array<{patch?: unknown}>};
		recipe.secrets = [{id: 'pip-index', env: 'PIP_INDEX_TOKEN'}];
		recipe.images[1]!.patch = {version: '1', run: ['echo "login failed for https://user:$(cat /run/secrets/pip-index)@pypi.example.com" && exit 3']};
		await writeFile(recipeFile, stringify(recipe));
		const out = path.join(work, 'out');
		const run = await build(['--non-interactive', recipeFile, '--catalog', catalog, '--no-bundled', '--out', out, '--no-push'], {PIP_INDEX_TOKEN: token});
		expect(run.code).toBe(1);
		expect(run.stderr).toContain('    | login failed for https://user:***@pypi.example.com');
		expect(run.stderr).not.toContain(token);
		expect(await readFile(path.join(out, 'build-result.json'), 'utf8')).not.toContain(token);
	});
});

describe('registry credentials', () => {
	test('a registry that wants a login: refused in one sentence without it; with `docker login`, built and pushed, the password nowhere', async () => {
		const password = `pw-${randomBytes(12).toString('hex')}`;
		const basic = Buffer.from(`stackwiz:${password}`).toString('base64');
		const proxy = await startRegistryProxy({auth: {user: 'stackwiz', password}});
		proxies.push(proxy);
		const work = path.join(directory, 'login');
		const config = path.join(work, 'docker-config');
		await mkdir(config, {recursive: true});
		const catalog = await catalogCopy(work, `${runId}-login`);
		const recipe = await recipeCopy(work, `${proxy.host}/e2e-${runId}`, 'login');
		const out = path.join(work, 'out');
		const args = ['--non-interactive', recipe, '--catalog', catalog, '--no-bundled', '--out', out];

		const anonymous = await build(args, {DOCKER_CONFIG: config});
		console.log(`e2e secrets: without login\n${anonymous.stderr}`);
		expect(anonymous.code).toBe(2);
		expect(anonymous.stderr).toMatch(new RegExp(`^stackwiz: cannot read ${proxy.host.replaceAll('.', '\\.')}/e2e-${runId}/stackwiz/[a-z]+:\\S+ from its registry: .*(401|authoriz).*\\.\\nLog in with \`docker login\``, 'm'));

		// Asynchronously: the proxy answering the daemon's login check runs in this process.
		const login = await new Promise<{code: number | null; stderr: string}>(resolve => {
			const child = spawn('docker', ['login', proxy.host, '--username', 'stackwiz', '--password-stdin'], {env: {...process.env, DOCKER_CONFIG: config}});
			let stderr = '';
			child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
			child.on('close', code => resolve({code, stderr}));
			child.stdin.end(password);
		});
		expect(login.code, login.stderr).toBe(0);
		const first = await build(args, {DOCKER_CONFIG: config});
		expect(first.code, first.stderr).toBe(0);
		const json = await build([...args, '--json'], {DOCKER_CONFIG: config});
		expect(json.code).toBe(0);
		const result = await readResult(out);
		expect(result.tiers.every(tier => tier.state === 'pushed' || tier.state === 'reused')).toBe(true);
		// The registry really asked: requests without credentials got 401, then came with them.
		expect(proxy.requests.length).toBeGreaterThan(10);
		const images = result.tiers.map(tier => tier.tag);
		for (const needle of [password, basic]) {
			expect(await leaks(needle, [anonymous, first, json], out, images), needle === password ? 'password' : 'basic auth').toEqual([]);
		}
	});
});
