import {z} from 'zod';
import type {Catalog, Gpu} from './catalog.js';
import {commandProblem, idString, quotedString} from './catalog-schema.js';
import {isValidRange} from './versions.js';

const rangeField = (example: string, ...more: string[]) =>
	z.string({
		error: issue => typeof issue.input === 'number'
			? `expected a quoted string, got the number ${String(issue.input)} (YAML reads 12.10 as 12.1); write it as "${String(issue.input)}"`
			: `expected a version range in quotes, like "${example}"`,
	}).refine(isValidRange, {error: `is not a version range (examples: ${[example, ...more].map(item => `"${item}"`).join(', ')})`});

/** `pytorch@2.3`, `deepspeed`, `nlp@2024.06`: a catalog id with an optional version range. */
const packageSpec = z.string().regex(/^[a-z0-9][a-z0-9_-]*(@[0-9A-Za-z.<>=^~*| -]+)?$/, {
	error: 'expected NAME or NAME@VERSION-RANGE, like "pytorch@2.3"',
});

const patchSchema = z.strictObject({
	version: quotedString('a patch version', /^[0-9A-Za-z][0-9A-Za-z.-]{0,31}$/, '1'),
	run: z.array(z.string().min(1).max(4000).refine(value => !/[\n\r\0]/.test(value), {
		error: 'a patch command must be one line (no newline or NUL); split it into several list items',
	}).superRefine((value, context) => {
		const problem = /[\n\r\0]/.test(value) ? undefined : commandProblem(value);
		if (problem) {
			context.addIssue({code: 'custom', message: `a patch command ${problem}`});
		}
	})).min(1, {error: 'a patch needs at least one command under run:'}),
});

/** Where RUN steps find a build secret: BuildKit mounts it there for the steps that read it. */
export const secretPath = (id: string) => `/run/secrets/${id}`;

/**
 * A build secret: BuildKit mounts it as a file for the RUN steps that read `/run/secrets/<id>`, and
 * bake reads its value from stackwiz's environment, so it is in no image layer, history or build arg.
 */
const secretSchema = z.strictObject({
	id: z.string({error: 'a secret needs an id, like pip-index'}).regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, {error: 'expected a secret id of lower-case letters, digits, ".", "_" or "-", like "pip-index"'}),
	env: z.string({error: 'a secret needs env: the environment variable that holds its value, like PIP_INDEX_TOKEN'}).regex(/^[A-Z_][A-Z0-9_]{0,127}$/, {error: 'expected an environment variable name like PIP_INDEX_TOKEN'}),
});

export type BuildSecret = z.infer<typeof secretSchema>;

const imageSchema = z.strictObject({
	name: idString.optional(),
	framework: packageSpec,
	cuda: rangeField('12.4', '>=12.1', '<13').optional(),
	python: rangeField('3.11', '>=3.10', '<3.13').optional(),
	extras: z.array(packageSpec).default([]),
	apps: z.array(packageSpec).default([]),
	patch: patchSchema.optional(),
});

export const recipeSchema = z.strictObject({
	name: z.string({error: 'name is required: a recipe name of lower-case letters, digits and "-"'})
		.regex(/^[a-z0-9][a-z0-9-]{0,62}$/, {error: 'expected a name of lower-case letters, digits and "-", like "vision-team"'}),
	gpus: z.array(z.string().min(1).max(80).refine(value => !/[\u0000-\u001F\u007F-\u009F\u2028\u2029]/.test(value), {error: 'expected a GPU name on one line, like A100'}), {error: 'expected a list of GPU names, like [A100, V100]'})
		.min(1, {error: 'name at least one GPU model, like [A100], or [auto] to detect them'}),
	driver: quotedString('a driver version (or auto)', /^(auto|\d{3}(\.\d{1,3}){0,2})$/, '535.104.05').optional(),
	cuda: rangeField('12.4', '>=12.1', '<13').optional(),
	os: z.string().regex(/^[a-z]+\d+\.\d+$/, {error: 'expected an OS like "ubuntu22.04"'}).optional(),
	python: rangeField('3.11', '>=3.10', '<3.13').optional(),
	registry: z.string().regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/, {
		error: 'expected a registry like "registry.example.com/ml" or "127.0.0.1:5000/ml" (lower case, no scheme, no trailing slash)',
	}).optional(),
	components: z.array(packageSpec).default([]),
	secrets: z.array(secretSchema, {error: 'expected a list of secrets, like - {id: pip-index, env: PIP_INDEX_TOKEN}'}).max(16)
		.refine(list => new Set(list.map(secret => secret.id)).size === list.length, {error: 'each secret id may appear once'})
		.optional(),
	images: z.array(imageSchema, {error: 'expected a list of images, each with a framework'})
		.min(1, {error: 'list at least one image, like - framework: pytorch@2.3'}),
});

export type Recipe = z.infer<typeof recipeSchema>;

export type PackageRequest = {id: string; range: string};
export type PatchRequest = {version: string; run: string[]};

export type ImageRequest = {
	name: string;
	framework: PackageRequest;
	cuda?: string;
	python?: string;
	extras: PackageRequest[];
	apps: PackageRequest[];
	patch?: PatchRequest;
};

/** What the user asked for, with names turned into catalog entries. Wizard and recipes both produce it. */
export type Selection = {
	name: string;
	gpus: Gpu[];
	driver?: string;
	cuda?: string;
	os?: string;
	python?: string;
	registry?: string;
	components: PackageRequest[];
	images: ImageRequest[];
	/** Build secrets the RUN steps may read; absent means none. */
	secrets?: BuildSecret[];
};

export type SelectionProblem = {path: Array<string | number>; message: string};

export function parsePackageSpec(spec: string): PackageRequest {
	const [id = '', range] = spec.split('@');
	return {id, range: range?.trim() || '*'};
}

const normalizeGpuName = (name: string) => name.toLowerCase().replace(/^(nvidia|tesla)\s+/, '').replaceAll(/[\s_-]+/g, '');

/** Finds a GPU by id, display name, alias or the exact name nvidia-smi prints. */
export function findGpu(catalog: Catalog, name: string): Gpu | undefined {
	const wanted = normalizeGpuName(name);
	return catalog.gpus.find(gpu => [gpu.id, gpu.name, ...gpu.aliases, ...gpu.smiNames].some(candidate => normalizeGpuName(candidate) === wanted));
}

/** The closest known names, for "did you mean". */
export function suggest(wanted: string, candidates: string[], limit = 3): string[] {
	const target = wanted.toLowerCase();
	return [...new Set(candidates)]
		.map(candidate => ({candidate, distance: editDistance(target, candidate.toLowerCase())}))
		.filter(({distance, candidate}) => distance <= Math.max(2, Math.floor(candidate.length / 3)))
		.sort((a, b) => a.distance - b.distance || a.candidate.localeCompare(b.candidate))
		.slice(0, limit)
		.map(({candidate}) => candidate);
}

function editDistance(a: string, b: string): number {
	let previous = Array.from({length: b.length + 1}, (_, index) => index);
	for (let i = 1; i <= a.length; i++) {
		const current = [i];
		for (let j = 1; j <= b.length; j++) {
			current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
		}

		previous = current;
	}

	return previous[b.length]!;
}

function unknownMessage(what: string, name: string, known: string[]): string {
	const close = suggest(name, known);
	return close.length > 0
		? `unknown ${what} "${name}"; did you mean ${close.join(', ')}?`
		: `unknown ${what} "${name}"; known: ${known.slice(0, 12).join(', ')}${known.length > 12 ? ', ...' : ''}`;
}

/**
 * Turns a validated recipe into a selection: GPU names, frameworks, extras, apps and components
 * must exist in the catalog. Host detection ("auto") is resolved by the caller beforehand.
 */
export function recipeToSelection(catalog: Catalog, recipe: Recipe): {selection: Selection; problems: SelectionProblem[]} {
	const problems: SelectionProblem[] = [];
	const gpus: Gpu[] = [];
	for (const [index, name] of recipe.gpus.entries()) {
		const gpu = findGpu(catalog, name);
		if (gpu) {
			if (!gpus.includes(gpu)) {
				gpus.push(gpu);
			}
		} else {
			const close = suggest(name, catalog.gpus.flatMap(known => [known.id, known.name, ...known.aliases]));
			const names = [...new Set(close.map(candidate => findGpu(catalog, candidate)!.name))];
			problems.push({path: ['gpus', index], message: `unknown GPU "${name}"; ${names.length > 0 ? `did you mean ${names.join(', ')}?` : 'it is not in the catalog'} (list them with \`stackwiz gpus\`, or add it with --catalog)`});
		}
	}

	if (recipe.os && !catalog.os.some(os => os.token === recipe.os)) {
		problems.push({path: ['os'], message: unknownMessage('OS', recipe.os, catalog.os.map(os => os.token))});
	}

	const checkPackage = (spec: string, known: Map<string, unknown>, what: string, path: Array<string | number>) => {
		const request = parsePackageSpec(spec);
		const entry = known.get(request.id) as {hostOnly?: boolean; hostOnlyReason?: string; kind?: {name: string}} | undefined;
		if (!entry) {
			problems.push({path, message: unknownMessage(what, request.id, [...known.keys()])});
		} else if (!isValidRange(request.range)) {
			problems.push({path, message: `"${request.range}" is not a version range; write ${request.id}@2.3 or ${request.id}@">=2.1"`});
		} else if (entry.hostOnly) {
			problems.push({path, message: `${entry.kind?.name ?? request.id} cannot go into an image: ${(entry.hostOnlyReason ?? 'it belongs on the host').replace(/\.$/, '')}; remove it from ${what === 'component' ? 'components' : 'the recipe'}`});
		}

		return request;
	};

	// One package twice in a list (`[demo@1.0, demo]`) would be installed twice, under two ranges.
	const checkPackages = (specs: string[], known: Map<string, unknown>, what: string, path: Array<string | number>) => {
		const seen = new Map<string, number>();
		return specs.map((spec, index) => {
			const request = checkPackage(spec, known, what, [...path, index]);
			const first = seen.get(request.id);
			if (first === undefined) {
				seen.set(request.id, index);
			} else {
				const list = String(path.at(-1));
				problems.push({path: [...path, index], message: `${what} ${request.id} is listed twice (${list}[${first}] and ${list}[${index}]); keep one, with the version range you want`});
			}

			return request;
		});
	};

	const names = new Map<string, number>();
	const images: ImageRequest[] = recipe.images.map((image, index) => {
		const path = ['images', index];
		const framework = checkPackage(image.framework, catalog.frameworks, 'framework', [...path, 'framework']);
		const extras = checkPackages(image.extras, withBundledExtras(catalog, framework.id), 'extra', [...path, 'extras']);
		const apps = checkPackages(image.apps, catalog.apps, 'app', [...path, 'apps']);
		const name = image.name ?? defaultImageName(framework);
		const first = names.get(name);
		if (first === undefined) {
			names.set(name, index);
		} else {
			problems.push({path: image.name ? [...path, 'name'] : path, message: `image name "${name}" is used twice (images[${first}] and images[${index}]); give each image its own name:`});
		}

		return {
			name,
			framework,
			...(image.cuda ? {cuda: image.cuda} : {}),
			...(image.python ? {python: image.python} : {}),
			extras,
			apps,
			...(image.patch ? {patch: image.patch} : {}),
		};
	});

	const components = checkPackages(recipe.components, catalog.components, 'component', ['components']);
	return {
		selection: {
			name: recipe.name,
			gpus,
			...(recipe.driver && recipe.driver !== 'auto' ? {driver: recipe.driver} : {}),
			...(recipe.cuda ? {cuda: recipe.cuda} : {}),
			...(recipe.os ? {os: recipe.os} : {}),
			...(recipe.python ? {python: recipe.python} : {}),
			...(recipe.registry ? {registry: recipe.registry} : {}),
			components,
			images,
			...(recipe.secrets && recipe.secrets.length > 0 ? {secrets: recipe.secrets} : {}),
		},
		problems,
	};
}

/** torchvision and torchaudio come with the framework's own version table, not extras.yaml. */
export const frameworkCompanions = ['torchvision', 'torchaudio'] as const;

function withBundledExtras(catalog: Catalog, frameworkId: string): Map<string, unknown> {
	const known = new Map<string, unknown>(catalog.extras);
	if (frameworkId === 'pytorch') {
		for (const companion of frameworkCompanions) {
			known.set(companion, true);
		}
	}

	return known;
}

function defaultImageName(framework: PackageRequest): string {
	const version = framework.range === '*' ? '' : `-${framework.range.replaceAll(/[^0-9a-z.]/gi, '').replaceAll('.', '-')}`;
	return `${framework.id}${version}`.replace(/-+$/, '');
}
