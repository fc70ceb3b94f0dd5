// Shared helpers for the benchmarks: timing with medians, result files, markdown tables.
import {spawn} from 'node:child_process';
import {mkdir, readdir, readFile, stat, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

export const resultsDirectory = fileURLToPath(new URL('results/', import.meta.url));

export function median(values) {
	const sorted = [...values].sort((a, b) => a - b);
	const middle = Math.floor(sorted.length / 2);
	return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Runs `work` `runs` times (after one warm-up unless told otherwise) and returns every duration in ms. */
export async function timeRuns(runs, work, {warmup = 1} = {}) {
	for (let index = 0; index < warmup; index++) {
		await work();
	}

	const durations = [];
	for (let index = 0; index < runs; index++) {
		const start = performance.now();
		await work();
		durations.push(performance.now() - start);
	}

	return durations;
}

export function machine() {
	return {
		cpus: `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'unknown'}`,
		memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
		node: process.version,
		platform: `${os.platform()} ${os.release()}`,
	};
}

export function markdownTable(header, rows) {
	const lines = [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`];
	for (const row of rows) {
		lines.push(`| ${row.join(' | ')} |`);
	}

	return lines.join('\n');
}

/** Writes results/<name>.json and results/<name>.md. */
export async function writeResult(name, data, markdown) {
	await mkdir(resultsDirectory, {recursive: true});
	const stamped = {name, date: new Date().toISOString(), machine: machine(), ...data};
	await writeFile(path.join(resultsDirectory, `${name}.json`), `${JSON.stringify(stamped, null, 2)}\n`);
	await writeFile(path.join(resultsDirectory, `${name}.md`), `# ${name}\n\n${markdown}\n\nMachine: ${stamped.machine.cpus}, ${stamped.machine.memoryGiB} GiB, Node ${stamped.machine.node}. Each figure is the median of the runs shown.\n`);
	return stamped;
}

export const ms = value => `${value.toFixed(1)} ms`;

// ------------------------------------------------------------------------------------------------
// Helpers for the benchmarks that build for real (storage, rebuild): the local Docker Engine with
// buildx and the registry on 127.0.0.1:5000 that scripts/setup-docker-engine.sh starts.

export const benchRegistryHost = '127.0.0.1:5000';
export const stackwizBin = fileURLToPath(new URL('../bin/stackwiz.js', import.meta.url));
export const benchCatalogDirectory = fileURLToPath(new URL('catalog/', import.meta.url));
export const benchRecipesDirectory = fileURLToPath(new URL('recipes/', import.meta.url));

/** The registry's storage directory (scripts/setup-docker-engine.sh: $STACKWIZ_DOCKER_CACHE/registry). */
export function registryStorageDirectory() {
	return path.join(process.env.STACKWIZ_DOCKER_CACHE || '/var/cache/stackwiz-docker', 'registry');
}

/** Runs a command without a shell; resolves with its exit code, output, wall time in ms and the epoch ms it started at. */
export function runCommand(command, args, {env, cwd, input} = {}) {
	return new Promise((resolve, reject) => {
		const start = performance.now();
		const startedAt = Date.now();
		const child = spawn(command, args, {cwd, env: {...process.env, ...env}, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe']});
		let stdout = '';
		let stderr = '';
		child.stdout.setEncoding('utf8').on('data', chunk => (stdout += chunk));
		child.stderr.setEncoding('utf8').on('data', chunk => (stderr += chunk));
		child.on('error', reject);
		child.on('close', code => resolve({code, stdout, stderr, ms: performance.now() - start, startedAt}));
		if (input !== undefined) {
			child.stdin.end(input);
		}
	});
}

/** Like runCommand, but throws with the output's tail when the command fails. */
export async function mustRun(command, args, options) {
	const result = await runCommand(command, args, options);
	if (result.code !== 0) {
		const tail = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-25).map(line => (line.length > 2000 ? `${line.slice(0, 2000)}...` : line)).join('\n');
		throw new Error(`${command} ${args.join(' ')} exited ${result.code} after ${Math.round(result.ms)} ms (stdout ${result.stdout.length} chars, stderr ${result.stderr.length} chars):\n${tail}`);
	}

	return result;
}

/** `node bin/stackwiz.js ARGS` as CI runs it (no TTY); wall time of the whole process. */
export function runStackwiz(args) {
	return mustRun(process.execPath, [stackwizBin, ...args], {env: {NO_COLOR: '1', CI: 'true'}});
}

/** Throws with the fix when the engine, the base image or the registry is missing. */
export async function requireDockerEngine() {
	const fix = 'run scripts/setup-docker-engine.sh (as root) first';
	if ((await runCommand('docker', ['info', '--format', '{{.ServerVersion}}']).catch(() => ({code: 1}))).code !== 0) {
		throw new Error(`no Docker Engine answers: ${fix}`);
	}

	if ((await runCommand('docker', ['image', 'inspect', 'local/busybox:stable'])).code !== 0) {
		throw new Error(`the base image local/busybox:stable is missing: ${fix}`);
	}

	const response = await fetch(`http://${benchRegistryHost}/v2/`).catch(() => undefined);
	if (response?.status !== 200) {
		throw new Error(`no registry answers on http://${benchRegistryHost}/v2/: ${fix}`);
	}
}

/** A run id unique to this run: "storage-m1x2y3-ab12". */
export function uniqueRunId(label) {
	return `${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
}

/**
 * A copy of bench/catalog for one run: every `bs=2048` payload unit becomes `unitBytes`, and the
 * base tier also writes /stackwiz/run-id, so every tier (and every tag) is new to this run and its
 * build is cold without pruning the shared engine's build cache.
 */
export async function benchCatalogCopy(directory, {runId, unitBytes}) {
	const target = path.join(directory, 'catalog');
	await mkdir(target, {recursive: true});
	for (const name of (await readdir(benchCatalogDirectory)).filter(file => file.endsWith('.yaml'))) {
		let text = (await readFile(path.join(benchCatalogDirectory, name), 'utf8')).replaceAll('bs=2048 ', `bs=${unitBytes} `);
		if (name === 'os.yaml') {
			text = text.replace('"mkdir -p /stackwiz && ', `"mkdir -p /stackwiz && echo ${runId} > /stackwiz/run-id && `);
		}

		await writeFile(path.join(target, name), text);
	}

	return target;
}

/** A one-file catalog overlay (for --catalog after the run's catalog) whose `file` has `edit` applied. */
export async function catalogOverlay(directory, catalog, file, edit) {
	await mkdir(directory, {recursive: true});
	const text = await readFile(path.join(catalog, file), 'utf8');
	const edited = edit(text);
	if (edited === text) {
		throw new Error(`the overlay edit changed nothing in ${file}`);
	}

	await writeFile(path.join(directory, file), edited);
	return directory;
}

/** bench/recipes/NAME with `registry:` replaced. */
export async function benchRecipeCopy(directory, name, registry) {
	const text = await readFile(path.join(benchRecipesDirectory, name), 'utf8');
	const file = path.join(directory, name);
	await writeFile(file, text.replace(/^registry: .*$/m, `registry: ${registry}`));
	return file;
}

/** "127.0.0.1:5000/a/b:tag" -> {repository: "a/b", reference: "tag"}; also "...@sha256:...". */
export function splitReference(reference) {
	const withoutHost = reference.slice(benchRegistryHost.length + 1);
	const at = withoutHost.indexOf('@');
	if (at !== -1) {
		return {repository: withoutHost.slice(0, at), reference: withoutHost.slice(at + 1)};
	}

	const colon = withoutHost.lastIndexOf(':');
	return {repository: withoutHost.slice(0, colon), reference: withoutHost.slice(colon + 1)};
}

const manifestAccept = 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';

/** An image manifest from the registry: its digest and bytes, the config blob and the layer blobs. */
export async function registryManifest(reference) {
	const {repository, reference: tag} = splitReference(reference);
	const response = await fetch(`http://${benchRegistryHost}/v2/${repository}/manifests/${tag}`, {headers: {accept: manifestAccept}});
	if (response.status !== 200) {
		throw new Error(`the registry has no manifest for ${reference} (HTTP ${response.status})`);
	}

	const raw = Buffer.from(await response.arrayBuffer());
	const manifest = JSON.parse(raw.toString('utf8'));
	if (!manifest.layers || !manifest.config) {
		throw new Error(`${reference} is not a single-platform image manifest (${manifest.mediaType})`);
	}

	return {
		repository,
		digest: response.headers.get('docker-content-digest'),
		bytes: raw.length,
		config: {digest: manifest.config.digest, size: manifest.config.size},
		layers: manifest.layers.map(layer => ({digest: layer.digest, size: layer.size})),
	};
}

/** The blobs (manifest, config, layers) of some images, each digest once: {digest -> size}. */
export function uniqueBlobs(manifests) {
	const blobs = new Map();
	for (const manifest of manifests) {
		blobs.set(manifest.digest, manifest.bytes);
		blobs.set(manifest.config.digest, manifest.config.size);
		for (const layer of manifest.layers) {
			blobs.set(layer.digest, layer.size);
		}
	}

	return blobs;
}

export const sumValues = map => [...map.values()].reduce((sum, value) => sum + value, 0);

/**
 * Pulls an image the way a node's engine does, over the registry API: the manifest, then every
 * blob (config, layers) whose digest the node does not hold yet, downloaded for real. `held` is
 * the node's set of blob digests; it gains what was pulled. Returns the bytes received.
 */
export async function pullAsNode(reference, held) {
	const {repository, reference: tag} = splitReference(reference);
	const response = await fetch(`http://${benchRegistryHost}/v2/${repository}/manifests/${tag}`, {headers: {accept: manifestAccept}});
	const raw = Buffer.from(await response.arrayBuffer());
	const manifest = JSON.parse(raw.toString('utf8'));
	let bytes = raw.length;
	let layerBytes = 0;
	for (const blob of [manifest.config, ...manifest.layers]) {
		if (held.has(blob.digest)) {
			continue;
		}

		const blobResponse = await fetch(`http://${benchRegistryHost}/v2/${repository}/blobs/${blob.digest}`);
		if (blobResponse.status !== 200) {
			throw new Error(`pulling ${blob.digest} of ${reference}: HTTP ${blobResponse.status}`);
		}

		let received = 0;
		for await (const chunk of blobResponse.body) {
			received += chunk.length;
		}

		if (received !== blob.size) {
			throw new Error(`pulling ${blob.digest} of ${reference}: got ${received} bytes, the manifest says ${blob.size}`);
		}

		bytes += received;
		if (blob !== manifest.config) {
			layerBytes += received;
		}

		held.add(blob.digest);
	}

	return {bytes, layerBytes};
}

/** Sum of the sizes of the files under `directory` (apparent bytes, like `du -sb` without directory entries); 0 if it is missing. */
export async function filesBytes(directory) {
	let total = 0;
	let entries;
	try {
		entries = await readdir(directory, {withFileTypes: true});
	} catch {
		return 0;
	}

	for (const entry of entries) {
		const full = path.join(directory, entry.name);
		if (entry.isDirectory()) {
			total += await filesBytes(full);
		} else if (entry.isFile()) {
			total += (await stat(full)).size;
		}
	}

	return total;
}

/** The registry's files for some blobs: blobs/sha256/<xx>/<hex>/data, as stored on disk. Null when the storage directory cannot be read. */
export async function blobFilesBytes(digests) {
	const root = path.join(registryStorageDirectory(), 'docker/registry/v2/blobs/sha256');
	try {
		await stat(root);
	} catch {
		return null;
	}

	let total = 0;
	for (const digest of digests) {
		const hex = digest.replace(/^sha256:/, '');
		total += (await stat(path.join(root, hex.slice(0, 2), hex, 'data')).catch(() => ({size: 0}))).size;
	}

	return total;
}

/** Deletes the manifests behind some tags from the registry and removes the local images under `prefix` (only this run's). */
export async function removeRun(prefix, tags) {
	for (const tag of new Set(tags)) {
		const {repository, reference} = splitReference(tag);
		const head = await fetch(`http://${benchRegistryHost}/v2/${repository}/manifests/${reference}`, {method: 'HEAD', headers: {accept: manifestAccept}}).catch(() => undefined);
		const digest = head?.status === 200 ? head.headers.get('docker-content-digest') : null;
		if (digest) {
			await fetch(`http://${benchRegistryHost}/v2/${repository}/manifests/${digest}`, {method: 'DELETE'});
		}
	}

	const listed = await runCommand('docker', ['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}']);
	const images = listed.stdout.split('\n').filter(image => image.startsWith(`${prefix}/`));
	if (images.length > 0) {
		await runCommand('docker', ['image', 'rm', '--force', ...images]);
	}
}

/** Payload bytes a tier's Dockerfile writes: the sum of bs * count of its `dd` steps. */
export function ddPayloadBytes(dockerfile) {
	let total = 0;
	for (const match of dockerfile.matchAll(/\bdd if=\S+ of=\S+ bs=(\d+) count=(\d+)/g)) {
		total += Number(match[1]) * Number(match[2]);
	}

	return total;
}

export const mb = bytes => `${(bytes / 1e6).toFixed(2)} MB`;
export const seconds = value => `${(value / 1000).toFixed(2)} s`;

/**
 * `work()`, and once more if it throws (a shared engine, or a dist/ being rebuilt under the run,
 * can fail one run): the error goes to stderr and into `failures`, which the result records.
 */
export async function withOneRetry(label, work, failures) {
	try {
		return await work();
	} catch (error) {
		console.error(`  ${label} failed, running it again: ${error.message}`);
		const root = fileURLToPath(new URL('..', import.meta.url));
		failures.push({run: label, error: error.message.replaceAll(root, '').replaceAll(os.tmpdir(), '$TMPDIR').replaceAll(process.execPath, 'node')});
		return work();
	}
}
