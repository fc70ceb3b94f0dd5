import type {Catalog, Gpu} from './catalog.js';
import {smName} from './compat.js';
import {planSelection, UnsatisfiableError, type Plan} from './plan.js';
import {findGpu, recipeSchema, recipeToSelection, type ImageRequest, type PackageRequest, type Recipe, type Selection} from './recipe.js';
import {resolveSelection, type ImageResolution, type Option} from './resolve.js';
import {compareDotted, majorMinor} from './versions.js';

/**
 * The interactive wizard as data: its steps, a pure reducer over answers with a history for
 * "back", and the option lists each step shows, computed from the catalog and the earlier
 * answers through the resolver. Ink components only draw what these functions return.
 */

export const wizardSteps = ['gpus', 'driver', 'cuda', 'framework', 'python', 'extras', 'apps', 'more', 'output', 'review'] as const;
export type WizardStep = (typeof wizardSteps)[number];

/** The value of "let stackwiz choose" in the CUDA and Python steps. */
export const autoChoice = 'auto';

export const stepTitles: Record<WizardStep, string> = {
	gpus: 'GPU models in the cluster',
	driver: 'NVIDIA driver on the nodes',
	cuda: 'CUDA version',
	framework: 'Framework and version',
	python: 'Python version',
	extras: 'Framework extras',
	apps: 'Applications',
	more: 'More images in this tree?',
	output: 'Registry and output',
	review: 'Review',
};

/** What `?` shows on each step: two or three lines on what the choice constrains. */
export const stepHelp: Record<WizardStep, string> = {
	gpus: 'The GPU models set the compute capabilities (sm_80 for A100, sm_90 for H100) the image must carry kernels for.\nPick every model the image will run on: CUDA and the framework must support all of them, and TORCH_CUDA_ARCH_LIST is built from them.',
	driver: 'The driver lives on the host, never in the image; it caps the CUDA an image can use (CUDA 12.4 needs driver >= 550.54.14).\nOlder 12.x drivers still run newer 12.x through minor-version compatibility, with limits. "unknown" puts no limit on CUDA.',
	cuda: 'The CUDA tier holds the toolkit, cuDNN and NCCL. It must target every GPU you picked and run on the nodes\' driver.\nGreyed versions say why they do not fit. "let stackwiz choose" takes the framework\'s default CUDA among those that fit.',
	framework: 'One framework tier per (framework version x CUDA line): PyTorch ships wheels per CUDA line (cu118, cu121, ...).\nVersions without a build for your CUDA or your GPUs are greyed with the reason.',
	python: 'The basic tier holds Python and the platform\'s common packages; it sits below the framework so several frameworks can share it.\nOnly the Python versions the framework publishes wheels for are offered.',
	extras: 'Extras go into the framework tier with the framework (deepspeed, apex, flash-attn, ...).\nSpace toggles; each one is checked against the framework, CUDA and GPUs you chose.',
	apps: 'The apps tier holds a team\'s task dependencies (detection, OCR, NLP ...); it is the image users run and changes most often.\nSpace toggles; none is fine.',
	more: 'Why tiers: images that share their lower tiers (base, cuda, basic) store and pull them once.\nAdd another framework version or CUDA line here and it becomes another branch of the same tree.',
	output: 'With a registry every tier is tagged REGISTRY/stackwiz/<tier>:<version>-<hash> and can be pushed and reused.\nThe recipe file replays these exact choices: stackwiz --non-interactive RECIPE.',
	review: 'Equal tiers get equal tags anywhere, so tiers already in the registry are reused, not rebuilt.\nBuild runs docker buildx bake on the written files; "files only" writes them and tells you the command.',
};

/** What the host reported, if stackwiz could ask nvidia-smi. */
export type HostHints = {gpuNames: string[]; driver?: string};

export type DriverAnswer = {mode: 'detected' | 'typed' | 'unknown'; version?: string};

export type ImageAnswers = {
	/** A CUDA release or autoChoice. */
	cuda: string;
	/** `pytorch@2.4.1`; unset until the framework step is answered. */
	framework?: string;
	/** A Python version or autoChoice. */
	python: string;
	extras: string[];
	apps: string[];
};

export type OutputAnswers = {name: string; registry: string; push: boolean; out: string; recipeFile: string};

export type WizardAnswers = {
	/** Catalog GPU ids. */
	gpus: string[];
	/** Unset until answered; the driver step then suggests the detected one. */
	driver?: DriverAnswer;
	images: ImageAnswers[];
	output?: OutputAnswers;
};

export type WizardOutcome = 'build' | 'files';

export type WizardState = {
	step: WizardStep;
	/** The image the image steps (cuda .. more) are editing. */
	image: number;
	answers: WizardAnswers;
	/** Where "back" returns to; answers are kept when going back. */
	history: Array<{step: WizardStep; image: number}>;
	/** The answers with the highlighted option applied, for the live tree; cleared on every step change. */
	preview?: WizardAnswers;
	/** Set when the review is confirmed. */
	outcome?: WizardOutcome;
	/** What "reset" returns to. */
	initial: WizardAnswers;
	/** Host GPU names the catalog does not know, to mention on the GPU step. */
	unknownHostGpus: string[];
};

export type StepAnswer =
	| {step: 'gpus'; gpus: string[]}
	| {step: 'driver'; driver: DriverAnswer}
	| {step: 'cuda'; cuda: string}
	| {step: 'framework'; framework: string}
	| {step: 'python'; python: string}
	| {step: 'extras'; extras: string[]}
	| {step: 'apps'; apps: string[]}
	| {step: 'more'; more: boolean}
	| {step: 'output'; output: OutputAnswers}
	| {step: 'review'; outcome: WizardOutcome};

export type WizardAction =
	| {type: 'answer'; answer: StepAnswer}
	| {type: 'preview'; answer: StepAnswer}
	| {type: 'back'}
	| {type: 'reset'};

export const newImage = (): ImageAnswers => ({cuda: autoChoice, python: autoChoice, extras: [], apps: []});

/** The first state: GPUs and driver pre-selected from the host when it reported them. */
export function createWizardState(catalog: Catalog, host?: HostHints): WizardState {
	const gpus: string[] = [];
	const unknownHostGpus: string[] = [];
	for (const name of host?.gpuNames ?? []) {
		const gpu = findGpu(catalog, name);
		if (!gpu) {
			if (!unknownHostGpus.includes(name)) {
				unknownHostGpus.push(name);
			}
		} else if (!gpus.includes(gpu.id)) {
			gpus.push(gpu.id);
		}
	}

	const initial: WizardAnswers = {gpus, images: [newImage()]};
	return {step: 'gpus', image: 0, answers: initial, history: [], initial, unknownHostGpus};
}

export const driverPattern = /^\d{3}(\.\d{1,3}){0,2}$/;

/** Why a typed driver version is not one, or undefined when it is. */
export function validateDriver(text: string): string | undefined {
	if (text.trim() === '') {
		return 'type the version nvidia-smi prints, like 535.104.05';
	}

	return driverPattern.test(text.trim()) ? undefined : `"${text.trim()}" is not a driver version; expected like 535.104.05 or 550`;
}

const nameSchema = recipeSchema.shape.name;
const registrySchema = recipeSchema.shape.registry;

/** Problems of the output form, by field; empty when it can be confirmed. */
export function validateOutput(output: OutputAnswers): Partial<Record<keyof OutputAnswers, string>> {
	const problems: Partial<Record<keyof OutputAnswers, string>> = {};
	const name = nameSchema.safeParse(output.name);
	if (!name.success) {
		problems.name = name.error.issues[0]?.message ?? 'invalid name';
	}

	if (output.registry.trim() !== '') {
		const registry = registrySchema.safeParse(output.registry.trim());
		if (!registry.success) {
			problems.registry = registry.error.issues[0]?.message ?? 'invalid registry';
		}
	}

	if (/[\0\n]/.test(output.out)) {
		problems.out = 'a path cannot hold a newline';
	}

	if (/[\0\n]/.test(output.recipeFile)) {
		problems.recipeFile = 'a path cannot hold a newline';
	} else if (output.recipeFile.trim() !== '' && !/\.ya?ml$/.test(output.recipeFile.trim())) {
		problems.recipeFile = 'a recipe file ends in .yaml';
	}

	return problems;
}

/** Fills the paths left empty with their defaults: `.stackwiz/<name>` and `<name>.yaml`. */
export function finalizeOutput(output: OutputAnswers): OutputAnswers {
	return {
		name: output.name.trim(),
		registry: output.registry.trim(),
		push: output.registry.trim() === '' ? false : output.push,
		out: output.out.trim() || defaultOut(output.name.trim()),
		recipeFile: output.recipeFile.trim() || defaultRecipeFile(output.name.trim()),
	};
}

export const defaultOut = (name: string) => `.stackwiz/${name}`;
export const defaultRecipeFile = (name: string) => `${name}.yaml`;

/** "a100-v100-pytorch": a recipe name from the GPUs and the first framework. */
export function suggestedName(catalog: Catalog, answers: WizardAnswers): string {
	const framework = (answers.images[0]?.framework ?? firstFramework(catalog)).split('@')[0]!;
	const parts = [...answers.gpus.slice(0, 2), framework];
	const name = parts.join('-').toLowerCase().replaceAll(/[^a-z0-9-]+/g, '-').replaceAll(/-+/g, '-').replaceAll(/^-|-$/g, '');
	return (name || 'stackwiz').slice(0, 63).replace(/-$/, '');
}

/** What the output form starts from: the earlier answers, or suggestions. */
export function outputInitial(catalog: Catalog, answers: WizardAnswers): OutputAnswers {
	return answers.output ?? {name: suggestedName(catalog, answers), registry: '', push: true, out: '', recipeFile: ''};
}

function withImage(answers: WizardAnswers, index: number, change: Partial<ImageAnswers>): WizardAnswers {
	const images = [...answers.images];
	while (images.length <= index) {
		images.push(newImage());
	}

	images[index] = {...images[index]!, ...change};
	return {...answers, images};
}

/** The answers after one step's answer; the same function serves answers and previews. */
export function applyAnswer(answers: WizardAnswers, image: number, answer: StepAnswer): WizardAnswers {
	switch (answer.step) {
		case 'gpus': {
			return {...answers, gpus: [...new Set(answer.gpus)]};
		}

		case 'driver': {
			return {...answers, driver: answer.driver.mode === 'unknown' ? {mode: 'unknown'} : {mode: answer.driver.mode, version: answer.driver.version?.trim() ?? ''}};
		}

		case 'cuda': {
			return withImage(answers, image, {cuda: answer.cuda});
		}

		case 'framework': {
			return withImage(answers, image, {framework: answer.framework});
		}

		case 'python': {
			return withImage(answers, image, {python: answer.python});
		}

		case 'extras': {
			return withImage(answers, image, {extras: [...new Set(answer.extras)]});
		}

		case 'apps': {
			return withImage(answers, image, {apps: [...new Set(answer.apps)]});
		}

		case 'more': {
			return answer.more ? withImage(answers, image + 1, {}) : {...answers, images: answers.images.slice(0, image + 1)};
		}

		case 'output': {
			return {...answers, output: finalizeOutput(answer.output)};
		}

		case 'review': {
			return answers;
		}
	}
}

/** Whether an answer may be confirmed; an incomplete one leaves the state as it is. */
function acceptable(answer: StepAnswer): boolean {
	switch (answer.step) {
		case 'gpus': {
			return answer.gpus.length > 0;
		}

		case 'driver': {
			return answer.driver.mode === 'unknown' || validateDriver(answer.driver.version ?? '') === undefined;
		}

		case 'framework': {
			return /^[a-z0-9][a-z0-9_-]*@.+$/.test(answer.framework);
		}

		case 'output': {
			return Object.keys(validateOutput(answer.output)).length === 0;
		}

		default: {
			return true;
		}
	}
}

const linearNext: Partial<Record<WizardStep, WizardStep>> = {
	gpus: 'driver',
	driver: 'cuda',
	cuda: 'framework',
	framework: 'python',
	python: 'extras',
	extras: 'apps',
	apps: 'more',
	output: 'review',
};

/**
 * The wizard's state machine. `answer` stores the step's answer and moves on; `back` returns to
 * the previous step keeping every answer; `preview` applies the highlighted option for the live
 * tree only; `reset` starts over from the host's suggestions.
 */
export function wizardReducer(state: WizardState, action: WizardAction): WizardState {
	switch (action.type) {
		case 'reset': {
			return {step: 'gpus', image: 0, answers: state.initial, history: [], initial: state.initial, unknownHostGpus: state.unknownHostGpus};
		}

		case 'back': {
			const previous = state.history.at(-1);
			if (!previous) {
				return state.preview ? withoutTransient(state) : state;
			}

			return withoutTransient({...state, step: previous.step, image: previous.image, history: state.history.slice(0, -1)});
		}

		case 'preview': {
			if (action.answer.step !== state.step) {
				return state;
			}

			return {...state, preview: applyAnswer(state.answers, state.image, action.answer)};
		}

		case 'answer': {
			const {answer} = action;
			if (answer.step !== state.step || !acceptable(answer)) {
				return state;
			}

			const answers = applyAnswer(state.answers, state.image, answer);
			if (answer.step === 'review') {
				return {...withoutTransient(state), answers, outcome: answer.outcome};
			}

			const history = [...state.history, {step: state.step, image: state.image}];
			if (answer.step === 'more') {
				return withoutTransient({...state, answers, history, step: answer.more ? 'cuda' : 'output', image: answer.more ? state.image + 1 : state.image});
			}

			return withoutTransient({...state, answers, history, step: linearNext[answer.step]!});
		}
	}
}

function withoutTransient(state: WizardState): WizardState {
	const {preview: _preview, outcome: _outcome, ...rest} = state;
	return rest;
}

/** 1-based position for "step 3 of 10"; the image steps count once. */
export function stepNumber(step: WizardStep): {index: number; total: number} {
	return {index: wizardSteps.indexOf(step) + 1, total: wizardSteps.length};
}

// ---------------------------------------------------------------------------------------------
// Option lists

/** One line of a step's list; `allowed: false` lines are drawn greyed with their reason. */
export type ChoiceItem = {
	value: string;
	label: string;
	allowed: boolean;
	reason?: string;
	/** A short remark drawn after the label ("minor-version compatibility", "-> 0.14.4"). */
	note?: string;
	/** Items with the same group are drawn under one heading. */
	group?: string;
	/** Extra words the filter matches. */
	keywords?: string;
};

export type ChoiceList = {items: ChoiceItem[]; initialIndex: number};

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
const firstFramework = (catalog: Catalog) => `${[...catalog.frameworks.keys()][0] ?? 'pytorch'}@*`;

function gpusOf(catalog: Catalog, answers: WizardAnswers): Gpu[] {
	return answers.gpus.map(id => catalog.gpus.find(gpu => gpu.id === id)).filter((gpu): gpu is Gpu => Boolean(gpu));
}

const driverOf = (answers: WizardAnswers) => (answers.driver && answers.driver.mode !== 'unknown' && answers.driver.version ? answers.driver.version : undefined);

/** GPU models grouped by architecture, newest architecture first. */
export function gpuItems(catalog: Catalog): ChoiceItem[] {
	const newest = new Map<string, string>();
	for (const gpu of catalog.gpus) {
		const seen = newest.get(gpu.architecture);
		if (!seen || compareDotted(gpu.computeCapability, seen) > 0) {
			newest.set(gpu.architecture, gpu.computeCapability);
		}
	}

	const architectures = [...newest.keys()].sort((a, b) => compareDotted(newest.get(b)!, newest.get(a)!));
	return architectures.flatMap(architecture => {
		const gpus = catalog.gpus.filter(gpu => gpu.architecture === architecture);
		const capabilities = [...new Set(gpus.map(gpu => gpu.computeCapability))].sort(compareDotted).map(smName);
		const group = `${capitalize(architecture)} (${capabilities.join(', ')})`;
		return gpus.map(gpu => ({
			value: gpu.id,
			label: gpu.name,
			allowed: true,
			note: `${smName(gpu.computeCapability)} · ${gpu.segment}`,
			group,
			keywords: [gpu.id, architecture, smName(gpu.computeCapability), gpu.segment, ...gpu.aliases].join(' '),
		}));
	});
}

/** The items whose label, group or keywords contain every word of the filter. */
export function filterItems(items: ChoiceItem[], filter: string): ChoiceItem[] {
	const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
	if (words.length === 0) {
		return items;
	}

	return items.filter(item => {
		const haystack = `${item.label} ${item.group ?? ''} ${item.keywords ?? ''}`.toLowerCase();
		return words.every(word => haystack.includes(word));
	});
}

export type DriverChoice = DriverAnswer['mode'];

/** Detected (when the host reported one), typed, or unknown. */
export function driverItems(answers: WizardAnswers, host?: HostHints): ChoiceList {
	const items: ChoiceItem[] = [
		...(host?.driver ? [{value: 'detected', label: `${host.driver}`, note: 'detected on this host', allowed: true}] : []),
		{value: 'typed', label: 'type the nodes\' driver version', note: answers.driver?.mode === 'typed' ? answers.driver.version : 'nvidia-smi prints it', allowed: true},
		{value: 'unknown', label: 'unknown', note: 'no driver limit on CUDA', allowed: true},
	];
	const wanted = answers.driver?.mode ?? (host?.driver ? 'detected' : 'typed');
	return {items, initialIndex: Math.max(0, items.findIndex(item => item.value === wanted))};
}

const probeName = 'this-image';

/** Resolves one hypothetical image against the hardware answers. */
function probe(catalog: Catalog, answers: WizardAnswers, request: Omit<ImageRequest, 'name'>): ImageResolution {
	const selection: Selection = {
		name: 'wizard',
		gpus: gpusOf(catalog, answers),
		...(driverOf(answers) ? {driver: driverOf(answers)} : {}),
		components: [],
		images: [{name: probeName, ...request}],
	};
	return resolveSelection(catalog, selection).images[0]!;
}

/** The resolver words reasons for recipes; the wizard says "you picked". */
export function wizardReason(reason: string): string {
	return reason
		.replaceAll(new RegExp(`is outside cuda "([^"]+)" that image ${probeName} asks for`, 'g'), 'is not the CUDA $1 you picked')
		.replaceAll(new RegExp(`image ${probeName}`, 'g'), 'this image');
}

/** The first line worth showing of a resolver problem. */
function shortProblem(problems: string[]): string {
	const [first = 'does not fit'] = problems;
	const lines = first.split('\n').map(line => line.trim()).filter(Boolean);
	const detail = lines.length > 1 ? lines[1]!.replace(/^[^:]+\d: /, '') : lines[0]!;
	return wizardReason(detail);
}

const toItem = (option: Option, label: string, value = option.value): ChoiceItem => ({
	value,
	label,
	allowed: option.allowed,
	...(option.reason ? {reason: wizardReason(option.reason)} : {}),
	...(option.note ? {note: option.note} : {}),
});

function initialFor(items: ChoiceItem[], wanted: string | undefined): number {
	const chosen = items.findIndex(item => item.value === wanted && item.allowed);
	if (chosen >= 0) {
		return chosen;
	}

	return Math.max(0, items.findIndex(item => item.allowed));
}

function imageAt(answers: WizardAnswers, image: number): ImageAnswers {
	return answers.images[image] ?? newImage();
}

const parseSpec = (spec: string): PackageRequest => {
	const at = spec.indexOf('@');
	return at < 0 ? {id: spec, range: '*'} : {id: spec.slice(0, at), range: spec.slice(at + 1) || '*'};
};

/** The CUDA releases for the hardware answers: fitting for some framework version, or greyed with the reason. */
export function cudaItems(catalog: Catalog, answers: WizardAnswers, image: number): ChoiceList {
	const probes = [...catalog.frameworks.keys()].map(id => probe(catalog, answers, {framework: {id, range: '*'}, extras: [], apps: []}));
	const options = catalog.cuda.versions.map((_cuda, index) => {
		const fitting = probes.map(result => result.options.cuda[index]!).find(option => option.allowed);
		return fitting ?? probes[0]!.options.cuda[index]!;
	});
	const shipped = new Set([...catalog.frameworks.values()].flatMap(framework => framework.versions.flatMap(version => version.variants.map(variant => variant.cuda))));
	const names = [...catalog.frameworks.values()].map(framework => framework.kind.name).join(' or ');
	const items = options.map(option => {
		const item = toItem(option, `CUDA ${option.value}`);
		// "PyTorch 2.14 has no CUDA 12.5 build" speaks of the newest release only; say when none has one.
		return !item.allowed && /has no CUDA [\d.]+ build/.test(item.reason ?? '') && !shipped.has(majorMinor(option.value))
			? {...item, reason: `no ${names} release ships CUDA ${majorMinor(option.value)} wheels`}
			: item;
	});
	const auto = probes.find(result => result.resolved)?.resolved;
	items.unshift({
		value: autoChoice,
		label: 'let stackwiz choose',
		allowed: items.some(item => item.allowed),
		...(auto ? {note: `now: CUDA ${auto.cuda.version} for ${auto.framework.catalog.kind.name} ${auto.framework.version.version}`} : {reason: 'no CUDA release fits these GPUs and this driver'}),
	});
	return {items, initialIndex: initialFor(items, imageAt(answers, image).cuda)};
}

const cudaRange = (answer: ImageAnswers) => (answer.cuda === autoChoice ? {} : {cuda: answer.cuda});
const pythonRange = (answer: ImageAnswers) => (answer.python === autoChoice ? {} : {python: answer.python});

/** Every framework version; greyed with the reason when it fits neither the CUDA picked nor the GPUs. */
export function frameworkItems(catalog: Catalog, answers: WizardAnswers, image: number): ChoiceList {
	const current = imageAt(answers, image);
	const several = catalog.frameworks.size > 1;
	const items = [...catalog.frameworks.entries()].flatMap(([id, framework]) => {
		const result = probe(catalog, answers, {framework: {id, range: '*'}, ...cudaRange(current), extras: [], apps: []});
		return result.options.framework.map(option => {
			const version = framework.versions.find(candidate => candidate.version === option.value);
			const item = toItem(explainWithCuda(catalog, answers, current, id, option), `${framework.kind.name} ${option.value}`, `${id}@${option.value}`);
			return {
				...item,
				...(item.allowed && version ? {note: `Python ${version.python.join(' ')}`} : {}),
				...(several ? {group: framework.kind.name} : {}),
			};
		});
	});
	return {items, initialIndex: initialFor(items, current.framework)};
}

/**
 * With a CUDA picked, a greyed framework version is best explained by that one pair
 * ("PyTorch 2.3.1 has no CUDA 12.4 build"), not by its own CUDA lines.
 */
function explainWithCuda(catalog: Catalog, answers: WizardAnswers, current: ImageAnswers, id: string, option: Option): Option {
	if (option.allowed || current.cuda === autoChoice) {
		return option;
	}

	const framework = catalog.frameworks.get(id);
	const version = framework?.versions.find(candidate => candidate.version === option.value);
	if (framework && version && !version.variants.some(variant => variant.cuda === majorMinor(current.cuda))) {
		// The common case needs no resolver run: there is no wheel for that CUDA line at all.
		return {...option, reason: `${framework.kind.name} ${version.version} has no CUDA ${majorMinor(current.cuda)} build (it ships ${version.variants.map(variant => `cu${variant.cuda.replace('.', '')}`).join(', ')})`};
	}

	const exact = probe(catalog, answers, {framework: {id, range: option.value}, cuda: current.cuda, extras: [], apps: []});
	const pair = exact.options.cuda.find(candidate => candidate.value === current.cuda);
	return pair?.reason ? {...option, reason: pair.reason} : option;
}

function frameworkRequest(catalog: Catalog, current: ImageAnswers): PackageRequest {
	return parseSpec(current.framework ?? firstFramework(catalog));
}

/** Python versions the chosen framework and CUDA allow, after "let stackwiz choose". */
export function pythonItems(catalog: Catalog, answers: WizardAnswers, image: number): ChoiceList {
	const current = imageAt(answers, image);
	const result = probe(catalog, answers, {framework: frameworkRequest(catalog, current), ...cudaRange(current), extras: [], apps: []});
	const items = result.options.python.map(option => toItem(option, `Python ${option.value}`));
	items.unshift({
		value: autoChoice,
		label: 'let stackwiz choose',
		allowed: items.some(item => item.allowed),
		...(result.resolved ? {note: `now: Python ${result.resolved.python.patch}`} : {reason: shortProblem(result.problems)}),
	});
	return {items, initialIndex: initialFor(items, current.python)};
}

/**
 * Extras for the chosen framework: its companions (torchvision, torchaudio) and the catalog's
 * extras, each checked alone against the earlier answers; the note names the version it gets.
 */
export function extraItems(catalog: Catalog, answers: WizardAnswers, image: number): ChoiceList {
	const current = imageAt(answers, image);
	const framework = frameworkRequest(catalog, current);
	const base = {framework, ...cudaRange(current), ...pythonRange(current), apps: []};
	const items: ChoiceItem[] = [];
	if (framework.id === 'pytorch') {
		const baseline = probe(catalog, answers, {...base, extras: []}).resolved;
		for (const companion of ['torchvision', 'torchaudio'] as const) {
			const version = baseline?.framework.version[companion];
			items.push(version
				? {value: companion, label: companion, allowed: true, note: `-> ${version}`}
				: {value: companion, label: companion, allowed: false, reason: baseline ? `the catalog lists no ${companion} for PyTorch ${baseline.framework.version.version}` : 'the framework does not resolve yet'});
		}
	}

	for (const [id, extra] of catalog.extras) {
		const result = probe(catalog, answers, {...base, extras: [{id, range: '*'}]});
		const chosen = result.resolved?.extras.find(choice => choice.catalog.kind.id === id);
		items.push(chosen
			? {value: id, label: extra.kind.name, allowed: true, note: `-> ${chosen.version.version}`, keywords: id}
			: {value: id, label: extra.kind.name, allowed: false, reason: shortProblem(result.problems), keywords: id});
	}

	return {items, initialIndex: 0};
}

/** Applications, each checked against the framework, extras and Python chosen. */
export function appItems(catalog: Catalog, answers: WizardAnswers, image: number): ChoiceList {
	const current = imageAt(answers, image);
	const base = {framework: frameworkRequest(catalog, current), ...cudaRange(current), ...pythonRange(current), extras: current.extras.map(parseSpec)};
	const items = [...catalog.apps].map(([id, app]): ChoiceItem => {
		const result = probe(catalog, answers, {...base, apps: [{id, range: '*'}]});
		const chosen = result.resolved?.apps.find(choice => choice.catalog.kind.id === id);
		return chosen
			? {value: id, label: app.kind.name, allowed: true, note: `-> ${chosen.version.version}`, keywords: id}
			: {value: id, label: app.kind.name, allowed: false, reason: shortProblem(result.problems), keywords: id};
	});
	return {items, initialIndex: 0};
}

/** "No" first: most trees have one image. */
export function moreItems(answers: WizardAnswers, image: number): ChoiceList {
	const items: ChoiceItem[] = [
		{value: 'no', label: 'No, go on to registry and output', allowed: true},
		{value: 'yes', label: 'Yes, add another image to this tree', allowed: true, note: 'another framework version or CUDA line'},
	];
	return {items, initialIndex: answers.images.length > image + 1 ? 1 : 0};
}

// ---------------------------------------------------------------------------------------------
// Answers -> recipe -> plan

function imageNames(catalog: Catalog, answers: WizardAnswers): string[] {
	const names: string[] = [];
	for (const image of answers.images) {
		const {id, range} = frameworkRequest(catalog, image);
		const base = `${id}${range === '*' ? '' : `-${range.replaceAll(/[^0-9a-z.]/gi, '').replaceAll('.', '-')}`}`.replace(/-+$/, '').slice(0, 56);
		let name = base;
		for (let suffix = 2; names.includes(name); suffix++) {
			name = `${base}-${suffix}`;
		}

		names.push(name);
	}

	return names;
}

const recipeNames = new WeakMap<Gpu, string>();

/** The catalog name of a GPU when it finds the same GPU again, else its id (remembered: the tree is re-planned per key). */
function gpuRecipeName(catalog: Catalog, gpu: Gpu): string {
	let name = recipeNames.get(gpu);
	if (name === undefined) {
		name = findGpu(catalog, gpu.name) === gpu ? gpu.name : gpu.id;
		recipeNames.set(gpu, name);
	}

	return name;
}

/**
 * The recipe the answers stand for, in the `--non-interactive` format. Unanswered framework
 * steps use the catalog's first framework, so the tree can be drawn from the first step on.
 */
export function answersToRecipe(catalog: Catalog, answers: WizardAnswers): Recipe {
	const names = imageNames(catalog, answers);
	const output = answers.output;
	return {
		name: output?.name || suggestedName(catalog, answers),
		gpus: gpusOf(catalog, answers).map(gpu => gpuRecipeName(catalog, gpu)),
		...(driverOf(answers) ? {driver: driverOf(answers)} : {}),
		...(output?.registry ? {registry: output.registry} : {}),
		components: [],
		images: answers.images.map((image, index) => ({
			name: names[index]!,
			framework: image.framework ?? firstFramework(catalog).replace(/@\*$/, ''),
			...cudaRange(image),
			...pythonRange(image),
			extras: image.extras,
			apps: image.apps,
		})),
	};
}

export type PlanPreview =
	| {ok: true; plan: Plan; recipe: Recipe; selection: Selection}
	| {ok: false; message: string};

/** The tree the answers produce, or why they produce none; what the tier-tree panel draws. */
export function previewPlan(catalog: Catalog, answers: WizardAnswers): PlanPreview {
	if (answers.gpus.length === 0) {
		return {ok: false, message: 'pick at least one GPU model to see the tree'};
	}

	const recipe = answersToRecipe(catalog, answers);
	const {selection, problems} = recipeToSelection(catalog, recipe);
	if (problems.length > 0) {
		return {ok: false, message: problems.map(problem => problem.message).join('\n')};
	}

	try {
		return {ok: true, plan: planSelection(catalog, selection), recipe, selection};
	} catch (error) {
		if (error instanceof UnsatisfiableError) {
			const message = error.resolution.images
				.filter(image => !image.resolved)
				.map(image => `${image.request.name}: ${wizardReason(image.problems.join('; ')).replaceAll(/\n\s*/g, ' ')}`)
				.join('\n');
			return {ok: false, message: `nothing fits: ${message}`};
		}

		return {ok: false, message: (error as Error).message};
	}
}

/** The answers the live tree follows: the highlighted option applied over the answers. */
export const effectiveAnswers = (state: WizardState): WizardAnswers => state.preview ?? state.answers;

export type PreviewPlanner = {
	/** The preview, computed once per distinct set of answers. */
	plan: (answers: WizardAnswers) => PlanPreview;
	/** The preview if it was computed before; never computes. */
	peek: (answers: WizardAnswers) => PlanPreview | undefined;
};

/** The part of the answers the tree depends on. */
const previewKey = (answers: WizardAnswers) => JSON.stringify([answers.gpus, driverOf(answers), answers.images, answers.output?.registry, answers.output?.name]);

/**
 * A memo of previewPlan keyed by the answers the tree depends on, least recently used out first,
 * so moving the cursor back and forth re-plans nothing and a step's options can be planned ahead.
 */
export function createPreviewPlanner(catalog: Catalog, size = 160): PreviewPlanner {
	const cache = new Map<string, PlanPreview>();
	const touch = (key: string) => {
		const hit = cache.get(key);
		if (hit) {
			cache.delete(key);
			cache.set(key, hit);
		}

		return hit;
	};

	return {
		peek: answers => touch(previewKey(answers)),
		plan(answers) {
			const key = previewKey(answers);
			const hit = touch(key);
			if (hit) {
				return hit;
			}

			const result = previewPlan(catalog, answers);
			cache.set(key, result);
			if (cache.size > size) {
				cache.delete(cache.keys().next().value!);
			}

			return result;
		},
	};
}

/** The answer an item of a single-choice step stands for. */
export function answerForItem(step: WizardStep, value: string, host?: HostHints): StepAnswer | undefined {
	switch (step) {
		case 'driver': {
			return value === 'detected' ? {step, driver: {mode: 'detected', version: host?.driver ?? ''}} : value === 'unknown' ? {step, driver: {mode: 'unknown'}} : undefined;
		}

		case 'cuda': {
			return {step, cuda: value};
		}

		case 'framework': {
			return {step, framework: value};
		}

		case 'python': {
			return {step, python: value};
		}

		case 'more': {
			return {step, more: value === 'yes'};
		}

		default: {
			return undefined;
		}
	}
}

/** The answers each option of the current step would give: what the live tree may need next. */
export function previewCandidates(state: WizardState, list: ChoiceList | undefined, host?: HostHints): WizardAnswers[] {
	if (!list || state.step === 'more') {
		return [];
	}

	const near = [...list.items.keys()].sort((a, b) => Math.abs(a - list.initialIndex) - Math.abs(b - list.initialIndex));
	return near.flatMap(index => {
		const answer = answerForItem(state.step, list.items[index]!.value, host);
		return answer ? [applyAnswer(state.answers, state.image, answer)] : [];
	});
}
