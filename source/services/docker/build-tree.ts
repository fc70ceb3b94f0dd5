import path from 'node:path';
import {dockerfileSteps, type BakeTarget} from '../../core/bake-progress.js';
import {buildResult, initialBuildState, reduceBuild, type BuildEvent, type BuildOutcome, type BuildResult, type BuildState, type TierImage} from '../../core/build-events.js';
import {bakeArguments, bakeFileName, registryVariable, type BakeFile} from '../../core/generate.js';
import type {TierTree} from '../../core/tier-tree.js';
import {exitCodes} from '../../errors.js';
import {runBake, type BakeRunResult} from './bake-runner.js';
import {preflight} from './preflight.js';
import {inspectImage, inspectLocalImage} from './registry.js';
import {findReusableTiers, withReusedTiers, writeFileAtomic} from './reuse.js';

export const buildResultFileName = 'build-result.json';
export const metadataFileName = 'bake-metadata.json';

export type BuildTreeOptions = {
	recipe: string;
	tree: TierTree;
	/** The generated files, as written to `out` (the bake file and one Dockerfile per tier). */
	files: ReadonlyMap<string, string>;
	out: string;
	/** Push every tier to the tree's registry; otherwise `--load` them into the local image store. */
	push: boolean;
	/** Take tiers the registry already has instead of building them (only when pushing). */
	reuse: boolean;
	builder?: string;
	signal: AbortSignal;
	onEvent: (event: BuildEvent) => void;
	now?: () => number;
};

export type BuildTreeOutput = {exitCode: number; result: BuildResult};

function outcomeOf(run: BakeRunResult | null, interrupted: boolean): BuildOutcome {
	if (interrupted) {
		return 'cancelled';
	}

	return run && run.exitCode !== 0 ? 'failed' : 'ok';
}

function listOf(state: BuildState, phases: string[]): string[] {
	return state.order.filter(id => phases.includes(state.tiers[id]!.phase));
}

/** One sentence saying what happened, then one with the fix. */
function finishMessage(state: BuildState, run: BakeRunResult | null, outcome: BuildOutcome, out: string): string | null {
	if (outcome === 'ok') {
		return null;
	}

	const kept = listOf(state, state.push ? ['pushed', 'reused'] : ['built', 'cached']);
	const keptText = kept.length > 0 ? `${state.push ? 'finished and pushed' : 'finished'}: ${kept.join(', ')}` : 'no tier finished';
	if (outcome === 'cancelled') {
		return `interrupted; ${keptText}.\nRun the same command again to continue: finished steps come from the build cache${state.push ? ' and pushed tiers from the registry' : ''}.`;
	}

	const failure = run?.failures[0];
	if (failure) {
		const others = run!.failures.slice(1).map(other => other.tier);
		return `tier ${failure.tier} failed at ${failure.step}: ${failure.reason}${others.length > 0 ? ` (also failed: ${others.join(', ')})` : ''}; ${keptText}.\nFix that step in the catalog or recipe (its last log lines are above) and run again; finished tiers are not built again.`;
	}

	const errors = run?.errors.length ? run.errors.join('; ') : `exit code ${run?.exitCode ?? '?'}`;
	return `docker buildx bake failed: ${errors}; ${keptText}.\nRun it yourself to see its full output: cd ${out} && docker buildx bake -f ${bakeFileName}`;
}

/**
 * Builds a planned tree for real: preflight, registry look-ups for reuse, the (rewritten) bake file,
 * one bake run with live per-tier events, then digests, sizes and `<out>/build-result.json`.
 * Preflight problems throw a UserError (exit 2); a failed build returns exit code 1, an
 * interrupted one 130.
 */
export async function buildTree(options: BuildTreeOptions): Promise<BuildTreeOutput> {
	const {tree, signal} = options;
	const now = options.now ?? Date.now;
	const out = path.resolve(options.out);
	const bake = JSON.parse(options.files.get(bakeFileName)!) as BakeFile;
	const push = options.push && Boolean(tree.registry);
	const checks = await preflight({...(options.builder ? {builder: options.builder} : {}), ...(push ? {registry: tree.registry} : {}), bake, signal});

	const reusable = push && options.reuse ? await findReusableTiers(tree.nodes, signal) : new Map<string, TierImage>();
	const reused = new Map([...reusable].map(([id, image]) => [id, image.digest!]));
	if (reused.size > 0) {
		await writeFileAtomic(path.join(out, bakeFileName), `${JSON.stringify(withReusedTiers(bake, tree, reused), null, 2)}\n`);
	}

	let state: BuildState = initialBuildState;
	const emit = (event: BuildEvent) => {
		state = reduceBuild(state, event);
		options.onEvent(event);
	};

	emit({
		type: 'start',
		time: now(),
		tiers: tree.nodes.map(node => ({id: node.id, tier: node.tier, parent: node.parent, tag: node.tag, image: node.image, images: node.images})),
		push,
		registry: tree.registry ?? null,
		builder: checks.builder.name,
		driver: checks.builder.driver,
		buildx: checks.buildx.version,
	});
	for (const [id, digest] of reused) {
		emit({type: 'reused', time: now(), tier: id, digest});
	}

	const targets: BakeTarget[] = tree.nodes.filter(node => !reused.has(node.id)).map(node => ({id: node.id, parent: node.parent !== null && !reused.has(node.parent) ? node.parent : null}));
	let run: BakeRunResult | null = null;
	if (targets.length > 0) {
		const metadataFile = path.join(out, metadataFileName);
		run = await runBake({
			cwd: out,
			args: bakeArguments(tree, {push, progress: 'rawjson', ...(options.builder ? {builder: options.builder} : {}), metadataFile}),
			metadataFile,
			targets,
			steps: new Map(targets.map(target => [target.id, dockerfileSteps(options.files.get(`${target.id}/Dockerfile`) ?? '')])),
			push,
			env: {
				...(tree.registry ? {[registryVariable]: tree.registry} : {}),
				// Plain image manifests: default provenance would make every push an index with a new digest.
				BUILDX_NO_DEFAULT_ATTESTATIONS: '1',
			},
			signal,
			onEvent: emit,
			now,
		});
	}

	// Digests and sizes: from the registry for pushed and reused tiers, from the local store otherwise.
	const images = new Map(reusable);
	const digests = new Map<string, string>();
	for (const [id, metadata] of run?.metadata ?? []) {
		if (push && metadata.digest) {
			digests.set(id, metadata.digest);
		}
	}

	const lookups = state.order.filter(id => !images.has(id) && (push ? state.tiers[id]!.phase === 'pushed' : ['built', 'cached'].includes(state.tiers[id]!.phase)));
	const sizeSignal = AbortSignal.timeout(30_000);
	await Promise.all(
		lookups.map(async id => {
			const tag = state.tiers[id]!.tag;
			const image = await (push ? inspectImage(tag, sizeSignal) : inspectLocalImage(tag, sizeSignal)).catch(() => null);
			if (image) {
				images.set(id, image);
			}
		}),
	);

	const interrupted = signal.aborted;
	const outcome = outcomeOf(run, interrupted);
	const exitCode = outcome === 'ok' ? exitCodes.ok : outcome === 'cancelled' ? exitCodes.interrupted : exitCodes.buildFailed;
	const message = finishMessage(state, run, outcome, options.out);
	const result = buildResult(state, {
		recipe: options.recipe,
		outcome,
		exitCode,
		message,
		leaves: tree.leaves,
		images,
		sizeKind: push ? 'compressed' : 'uncompressed',
		digests,
		now: now(),
	});
	await writeFileAtomic(path.join(out, buildResultFileName), `${JSON.stringify(result, null, 2)}\n`);
	emit({type: 'finish', time: now(), outcome, message, result});
	return {exitCode, result};
}
