/**
 * Typed build events and the pure reducer over them. The bake runner emits the events; the plain
 * reporter, the JSON reporter and the Ink build screen all consume the same stream, and the
 * reporters derive their lines from the state this reducer keeps.
 */

/** Where one tier stands. */
export type TierPhase = 'queued' | 'building' | 'cached' | 'built' | 'pushing' | 'pushed' | 'reused' | 'failed' | 'cancelled';

/** How a tier's image came to exist: ran its steps, found them all in the build cache, or took it from the registry. */
export type TierResultKind = 'built' | 'cached' | 'reused';

export type BuildOutcome = 'ok' | 'failed' | 'cancelled';

export type ByteProgress = {current: number; total: number};

/** What the build knows about one tier before it starts. */
export type TierInfo = {
	id: string;
	tier: string;
	parent: string | null;
	tag: string;
	/** The image whose top tier this is, if any. */
	image: string | null;
	images: string[];
};

export type BuildEvent =
	| {type: 'start'; time: number; tiers: TierInfo[]; push: boolean; registry: string | null; builder: string | null; driver: string | null; buildx: string | null}
	| {type: 'queued'; time: number; tier: string}
	| {type: 'building'; time: number; tier: string; step: string | null; index: number | null; total: number | null; bytes: ByteProgress | null}
	| {type: 'cached'; time: number; tier: string}
	| {type: 'built'; time: number; tier: string}
	| {type: 'pushing'; time: number; tier: string; bytes: ByteProgress | null}
	| {type: 'pushed'; time: number; tier: string}
	| {type: 'reused'; time: number; tier: string; digest: string}
	| {type: 'failed'; time: number; tier: string; reason: string; logTail: string[]}
	| {type: 'cancelled'; time: number; tier: string; reason: string}
	| {type: 'log'; time: number; tier: string; line: string}
	| {type: 'warning'; time: number; message: string}
	| {type: 'finish'; time: number; outcome: BuildOutcome; message: string | null; result: BuildResult | null};

/** One tier as the screens draw it. */
export type TierView = TierInfo & {
	phase: TierPhase;
	result: TierResultKind | null;
	/** The step running now ("RUN pip install ..."), its position in its Dockerfile and the bytes it moved. */
	step: string | null;
	index: number | null;
	total: number | null;
	bytes: ByteProgress | null;
	digest: string | null;
	reason: string | null;
	/** The last lines the tier's steps printed (at most `logTailLines`). */
	logTail: string[];
	startedAt: number | null;
	finishedAt: number | null;
};

export type BuildState = {
	status: 'idle' | 'running' | 'done';
	push: boolean;
	registry: string | null;
	/** Null when Docker was not needed: the registry had every tier. */
	builder: string | null;
	driver: string | null;
	buildx: string | null;
	/** Tier ids in tree order (parents before children). */
	order: string[];
	tiers: Record<string, TierView>;
	warnings: string[];
	outcome: BuildOutcome | null;
	message: string | null;
	result: BuildResult | null;
	startedAt: number | null;
	finishedAt: number | null;
};

/** How many log lines a tier keeps; a failure shows all of them. */
export const logTailLines = 30;
const maxWarnings = 50;

export const initialBuildState: BuildState = {
	status: 'idle',
	push: false,
	registry: null,
	builder: null,
	driver: null,
	buildx: null,
	order: [],
	tiers: {},
	warnings: [],
	outcome: null,
	message: null,
	result: null,
	startedAt: null,
	finishedAt: null,
};

/** True when nothing can change the tier any more. */
export function isFinalPhase(phase: TierPhase, push: boolean): boolean {
	return phase === 'pushed' || phase === 'reused' || phase === 'failed' || phase === 'cancelled' || (!push && (phase === 'built' || phase === 'cached'));
}

/** Appends to a bounded tail, dropping the oldest entries. */
export function appendBounded<T>(tail: readonly T[], items: readonly T[], limit: number): T[] {
	const joined = tail.length + items.length <= limit ? [...tail, ...items] : [...tail, ...items].slice(-limit);
	return joined;
}

function updateTier(state: BuildState, id: string, change: Partial<TierView>): BuildState {
	const tier = state.tiers[id]!;
	return {...state, tiers: {...state.tiers, [id]: {...tier, ...change}}};
}

/**
 * The build state after one event. Events that do not fit the tier's phase (a late "building"
 * after "pushed", an unknown tier) leave the state untouched and return the same object, so a
 * consumer can tell "nothing changed" by identity.
 */
export function reduceBuild(state: BuildState, event: BuildEvent): BuildState {
	if (event.type === 'start') {
		const tiers: Record<string, TierView> = {};
		for (const info of event.tiers) {
			tiers[info.id] = {
				...info,
				phase: 'queued',
				result: null,
				step: null,
				index: null,
				total: null,
				bytes: null,
				digest: null,
				reason: null,
				logTail: [],
				startedAt: null,
				finishedAt: null,
			};
		}

		return {
			...initialBuildState,
			status: 'running',
			push: event.push,
			registry: event.registry,
			builder: event.builder,
			driver: event.driver,
			buildx: event.buildx,
			order: event.tiers.map(info => info.id),
			tiers,
			startedAt: event.time,
		};
	}

	if (event.type === 'warning') {
		return {...state, warnings: appendBounded(state.warnings, [event.message], maxWarnings)};
	}

	if (event.type === 'finish') {
		return {...state, status: 'done', outcome: event.outcome, message: event.message, result: event.result, finishedAt: event.time};
	}

	const tier = state.tiers[event.tier];
	if (!tier) {
		return state;
	}

	const {phase} = tier;
	const final = isFinalPhase(phase, state.push);
	switch (event.type) {
		case 'queued': {
			// Every tier starts queued; a tier shown building on a step that turned out to be its
			// parent's goes back.
			return phase === 'building' ? updateTier(state, event.tier, {phase: 'queued', step: null, index: null, total: null, bytes: null}) : state;
		}

		case 'building': {
			if (phase !== 'queued' && phase !== 'building') {
				return state;
			}

			return updateTier(state, event.tier, {phase: 'building', step: event.step, index: event.index, total: event.total, bytes: event.bytes, startedAt: tier.startedAt ?? event.time});
		}

		case 'cached':
		case 'built': {
			if (phase !== 'queued' && phase !== 'building') {
				return state;
			}

			return updateTier(state, event.tier, {
				phase: event.type,
				result: event.type,
				step: null,
				index: null,
				total: null,
				bytes: null,
				startedAt: tier.startedAt ?? event.time,
				finishedAt: state.push ? null : event.time,
			});
		}

		case 'pushing': {
			if (phase !== 'cached' && phase !== 'built' && phase !== 'pushing') {
				return state;
			}

			return updateTier(state, event.tier, {phase: 'pushing', bytes: event.bytes});
		}

		case 'pushed': {
			if (phase !== 'cached' && phase !== 'built' && phase !== 'pushing') {
				return state;
			}

			return updateTier(state, event.tier, {phase: 'pushed', bytes: null, finishedAt: event.time});
		}

		case 'reused': {
			if (phase !== 'queued') {
				return state;
			}

			return updateTier(state, event.tier, {phase: 'reused', result: 'reused', digest: event.digest, startedAt: event.time, finishedAt: event.time});
		}

		case 'failed': {
			if (final) {
				return state;
			}

			return updateTier(state, event.tier, {phase: 'failed', reason: event.reason, logTail: event.logTail.slice(-logTailLines), step: null, bytes: null, finishedAt: event.time, startedAt: tier.startedAt ?? event.time});
		}

		case 'cancelled': {
			if (final) {
				return state;
			}

			return updateTier(state, event.tier, {phase: 'cancelled', reason: event.reason, step: null, bytes: null, finishedAt: event.time});
		}

		case 'log': {
			return updateTier(state, event.tier, {logTail: appendBounded(tier.logTail, [event.line], logTailLines)});
		}
	}
}

/** Folds a whole event list; handy for tests and for replaying a `--json` log. */
export function reduceAll(events: readonly BuildEvent[], state: BuildState = initialBuildState): BuildState {
	return events.reduce(reduceBuild, state);
}

// ------------------------------------------------------------------------------------------------
// The result of a build: what `<out>/build-result.json` holds and what the summary prints.

/** A tier's manifest as the registry (or the local image store) describes it. */
export type TierImage = {
	/** Registry manifest digest; null for an image that only exists locally. */
	digest: string | null;
	/** Layer digests and sizes, bottom up; null when only the total is known. */
	layers: Array<{digest: string; size: number}> | null;
	/** Sum of the layer sizes. */
	size: number;
};

export type TierResult = {
	id: string;
	tier: string;
	parent: string | null;
	tag: string;
	image: string | null;
	state: TierPhase;
	result: TierResultKind | null;
	pushed: boolean;
	digest: string | null;
	durationMs: number | null;
	/** Bytes this tier adds on top of its parent (compressed when pushed). */
	size: number | null;
	/** Bytes of the whole image up to and including this tier. */
	imageSize: number | null;
	reason: string | null;
};

export type ImageResult = {name: string; tier: string; tag: string; digest: string | null; size: number | null};

export type BuildResult = {
	recipe: string;
	registry: string | null;
	push: boolean;
	outcome: BuildOutcome;
	exitCode: number;
	message: string | null;
	startedAt: string;
	durationMs: number;
	/** "compressed" for registry manifests, "uncompressed" for images only in the local store. */
	sizeKind: 'compressed' | 'uncompressed';
	tiers: TierResult[];
	images: ImageResult[];
	/** Bytes of every image stored as a flat monolith, against the tiers stored once. Null while a size is unknown. */
	sharing: {flatBytes: number; storedBytes: number; savedBytes: number} | null;
	/** What a node that already holds image `have` pulls to run image `want`. */
	pulls: Array<{have: string; want: string; bytes: number; wantBytes: number}>;
};

export type ResultInput = {
	recipe: string;
	outcome: BuildOutcome;
	exitCode: number;
	message: string | null;
	/** Image name -> id of its top tier. */
	leaves: ReadonlyMap<string, string>;
	images: ReadonlyMap<string, TierImage>;
	sizeKind: 'compressed' | 'uncompressed';
	/** Registry digests learnt after the run (metadata file, registry look-ups). */
	digests: ReadonlyMap<string, string>;
	now: number;
};

/** Bytes a tier adds over its parent: layers its parent does not have, or the difference of totals. */
function ownBytes(image: TierImage | undefined, parent: TierImage | undefined, isRoot: boolean): number | null {
	if (!image) {
		return null;
	}

	if (isRoot) {
		return image.size;
	}

	if (!parent) {
		return null;
	}

	if (image.layers && parent.layers) {
		const below = new Set(parent.layers.map(layer => layer.digest));
		return image.layers.filter(layer => !below.has(layer.digest)).reduce((sum, layer) => sum + layer.size, 0);
	}

	return Math.max(0, image.size - parent.size);
}

/** The tier ids from an image's top tier down to the root. */
export function tierPath(state: BuildState, top: string): string[] {
	const path: string[] = [];
	for (let id: string | null = top; id !== null && state.tiers[id] && !path.includes(id); id = state.tiers[id]!.parent) {
		path.push(id);
	}

	return path;
}

function sumOwn(ids: readonly string[], own: ReadonlyMap<string, number | null>): number | null {
	let sum = 0;
	for (const id of ids) {
		const bytes = own.get(id);
		if (bytes === null || bytes === undefined) {
			return null;
		}

		sum += bytes;
	}

	return sum;
}

/**
 * The per-tier results, the images users run, and what sharing tiers saved: every image stored
 * flat would hold all of its layers, while the tree stores each tier once; and a node holding
 * image A pulls only the tiers of image B that A does not have.
 */
export function buildResult(state: BuildState, input: ResultInput): BuildResult {
	const own = new Map<string, number | null>();
	for (const id of state.order) {
		const tier = state.tiers[id]!;
		own.set(id, ownBytes(input.images.get(id), tier.parent ? input.images.get(tier.parent) : undefined, tier.parent === null));
	}

	const tiers: TierResult[] = state.order.map(id => {
		const tier = state.tiers[id]!;
		const digest = tier.digest ?? input.digests.get(id) ?? input.images.get(id)?.digest ?? null;
		return {
			id,
			tier: tier.tier,
			parent: tier.parent,
			tag: tier.tag,
			image: tier.image,
			state: tier.phase,
			result: tier.result,
			pushed: tier.phase === 'pushed',
			digest: tier.phase === 'pushed' || tier.phase === 'reused' ? digest : null,
			durationMs: tier.phase !== 'reused' && tier.startedAt !== null && tier.finishedAt !== null ? tier.finishedAt - tier.startedAt : null,
			size: own.get(id) ?? null,
			imageSize: input.images.get(id)?.size ?? null,
			reason: tier.reason,
		};
	});

	const images: ImageResult[] = [...input.leaves].map(([name, top]) => {
		const result = tiers.find(tier => tier.id === top);
		return {name, tier: top, tag: state.tiers[top]?.tag ?? '', digest: result?.digest ?? null, size: sumOwn(tierPath(state, top), own)};
	});

	const paths = new Map([...input.leaves].map(([name, top]) => [name, tierPath(state, top)]));
	const flat = images.every(image => image.size !== null) ? images.reduce((sum, image) => sum + image.size!, 0) : null;
	const stored = sumOwn([...new Set([...paths.values()].flat())], own);
	const pulls: BuildResult['pulls'] = [];
	for (const [have, havePath] of paths) {
		for (const [want, wantPath] of paths) {
			const bytes = have === want ? null : sumOwn(wantPath.filter(id => !havePath.includes(id)), own);
			const wantBytes = sumOwn(wantPath, own);
			if (bytes !== null && wantBytes !== null) {
				pulls.push({have, want, bytes, wantBytes});
			}
		}
	}

	return {
		recipe: input.recipe,
		registry: state.registry,
		push: state.push,
		outcome: input.outcome,
		exitCode: input.exitCode,
		message: input.message,
		startedAt: new Date(state.startedAt ?? input.now).toISOString(),
		durationMs: input.now - (state.startedAt ?? input.now),
		sizeKind: input.sizeKind,
		tiers,
		images,
		sharing: flat !== null && stored !== null ? {flatBytes: flat, storedBytes: stored, savedBytes: flat - stored} : null,
		pulls,
	};
}
