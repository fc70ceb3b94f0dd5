/**
 * The wizard as a pure state machine: every step's answer and where it leads, "back" that keeps
 * the answers, "reset", previews for the live tree, and the option lists each step shows, with
 * the resolver's reasons for what is greyed out. No Ink here.
 */
import {describe, expect, test} from 'vitest';
import {parse} from 'yaml';
import {recipeSchema, recipeToSelection} from '../../source/core/recipe.js';
import {serializeRecipe} from '../../source/core/recipe-writer.js';
import {
	answerForItem,
	answersToRecipe,
	appItems,
	autoChoice,
	createPreviewPlanner,
	createWizardState,
	cudaItems,
	driverItems,
	effectiveAnswers,
	extraItems,
	filterItems,
	finalizeOutput,
	frameworkItems,
	gpuItems,
	moreItems,
	outputInitial,
	previewCandidates,
	previewPlan,
	pythonItems,
	stepHelp,
	stepNumber,
	validateDriver,
	validateOutput,
	wizardReducer,
	wizardSteps,
	type StepAnswer,
	type WizardState,
} from '../../source/core/wizard-state.js';
import {bundledCatalog, e2eCatalog} from '../helpers/catalog.js';

const answer = (state: WizardState, value: StepAnswer) => wizardReducer(state, {type: 'answer', answer: value});
const output = {name: 'team', registry: '127.0.0.1:5000/e2e', push: true, out: '', recipeFile: ''};

/** Answers every step of one image, the way a user pressing Enter through the defaults would. */
async function throughFramework() {
	const catalog = await e2eCatalog();
	let state = createWizardState(catalog);
	state = answer(state, {step: 'gpus', gpus: ['a100', 'v100']});
	state = answer(state, {step: 'driver', driver: {mode: 'typed', version: '550.54.15'}});
	state = answer(state, {step: 'cuda', cuda: '12.1.1'});
	state = answer(state, {step: 'framework', framework: 'pytorch@2.3.1'});
	return {catalog, state};
}

describe('wizardReducer: steps', () => {
	test('every step, in order, to the review and its outcome', async () => {
		const {catalog, state: afterFramework} = await throughFramework();
		expect(afterFramework.step).toBe('python');
		let state = answer(afterFramework, {step: 'python', python: autoChoice});
		expect(state.step).toBe('extras');
		state = answer(state, {step: 'extras', extras: []});
		expect(state.step).toBe('apps');
		state = answer(state, {step: 'apps', apps: ['demo']});
		expect(state.step).toBe('more');
		state = answer(state, {step: 'more', more: false});
		expect(state.step).toBe('output');
		state = answer(state, {step: 'output', output});
		expect(state.step).toBe('review');
		expect(state.answers.output).toEqual({...output, out: '.stackwiz/team', recipeFile: 'team.yaml'});
		state = answer(state, {step: 'review', outcome: 'files'});
		expect(state.outcome).toBe('files');
		expect(state.history.map(entry => entry.step)).toEqual(['gpus', 'driver', 'cuda', 'framework', 'python', 'extras', 'apps', 'more', 'output']);
		expect(answersToRecipe(catalog, state.answers)).toEqual({
			name: 'team',
			gpus: ['A100', 'V100'],
			driver: '550.54.15',
			registry: '127.0.0.1:5000/e2e',
			components: [],
			images: [{name: 'pytorch-2-3-1', framework: 'pytorch@2.3.1', cuda: '12.1.1', extras: [], apps: ['demo']}],
		});
	});

	test('an answer for another step, or an incomplete one, changes nothing', async () => {
		const catalog = await e2eCatalog();
		const state = createWizardState(catalog);
		expect(answer(state, {step: 'cuda', cuda: '12.1.1'})).toBe(state);
		expect(answer(state, {step: 'gpus', gpus: []})).toBe(state);
		const driver = answer(state, {step: 'gpus', gpus: ['a100']});
		expect(answer(driver, {step: 'driver', driver: {mode: 'typed', version: '5.3'}})).toBe(driver);
		expect(answer(driver, {step: 'driver', driver: {mode: 'unknown'}}).step).toBe('cuda');
	});

	test('the output form must be valid before the review', async () => {
		const {state} = await throughFramework();
		let atOutput = answer(answer(answer(answer(state, {step: 'python', python: autoChoice}), {step: 'extras', extras: []}), {step: 'apps', apps: []}), {step: 'more', more: false});
		expect(answer(atOutput, {step: 'output', output: {...output, name: 'Bad Name'}})).toBe(atOutput);
		expect(answer(atOutput, {step: 'output', output: {...output, registry: 'https://x/'}})).toBe(atOutput);
		atOutput = answer(atOutput, {step: 'output', output: {...output, registry: '', push: true}});
		expect(atOutput.answers.output?.push).toBe(false);
	});

	test('"more images" loops back to CUDA for a new image; "no" drops images answered after it', async () => {
		const {state: first} = await throughFramework();
		let state = answer(answer(answer(first, {step: 'python', python: autoChoice}), {step: 'extras', extras: []}), {step: 'apps', apps: []});
		state = answer(state, {step: 'more', more: true});
		expect(state.step).toBe('cuda');
		expect(state.image).toBe(1);
		expect(state.answers.images).toHaveLength(2);
		state = answer(state, {step: 'cuda', cuda: autoChoice});
		state = answer(state, {step: 'framework', framework: 'pytorch@2.4.1'});
		expect(state.answers.images[1]!.framework).toBe('pytorch@2.4.1');
		// Back (python -> framework -> cuda of image 1 -> "more" of image 0) and say no: image 1 goes.
		for (let count = 0; count < 3; count++) {
			state = wizardReducer(state, {type: 'back'});
		}

		expect(state.step).toBe('more');
		expect(state.image).toBe(0);
		expect(moreItems(state.answers, state.image).initialIndex).toBe(1);
		state = answer(state, {step: 'more', more: false});
		expect(state.answers.images).toHaveLength(1);
	});
});

describe('wizardReducer: back and reset', () => {
	test('back returns to the previous step and keeps every answer', async () => {
		const {catalog, state} = await throughFramework();
		const back = wizardReducer(state, {type: 'back'});
		expect(back.step).toBe('framework');
		expect(back.answers).toBe(state.answers);
		expect(frameworkItems(catalog, back.answers, back.image).items[frameworkItems(catalog, back.answers, back.image).initialIndex]!.value).toBe('pytorch@2.3.1');
		const twice = wizardReducer(back, {type: 'back'});
		expect(twice.step).toBe('cuda');
		expect(cudaItems(catalog, twice.answers, 0).items[cudaItems(catalog, twice.answers, 0).initialIndex]!.value).toBe('12.1.1');
	});

	test('back on the first step changes nothing; back clears a preview and an outcome', async () => {
		const catalog = await e2eCatalog();
		const state = createWizardState(catalog);
		expect(wizardReducer(state, {type: 'back'})).toBe(state);
		const previewed = wizardReducer(state, {type: 'preview', answer: {step: 'gpus', gpus: ['a100']}});
		expect(wizardReducer(previewed, {type: 'back'}).preview).toBeUndefined();
	});

	test('reset starts over from the host suggestions', async () => {
		const catalog = await e2eCatalog();
		const start = createWizardState(catalog, {gpuNames: ['V100'], driver: '550.54.15'});
		const {state} = await throughFramework();
		const reset = wizardReducer({...state, initial: start.initial}, {type: 'reset'});
		expect(reset.step).toBe('gpus');
		expect(reset.history).toEqual([]);
		expect(reset.answers.gpus).toEqual(['v100']);
		expect(reset.answers.images).toEqual([{cuda: autoChoice, python: autoChoice, extras: [], apps: []}]);
	});
});

describe('wizardReducer: preview', () => {
	test('a preview changes the tree answers only, and only for the current step', async () => {
		const {catalog, state} = await throughFramework();
		const previewed = wizardReducer(state, {type: 'preview', answer: {step: 'python', python: '3.11'}});
		expect(previewed.answers).toBe(state.answers);
		expect(effectiveAnswers(previewed).images[0]!.python).toBe('3.11');
		expect(wizardReducer(state, {type: 'preview', answer: {step: 'cuda', cuda: '12.4.1'}})).toBe(state);
		const moved = answer(previewed, {step: 'python', python: autoChoice});
		expect(moved.preview).toBeUndefined();
		expect(previewPlan(catalog, effectiveAnswers(previewed)).ok).toBe(true);
	});
});

describe('host pre-selection', () => {
	test('nvidia-smi names become catalog GPUs; names the catalog does not know are kept to be shown', async () => {
		const catalog = await bundledCatalog();
		const state = createWizardState(catalog, {gpuNames: ['NVIDIA A100-SXM4-80GB', 'NVIDIA A100-SXM4-80GB', 'Mystery GPU'], driver: '535.104.05'});
		expect(state.answers.gpus).toEqual(['a100']);
		expect(state.unknownHostGpus).toEqual(['Mystery GPU']);
		const driver = driverItems(state.answers, {gpuNames: [], driver: '535.104.05'});
		expect(driver.items.map(item => item.value)).toEqual(['detected', 'typed', 'unknown']);
		expect(driver.items[driver.initialIndex]!.value).toBe('detected');
	});

	test('without a host the driver step offers typing first', async () => {
		const catalog = await e2eCatalog();
		const {items, initialIndex} = driverItems(createWizardState(catalog).answers);
		expect(items.map(item => item.value)).toEqual(['typed', 'unknown']);
		expect(items[initialIndex]!.value).toBe('typed');
	});
});

describe('option lists', () => {
	test('GPUs are grouped by architecture, newest first, and the filter matches name, arch and sm_XX', async () => {
		const catalog = await bundledCatalog();
		const items = gpuItems(catalog);
		expect(items[0]!.group).toMatch(/^Blackwell/);
		expect(items.at(-1)!.group).toMatch(/^Pascal/);
		expect(filterItems(items, 'h100').every(item => /H100/i.test(item.label))).toBe(true);
		expect(filterItems(items, 'sm_70').map(item => item.value)).toContain('v100');
		expect(filterItems(items, 'volta').map(item => item.value)).toContain('v100');
		expect(filterItems(items, 'no-such-gpu')).toEqual([]);
	});

	test('CUDA versions a driver cannot run are greyed with the resolver\'s reason; "let stackwiz choose" comes first', async () => {
		const catalog = await e2eCatalog();
		let state = answer(createWizardState(catalog), {step: 'gpus', gpus: ['a100']});
		state = answer(state, {step: 'driver', driver: {mode: 'typed', version: '520.61.05'}});
		const {items} = cudaItems(catalog, state.answers, 0);
		expect(items.map(item => [item.value, item.allowed])).toEqual([['auto', false], ['12.4.1', false], ['12.1.1', false]]);
		expect(items[1]!.reason).toBe('CUDA 12.4.1 needs driver >= 550.54.15 (525.60.13 with minor-version compatibility); nodes have 520.61.05');
		const minor = cudaItems(catalog, answer(createWizardState(catalog), {step: 'gpus', gpus: ['a100']}).answers, 0);
		expect(minor.items[0]).toMatchObject({value: 'auto', allowed: true});
	});

	test('a newer driver allows CUDA through minor-version compatibility, noted', async () => {
		const catalog = await e2eCatalog();
		let state = answer(createWizardState(catalog), {step: 'gpus', gpus: ['a100']});
		state = answer(state, {step: 'driver', driver: {mode: 'typed', version: '535.104.05'}});
		const cuda = cudaItems(catalog, state.answers, 0).items.find(item => item.value === '12.4.1')!;
		expect(cuda).toMatchObject({allowed: true, note: 'minor-version compatibility'});
	});

	test('GPU architecture reasons on the bundled catalog: "H100 needs >= 11.8"', async () => {
		const catalog = await bundledCatalog();
		let state = answer(createWizardState(catalog), {step: 'gpus', gpus: ['h100']});
		state = answer(state, {step: 'driver', driver: {mode: 'unknown'}});
		const old = cudaItems(catalog, state.answers, 0).items.find(item => item.value === '11.7.1')!;
		expect(old.allowed).toBe(false);
		expect(old.reason).toMatch(/H100.*needs CUDA >= 11\.8/);
	});

	test('framework versions without a build for the picked CUDA are greyed with that reason', async () => {
		const {catalog, state} = await throughFramework();
		const atFramework = {...state.answers, images: [{...state.answers.images[0]!, cuda: '12.4.1'}]};
		const {items, initialIndex} = frameworkItems(catalog, atFramework, 0);
		expect(items.map(item => [item.value, item.allowed])).toEqual([['pytorch@2.4.1', true], ['pytorch@2.3.1', false]]);
		expect(items[1]!.reason).toBe('PyTorch 2.3.1 has no CUDA 12.4 build (it ships cu121)');
		expect(initialIndex).toBe(0);
	});

	test('Python, extras and apps come from the resolver with the version each gets', async () => {
		const catalog = await bundledCatalog();
		let state = answer(createWizardState(catalog), {step: 'gpus', gpus: ['v100']});
		state = answer(state, {step: 'driver', driver: {mode: 'typed', version: '535.104.05'}});
		state = answer(state, {step: 'cuda', cuda: '12.1.1'});
		state = answer(state, {step: 'framework', framework: 'pytorch@2.3.1'});
		const python = pythonItems(catalog, state.answers, 0);
		expect(python.items[0]).toMatchObject({value: 'auto', allowed: true});
		expect(python.items.find(item => item.value === '3.13')).toMatchObject({allowed: false, reason: expect.stringMatching(/no Python 3\.13 wheels/) as unknown});
		state = answer(state, {step: 'python', python: autoChoice});
		const extras = extraItems(catalog, state.answers, 0);
		expect(extras.items.find(item => item.value === 'torchvision')).toMatchObject({allowed: true, note: expect.stringMatching(/^-> 0\.18/) as unknown});
		const flash = extras.items.find(item => item.value === 'flash-attn')!;
		expect(flash.allowed).toBe(false);
		expect(flash.reason).toMatch(/compute capability >= 8\.0/);
		state = answer(state, {step: 'extras', extras: ['torchvision']});
		const apps = appItems(catalog, state.answers, 0);
		expect(apps.items.length).toBeGreaterThan(0);
		expect(apps.items.every(item => item.allowed ? item.note?.startsWith('-> ') : Boolean(item.reason))).toBe(true);
	});
});

describe('validation', () => {
	test('driver versions as nvidia-smi prints them', () => {
		expect(validateDriver('535.104.05')).toBeUndefined();
		expect(validateDriver('550')).toBeUndefined();
		expect(validateDriver('')).toMatch(/type the version/);
		expect(validateDriver('5.3')).toMatch(/not a driver version/);
	});

	test('output: recipe name, registry and the recipe file name', () => {
		expect(validateOutput(output)).toEqual({});
		expect(Object.keys(validateOutput({...output, name: 'Team A', registry: 'http://x', recipeFile: 'recipe.txt'}))).toEqual(['name', 'registry', 'recipeFile']);
		expect(finalizeOutput({...output, out: ' ', recipeFile: ''})).toMatchObject({out: '.stackwiz/team', recipeFile: 'team.yaml'});
	});

	test('the output form starts from a suggested name', async () => {
		const {catalog, state} = await throughFramework();
		expect(outputInitial(catalog, state.answers)).toEqual({name: 'a100-v100-pytorch', registry: '', push: true, out: '', recipeFile: ''});
	});
});

describe('the recipe the answers stand for', () => {
	test('two images of the same framework version get distinct names and share lower tiers', async () => {
		const {catalog, state} = await throughFramework();
		const answers = {...state.answers, images: [state.answers.images[0]!, {...state.answers.images[0]!, apps: ['demo']}]};
		const recipe = answersToRecipe(catalog, answers);
		expect(recipe.images.map(image => image.name)).toEqual(['pytorch-2-3-1', 'pytorch-2-3-1-2']);
		const preview = previewPlan(catalog, answers);
		expect(preview.ok && preview.plan.tree.nodes.map(node => node.tier)).toEqual(['base', 'cuda', 'basic', 'framework', 'apps']);
	});

	test('saved and read back, the recipe gives the same selection', async () => {
		const {catalog, state} = await throughFramework();
		const recipe = answersToRecipe(catalog, {...state.answers, output: finalizeOutput(output)});
		const back = recipeToSelection(catalog, recipeSchema.parse(parse(serializeRecipe(recipe))));
		expect(back.problems).toEqual([]);
		expect(back.selection).toEqual(recipeToSelection(catalog, recipe).selection);
	});

	test('answers that fit nothing say why instead of drawing a tree', async () => {
		const catalog = await e2eCatalog();
		let state = answer(createWizardState(catalog), {step: 'gpus', gpus: ['a100']});
		state = answer(state, {step: 'driver', driver: {mode: 'typed', version: '520.61.05'}});
		const preview = previewPlan(catalog, state.answers);
		expect(preview.ok).toBe(false);
		expect(!preview.ok && preview.message).toMatch(/^nothing fits: pytorch: .*needs driver >= /);
		expect(previewPlan(catalog, createWizardState(catalog).answers)).toEqual({ok: false, message: 'pick at least one GPU model to see the tree'});
	});
});

describe('planning ahead', () => {
	test('the planner memoizes by answers; candidates are the current step\'s options, nearest first', async () => {
		const {catalog, state} = await throughFramework();
		const planner = createPreviewPlanner(catalog);
		expect(planner.peek(state.answers)).toBeUndefined();
		const first = planner.plan(state.answers);
		expect(planner.plan({...state.answers})).toBe(first);
		const list = pythonItems(catalog, state.answers, 0);
		const candidates = previewCandidates(state, list);
		expect(candidates.map(candidate => candidate.images[0]!.python)).toEqual(list.items.map(item => item.value));
		expect(answerForItem('more', 'yes')).toEqual({step: 'more', more: true});
		expect(previewCandidates({...state, step: 'more'}, moreItems(state.answers, 0))).toEqual([]);
	});
});

test('every step has a title number and a two-or-three-line help', () => {
	for (const step of wizardSteps) {
		expect(stepNumber(step).total).toBe(wizardSteps.length);
		const lines = stepHelp[step].split('\n');
		expect(lines.length).toBeGreaterThanOrEqual(2);
		expect(lines.length).toBeLessThanOrEqual(3);
	}
});
