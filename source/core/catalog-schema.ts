import {z} from 'zod';
import {isValidRange} from './versions.js';

/** The tiers of an image tree, bottom up. */
export const tierNames = ['base', 'cuda', 'basic', 'framework', 'apps', 'patch'] as const;
export type TierName = (typeof tierNames)[number];

/** YAML reads `12.10` as the number 12.1, so every version must be a quoted string. */
export function quotedString(what: string, pattern: RegExp, example: string) {
	return z.string({
		error: issue =>
			typeof issue.input === 'number'
				? `expected a quoted string, got the number ${String(issue.input)} (YAML reads 12.10 as 12.1); write it as "${String(issue.input)}"`
				: issue.input === undefined
					? `${what} is required`
					: `expected ${what} as a string like "${example}"`,
	}).regex(pattern, {error: `expected ${what} like "${example}"`});
}

export const versionString = quotedString('a version', /^\d+(\.\d+){0,3}([.+~-][0-9A-Za-z]+)*$/, '12.4.1');
export const idString = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, {error: 'expected an id of lower-case letters, digits, "-" or "_"'});
const computeCapability = quotedString('a compute capability', /^\d{1,2}\.\d$/, '8.6');
const driverVersion = quotedString('a driver version', /^\d{3}(\.\d{1,3}){0,2}$/, '535.104.05');
const monthString = quotedString('a release month', /^\d{4}-\d{2}$/, '2024-04');
const rangeString = z.string({error: 'expected a semver range in quotes, like ">=12.1.0 <13.0.0"'})
	.refine(isValidRange, {error: 'is not a valid semver range (example: ">=12.1.0 <13.0.0")'});
const requires = z.record(idString, rangeString);
const lifecycleDays = z.number({error: 'expected a number of days'}).int().positive().max(3650);

/**
 * Why a shell command cannot be one `RUN` line of a generated Dockerfile, or undefined when it can.
 * The Dockerfile parser, not the shell, reads the line first: a line break starts a new instruction,
 * a trailing backslash swallows the next line, a heredoc opener (`<<EOF`) turns the lines after it
 * into its body, and a leading `--` is read as a RUN flag (`--mount`, `--network`, `--security`).
 */
export function commandProblem(value: string): string | undefined {
	if (/[\n\r\0\u2028\u2029]/.test(value)) {
		return 'must be one line (no newline, carriage return or NUL); split it into several list items';
	}

	if (/\\[ \t]*$/.test(value)) {
		return 'must not end with a backslash, which would join the next Dockerfile line to it';
	}

	if (/(?:^|\s)\d*<<(?!<)/.test(value)) {
		return 'must not open a heredoc ("<<WORD"): the Dockerfile would read the lines after it as its body; write files with printf instead';
	}

	if (/^\s*-/.test(value)) {
		return 'must not start with "-", which the Dockerfile reads as a RUN flag such as --mount';
	}

	return undefined;
}

/** One shell command, checked by commandProblem; `{{resource.field}}` placeholders are filled by the generator. */
export function shellCommand(what: string) {
	return z.string().min(1).max(4000).superRefine((value, context) => {
		const problem = commandProblem(value);
		if (problem) {
			context.addIssue({code: 'custom', message: `${what} ${problem}`});
		}
	});
}

/**
 * Text shown to people (names, categories, aliases): one line without control characters, so that it
 * can neither break a Dockerfile comment nor send escape sequences to a terminal.
 */
export const displayText = z.string().min(1).max(1000).refine(value => !/[\u0000-\u001F\u007F-\u009F\u2028\u2029]/.test(value), {
	error: 'must be one line of text without control characters',
});

const command = shellCommand('a command');
const commands = z.array(command);
const dockerImage = z.string().regex(/^[a-z0-9][a-z0-9._/:-]*(@sha256:[a-f0-9]{64})?$/, {
	error: 'expected an image reference like "ubuntu:22.04"',
});
const aptPackage = z.string().regex(/^[a-z0-9][a-z0-9+.-]*(=[0-9A-Za-z.+~:-]+)?$/, {error: 'expected an apt package name like "libnccl2" or "libnccl2=2.21.5-1+cuda12.4"'});
const sources = z.array(z.string().min(1).max(2000).refine(value => !/[\u0000-\u001F\u007F-\u009F\u2028\u2029]/.test(value), {error: 'must be one line of text without control characters'})).min(1, {error: 'name at least one primary source for this file'});

/** ENV a tier sets; values may hold `{{resource.field}}` placeholders. */
const envMap = z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/, {error: 'expected an ENV name like CUDA_HOME'}), z.string().max(2000).refine(value => !/[\n\r\0"\\]/.test(value), {
	error: 'an ENV value must be one line without double quotes or backslashes',
})).default({});

const resourceHeader = z.strictObject({
	id: idString,
	name: displayText,
	category: displayText,
	relation: z.enum(['hardware', 'task']),
	tier: z.enum(tierNames),
	lifecycle_days: lifecycleDays,
});

const gpuFile = z.strictObject({
	sources,
	gpus: z.array(z.strictObject({
		id: idString,
		name: displayText,
		architecture: z.enum(['kepler', 'maxwell', 'pascal', 'volta', 'turing', 'ampere', 'ada', 'hopper', 'blackwell']),
		compute_capability: computeCapability,
		/** NVML brand as nvidia-container-cli matches it; null where no real report was found. */
		brand: z.string().regex(/^[a-z]+$/).nullable(),
		segment: z.enum(['datacenter', 'workstation', 'consumer']),
		memory_gib: z.array(z.number().positive()).optional(),
		aliases: z.array(displayText).default([]),
		nvidia_smi_names: z.array(displayText).default([]),
	})).min(1),
});

const osFile = z.strictObject({
	sources,
	resource: resourceHeader.extend({tier: z.literal('base')}),
	env: envMap,
	versions: z.array(z.strictObject({
		version: versionString,
		codename: z.string().regex(/^[a-z]+$/).optional(),
		image: dockerImage,
		system_python: versionString.optional(),
		apt_repo: z.string().regex(/^[a-z0-9]+$/).optional(),
		toolchain: z.array(aptPackage).default([]),
		/** SHELL of every tier built on this OS (it is kept in the image config), e.g. bash with pipefail. */
		shell: z.array(z.string().regex(/^[A-Za-z0-9/._=-]+$/, {error: 'expected a shell word like "/bin/bash" or "-c"'})).min(1).optional(),
		install: commands,
	})).min(1),
});

const bundledLibrary = z.strictObject({
	id: idString,
	name: displayText,
	category: displayText,
	lifecycle_days: lifecycleDays,
});

const cudaFile = z.strictObject({
	sources,
	resource: resourceHeader.extend({tier: z.literal('cuda')}),
	env: envMap,
	bundled: z.array(bundledLibrary).default([]),
	install: commands,
	devel_install: commands.default([]),
	majors: z.array(z.strictObject({
		major: quotedString('a CUDA major version', /^\d+$/, '12'),
		minor_compat_driver: driverVersion,
	})).min(1),
	versions: z.array(z.strictObject({
		version: versionString,
		released: monthString.optional(),
		/** Absent where no primary source states it; such a release is listed but never chosen. */
		min_driver: driverVersion.optional(),
		arches: z.array(computeCapability).default([]),
		require_cuda: z.string().regex(/^cuda>=\d+\.\d+( [a-z]+[<>=]{1,2}[0-9a-z.]+(,[a-z]+[<>=]{1,2}[0-9a-z.]+)*)*$/, {
			error: 'expected NVIDIA_REQUIRE_CUDA like "cuda>=12.4 brand=tesla,driver>=470,driver<471"',
		}).optional(),
		os: z.array(z.string().regex(/^[a-z]+\d+\.\d+$/)).default([]),
		cudart: versionString.optional(),
		nccl: versionString.optional(),
		cudnn: z.strictObject({package: aptPackage, version: versionString}).optional(),
	})).min(1),
});

const requirementVersion = z.strictObject({
	version: versionString,
	requires: requires.default({}),
	install: commands.optional(),
});

const pythonFile = z.strictObject({
	sources,
	resource: resourceHeader.extend({tier: z.literal('basic')}),
	env: envMap,
	uv_version: versionString.optional(),
	install: commands.default([]),
	versions: z.array(z.strictObject({
		version: quotedString('a Python version', /^3\.\d+$/, '3.11'),
		patch: versionString,
		install: commands.optional(),
	})).min(1),
	common_packages: z.array(z.strictObject({
		id: idString,
		name: displayText.optional(),
		lifecycle_days: lifecycleDays,
		install: commands.default([]),
		versions: z.array(requirementVersion).min(1),
	})).default([]),
});

const frameworkFile = z.strictObject({
	sources,
	resource: resourceHeader.extend({tier: z.literal('framework')}),
	env: envMap,
	install: commands,
	versions: z.array(z.strictObject({
		version: versionString,
		released: monthString.optional(),
		python: z.array(quotedString('a Python version', /^3\.\d+$/, '3.11')).min(1),
		default_cuda: versionString,
		/** Ranges the framework puts on lower-tier packages (numpy), applied when the basic tier is chosen. */
		requires: requires.default({}),
		torchvision: versionString.optional(),
		torchaudio: versionString.optional(),
		variants: z.array(z.strictObject({
			cuda: quotedString('a CUDA major.minor', /^\d+\.\d+$/, '12.1'),
			index_url: z.string().regex(/^https:\/\/[a-zA-Z0-9./_-]+$/),
			arch_list: z.array(computeCapability).min(1),
			ptx: computeCapability.optional(),
		})).min(1),
	})).min(1),
});

const addOnVersion = requirementVersion.extend({
	install: commands,
	build: z.boolean().default(false),
	min_compute_capability: computeCapability.optional(),
	/** The cuDNN major its binaries link against. */
	cudnn: quotedString('a cuDNN major version', /^\d+$/, '9').optional(),
	/** The CUDA major.minor builds its wheels exist for. */
	cuda_variants: z.array(quotedString('a CUDA major.minor', /^\d+\.\d+$/, '12.4')).optional(),
	depends: z.array(idString).default([]),
	packages: z.array(z.string()).optional(),
});

const addOn = z.strictObject({
	id: idString,
	name: displayText,
	category: displayText,
	lifecycle_days: lifecycleDays,
	host_only: z.boolean().default(false),
	host_only_reason: displayText.optional(),
	versions: z.array(addOnVersion).min(1),
});

const extrasFile = z.strictObject({sources, extras: z.array(addOn).min(1)});
const componentsFile = z.strictObject({sources, components: z.array(addOn).min(1)});
const appsFile = z.strictObject({sources, apps: z.array(addOn).min(1)});

export const catalogFileSchemas = {
	gpus: gpuFile,
	os: osFile,
	cuda: cudaFile,
	python: pythonFile,
	framework: frameworkFile,
	extras: extrasFile,
	components: componentsFile,
	apps: appsFile,
} as const;

export type CatalogFileKind = keyof typeof catalogFileSchemas;
export type GpuFile = z.infer<typeof gpuFile>;
export type OsFile = z.infer<typeof osFile>;
export type CudaFile = z.infer<typeof cudaFile>;
export type PythonFile = z.infer<typeof pythonFile>;
export type FrameworkFile = z.infer<typeof frameworkFile>;
export type AddOn = z.infer<typeof addOn>;
export type AddOnVersion = z.infer<typeof addOnVersion>;
export type ResourceHeader = z.infer<typeof resourceHeader>;

export type CatalogFile =
	| {kind: 'gpus'; file: string; data: GpuFile}
	| {kind: 'os'; file: string; data: OsFile}
	| {kind: 'cuda'; file: string; data: CudaFile}
	| {kind: 'python'; file: string; data: PythonFile}
	| {kind: 'framework'; file: string; data: FrameworkFile}
	| {kind: 'extras'; file: string; data: z.infer<typeof extrasFile>}
	| {kind: 'components'; file: string; data: z.infer<typeof componentsFile>}
	| {kind: 'apps'; file: string; data: z.infer<typeof appsFile>};

/**
 * Which schema a catalog file follows, from its top-level keys; null when it follows none.
 */
export function detectCatalogKind(data: unknown): CatalogFileKind | null {
	if (typeof data !== 'object' || data === null || Array.isArray(data)) {
		return null;
	}

	const record = data as Record<string, unknown>;
	for (const key of ['gpus', 'extras', 'components', 'apps'] as const) {
		if (key in record) {
			return key;
		}
	}

	const resource = record['resource'];
	const tier = typeof resource === 'object' && resource !== null ? (resource as Record<string, unknown>)['tier'] : undefined;
	// A Map, not an object literal: a tier named "valueOf" or "constructor" must not find Object's prototype.
	const byTier = new Map<unknown, CatalogFileKind>([['base', 'os'], ['cuda', 'cuda'], ['basic', 'python'], ['framework', 'framework']]);
	return byTier.get(tier) ?? null;
}
