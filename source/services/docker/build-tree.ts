import {rm} from 'node:fs/promises';
import path from 'node:path';
import {dockerfileSteps, type BakeTarget} from '../../core/bake-progress.js';
import {buildResult, initialBuildState, reduceBuild, type BuildEvent, type BuildOutcome, type BuildResult, type BuildState, type TierImage} from '../../core/build-events.js';
import {bakeArguments, bakeFileName, registryVariable, shellQuote, type BakeFile} from '../../core/generate.js';
import type {TierTree} from '../../core/tier-tree.js';
import {exitCodes, UserError} from '../../errors.js';
import {runBake, type BakeRunResult} from './bake-runner.js';
import {preflight, type Preflight} from './preflight.js';
import {checkRegistry, childSignal, inspectImage, inspectLocalImage, registryHost, withDeadline} from './registry.js';
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
function finishMessage(state: BuildState, run: BakeRunResult | null, outcome: BuildOutcome, out: string, registry?: string): string | null {
	if (outcome === 'ok') {
		return null;
	}

	const kept = listOf(state, state.push ? ['pushed', 'reused'] : ['built', 'cached']);
	const keptText = kept.length > 0 ? `${state.push ? 'finished and pushed' : 'finished'}: ${kept.join(', ')}` : 'no tier finished';
	if (outcome === 'cancelled') {
		return `interrupted; ${keptText}.\nRun the same command again to continue: finished steps come from the build cache${state.push ? ' and pushed tiers from the registry' : ''}.`;
	}

	const failure = run?.failures[0];
	const host = registry ? registryHost(registry) : undefined;
	// A push that fails is the registry's fault, not the step's, whether BuildKit reports it on the
	// push vertex or only in its ERROR trailer.
	const pushFailed = state.push && host !== undefined && (failure?.step.startsWith('pushing ') || (!failure && run?.errors.some(error => error.includes(host))));
	if (pushFailed) {
		const errors = [...new Set([...(failure ? [failure.reason] : []), ...(run?.errors ?? [])])].join('; ') || `exit code ${run?.exitCode ?? '?'}`;
		return `pushing to ${host} failed: ${errors}; ${keptText}.\nCheck the registry (and \`docker login ${host}\`), then run the same command again: pushed tiers are reused, the rest come from the build cache.`;
	}

	if (failure) {
		const others = run!.failures.slice(1).map(other => other.tier);
		return `tier ${failure.tier} failed at ${failure.step}: ${failure.reason}${others.length > 0 ? ` (also failed: ${others.join(', ')})` : ''}; ${keptText}.\nFix that step in the catalog or recipe (its last log lines are above) and run again; finished tiers are not built again.`;
	}

	if (run && run.errors.length === 0 && (run.killedBy || run.exitCode === 255)) {
		// No ERROR line: bake did not fail a step, its process was ended (a kill, the OOM killer, a crash).
		const how = run.killedBy ? `was killed by ${run.killedBy}` : 'stopped without an error message (exit code 255: its buildx process was killed or crashed)';
		return `docker buildx bake ${how}; ${keptText}.\nRun the same command again: finished steps come from the build cache${state.push ? ' and pushed tiers from the registry' : ''}.`;
	}

	const errors = run?.errors.length ? run.errors.join('; ') : `exit code ${run?.exitCode ?? '?'}`;
	return `docker buildx bake failed: ${errors}; ${keptText}.\nRun it yourself to see its full output: cd ${shellQuote(out)} && docker buildx bake -f ${bakeFileName}`;
}

/**
 * The values of the build secrets the tree's RUN steps read, from the environment; a secret whose
 * variable is unset or empty is a UserError before anything runs.
 */
export function secretValues(tree: TierTree, env: Record<string, string | undefined>): string[] {
	const secrets = new Map(tree.nodes.flatMap(node => node.secrets ?? []).map(secret => [secret.id, secret]));
	const missing = [...secrets.values()].filter(secret => !env[secret.env]);
	if (missing.length > 0) {
		const names = missing.map(secret => `$${secret.env} (secret ${secret.id})`).join(', ');
		throw new UserError(`the build reads ${missing.length === 1 ? 'a secret whose variable is' : 'secrets whose variables are'} not set: ${names}.`, `Export ${missing.map(secret => secret.env).join(', ')} and run again; bake hands ${missing.length === 1 ? 'it to BuildKit as a build secret, never as a build arg or image layer' : 'them to BuildKit as build secrets, never as build args or image layers'}.`);
	}

	return [...secrets.values()].map(secret => env[secret.env]!);
}

/** Replaces every occurrence of a secret value in the strings of a JSON value with "***". */
export function redact<T>(value: T, secrets: readonly string[]): T {
	// Short values would blank out ordinary text; a token is longer than this.
	const long = secrets.filter(secret => secret.length >= 4);
	if (long.length === 0) {
		return value;
	}

	let text = JSON.stringify(value);
	for (const secret of long) {
		text = text.replaceAll(JSON.stringify(secret).slice(1, -1), '***');
	}

	return JSON.parse(text) as T;
}

type Settled<T> = {failed: false; value: T} | {failed: true; error: unknown};
const settle = async <T>(promise: Promise<T>): Promise<Settled<T>> => promise.then(value => ({failed: false, value}), (error: unknown) => ({failed: true, error}));

/**
 * The registry's check and the look-up of every tier's tag first, both at once; when the registry
 * has every tier, Docker has nothing to do and is not asked (checks is null). Otherwise Docker's
 * checks run, and a problem is reported in a fixed order: Docker's, then the registry's, then a
 * look-up's. Docker comes second because its calls start processes that would compete with the
 * look-ups for the CPU on the path where nothing needs building.
 */
async function checkPrerequisites(options: BuildTreeOptions, push: boolean, bake: BakeFile): Promise<{checks: Preflight | null; reusable: Map<string, TierImage>}> {
	const {tree, signal} = options;
	// A registry that fails its check is not waited on for the look-ups as well.
	const lookupSignal = childSignal(signal);
	const registryCheck = settle(push && tree.registry ? checkRegistry(tree.registry, signal).catch((error: unknown) => {
		lookupSignal.abort(error);
		throw error;
	}) : Promise.resolve());
	const lookups = settle(push && options.reuse ? findReusableTiers(tree.nodes, lookupSignal.signal) : Promise.resolve(new Map<string, TierImage>()));
	const registry = await registryCheck;
	const found = await lookups;
	lookupSignal.done();
	if (!registry.failed && !found.failed && found.value.size === tree.nodes.length) {
		return {checks: null, reusable: found.value};
	}

	// Interrupted while asking the registry: no docker process is started.
	signal.throwIfAborted();
	const checks = await preflight({...(options.builder ? {builder: options.builder} : {}), bake, signal});
	if (registry.failed) {
		throw registry.error;
	}

	if (found.failed) {
		throw found.error;
	}

	return {checks, reusable: found.value};
}

/**
 * Builds a planned tree for real: Docker's and the registry's checks and the look-ups for reuse, the
 * (rewritten) bake file, one bake run with live per-tier events, then digests, sizes and
 * `<out>/build-result.json`. When the registry has every tier, nothing runs through Docker. A
 * missing prerequisite throws a UserError (exit 2); a failed build returns exit code 1, an
 * interrupted one 130.
 */
export async function buildTree(options: BuildTreeOptions): Promise<BuildTreeOutput> {
	const {tree, signal} = options;
	const now = options.now ?? Date.now;
	const out = path.resolve(options.out);
	const bake = JSON.parse(options.files.get(bakeFileName)!) as BakeFile;
	const push = options.push && Boolean(tree.registry);
	const secrets = secretValues(tree, process.env);
	const {checks, reusable} = await checkPrerequisites(options, push, bake);
	const reused = new Map([...reusable].map(([id, image]) => [id, image.digest!]));
	if (reused.size > 0) {
		await writeFileAtomic(path.join(out, bakeFileName), `${JSON.stringify(withReusedTiers(bake, tree, reused), null, 2)}\n`);
	}

	let state: BuildState = initialBuildState;
	// A step that prints a secret (a failing `curl` with the token in its URL) must not put it in a log.
	const emit = (raw: BuildEvent) => {
		const event = redact(raw, secrets);
		state = reduceBuild(state, event);
		options.onEvent(event);
	};

	emit({
		type: 'start',
		time: now(),
		tiers: tree.nodes.map(node => ({id: node.id, tier: node.tier, parent: node.parent, tag: node.tag, image: node.image, images: node.images})),
		push,
		registry: tree.registry ?? null,
		builder: checks?.builder.name ?? null,
		driver: checks?.builder.driver ?? null,
		buildx: checks?.buildx.version ?? null,
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
	// After an interrupt nothing waits on the registry: the tiers' sizes are then left out.
	const sizeDeadline = withDeadline(signal, 30_000);
	const sizeSignal = sizeDeadline.signal;
	await Promise.all(
		lookups.map(async id => {
			const tag = state.tiers[id]!.tag;
			const image = await (push ? inspectImage(tag, sizeSignal) : inspectLocalImage(tag, sizeSignal)).catch(() => null);
			if (image) {
				images.set(id, image);
			}
		}),
	);
	sizeDeadline.done();

	const interrupted = signal.aborted;
	const outcome = outcomeOf(run, interrupted);
	const exitCode = outcome === 'ok' ? exitCodes.ok : outcome === 'cancelled' ? exitCodes.interrupted : exitCodes.buildFailed;
	const message = finishMessage(state, run, outcome, options.out, tree.registry);
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
	try {
		await writeFileAtomic(path.join(out, buildResultFileName), `${JSON.stringify(redact(result, secrets), null, 2)}\n`);
	} catch (error) {
		if (!(error instanceof UserError)) {
			throw error;
		}

		// A stale result from an earlier run must not be read as this one's; the summary still goes out.
		await rm(path.join(out, buildResultFileName), {force: true}).catch(() => undefined);
		const reason = /\(([A-Z]+)/.exec(error.message)?.[1] ?? 'error';
		emit({type: 'warning', time: now(), message: `could not write ${buildResultFileName} (${reason}); the result is only in this output, and no earlier ${buildResultFileName} is left to be mistaken for it`});
	}

	emit({type: 'finish', time: now(), outcome, message, result});
	return {exitCode, result};
}
