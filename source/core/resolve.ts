import type {AddOnCatalog, Catalog, CudaVersion, FrameworkCatalog, FrameworkVersion, Gpu, OsVersion, PythonVersion} from './catalog.js';
import type {AddOnVersion} from './catalog-schema.js';
import {archReason, cudaArchList, driverVerdict, gpuLabel, hasSassFor, smName, type CompatLevel} from './compat.js';
import {frameworkCompanions, type ImageRequest, type PackageRequest, type Selection} from './recipe.js';
import {compareDotted, majorMinor, satisfies} from './versions.js';

/** An option the user could pick, allowed or with the precise reason it is not. */
export type Option = {value: string; allowed: boolean; reason?: string; note?: string};

export type ChosenAddOn = {catalog: AddOnCatalog; version: AddOnVersion};

export type ResolvedImage = {
	name: string;
	os: OsVersion;
	cuda: CudaVersion;
	compat: CompatLevel;
	python: PythonVersion;
	framework: {catalog: FrameworkCatalog; version: FrameworkVersion; variant: FrameworkVersion['variants'][number]};
	/** torchvision / torchaudio at the versions that match the framework release. */
	companions: Array<{id: string; version: string}>;
	extras: ChosenAddOn[];
	apps: ChosenAddOn[];
	components: ChosenAddOn[];
	common: ChosenAddOn[];
	cudaArchList: string;
	/** The cuda tier needs the compiler and headers because something above compiles CUDA code. */
	devel: boolean;
	patch?: ImageRequest['patch'];
	notes: string[];
};

export type ImageResolution = {
	request: ImageRequest;
	resolved?: ResolvedImage;
	/** Why nothing fits, one line each; empty when resolved. */
	problems: string[];
	options: {cuda: Option[]; framework: Option[]; python: Option[]; os: Option[]};
};

export type Resolution = {selection: Selection; images: ImageResolution[]; ok: boolean};

type Preferences = {os?: string; python?: string};

const frameworkLabel = (framework: FrameworkCatalog, version: FrameworkVersion) => `${framework.kind.name} ${version.version}`;
const cuTag = (cuda: string) => `cu${cuda.replace('.', '')}`;

/** The versions an image's requirements are checked against, by resource id. */
type VersionContext = Record<string, string>;

function requirementReason(owner: string, requires: Record<string, string>, context: VersionContext): string | undefined {
	for (const [id, range] of Object.entries(requires)) {
		// Own keys only: an id such as "constructor" must not find Object's prototype.
		const actual = Object.hasOwn(context, id) ? context[id] : undefined;
		if (actual !== undefined && !satisfies(actual, range)) {
			return `${owner} needs ${id} ${range}, the image has ${actual}`;
		}
	}

	return undefined;
}

/** The newest version of an add-on that fits, or the reason the newest in range does not. */
function chooseAddOn(catalog: AddOnCatalog, request: PackageRequest, context: VersionContext, gpus: Gpu[]): ChosenAddOn | {reason: string} {
	const inRange = catalog.versions.filter(version => satisfies(version.version, request.range));
	if (inRange.length === 0) {
		return {reason: `${catalog.kind.name} has no version matching "${request.range}" (known: ${catalog.versions.map(version => version.version).join(', ')})`};
	}

	let firstReason = '';
	for (const version of inRange) {
		const label = `${catalog.kind.name} ${version.version}`;
		const tooOld = version.min_compute_capability ? gpus.find(gpu => compareDotted(gpu.computeCapability, version.min_compute_capability!) < 0) : undefined;
		const cuda = context['cuda'];
		const cudnn = context['cudnn'];
		const reason = tooOld
			? `${label} needs compute capability >= ${version.min_compute_capability}, ${gpuLabel(tooOld)} has less`
			: version.cuda_variants && cuda && !version.cuda_variants.includes(majorMinor(cuda))
				? `${label} has wheels for CUDA ${version.cuda_variants.join(', ')}, not ${majorMinor(cuda)}`
				: version.cudnn && cudnn && version.cudnn !== cudnn.split('.')[0]
					? `${label} needs cuDNN ${version.cudnn}, the image has cuDNN ${cudnn}`
					: requirementReason(label, version.requires, context);
		if (!reason) {
			return {catalog, version};
		}

		firstReason ||= reason;
	}

	return {reason: firstReason};
}

/** Chooses every requested add-on; the first failure explains the whole list. */
function chooseAddOns(known: Map<string, AddOnCatalog>, requests: PackageRequest[], context: VersionContext, gpus: Gpu[]): ChosenAddOn[] | {reason: string} {
	const chosen: ChosenAddOn[] = [];
	for (const request of requests) {
		const catalog = known.get(request.id);
		if (!catalog) {
			continue;
		}

		const choice = chooseAddOn(catalog, request, context, gpus);
		if ('reason' in choice) {
			return choice;
		}

		chosen.push(choice);
		context[request.id] = choice.version.version;
	}

	return chosen;
}

/** Adds the components a chosen component `depends` on, dependencies first. */
function withDependencies(known: Map<string, AddOnCatalog>, requests: PackageRequest[]): PackageRequest[] {
	const ordered: PackageRequest[] = [];
	const visit = (request: PackageRequest) => {
		if (ordered.some(existing => existing.id === request.id)) {
			return;
		}

		const catalog = known.get(request.id);
		const newest = catalog?.versions.find(version => satisfies(version.version, request.range));
		for (const dependency of newest?.depends ?? []) {
			visit(requests.find(existing => existing.id === dependency) ?? {id: dependency, range: '*'});
		}

		ordered.push(request);
	};

	for (const request of requests) {
		visit(request);
	}

	return ordered;
}

/** Why a (framework, CUDA) pair does not fit; range and data-gap failures are kept apart from real conflicts. */
type PairFailure = {reason: string; outsideRange?: string; unverified?: boolean; noBuild?: boolean};

type Candidate = {framework: FrameworkVersion; cuda: CudaVersion; variant: FrameworkVersion['variants'][number]; level: CompatLevel; notes: string[]};

type ReleaseVerdict = {ok: true; level: CompatLevel} | (PairFailure & {ok?: false});

/**
 * The checks on a CUDA release that do not depend on the framework version: the asked ranges,
 * verified data, the OS, every GPU's architecture and the node driver.
 */
function checkRelease(catalog: Catalog, selection: Selection, request: ImageRequest, cuda: CudaVersion): ReleaseVerdict {
	for (const [range, where] of [[selection.cuda, 'the recipe'], [request.cuda, `image ${request.name}`]] as const) {
		if (range && !satisfies(cuda.version, range)) {
			return {reason: `CUDA ${cuda.version} is outside cuda "${range}" that ${where} asks for`, outsideRange: range};
		}
	}

	const missing = [!cuda.min_driver && 'minimum driver', cuda.arches.length === 0 && 'GPU architectures', cuda.os.length === 0 && 'published OS images'].filter(Boolean);
	if (missing.length > 0) {
		return {reason: `CUDA ${cuda.version} is listed without verified ${missing.join(', ')}, so stackwiz does not build it`, unverified: true};
	}

	if (selection.os && !cuda.os.includes(selection.os)) {
		return {reason: `NVIDIA publishes CUDA ${cuda.version} for ${cuda.os.join(', ')}, not ${selection.os}`};
	}

	for (const gpu of selection.gpus) {
		const reason = archReason(catalog, cuda, gpu);
		if (reason) {
			return {reason};
		}
	}

	const driver = driverVerdict(catalog, cuda, selection.driver, selection.gpus);
	return driver.ok ? {ok: true, level: driver.level} : {reason: driver.reason};
}

/** The checks that depend on the framework version: a wheel build for the CUDA line, kernels for every GPU, the extras. */
function checkFramework(catalog: Catalog, selection: Selection, request: ImageRequest, framework: FrameworkCatalog, version: FrameworkVersion, cuda: CudaVersion, level: CompatLevel): Candidate | PairFailure {
	const label = frameworkLabel(framework, version);
	const variant = version.variants.find(candidate => candidate.cuda === majorMinor(cuda.version));
	if (!variant) {
		return {reason: `${label} has no CUDA ${majorMinor(cuda.version)} build (it ships ${version.variants.map(candidate => cuTag(candidate.cuda)).join(', ')})`, noBuild: true};
	}

	const notes: string[] = [];
	for (const gpu of selection.gpus) {
		if (hasSassFor(variant.arch_list, gpu.computeCapability)) {
			continue;
		}

		const ptxUsable = variant.ptx !== undefined && compareDotted(gpu.computeCapability, variant.ptx) > 0;
		if (!ptxUsable) {
			return {reason: `${label} ${cuTag(variant.cuda)} wheels carry no kernels for ${gpuLabel(gpu)} (they ship ${variant.arch_list.map(smName).join(' ')})`};
		}

		if (level === 'minor-version') {
			return {reason: `${gpuLabel(gpu)} would need JIT of ${label}'s PTX, which minor-version compatibility cannot do; use a driver >= ${cuda.min_driver}`};
		}

		notes.push(`${gpu.name} runs ${label} through PTX JIT from ${smName(variant.ptx!)} (slower first start)`);
	}

	const context: VersionContext = {[framework.kind.id]: version.version, cuda: cuda.version, ...cudnnContext(cuda)};
	const extras = chooseAddOns(catalog.extras, request.extras.filter(extra => !isCompanion(extra.id)), context, selection.gpus);
	if ('reason' in extras) {
		return extras;
	}

	return {framework: version, cuda, variant, level, notes};
}

/** CUDA releases by their major.minor line, newest first; built once per catalog. */
const linesByCatalog = new WeakMap<Catalog, Map<string, CudaVersion[]>>();
function releaseLines(catalog: Catalog): Map<string, CudaVersion[]> {
	let lines = linesByCatalog.get(catalog);
	if (!lines) {
		lines = new Map();
		for (const cuda of catalog.cuda.versions) {
			const line = majorMinor(cuda.version);
			lines.set(line, [...lines.get(line) ?? [], cuda]);
		}

		linesByCatalog.set(catalog, lines);
	}

	return lines;
}

/** cuDNN's version without the Debian revision ("9.1.0.70" of "9.1.0.70-1"). */
const cudnnContext = (cuda: CudaVersion): VersionContext => (cuda.cudnn ? {cudnn: cuda.cudnn.version.replace(/-\d+$/, '')} : {});

const isCompanion = (id: string) => (frameworkCompanions as readonly string[]).includes(id);
const levelRank: Record<CompatLevel, number> = {native: 0, 'minor-version': 1, forward: 2};

/** Among fitting pairs: best compatibility level, then the framework's default CUDA, then the newest CUDA. */
function pickCandidate(candidates: Candidate[]): Candidate | undefined {
	const bestLevel = Math.min(...candidates.map(candidate => levelRank[candidate.level]));
	const best = candidates.filter(candidate => levelRank[candidate.level] === bestLevel);
	return best.find(candidate => candidate.variant.cuda === candidate.framework.default_cuda) ?? best[0];
}

/** Release verdicts by the image's own cuda range: images of one selection share them. */
type ReleaseCache = Map<string, Map<CudaVersion, ReleaseVerdict>>;

function resolveImage(catalog: Catalog, selection: Selection, request: ImageRequest, preferences: Preferences, releaseCache: ReleaseCache = new Map()): ImageResolution {
	const framework = catalog.frameworks.get(request.framework.id)!;
	const problems: string[] = [];
	const os = selection.os;
	const frameworkVersions = framework.versions.filter(version => satisfies(version.version, request.framework.range));
	const lines = releaseLines(catalog);
	let releaseVerdicts = releaseCache.get(request.cuda ?? '');
	if (!releaseVerdicts) {
		releaseVerdicts = new Map(catalog.cuda.versions.map(cuda => [cuda, checkRelease(catalog, selection, request, cuda)]));
		releaseCache.set(request.cuda ?? '', releaseVerdicts);
	}

	// Pairs are checked lazily and once: the work grows with releases + framework versions, not their product.
	const pairs = new Map<string, Candidate | PairFailure>();
	const pair = (version: FrameworkVersion, cuda: CudaVersion): Candidate | PairFailure => {
		const release = releaseVerdicts.get(cuda)!;
		if (!release.ok) {
			return release;
		}

		const key = `${version.version} ${cuda.version}`;
		let verdict = pairs.get(key);
		if (!verdict) {
			verdict = checkFramework(catalog, selection, request, framework, version, cuda, release.level);
			pairs.set(key, verdict);
		}

		return verdict;
	};

	/** Per CUDA line, the releases that pass every release-level check, newest first. */
	const passingLines = new Map<string, CudaVersion[]>();
	for (const [line, releases] of lines) {
		passingLines.set(line, releases.filter(cuda => releaseVerdicts.get(cuda)!.ok));
	}

	/** Per CUDA build of a version: its best release (native first, then newest). */
	const candidateCache = new Map<FrameworkVersion, Candidate[]>();
	const candidatesFor = (version: FrameworkVersion): Candidate[] => {
		let candidates = candidateCache.get(version);
		if (!candidates) {
			candidates = [];
			for (const variant of version.variants) {
				let best: Candidate | undefined;
				for (const cuda of passingLines.get(variant.cuda) ?? []) {
					const verdict = pair(version, cuda);
					if (!('reason' in verdict) && (!best || levelRank[verdict.level] < levelRank[best.level])) {
						best = verdict;
						if (verdict.level === 'native') {
							break;
						}
					}
				}

				if (best) {
					candidates.push(best);
				}
			}

			candidateCache.set(version, candidates);
		}

		return candidates;
	};

	/** Why each release fails for one framework version (for summaries). */
	const failuresFor = (version: FrameworkVersion) => new Map(catalog.cuda.versions.flatMap(cuda => {
		const verdict = pair(version, cuda);
		return 'reason' in verdict ? [[cuda.version, verdict] as const] : [];
	}));

	const frameworkOptions: Option[] = framework.versions.map(version => {
		if (!satisfies(version.version, request.framework.range)) {
			return {value: version.version, allowed: false, reason: `outside ${framework.kind.id}@${request.framework.range} asked`};
		}

		return candidatesFor(version).length > 0
			? {value: version.version, allowed: true}
			: {value: version.version, allowed: false, reason: summarizeFramework(version, variantFailures(version, lines, pair))};
	});

	const chosenFramework = frameworkVersions.find(version => candidatesFor(version).length > 0);
	const newestInRange = frameworkVersions[0];
	const buildersByLine = new Map<string, FrameworkVersion[]>();
	for (const version of frameworkVersions) {
		for (const variant of version.variants) {
			buildersByLine.set(variant.cuda, [...buildersByLine.get(variant.cuda) ?? [], version]);
		}
	}

	const cudaOptions: Option[] = catalog.cuda.versions.map(cuda => {
		const release = releaseVerdicts.get(cuda)!;
		if (!release.ok) {
			return {value: cuda.version, allowed: false, reason: release.reason};
		}

		const builders = buildersByLine.get(majorMinor(cuda.version)) ?? [];
		const fits = builders.find(version => !('reason' in pair(version, cuda)));
		if (fits) {
			return {value: cuda.version, allowed: true, ...(release.level === 'native' ? {} : {note: `${release.level} compatibility`})};
		}

		const explainer = builders[0] ?? newestInRange;
		const verdict = explainer ? pair(explainer, cuda) : undefined;
		return {value: cuda.version, allowed: false, reason: verdict && 'reason' in verdict ? verdict.reason : `no ${framework.kind.name} version matches "${request.framework.range}"`};
	});

	const pythonRanges = [selection.python, request.python].filter((range): range is string => Boolean(range));
	const pythonOptions = (version?: FrameworkVersion): Option[] => catalog.python.versions.map(python => {
		const outside = pythonRanges.find(range => !satisfies(python.version, range));
		if (outside) {
			return {value: python.version, allowed: false, reason: `outside python "${outside}" asked`};
		}

		if (version && !version.python.includes(python.version)) {
			return {value: python.version, allowed: false, reason: `${frameworkLabel(framework, version)} has no Python ${python.version} wheels (${version.python.join(', ')})`};
		}

		return {value: python.version, allowed: true};
	});

	const emptyResult = (problem: string): ImageResolution => {
		problems.push(problem);
		return {request, problems, options: {cuda: cudaOptions, framework: frameworkOptions, python: pythonOptions(), os: osOptions(catalog, undefined, os)}};
	};

	if (frameworkVersions.length === 0) {
		return emptyResult(`${framework.kind.name} has no version matching "${request.framework.range}" (known: ${framework.versions.map(version => version.version).join(', ')})`);
	}

	if (!chosenFramework) {
		// Per-version details only where they say more than the range the user asked for.
		const summary = headline(failuresFor(frameworkVersions[0]!));
		const details = frameworkVersions.slice(0, 4)
			.map(version => ({version, reasons: variantFailures(version, lines, pair)}))
			.filter(({reasons}) => reasons.some(reason => !summary.includes(reason)))
			.map(({version, reasons}) => `\n  ${frameworkLabel(framework, version)}: ${reasons.slice(0, 2).join('; ')}${reasons.length > 2 ? ` (+${reasons.length - 2} more)` : ''}`);
		return emptyResult(`no CUDA release fits ${request.framework.id}@${request.framework.range} on ${selection.gpus.map(gpu => gpu.name).join(' + ')}: ${summary}${details.join('')}`);
	}

	const candidate = pickCandidate(candidatesFor(chosenFramework))!;
	const pythonChoices = pythonOptions(chosenFramework);
	const allowedPythons = catalog.python.versions.filter(python => pythonChoices.find(option => option.value === python.version)?.allowed);
	const osChoices = osOptions(catalog, candidate.cuda, os);
	const osVersion = pickPreferred(catalog.os.filter(version => osChoices.find(option => option.value === version.token)?.allowed), version => version.token, preferences.os);
	if (!osVersion) {
		return emptyResult(`no OS in the catalog carries CUDA ${candidate.cuda.version} (${candidate.cuda.os.join(', ')})`);
	}

	// Python is chosen last: the newest one for which every extra and app still fits.
	let lastReason = '';
	for (const python of orderPreferred(allowedPythons, version => version.version, preferences.python)) {
		const context: VersionContext = {[osVersion.kind.id]: osVersion.version, cuda: candidate.cuda.version, ...cudnnContext(candidate.cuda), python: python.patch, [framework.kind.id]: chosenFramework.version};
		const companions = request.extras.filter(extra => isCompanion(extra.id)).map(extra => ({id: extra.id, version: chosenFramework[extra.id as 'torchvision' | 'torchaudio']}));
		const missingCompanion = companions.find(companion => companion.version === undefined);
		if (missingCompanion) {
			return emptyResult(`the catalog lists no ${missingCompanion.id} release for ${frameworkLabel(framework, chosenFramework)}`);
		}

		const common = catalog.python.common
			.map(item => chooseAddOn(item, {id: item.kind.id, range: Object.hasOwn(chosenFramework.requires, item.kind.id) ? chosenFramework.requires[item.kind.id]! : '*'}, {...context}, selection.gpus))
			.filter((choice): choice is ChosenAddOn => !('reason' in choice));
		const components = chooseAddOns(catalog.components, withDependencies(catalog.components, selection.components), {...context}, selection.gpus);
		const extras = chooseAddOns(catalog.extras, request.extras.filter(extra => !isCompanion(extra.id)), {...context}, selection.gpus);
		const apps = chooseAddOns(catalog.apps, request.apps, {...context, ...Object.fromEntries(Array.isArray(extras) ? extras.map(extra => [extra.catalog.kind.id, extra.version.version]) : [])}, selection.gpus);
		const failure = [components, extras, apps].find((choice): choice is {reason: string} => 'reason' in choice);
		if (failure) {
			lastReason ||= `with Python ${python.version}: ${failure.reason}`;
			continue;
		}

		const chosenExtras = extras as ChosenAddOn[];
		const chosenComponents = components as ChosenAddOn[];
		const notes = [...candidate.notes];
		if (candidate.level !== 'native') {
			notes.push(`nodes run CUDA ${candidate.cuda.version} through ${candidate.level} compatibility (driver ${selection.driver} < ${candidate.cuda.min_driver})`);
		}

		return {
			request,
			problems,
			options: {cuda: cudaOptions, framework: frameworkOptions, python: pythonChoices, os: osChoices},
			resolved: {
				name: request.name,
				os: osVersion,
				cuda: candidate.cuda,
				compat: candidate.level,
				python,
				framework: {catalog: framework, version: chosenFramework, variant: candidate.variant},
				companions: companions as Array<{id: string; version: string}>,
				extras: chosenExtras,
				apps: apps as ChosenAddOn[],
				components: chosenComponents,
				common,
				cudaArchList: cudaArchList(selection.gpus),
				devel: [...chosenExtras, ...chosenComponents].some(choice => choice.version.build),
				...(request.patch ? {patch: request.patch} : {}),
				notes,
			},
		};
	}

	const inRangePythons = pythonChoices.filter(option => !pythonRanges.some(range => !satisfies(option.value, range)));
	return emptyResult(allowedPythons.length === 0
		? `no Python fits ${frameworkLabel(framework, chosenFramework)}: ${(inRangePythons.length > 0 ? inRangePythons.map(option => option.reason!) : [`python "${pythonRanges.join('", "')}" matches no Python in the catalog`]).join('; ')}`
		: lastReason);
}

function osOptions(catalog: Catalog, cuda: CudaVersion | undefined, asked: string | undefined): Option[] {
	return catalog.os.map(version => {
		if (asked && version.token !== asked) {
			return {value: version.token, allowed: false, reason: `the recipe asks for ${asked}`};
		}

		if (cuda && !cuda.os.includes(version.token)) {
			return {value: version.token, allowed: false, reason: `NVIDIA publishes CUDA ${cuda.version} for ${cuda.os.join(', ')}`};
		}

		return {value: version.token, allowed: true};
	});
}

function orderPreferred<T>(items: T[], key: (item: T) => string, preferred: string | undefined): T[] {
	const first = items.filter(item => key(item) === preferred);
	return [...first, ...items.filter(item => key(item) !== preferred)];
}

function pickPreferred<T>(items: T[], key: (item: T) => string, preferred: string | undefined): T | undefined {
	return orderPreferred(items, key, preferred)[0];
}

/**
 * The reasons that matter for CUDA releases the user did ask for, and the range that excluded
 * the rest: `NVIDIA H100 (sm_90) needs CUDA >= 11.8; cuda "<11.8" was asked`.
 */
function headline(reasons: Map<string, PairFailure>): string {
	const failures = [...reasons.values()];
	const real = failures.filter(failure => !failure.outsideRange && !failure.unverified);
	const conflicts = real.some(failure => !failure.noBuild) ? real.filter(failure => !failure.noBuild) : real;
	const inRange = [...new Set(conflicts.map(failure => failure.reason))];
	const ranges = [...new Set(failures.flatMap(failure => (failure.outsideRange ? [failure.outsideRange] : [])))];
	const parts = [...inRange.slice(0, 2), ...(inRange.length > 2 ? [`${inRange.length - 2} more reasons`] : []), ...ranges.map(range => `cuda "${range}" was asked`)];
	return parts.join('; ');
}

/**
 * Why each CUDA build of a framework version fails, one reason per build: the conflict for its
 * newest release inside the asked range; builds the range excludes entirely say nothing new.
 */
function variantFailures(version: FrameworkVersion, lines: Map<string, CudaVersion[]>, pair: (version: FrameworkVersion, cuda: CudaVersion) => Candidate | PairFailure): string[] {
	const distinct: string[] = [];
	for (const variant of version.variants) {
		const releases = lines.get(variant.cuda) ?? [];
		let reason: string | undefined = releases.length === 0 ? `the catalog has no CUDA ${variant.cuda} release` : undefined;
		for (const cuda of releases) {
			const verdict = pair(version, cuda);
			if ('reason' in verdict && !verdict.outsideRange && !verdict.unverified) {
				reason = verdict.reason;
				break;
			}
		}

		if (reason && !distinct.includes(reason)) {
			distinct.push(reason);
		}
	}

	return distinct;
}

/** One line on why a framework version fits no CUDA release. */
function summarizeFramework(version: FrameworkVersion, reasons: string[]): string {
	if (reasons.length === 0) {
		return `the asked CUDA range excludes every ${version.variants.map(variant => cuTag(variant.cuda)).join(', ')} build`;
	}

	return reasons.slice(0, 2).join('; ') + (reasons.length > 2 ? ` (+${reasons.length - 2} more)` : '');
}

/**
 * The filter of the method: keeps only the versions that fit the hardware and the task, chooses
 * among them, and explains every option it rules out. Images that share hardware prefer a
 * common OS and Python so their lower tiers can be shared.
 */
export function resolveSelection(catalog: Catalog, selection: Selection): Resolution {
	const releaseCache: ReleaseCache = new Map();
	const first = selection.images.map(request => resolveImage(catalog, selection, request, {}, releaseCache));
	const preferences: Preferences = {
		os: commonChoice(first.map(image => image.options.os)),
		python: commonChoice(first.map(image => image.options.python)),
	};
	// Only images that chose differently from the common preference are resolved again.
	const images = first.map((image, index) => image.resolved && (image.resolved.os.token !== (preferences.os ?? image.resolved.os.token) || image.resolved.python.version !== (preferences.python ?? image.resolved.python.version))
		? resolveImage(catalog, selection, selection.images[index]!, preferences, releaseCache)
		: image);
	return {selection, images, ok: images.every(image => image.resolved)};
}

/** The newest value allowed for every image, if one exists. */
function commonChoice(optionLists: Option[][]): string | undefined {
	const [head, ...rest] = optionLists;
	return head?.find(option => option.allowed && rest.every(list => list.some(other => other.value === option.value && other.allowed)))?.value;
}
