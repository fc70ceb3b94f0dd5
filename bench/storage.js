// Storage and pull benchmark: what tiering saves, the reason stackwiz exists.
//
// A sweep of 6 images (2 CUDA lines x 3 PyTorch versions, bench/recipes/sweep-2cuda-3pytorch.yaml)
// on the synthetic bench/catalog, whose tiers write incompressible payloads in the ratio of real
// tier sizes (base 80 : cuda 4000 : basic 400 : framework 2500 : apps 200 units). Side by side in
// every run:
//   * tiered: `stackwiz --non-interactive` builds and pushes the 17-tier tree;
//   * flat: the same 6 images as 6 single Dockerfiles (the steps of their tiers, in order, in one
//     FROM local/busybox:stable), each built on its own with `docker buildx build --no-cache --push`,
//     as separate teams build their monoliths without tiers.
// Figures: registry bytes stored (unique blobs via the registry API, and the registry's files on
// disk), the ideal (the OS layer once + each unique tier's payload once), and the bytes a node
// pulls, for real over the registry API, for images 2..6 when it holds image 1.
// Targets: tiered storage <= 1.02 x ideal; node pulls <= 1.02 x the image's unique bytes.
import {mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {loadavg, tmpdir} from 'node:os';
import path from 'node:path';
import {
	benchCatalogCopy,
	benchRecipeCopy,
	benchRegistryHost,
	blobFilesBytes,
	ddPayloadBytes,
	filesBytes,
	markdownTable,
	mb,
	median,
	mustRun,
	pullAsNode,
	registryManifest,
	registryStorageDirectory,
	removeRun,
	requireDockerEngine,
	runStackwiz,
	seconds,
	sumValues,
	uniqueBlobs,
	uniqueRunId,
	withOneRetry,
	writeResult,
} from './lib.js';

const recipeName = 'sweep-2cuda-3pytorch.yaml';
const storageTarget = 1.02;
const pullTarget = 1.02;

/** The tier ids of an image, root first. */
function tierChain(result, top) {
	const byId = new Map(result.tiers.map(tier => [tier.id, tier]));
	const chain = [];
	for (let id = top; id; id = byId.get(id).parent) {
		chain.unshift(id);
	}

	return chain;
}

/**
 * One Dockerfile holding the steps of every tier of an image, in order: the base tier's Dockerfile
 * (FROM the OS image), then each tier above without its `FROM parent`. Comments are dropped.
 */
export function flatDockerfile(name, tierDockerfiles) {
	const lines = [`# Flat benchmark image ${name}: the steps of its ${tierDockerfiles.length} tiers in one Dockerfile.`];
	for (const [index, text] of tierDockerfiles.entries()) {
		for (const line of text.split('\n')) {
			if (line.startsWith('#') || line.trim() === '' || (index > 0 && line === 'FROM parent')) {
				continue;
			}

			if (/^(FROM|COPY|ADD)\b/i.test(line) && index > 0) {
				throw new Error(`cannot flatten a tier Dockerfile with "${line}"`);
			}

			lines.push(line);
		}
	}

	return `${lines.join('\n')}\n`;
}

async function oneRun({unitBytes}) {
	const runId = uniqueRunId('storage');
	const prefix = `${benchRegistryHost}/bench-${runId}`;
	const flatPrefix = `${benchRegistryHost}/bench-${runId}-flat`;
	const directory = await mkdtemp(path.join(tmpdir(), 'stackwiz-bench-storage-'));
	const registryRoot = registryStorageDirectory();
	const tieredTags = [];
	const flatTags = [];
	try {
		const catalog = await benchCatalogCopy(directory, {runId, unitBytes});
		const recipe = await benchRecipeCopy(directory, recipeName, prefix);
		const out = path.join(directory, 'out');

		// Tiered: stackwiz builds and pushes the tree.
		const before = await filesBytes(registryRoot);
		const tieredBuild = await runStackwiz(['--non-interactive', recipe, '--catalog', catalog, '--no-bundled', '--out', out, '--json']);
		const result = JSON.parse(await readFile(path.join(out, 'build-result.json'), 'utf8'));
		tieredTags.push(...result.tiers.map(tier => tier.tag));
		const notBuilt = result.tiers.filter(tier => tier.result !== 'built' || !tier.pushed);
		if (result.outcome !== 'ok' || notBuilt.length > 0) {
			throw new Error(`the cold tiered build did not build and push every tier: ${notBuilt.map(tier => `${tier.id} ${tier.result}/${tier.state}`).join(', ')}`);
		}

		const afterTiered = await filesBytes(registryRoot);

		// Flat: one Dockerfile per image with the same steps, each built on its own, no shared cache.
		const tierDockerfile = new Map(await Promise.all(result.tiers.map(async tier => [tier.id, await readFile(path.join(out, tier.id, 'Dockerfile'), 'utf8')])));
		const images = result.images.map(image => ({name: image.name, tag: image.tag, chain: tierChain(result, image.tier), flatTag: `${flatPrefix}/flat/${image.name}:latest`}));
		let flatMs = 0;
		for (const image of images) {
			const context = path.join(directory, 'flat', image.name);
			await mkdir(context, {recursive: true});
			await writeFile(path.join(context, 'Dockerfile'), flatDockerfile(image.name, image.chain.map(id => tierDockerfile.get(id))));
			flatTags.push(image.flatTag);
			const build = await mustRun('docker', ['buildx', 'build', '--no-cache', '--push', '--platform', 'linux/amd64', '--progress', 'plain', '-t', image.flatTag, context], {
				env: {BUILDX_NO_DEFAULT_ATTESTATIONS: '1'},
			});
			flatMs += build.ms;
		}

		const afterFlat = await filesBytes(registryRoot);

		// What the registry holds, by its API.
		const tierManifests = new Map(await Promise.all(result.tiers.map(async tier => [tier.id, await registryManifest(tier.tag)])));
		const flatManifests = new Map(await Promise.all(images.map(async image => [image.name, await registryManifest(image.flatTag)])));
		const tieredBlobs = uniqueBlobs([...tierManifests.values()]);
		const flatBlobs = uniqueBlobs([...flatManifests.values()]);

		// The ideal: the OS image's layers once, plus each unique tier's payload once.
		const baseTier = result.tiers.find(tier => tier.parent === null);
		const baseRuns = tierDockerfile.get(baseTier.id).split('\n').filter(line => line.startsWith('RUN ')).length;
		const baseLayers = tierManifests.get(baseTier.id).layers;
		const osBytes = baseLayers.slice(0, baseLayers.length - baseRuns).reduce((sum, layer) => sum + layer.size, 0);
		const payload = new Map(result.tiers.map(tier => [tier.id, ddPayloadBytes(tierDockerfile.get(tier.id))]));
		const ideal = osBytes + sumValues(payload);
		const payloadOf = ids => ids.reduce((sum, id) => sum + payload.get(id), 0);

		// On disk: the blob files of this run's digests and its repositories' link files.
		const repositories = path.join(registryRoot, 'docker/registry/v2/repositories');
		const tieredDisk = await blobFilesBytes([...tieredBlobs.keys()]);
		const flatDisk = await blobFilesBytes([...flatBlobs.keys()]);
		const tieredRepositoryFiles = await filesBytes(path.join(repositories, `bench-${runId}`));
		const flatRepositoryFiles = await filesBytes(path.join(repositories, `bench-${runId}-flat`));

		// Node pulls, for real: a node that holds image 1 pulls image k (k = 2..6); and a node that
		// pulls all 6 in order, holding what it pulled before.
		const imageBytes = manifest => manifest.config.size + manifest.layers.reduce((sum, layer) => sum + layer.size, 0);
		const pulls = {tiered: [], flat: []};
		for (const [variant, tagOf] of [['tiered', image => image.tag], ['flat', image => image.flatTag]]) {
			const holdsFirst = new Set();
			const first = await pullAsNode(tagOf(images[0]), holdsFirst);
			const cumulative = new Set();
			const seenTiers = new Set();
			for (const [index, image] of images.entries()) {
				const sequential = await pullAsNode(tagOf(image), cumulative);
				const newTiers = image.chain.filter(id => !seenTiers.has(id));
				for (const id of image.chain) {
					seenTiers.add(id);
				}

				const afterFirst = index === 0 ? first : await pullAsNode(tagOf(image), new Set(holdsFirst));
				const uniqueTiers = index === 0 ? image.chain : image.chain.filter(id => !images[0].chain.includes(id));
				pulls[variant].push({
					image: image.name,
					imageBytes: imageBytes(variant === 'tiered' ? tierManifests.get(image.chain.at(-1)) : flatManifests.get(image.name)),
					newTiersVsFirst: uniqueTiers.map(id => result.tiers.find(tier => tier.id === id).tier),
					idealVsFirst: (index === 0 ? osBytes : 0) + payloadOf(uniqueTiers),
					pulledVsFirst: afterFirst.bytes,
					idealSequential: (index === 0 ? osBytes : 0) + payloadOf(newTiers),
					pulledSequential: sequential.bytes,
				});
			}
		}

		return {
			runId,
			tiered: {
				buildMs: tieredBuild.ms,
				uniqueBlobs: tieredBlobs.size,
				registryBytes: sumValues(tieredBlobs),
				diskBytes: tieredDisk === null ? null : tieredDisk + tieredRepositoryFiles,
				directoryGrowth: afterTiered - before,
				stackwizStoredBytes: result.sharing?.storedBytes ?? null,
			},
			flat: {
				buildMs: flatMs,
				uniqueBlobs: flatBlobs.size,
				registryBytes: sumValues(flatBlobs),
				diskBytes: flatDisk === null ? null : flatDisk + flatRepositoryFiles,
				directoryGrowth: afterFlat - afterTiered,
			},
			ideal,
			osBytes,
			tierPayload: Object.fromEntries(['base', 'cuda', 'basic', 'framework', 'apps'].map(kind => [kind, payload.get(result.tiers.find(tier => tier.tier === kind).id)])),
			tiers: result.tiers.length,
			pulls,
		};
	} finally {
		await removeRun(prefix, tieredTags).catch(() => {});
		await removeRun(flatPrefix, flatTags).catch(() => {});
		await rm(directory, {recursive: true, force: true});
	}
}

const ratio = (value, base) => (value === null || base === 0 ? null : value / base);
const fixed = (value, digits = 3) => (value === null ? 'n/a' : value.toFixed(digits));
const verdict = (value, target) => (value === null ? 'n/a' : value <= target ? 'met' : 'MISSED');

export async function runStorageBench({quick}) {
	try {
		await requireDockerEngine();
	} catch (error) {
		console.error(`bench storage skipped: ${error.message}`);
		process.exitCode = 1;
		return {rows: []};
	}

	const runs = 3;
	// 1 unit = 1 MB of a real image; here 2 KiB (full: 52 MB of unique tiers) or 512 B (--quick).
	const unitBytes = quick ? 512 : 2048;
	const loadBefore = loadavg()[0];
	const started = performance.now();
	const records = [];
	const failures = [];
	for (let index = 0; index < runs; index++) {
		console.error(`  storage run ${index + 1}/${runs}...`);
		records.push(await withOneRetry(`storage run ${index + 1}`, () => oneRun({unitBytes}), failures));
	}

	const load = {before: loadBefore, after: loadavg()[0]};
	const benchMs = performance.now() - started;
	const pick = read => {
		const values = records.map(read);
		return values.includes(null) ? null : median(values);
	};

	const ideal = pick(record => record.ideal);
	const storage = ['registryBytes', 'diskBytes', 'directoryGrowth', 'buildMs', 'uniqueBlobs'].map(key => ({
		figure: key,
		tiered: pick(record => record.tiered[key]),
		flat: pick(record => record.flat[key]),
	}));
	const byFigure = Object.fromEntries(storage.map(row => [row.figure, row]));
	const images = records[0].pulls.tiered.map((row, index) => {
		const figures = {};
		for (const variant of ['tiered', 'flat']) {
			for (const key of ['imageBytes', 'idealVsFirst', 'pulledVsFirst', 'idealSequential', 'pulledSequential']) {
				figures[`${variant}.${key}`] = pick(record => record.pulls[variant][index][key]);
			}
		}

		return {image: row.image, newTiersVsFirst: row.newTiersVsFirst, ...figures};
	});
	const pullRows = images.slice(1).map(row => ({
		image: row.image,
		newTiers: row.newTiersVsFirst.join(' + '),
		ideal: row['tiered.idealVsFirst'],
		tiered: row['tiered.pulledVsFirst'],
		tieredRatio: ratio(row['tiered.pulledVsFirst'], row['tiered.idealVsFirst']),
		flat: row['flat.pulledVsFirst'],
		flatRatio: ratio(row['flat.pulledVsFirst'], row['tiered.idealVsFirst']),
	}));
	const sequentialTotal = variant => images.reduce((sum, row) => sum + row[`${variant}.pulledSequential`], 0);
	const idealSequentialTotal = images.reduce((sum, row) => sum + row['tiered.idealSequential'], 0);
	const tieredStorageRatio = ratio(byFigure.registryBytes.tiered, ideal);
	const tieredDiskRatio = ratio(byFigure.diskBytes.tiered, ideal);
	const worstPull = Math.max(...pullRows.map(row => row.tieredRatio));
	const targets = {
		tieredStorage: {target: storageTarget, value: tieredStorageRatio, met: tieredStorageRatio <= storageTarget},
		tieredStorageOnDisk: {target: storageTarget, value: tieredDiskRatio, met: tieredDiskRatio === null ? null : tieredDiskRatio <= storageTarget},
		nodePulls: {target: pullTarget, value: worstPull, met: worstPull <= pullTarget},
	};

	const payload = records[0].tierPayload;
	const storageTable = markdownTable(
		['registry', 'tiered (stackwiz)', 'flat (6 Dockerfiles)', 'ideal', 'tiered / ideal', 'flat / ideal', 'target'],
		[
			['unique blobs via the registry API (manifests + configs + layers)', mb(byFigure.registryBytes.tiered), mb(byFigure.registryBytes.flat), mb(ideal), fixed(tieredStorageRatio), fixed(ratio(byFigure.registryBytes.flat, ideal)), `tiered <= ${storageTarget} x ideal: ${verdict(tieredStorageRatio, storageTarget)}`],
			['files on disk: those blobs + the repositories\' link files', byFigure.diskBytes.tiered === null ? 'n/a' : mb(byFigure.diskBytes.tiered), byFigure.diskBytes.flat === null ? 'n/a' : mb(byFigure.diskBytes.flat), mb(ideal), fixed(tieredDiskRatio), fixed(ratio(byFigure.diskBytes.flat, ideal)), `tiered <= ${storageTarget} x ideal: ${verdict(tieredDiskRatio, storageTarget)}`],
			['registry directory growth during the push (the OS layer was stored before)', mb(byFigure.directoryGrowth.tiered), mb(byFigure.directoryGrowth.flat), mb(ideal - records[0].osBytes), fixed(ratio(byFigure.directoryGrowth.tiered, ideal - records[0].osBytes)), fixed(ratio(byFigure.directoryGrowth.flat, ideal - records[0].osBytes)), ''],
			['one image (config + layers), median of the 6', mb(median(images.map(row => row['tiered.imageBytes']))), mb(median(images.map(row => row['flat.imageBytes']))), '', '', '', ''],
			['blobs', String(byFigure.uniqueBlobs.tiered), String(byFigure.uniqueBlobs.flat), '', '', '', ''],
			['cold build + push, wall time', seconds(byFigure.buildMs.tiered), seconds(byFigure.buildMs.flat), '', '', '', ''],
		],
	);
	const pullTable = markdownTable(
		['image k (node holds image 1)', 'tiers new vs image 1', 'unique bytes (ideal)', 'tiered pull', 'tiered / ideal', 'flat pull', 'flat / ideal'],
		[
			...pullRows.map(row => [row.image, row.newTiers, mb(row.ideal), mb(row.tiered), fixed(row.tieredRatio), mb(row.flat), fixed(row.flatRatio)]),
			['all 6, one after another, from an empty node', '17 tiers', mb(idealSequentialTotal), mb(sequentialTotal('tiered')), fixed(ratio(sequentialTotal('tiered'), idealSequentialTotal)), mb(sequentialTotal('flat')), fixed(ratio(sequentialTotal('flat'), idealSequentialTotal))],
		],
	);
	const markdown = [
		`Sweep of 6 images (2 CUDA lines x 3 PyTorch versions, 17 tiers) on bench/catalog; payload unit ${unitBytes} B, per tier: base ${mb(payload.base)}, cuda ${mb(payload.cuda)}, basic ${mb(payload.basic)}, framework ${mb(payload.framework)}, apps ${mb(payload.apps)}; OS layer (local/busybox:stable) ${mb(records[0].osBytes)}. ${runs} runs, tiered and flat side by side in each; ${seconds(benchMs)} in all, 1-minute load average ${load.before.toFixed(1)} before and ${load.after.toFixed(1)} after (other work on the machine slows the wall times, not the bytes).`,
		'',
		storageTable,
		'',
		`Node pulls: tiered ${verdict(worstPull, pullTarget)} (worst ${fixed(worstPull)} x, target <= ${pullTarget} x the image's unique bytes).`,
		'',
		pullTable,
		'',
		'- ideal = the OS layer once + each unique tier\'s payload (the `dd` bytes its steps write) once; a tier\'s unique bytes against image 1 = the payload of its tiers that image 1 lacks.',
		'- tiered / flat registry = sum of the distinct blobs (manifest, config and layer digests, sizes as the registry reports them) reachable from the run\'s tags; on disk = the same blobs\' data files plus the repositories\' link files.',
		'- directory growth = the registry directory before and after the push (any concurrent push by someone else would show here; the OS layer blob was already there).',
		'- pulls are real downloads over the registry API of every blob (config, layers) the node does not hold by digest, plus the manifest, as a node\'s engine does.',
		'- flat images are built with --no-cache each on its own, as separate teams do: their payloads are fresh random bytes of exactly the same sizes as the tiers\' (incompressible, so sizes stored and pulled depend only on the byte counts).',
		...(failures.length > 0 ? ['', `Retried: ${failures.map(failure => `${failure.run} (${failure.error.split('\n')[0]})`).join('; ')}.`] : []),
	].join('\n');
	const rows = [
		...storage.map(row => ({figure: row.figure, tiered: row.tiered, flat: row.flat, ideal})),
		...pullRows.map(row => ({figure: `pull ${row.image} holding image 1`, ...row})),
	];
	return writeResult('storage', {runs, quick, unitBytes, failures, benchMs, load, tierPayload: payload, osBytes: records[0].osBytes, ideal, storage, images, pulls: pullRows, sequential: {ideal: idealSequentialTotal, tiered: sequentialTotal('tiered'), flat: sequentialTotal('flat')}, targets, records, rows}, markdown).then(stamped => ({...stamped, rows}));
}
