import type {AddOn, AddOnVersion, CatalogFile, CudaFile, FrameworkFile, ResourceHeader, TierName} from './catalog-schema.js';
import {tierNames} from './catalog-schema.js';
import {byVersionDescending} from './versions.js';

export type ResourceKind = {
	id: string;
	name: string;
	category: string;
	relation: 'hardware' | 'task';
	tier: TierName;
	lifecycleDays: number;
	file: string;
	/** Where the entry stands in its file, for positioned messages. */
	path: Array<string | number>;
};

export type Gpu = {
	id: string;
	name: string;
	architecture: string;
	computeCapability: string;
	brand: string | null;
	segment: 'datacenter' | 'workstation' | 'consumer';
	aliases: string[];
	smiNames: string[];
};

export type OsVersion = {
	kind: ResourceKind;
	version: string;
	/** How recipes name it: "ubuntu22.04". */
	token: string;
	image: string;
	codename?: string;
	systemPython?: string;
	aptRepo?: string;
	toolchain: string[];
	shell?: string[];
	install: string[];
	env: Record<string, string>;
};

export type CudaVersion = CudaFile['versions'][number];

export type CudaCatalog = {
	kind: ResourceKind;
	bundled: ResourceKind[];
	install: string[];
	develInstall: string[];
	env: Record<string, string>;
	/** CUDA major -> the driver floor of minor-version compatibility. */
	minorCompatDriver: Map<string, string>;
	/** Newest first. */
	versions: CudaVersion[];
};

export type FrameworkVersion = FrameworkFile['versions'][number];
export type FrameworkCatalog = {kind: ResourceKind; install: string[]; env: Record<string, string>; versions: FrameworkVersion[]};

export type AddOnCatalog = {
	kind: ResourceKind;
	hostOnly: boolean;
	hostOnlyReason?: string;
	/** Newest first. */
	versions: AddOnVersion[];
};

export type PythonVersion = {version: string; patch: string; install?: string[]};
export type PythonCatalog = {kind: ResourceKind; uvVersion?: string; install: string[]; env: Record<string, string>; versions: PythonVersion[]; common: AddOnCatalog[]};

export type Catalog = {
	/** File -> the primary sources it names. */
	sources: Map<string, string[]>;
	gpus: Gpu[];
	os: OsVersion[];
	cuda: CudaCatalog;
	python: PythonCatalog;
	frameworks: Map<string, FrameworkCatalog>;
	extras: Map<string, AddOnCatalog>;
	components: Map<string, AddOnCatalog>;
	apps: Map<string, AddOnCatalog>;
};

/** A semantic problem in the catalogs, positioned like a schema problem. */
export type CatalogProblem = {file: string; path: Array<string | number>; message: string};

export class CatalogError extends Error {
	constructor(readonly problems: CatalogProblem[]) {
		super(problems.map(problem => problem.message).join('\n'));
	}
}

function kindOf(header: ResourceHeader, file: string): ResourceKind {
	return {
		id: header.id,
		name: header.name,
		category: header.category,
		relation: header.relation,
		tier: header.tier,
		lifecycleDays: header.lifecycle_days,
		file,
		path: ['resource'],
	};
}

/** Later entries with the same key replace earlier ones; new keys are appended. */
function mergeBy<T>(base: T[], overrides: T[], key: (item: T) => string): T[] {
	const merged = new Map(base.map(item => [key(item), item]));
	for (const item of overrides) {
		merged.set(key(item), item);
	}

	return [...merged.values()];
}

type Draft = {
	sources: Map<string, string[]>;
	gpus: Gpu[];
	os: OsVersion[];
	cuda?: {file: string; data: CudaFile};
	python?: {file: string; data: Extract<CatalogFile, {kind: 'python'}>['data']};
	frameworks: Map<string, {file: string; data: FrameworkFile}>;
	addOns: Record<'extras' | 'components' | 'apps', Map<string, AddOnCatalog>>;
};

const addOnPlacement = {
	extras: {tier: 'framework', relation: 'task'},
	components: {tier: 'cuda', relation: 'hardware'},
	apps: {tier: 'apps', relation: 'task'},
	common: {tier: 'basic', relation: 'task'},
} as const;

function addOnCatalog(entry: AddOn, placement: keyof typeof addOnPlacement, file: string, path: Array<string | number>, previous?: AddOnCatalog): AddOnCatalog {
	const {tier, relation} = addOnPlacement[placement];
	const versions = mergeBy(previous?.versions ?? [], entry.versions, version => version.version);
	return {
		kind: {
			id: entry.id,
			name: entry.name,
			category: entry.category,
			relation,
			tier,
			lifecycleDays: entry.lifecycle_days,
			file,
			path,
		},
		hostOnly: entry.host_only,
		...(entry.host_only_reason ? {hostOnlyReason: entry.host_only_reason} : {}),
		versions: versions.sort(byVersionDescending(version => version.version)),
	};
}

function duplicateProblems(file: string, list: Array<{key: string}>, path: Array<string | number>, what: string): CatalogProblem[] {
	const seen = new Set<string>();
	const problems: CatalogProblem[] = [];
	for (const [index, {key}] of list.entries()) {
		if (seen.has(key)) {
			problems.push({file, path: [...path, index], message: `duplicate ${what} "${key}"; each must appear once per file`});
		}

		seen.add(key);
	}

	return problems;
}

function fileDuplicates(entry: CatalogFile): CatalogProblem[] {
	const {file} = entry;
	switch (entry.kind) {
		case 'gpus': {
			return duplicateProblems(file, entry.data.gpus.map(gpu => ({key: gpu.id})), ['gpus'], 'GPU id');
		}

		case 'extras':
		case 'components':
		case 'apps': {
			const list: AddOn[] = entry.kind === 'extras' ? entry.data.extras : entry.kind === 'components' ? entry.data.components : entry.data.apps;
			return [
				...duplicateProblems(file, list.map(item => ({key: item.id})), [entry.kind], 'id'),
				...list.flatMap((item, index) => duplicateProblems(file, item.versions.map(version => ({key: version.version})), [entry.kind, index, 'versions'], `version of ${item.id}`)),
			];
		}

		default: {
			return duplicateProblems(file, entry.data.versions.map(version => ({key: version.version})), ['versions'], 'version');
		}
	}
}

/**
 * Merges catalog files in order (later files override earlier entries with the same key) and
 * checks what no schema can: duplicates, dangling dependencies, and the lifecycle rule.
 */
export function buildCatalog(files: CatalogFile[]): Catalog {
	const problems = files.flatMap(entry => fileDuplicates(entry));
	const draft: Draft = {
		sources: new Map(),
		gpus: [],
		os: [],
		frameworks: new Map(),
		addOns: {extras: new Map(), components: new Map(), apps: new Map()},
	};

	for (const entry of files) {
		draft.sources.set(entry.file, entry.data.sources);
		switch (entry.kind) {
			case 'gpus': {
				const gpus: Gpu[] = entry.data.gpus.map(gpu => ({
					id: gpu.id,
					name: gpu.name,
					architecture: gpu.architecture,
					computeCapability: gpu.compute_capability,
					brand: gpu.brand,
					segment: gpu.segment,
					aliases: gpu.aliases,
					smiNames: gpu.nvidia_smi_names,
				}));
				draft.gpus = mergeBy(draft.gpus, gpus, gpu => gpu.id);
				break;
			}

			case 'os': {
				const kind = kindOf(entry.data.resource, entry.file);
				const versions: OsVersion[] = entry.data.versions.map(version => ({
					kind,
					version: version.version,
					token: `${kind.id}${version.version}`,
					image: version.image,
					...(version.codename ? {codename: version.codename} : {}),
					...(version.system_python ? {systemPython: version.system_python} : {}),
					...(version.apt_repo ? {aptRepo: version.apt_repo} : {}),
					toolchain: version.toolchain,
					...(version.shell ? {shell: version.shell} : {}),
					install: version.install,
					env: entry.data.env,
				}));
				draft.os = mergeBy(draft.os, versions, version => version.token);
				break;
			}

			case 'cuda': {
				const previous = draft.cuda?.data;
				draft.cuda = {
					file: entry.file,
					data: previous
						? {
							...entry.data,
							majors: mergeBy(previous.majors, entry.data.majors, major => major.major),
							versions: mergeBy(previous.versions, entry.data.versions, version => version.version),
							bundled: mergeBy(previous.bundled, entry.data.bundled, library => library.id),
						}
						: entry.data,
				};
				break;
			}

			case 'python': {
				const previous = draft.python?.data;
				draft.python = {
					file: entry.file,
					data: previous
						? {
							...entry.data,
							versions: mergeBy(previous.versions, entry.data.versions, version => version.version),
							common_packages: mergeBy(previous.common_packages, entry.data.common_packages, item => item.id),
						}
						: entry.data,
				};
				break;
			}

			case 'framework': {
				const previous = draft.frameworks.get(entry.data.resource.id)?.data;
				draft.frameworks.set(entry.data.resource.id, {
					file: entry.file,
					data: previous ? {...entry.data, versions: mergeBy(previous.versions, entry.data.versions, version => version.version)} : entry.data,
				});
				break;
			}

			case 'extras':
			case 'components':
			case 'apps': {
				const list: AddOn[] = entry.kind === 'extras' ? entry.data.extras : entry.kind === 'components' ? entry.data.components : entry.data.apps;
				const target = draft.addOns[entry.kind];
				for (const [index, item] of list.entries()) {
					target.set(item.id, addOnCatalog(item, entry.kind, entry.file, [entry.kind, index], target.get(item.id)));
				}

				break;
			}
		}
	}

	if (!draft.cuda || !draft.python || draft.os.length === 0 || draft.gpus.length === 0 || draft.frameworks.size === 0) {
		const missing = [
			draft.gpus.length === 0 && 'GPUs (gpus:)',
			draft.os.length === 0 && 'an OS (resource.tier: base)',
			!draft.cuda && 'CUDA (resource.tier: cuda)',
			!draft.python && 'Python (resource.tier: basic)',
			draft.frameworks.size === 0 && 'a framework (resource.tier: framework)',
		].filter(Boolean);
		problems.push({file: files[0]?.file ?? 'catalogs', path: [], message: `the catalogs define no ${missing.join(', ')}; the bundled catalogs/ folder is incomplete`});
		throw new CatalogError(problems);
	}

	const cudaKind = kindOf(draft.cuda.data.resource, draft.cuda.file);
	const pythonKind = kindOf(draft.python.data.resource, draft.python.file);
	const pythonFile = draft.python.file;
	const catalog: Catalog = {
		sources: draft.sources,
		gpus: draft.gpus,
		os: draft.os.sort(byVersionDescending(version => version.version)),
		cuda: {
			kind: cudaKind,
			bundled: draft.cuda.data.bundled.map((library, index) => ({
				id: library.id,
				name: library.name,
				category: library.category,
				relation: 'hardware',
				tier: 'cuda',
				lifecycleDays: library.lifecycle_days,
				file: cudaKind.file,
				path: ['bundled', index],
			})),
			install: draft.cuda.data.install,
			develInstall: draft.cuda.data.devel_install,
			env: draft.cuda.data.env,
			minorCompatDriver: new Map(draft.cuda.data.majors.map(major => [major.major, major.minor_compat_driver])),
			versions: [...draft.cuda.data.versions].sort(byVersionDescending(version => version.version)),
		},
		python: {
			kind: pythonKind,
			...(draft.python.data.uv_version ? {uvVersion: draft.python.data.uv_version} : {}),
			install: draft.python.data.install,
			env: draft.python.data.env,
			versions: [...draft.python.data.versions].sort(byVersionDescending(version => version.version)),
			common: draft.python.data.common_packages.map((item, index) => addOnCatalog({
				...item,
				name: item.name ?? item.id,
				category: 'python-package',
				host_only: false,
				versions: item.versions.map(version => ({...version, install: version.install ?? item.install, build: false, depends: []})),
			}, 'common', pythonFile, ['common_packages', index])),
		},
		frameworks: new Map([...draft.frameworks].map(([id, {file, data}]) => [id, {
			kind: kindOf(data.resource, file),
			install: data.install,
			env: data.env,
			versions: [...data.versions].sort(byVersionDescending(version => version.version)),
		}])),
		extras: draft.addOns.extras,
		components: draft.addOns.components,
		apps: draft.addOns.apps,
	};

	problems.push(...dependencyProblems(catalog), ...lifecycleProblems(catalog));
	if (problems.length > 0) {
		throw new CatalogError(problems);
	}

	return catalog;
}

/** Every resource kind the catalog defines, by id. */
export function resourceKinds(catalog: Catalog): Map<string, ResourceKind> {
	const kinds: ResourceKind[] = [
		...new Map(catalog.os.map(version => [version.kind.id, version.kind])).values(),
		catalog.cuda.kind,
		...catalog.cuda.bundled,
		catalog.python.kind,
		...catalog.python.common.map(item => item.kind),
		...[...catalog.frameworks.values()].map(framework => framework.kind),
		...[...catalog.extras.values(), ...catalog.components.values(), ...catalog.apps.values()].map(item => item.kind),
	];
	return new Map(kinds.map(kind => [kind.id, kind]));
}

function addOnGroups(catalog: Catalog): Array<{section: string; items: AddOnCatalog[]}> {
	return [
		{section: 'common_packages', items: catalog.python.common},
		{section: 'extras', items: [...catalog.extras.values()]},
		{section: 'components', items: [...catalog.components.values()]},
		{section: 'apps', items: [...catalog.apps.values()]},
	];
}

function dependencyProblems(catalog: Catalog): CatalogProblem[] {
	const kinds = resourceKinds(catalog);
	const problems: CatalogProblem[] = [];
	for (const {items} of addOnGroups(catalog)) {
		for (const item of items) {
			for (const version of item.versions) {
				const where = {file: item.kind.file, path: item.kind.path};
				for (const dependency of [...Object.keys(version.requires), ...version.depends]) {
					const target = kinds.get(dependency);
					if (!target) {
						problems.push({...where, message: `${item.kind.id} ${version.version} depends on "${dependency}", which no catalog defines; add it or remove the dependency`});
					} else if (tierNames.indexOf(target.tier) > tierNames.indexOf(item.kind.tier)) {
						problems.push({...where, message: `${item.kind.id} ${version.version} (${item.kind.tier} tier) depends on ${dependency} in the higher ${target.tier} tier; dependencies must point down the tree`});
					}
				}
			}
		}
	}

	problems.push(...cycleProblems(catalog));
	return problems;
}

/** `depends` lists between add-ons must not loop, or no install order exists. */
function cycleProblems(catalog: Catalog): CatalogProblem[] {
	const byId = new Map(addOnGroups(catalog).flatMap(group => group.items).map(item => [item.kind.id, item]));
	const state = new Map<string, 'visiting' | 'done'>();
	const problems: CatalogProblem[] = [];
	const visit = (id: string, trail: string[]): void => {
		if (state.get(id) === 'done') {
			return;
		}

		if (state.get(id) === 'visiting') {
			const cycle = [...trail.slice(trail.indexOf(id)), id];
			const item = byId.get(id);
			problems.push({file: item?.kind.file ?? 'catalogs', path: item?.kind.path ?? [], message: `dependency cycle ${cycle.join(' -> ')}; break it by removing one of these depends entries`});
			return;
		}

		state.set(id, 'visiting');
		const dependencies = new Set(byId.get(id)?.versions.flatMap(version => version.depends) ?? []);
		for (const dependency of dependencies) {
			if (byId.has(dependency)) {
				visit(dependency, [...trail, id]);
			}
		}

		state.set(id, 'done');
	};

	for (const id of byId.keys()) {
		visit(id, []);
	}

	return problems;
}

/**
 * The patent's ordering rule: every resource in tier i+1 must change more often than every
 * resource in tier i, so the longest life above is shorter than the shortest life below.
 */
export function lifecycleProblems(catalog: Catalog): CatalogProblem[] {
	const byTier = new Map<TierName, ResourceKind[]>();
	for (const kind of resourceKinds(catalog).values()) {
		byTier.set(kind.tier, [...byTier.get(kind.tier) ?? [], kind]);
	}

	const problems: CatalogProblem[] = [];
	const filled = tierNames.filter(tier => byTier.has(tier));
	for (let index = 1; index < filled.length; index++) {
		const lower = byTier.get(filled[index - 1]!)!;
		const upper = byTier.get(filled[index]!)!;
		const shortestBelow = lower.reduce((a, b) => (b.lifecycleDays < a.lifecycleDays ? b : a));
		for (const kind of upper) {
			if (kind.lifecycleDays >= shortestBelow.lifecycleDays) {
				problems.push({
					file: kind.file,
					path: [...kind.path, 'lifecycle_days'],
					message: `lifecycle rule broken: ${kind.id} (${kind.tier} tier) is pinned for ${kind.lifecycleDays} days, not less than ${shortestBelow.id} (${shortestBelow.tier} tier, ${shortestBelow.lifecycleDays} days); a higher tier must hold resources that change more often, so lower ${kind.id}'s lifecycle_days or move it down`,
				});
			}
		}
	}

	return problems;
}
