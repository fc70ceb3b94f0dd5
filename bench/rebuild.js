// Rebuild-cost benchmark: what a re-run costs against the cold build of the same tree.
//
// The 6-image sweep (bench/recipes/sweep-2cuda-3pytorch.yaml) on bench/catalog, all with
// `node bin/stackwiz.js --non-interactive RECIPE --catalog ... --no-bundled --out DIR`, in this
// order in every run, each timed as a whole process (wall time):
//   cold            a fresh repository prefix and a run id baked into the base tier: every tag is
//                   new, every step misses the build cache (the shared engine's cache is not pruned);
//   plan only       `stackwiz plan` on the same recipe: start-up + planning, for reference;
//   no change       the same again: every tier is reused from the registry;
//   no change, --no-reuse   BuildKit's cache only: every tier cached, then pushed;
//   apps changed    a --catalog overlay edits the apps tier's install step: the 6 apps tiers build;
//   basic changed   a --catalog overlay edits the basic tier's install step: basic and everything
//                   above (2 + 6 + 6 tiers) build, base and cuda are reused.
// build-result.json of each run says which tiers were built, cached or reused; the bench checks it
// against the expectation and records it. Each figure is reported as a ratio to the same run's cold
// build (median over the runs). Target: no change <= 5% of cold.
import {mkdtemp, readFile, rm} from 'node:fs/promises';
import {cpus, loadavg, tmpdir} from 'node:os';
import path from 'node:path';
import {
	benchCatalogCopy,
	benchRecipeCopy,
	benchRegistryHost,
	catalogOverlay,
	ddPayloadBytes,
	mb,
	markdownTable,
	median,
	removeRun,
	requireDockerEngine,
	runStackwiz,
	seconds,
	uniqueRunId,
	withOneRetry,
	writeResult,
} from './lib.js';

const recipeName = 'sweep-2cuda-3pytorch.yaml';
const noChangeTarget = 0.05;
const tierKinds = ['base', 'cuda', 'basic', 'framework', 'apps'];

/** Appends a step to the (only) install step of a catalog file, so that tier's content changes. */
const changeInstall = marker => text => text.replace(/2>\/dev\/null"/, `2>/dev/null && echo changed > /stackwiz/${marker}"`);

/** What build-result.json says: per result (built, cached, reused), how many tiers of each kind. */
function tally(result) {
	const counts = {};
	for (const tier of result.tiers) {
		const key = tier.result ?? tier.state;
		counts[key] ??= {};
		counts[key][tier.tier] = (counts[key][tier.tier] ?? 0) + 1;
	}

	return counts;
}

const describe = counts =>
	Object.entries(counts)
		.map(([result, kinds]) => `${result}: ${tierKinds.filter(kind => kinds[kind]).map(kind => `${kinds[kind]} ${kind}`).join(', ')}`)
		.join('; ');

/** The expected tally: `built` for the named kinds and everything above, `other` below. */
function expectation(from, built, other) {
	const counts = {};
	const per = {base: 1, cuda: 2, basic: 2, framework: 6, apps: 6};
	for (const kind of tierKinds) {
		const key = from !== null && tierKinds.indexOf(kind) >= tierKinds.indexOf(from) ? built : other;
		counts[key] ??= {};
		counts[key][kind] = per[kind];
	}

	return counts;
}

const sameTally = (a, b) => JSON.stringify(Object.keys(a).sort().map(key => [key, a[key]])) === JSON.stringify(Object.keys(b).sort().map(key => [key, b[key]]));

const cases = [
	{key: 'cold', label: 'cold build', expect: expectation('base', 'built', 'built')},
	{key: 'plan', label: 'plan only (start-up + planning, no build)', expect: null},
	{key: 'noChange', label: 'no change (tiers reused from the registry)', expect: expectation(null, 'built', 'reused')},
	{key: 'noChangeNoReuse', label: 'no change, --no-reuse (BuildKit cache only)', expect: expectation('base', 'cached', 'cached')},
	{key: 'appsChanged', label: 'only apps changed', expect: expectation('apps', 'built', 'reused')},
	{key: 'basicChanged', label: 'only basic changed', expect: expectation('basic', 'built', 'reused')},
];

async function oneRun({unitBytes}) {
	const runId = uniqueRunId('rebuild');
	const prefix = `${benchRegistryHost}/bench-${runId}`;
	const directory = await mkdtemp(path.join(tmpdir(), 'stackwiz-bench-rebuild-'));
	const tags = [];
	try {
		const catalog = await benchCatalogCopy(directory, {runId, unitBytes});
		const recipe = await benchRecipeCopy(directory, recipeName, prefix);
		const appsOverlay = await catalogOverlay(path.join(directory, 'apps-changed'), catalog, 'apps.yaml', changeInstall('apps-changed'));
		const basicOverlay = await catalogOverlay(path.join(directory, 'basic-changed'), catalog, 'python.yaml', changeInstall('basic-changed'));
		const out = path.join(directory, 'out');
		const catalogs = ['--catalog', catalog, '--no-bundled'];
		const argsFor = {
			cold: ['--non-interactive', recipe, ...catalogs, '--out', out, '--json'],
			plan: ['plan', recipe, ...catalogs, '--json'],
			noChange: ['--non-interactive', recipe, ...catalogs, '--out', out, '--json'],
			noChangeNoReuse: ['--non-interactive', recipe, ...catalogs, '--out', out, '--json', '--no-reuse'],
			appsChanged: ['--non-interactive', recipe, ...catalogs, '--catalog', appsOverlay, '--out', out, '--json'],
			basicChanged: ['--non-interactive', recipe, ...catalogs, '--catalog', basicOverlay, '--out', out, '--json'],
		};
		const record = {runId};
		for (const {key, expect} of cases) {
			const run = await runStackwiz(argsFor[key]);
			if (!expect) {
				record[key] = {ms: run.ms};
				continue;
			}

			const result = JSON.parse(await readFile(path.join(out, 'build-result.json'), 'utf8'));
			tags.push(...result.tiers.map(tier => tier.tag));
			const counts = tally(result);
			if (result.outcome !== 'ok' || !sameTally(counts, expect)) {
				throw new Error(`${key}: expected ${describe(expect)}; build-result.json says ${describe(counts)} (outcome ${result.outcome})`);
			}

			// Where the time went, from the --json events' clock: before the build starts (start-up,
			// planning, files, preflight, registry look-ups), the build itself, and after it.
			const events = run.stdout.split('\n').filter(line => line.startsWith('{')).map(line => JSON.parse(line));
			const start = events.find(event => event.type === 'start');
			const finish = events.find(event => event.type === 'finish');
			const phases = start && finish ? {beforeStartMs: start.time - run.startedAt, buildMs: finish.time - start.time, afterFinishMs: run.startedAt + run.ms - finish.time} : null;
			record[key] = {ms: run.ms, stackwizMs: result.durationMs, phases, tiers: counts};
			if (key === 'cold') {
				const dockerfiles = await Promise.all(result.tiers.map(async tier => readFile(path.join(out, tier.id, 'Dockerfile'), 'utf8')));
				record.payloadBytes = dockerfiles.reduce((sum, text) => sum + ddPayloadBytes(text), 0);
			}
		}

		return record;
	} finally {
		await removeRun(prefix, tags).catch(() => {});
		await rm(directory, {recursive: true, force: true});
	}
}

export async function runRebuildBench({quick}) {
	try {
		await requireDockerEngine();
	} catch (error) {
		console.error(`bench rebuild skipped: ${error.message}`);
		process.exitCode = 1;
		return {rows: []};
	}

	const runs = quick ? 3 : 5;
	// 1 unit = 1 MB of a real image; here 2 KiB (full: 52 MB of unique tiers) or 512 B (--quick).
	const unitBytes = quick ? 512 : 2048;
	const loadBefore = loadavg()[0];
	const started = performance.now();
	const records = [];
	const failures = [];
	for (let index = 0; index < runs; index++) {
		console.error(`  rebuild run ${index + 1}/${runs}...`);
		records.push(await withOneRetry(`rebuild run ${index + 1}`, () => oneRun({unitBytes}), failures));
	}

	const load = {before: loadBefore, after: loadavg()[0]};
	const benchMs = performance.now() - started;
	const rows = cases.map(({key, label}) => {
		const ratios = records.map(record => record[key].ms / record.cold.ms);
		return {
			case: key,
			label,
			medianMs: median(records.map(record => record[key].ms)),
			ratioToCold: median(ratios),
			ratios,
			tiers: records[0][key].tiers ?? null,
			phases: records[0][key].phases === undefined || records.some(record => !record[key].phases)
				? null
				: Object.fromEntries(Object.keys(records[0][key].phases).map(phase => [phase, median(records.map(record => record[key].phases[phase]))])),
		};
	});
	const noChange = rows.find(row => row.case === 'noChange');
	const targets = {noChange: {target: noChangeTarget, value: noChange.ratioToCold, met: noChange.ratioToCold <= noChangeTarget}};
	const table = markdownTable(
		['run', 'wall time', 'x cold', 'before start / build / after', 'tiers (build-result.json)', 'target'],
		rows.map(row => [
			row.label,
			seconds(row.medianMs),
			row.case === 'cold' ? '1' : row.ratioToCold.toFixed(3),
			row.phases ? `${seconds(row.phases.beforeStartMs)} / ${seconds(row.phases.buildMs)} / ${seconds(row.phases.afterFinishMs)}` : '',
			row.tiers ? describe(row.tiers) : '',
			row.case === 'noChange' ? `<= ${noChangeTarget} x cold: ${row.ratioToCold <= noChangeTarget ? 'met' : 'MISSED'}` : '',
		]),
	);
	const markdown = [
		`The 6-image sweep (17 tiers) on bench/catalog, payload unit ${unitBytes} B (${mb(records[0].payloadBytes)} of unique tier payload). ${runs} runs; every case of a run follows that run's cold build, and "x cold" is the median of the per-run ratios. ${seconds(benchMs)} in all; 1-minute load average ${load.before.toFixed(1)} before and ${load.after.toFixed(1)} after, on ${cpus().length} cores (other work on the machine stretches every wall time).`,
		'',
		table,
		'',
		'- wall time of the whole `node bin/stackwiz.js --non-interactive ...` process: start-up, planning, preflight, registry look-ups, bake, push, result.',
		'- before start / build / after: from the `--json` events\' clock: process start to the `start` event (start-up, planning, writing the files, preflight\'s docker calls, registry look-ups), `start` to `finish` (bake, push, digests and sizes), `finish` to exit.',
		'- cold: a fresh repository prefix and a run id in the base tier, so no tag exists and no step is in the build cache.',
		'- tiers: what build-result.json reports for the first run; every run was checked against the expectation.',
		...(failures.length > 0 ? ['', `Retried: ${failures.map(failure => `${failure.run} (${failure.error.split('\n')[0]})`).join('; ')}.`] : []),
	].join('\n');
	return writeResult('rebuild', {runs, quick, unitBytes, failures, payloadBytes: records[0].payloadBytes, benchMs, load, targets, rows, records}, markdown);
}
