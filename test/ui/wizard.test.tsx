/**
 * The wizard screens through ink-testing-library, on a fake 80x24 terminal and the synthetic
 * e2e catalog (A100 sm_80, V100 sm_70; CUDA 12.4.1 needs driver >= 550.54.15, 12.1.1 needs
 * >= 530.30.02; PyTorch 2.4.1 has cu121 and cu124 wheels, 2.3.1 only cu121; one app, "demo").
 * Keys go in one at a time and every assertion polls the last frame.
 */
import chalk from 'chalk';
import {afterEach, describe, expect, test, vi} from 'vitest';
import {generateFiles} from '../../source/core/generate.js';
import {planSelection} from '../../source/core/plan.js';
import {recipeSchema, recipeToSelection} from '../../source/core/recipe.js';
import {parse} from 'yaml';
import {bundledCatalog, e2eCatalog} from '../helpers/catalog.js';
import {renderWizard} from './fixtures.js';
import {KEY} from './helpers/render.js';

type Ui = Awaited<ReturnType<typeof renderWizard>>;

let current: Ui | undefined;
afterEach(() => {
	current?.unmount();
	current = undefined;
});

async function start(options: Parameters<typeof renderWizard>[1] = {}): Promise<Ui> {
	const ui = await renderWizard(await e2eCatalog(), options);
	current = ui;
	await ui.waitFor('step 1/10');
	return ui;
}

/** From the GPU step: both GPUs, a typed driver, and on to the CUDA step. */
async function toCuda(ui: Ui, driver = '550.54.15'): Promise<void> {
	await ui.press(KEY.space, KEY.down, KEY.space, KEY.enter);
	await ui.waitFor('step 2/10');
	await ui.press(KEY.enter);
	await ui.waitFor('driver version: ');
	await ui.press(...driver.split(''), KEY.enter);
	await ui.waitFor('step 3/10');
}

/** From the CUDA step with "let stackwiz choose" to the extras step with PyTorch 2.4.1. */
async function toExtras(ui: Ui): Promise<void> {
	await ui.press(KEY.enter);
	await ui.waitFor('step 4/10');
	await ui.press(KEY.enter);
	await ui.waitFor('step 5/10');
	await ui.press(KEY.enter);
	await ui.waitFor('step 6/10');
}

describe('step 1: GPU models', () => {
	test('pre-selected from the host, grouped by architecture, with the tree drawn at once', async () => {
		const ui = await start({host: {gpuNames: ['A100'], driver: '550.54.15'}, hostNote: 'Pre-selected from nvidia-smi: A100, driver 550.54.15.'});
		const frame = ui.frame();
		expect(frame).toContain('Pre-selected from nvidia-smi: A100');
		expect(frame).toContain('Ampere (sm_80)');
		expect(frame).toContain('Volta (sm_70)');
		expect(frame).toMatch(/\[x\] A100 +sm_80 · datacenter/);
		expect(frame).toContain('[ ] V100');
		expect(frame).toContain('Tier tree  4 tiers, 1 image');
		expect(frame).toContain('↑↓ move · Space toggle · type filter · Enter confirm · ? help · Ctrl+C quit');
	});

	test('type to filter, Esc clears the filter, Space toggles and the tree follows', async () => {
		const ui = await start();
		expect(ui.frame()).toContain('pick at least one GPU model to see the tree');
		await ui.press('v', 'o', 'l');
		await ui.waitFor('1 of 2 models');
		expect(ui.frame()).not.toContain('A100');
		await ui.press(KEY.space);
		await ui.waitFor('selected: V100');
		await ui.waitFor('Tier tree  4 tiers');
		await ui.press(KEY.esc);
		await ui.waitFor('type to filter by name');
		expect(ui.frame()).toContain('A100');
		await ui.press(KEY.backspace);
		expect(ui.frame()).toContain('step 1/10');
	});

	test('a filter that matches nothing says so; Enter with nothing checked takes the highlighted model', async () => {
		const ui = await start();
		await ui.press('z', 'z');
		await ui.waitFor('no GPU model matches "zz"');
		await ui.press(KEY.backspace, KEY.backspace, KEY.down, KEY.enter);
		await ui.waitFor('step 2/10');
		await ui.press(KEY.left);
		await ui.waitFor('step 1/10');
		expect(ui.frame()).toContain('[x] V100');
		expect(ui.frame()).toContain('[ ] A100');
	});
});

describe('step 1b: driver', () => {
	test('typed and validated; Esc leaves the field; "unknown" puts no limit', async () => {
		const ui = await start();
		await ui.press(KEY.enter);
		await ui.waitFor('step 2/10');
		expect(ui.frame()).toContain('› type the nodes\' driver version');
		await ui.press(KEY.enter, '5', '.', '3', KEY.enter);
		await ui.waitFor('"5.3" is not a driver version');
		await ui.press(KEY.esc);
		await ui.waitFor('driver version: 5.3');
		await ui.waitForGone('is not a driver version');
		await ui.press(KEY.down, KEY.enter);
		await ui.waitFor('step 3/10');
	});

	test('the detected driver comes first when the host reported one', async () => {
		const ui = await start({host: {gpuNames: ['A100'], driver: '550.54.15'}});
		await ui.press(KEY.enter);
		await ui.waitFor('› 550.54.15  detected on this host');
	});
});

describe('step 2: CUDA', () => {
	test('versions the driver cannot run are greyed with the resolver\'s reason and cannot be picked', async () => {
		const ui = await start();
		await toCuda(ui, '520.61.05');
		const frame = ui.frame();
		expect(frame).toContain('× CUDA 12.4.1  CUDA 12.4.1 needs driver >= 550.54.15');
		expect(frame).toContain('× CUDA 12.1.1  CUDA 12.1.1 needs driver >= 530.30.02');
		expect(frame).toContain('× let stackwiz choose');
		expect(frame).toContain('nothing fits');
		await ui.press(KEY.down);
		await ui.waitFor('× CUDA 12.4.1 does not fit: CUDA 12.4.1 needs driver >= 550.54.15');
		await ui.press(KEY.enter);
		await ui.waitFor('CUDA 12.4.1 cannot be picked');
		expect(ui.frame()).toContain('step 3/10');
	});

	test('"let stackwiz choose" first; moving the cursor re-plans the tree at once', async () => {
		const ui = await start();
		await toCuda(ui);
		expect(ui.frame()).toContain('› let stackwiz choose  now: CUDA 12.1.1 for PyTorch 2.4.1');
		expect(ui.frame()).toContain('CUDA Toolkit 12.1.1');
		await ui.press(KEY.down);
		await ui.waitFor('CUDA Toolkit 12.4.1');
		await ui.press(KEY.down);
		await ui.waitFor('CUDA Toolkit 12.1.1');
	});
});

describe('step 3: framework, Python, extras, apps', () => {
	test('framework versions without a build for the picked CUDA are greyed; the tree follows the cursor', async () => {
		const ui = await start();
		await toCuda(ui);
		await ui.press(KEY.down, KEY.enter);
		await ui.waitFor('step 4/10');
		expect(ui.frame()).toContain('× PyTorch 2.3.1  PyTorch 2.3.1 has no CUDA 12.4 build (it ships cu121)');
		await ui.press(KEY.up, KEY.left);
		await ui.waitFor('step 3/10');
		expect(ui.frame()).toContain('› CUDA 12.4.1');
		await ui.press(KEY.down, KEY.enter);
		await ui.waitFor('step 4/10');
		expect(ui.frame()).toContain('PyTorch 2.4.1  ← pytorch-2-4-1');
		await ui.press(KEY.down);
		await ui.waitFor('PyTorch 2.3.1  ← pytorch-2-3-1');
	});

	test('going back keeps the earlier answer highlighted', async () => {
		const ui = await start();
		await toCuda(ui);
		await ui.press(KEY.enter);
		await ui.waitFor('step 4/10');
		await ui.press(KEY.down, KEY.enter);
		await ui.waitFor('step 5/10');
		await ui.press(KEY.esc);
		await ui.waitFor('step 4/10');
		expect(ui.frame()).toContain('› PyTorch 2.3.1');
		await ui.press(KEY.esc);
		await ui.waitFor('step 3/10');
		expect(ui.frame()).toContain('› let stackwiz choose');
	});

	test('extras and apps: Space checks, the tree gains the apps tier, Enter confirms', async () => {
		const ui = await start();
		await toCuda(ui);
		await toExtras(ui);
		expect(ui.frame()).toContain('torchvision  the catalog lists no torchvision for PyTorch 2.4.1');
		await ui.press(KEY.enter);
		await ui.waitFor('step 7/10');
		expect(ui.frame()).toMatch(/› \[ \] Demo app +-> 1\.1/);
		await ui.press(KEY.space);
		await ui.waitFor('[x] Demo app');
		await ui.waitFor('Tier tree  5 tiers, 1 image');
		expect(ui.frame()).toContain('apps');
		expect(ui.frame()).toContain('1 checked: Enter confirms');
		await ui.press(KEY.enter);
		await ui.waitFor('step 8/10');
	});

	test('? explains the current step and hides again', async () => {
		const ui = await start();
		await ui.press('?');
		await ui.waitFor('compute capabilities');
		await ui.press('?');
		await ui.waitForGone('compute capabilities');
	});
});

describe('step 4: more images, registry and output', () => {
	test('another image becomes another branch of the same tree', async () => {
		const ui = await start();
		await toCuda(ui);
		await toExtras(ui);
		await ui.press(KEY.enter);
		await ui.waitFor('step 7/10');
		await ui.press(KEY.enter);
		await ui.waitFor('step 8/10');
		await ui.press(KEY.down, KEY.enter);
		await ui.waitFor('step 3/10');
		await ui.waitFor('· image 2 of 2');
		await ui.press(KEY.enter);
		await ui.waitFor('step 4/10');
		await ui.press(KEY.down);
		await ui.waitFor('Tier tree  5 tiers, 2 images');
		const frame = ui.frame();
		expect(frame).toContain('├─ framework  PyTorch 2.4.1  ← pytorch-2-4-1');
		expect(frame).toContain('└─ framework  PyTorch 2.3.1  ← pytorch-2-3-1');
	});

	test('the form validates as you type and leads to the review', async () => {
		const ui = await start();
		await toCuda(ui);
		await toExtras(ui);
		await ui.press(KEY.enter);
		await ui.waitFor('step 7/10');
		await ui.press(KEY.enter);
		await ui.waitFor('step 8/10');
		await ui.press(KEY.enter);
		await ui.waitFor('step 9/10');
		expect(ui.frame()).toContain('› recipe name  a100-v100-pytorch');
		expect(ui.frame()).toContain('.stackwiz/a100-v100-pytorch');
		await ui.press(KEY.down, 'H', 't', 't', 'p', ':');
		await ui.waitFor('expected a registry like');
		for (let count = 0; count < 5; count++) {
			await ui.press(KEY.backspace);
		}

		await ui.press(...'127.0.0.1:5000/e2e'.split(''));
		await ui.waitFor('push tiers');
		await ui.waitForGone('expected a registry like');
		await ui.press(KEY.down, KEY.space);
		await ui.waitFor('no, load into the local image store');
		await ui.press(KEY.down, KEY.down, KEY.enter);
		await ui.waitFor('step 10/10');
	});
});

/** All the way to the review with A100 + V100, driver 550.54.15, PyTorch 2.4.1 + demo, and a registry. */
async function toReview(ui: Ui, registry = '127.0.0.1:5000/e2e'): Promise<void> {
	await toCuda(ui);
	await toExtras(ui);
	await ui.press(KEY.enter);
	await ui.waitFor('step 7/10');
	await ui.press(KEY.space, KEY.enter);
	await ui.waitFor('step 8/10');
	await ui.press(KEY.enter);
	await ui.waitFor('step 9/10');
	await ui.press(KEY.down, ...registry.split(''), KEY.enter);
	await ui.press(KEY.enter, KEY.enter, KEY.enter);
	await ui.waitFor('step 10/10');
}

describe('step 5: review', () => {
	test('the tree with tags and which tiers the registry already has', async () => {
		const catalog = await e2eCatalog();
		const ui = await renderWizard(catalog, {registry: new Set(['base-busybox1-36', 'cuda-12-1-1-busybox1-36'])});
		current = ui;
		await ui.waitFor('step 1/10');
		await toReview(ui);
		await ui.waitFor('2 already in 127.0.0.1:5000/e2e, 3 to build');
		const frame = ui.frame();
		expect(frame).toContain('pytorch-2-4-1: PyTorch 2.4.1, CUDA 12.1.1, Python 3.11.9, busybox1.36');
		expect(frame).toMatch(/base +BusyBox 1\.36 +\[in registry, reused\]/);
		expect(frame).toContain('127.0.0.1:5000/e2e/stackwiz/base:busybox1.36-');
		expect(frame).toContain('[to build]');
		expect(frame).toContain('recipe a100-v100-pytorch.yaml   files .stackwiz/a100-v100-pytorch');
		expect(frame).toContain('› Build now  docker buildx bake, pushing to 127.0.0.1:5000/e2e');
		expect(ui.recorded.registryChecks).toBe(1);
	});

	test('"Write files only" saves the recipe --non-interactive replays and the same files it writes', async () => {
		const catalog = await e2eCatalog();
		const ui = await renderWizard(catalog);
		current = ui;
		await ui.waitFor('step 1/10');
		await toReview(ui);
		await ui.press(KEY.down, KEY.enter);
		await ui.waitFor('written to .stackwiz/a100-v100-pytorch');
		const frame = ui.frame();
		expect(frame).toContain('✓ recipe saved to a100-v100-pytorch.yaml');
		expect(frame).toContain('✓ 5 Dockerfiles and docker-bake.json written to .stackwiz/a100-v100-pytorch');
		await vi.waitFor(() => {
			expect(ui.recorded.exitCodes).toEqual([0]);
		});
		// The commands to copy come after the last frame, unwrapped.
		expect(ui.recorded.epilogue).toEqual([
			'Build them with:',
			'  cd .stackwiz/a100-v100-pytorch && docker buildx bake -f docker-bake.json --push',
			'Replay these choices:',
			'  stackwiz --non-interactive a100-v100-pytorch.yaml',
			'Then try the image:',
			expect.stringMatching(/^ {2}docker run --rm -it --gpus all 127\.0\.0\.1:5000\/e2e\/stackwiz\/apps:demo1\.1-pytorch2\.4\.1-[0-9a-f]{8}$/) as unknown as string,
		]);
		const text = ui.recorded.recipes.get('a100-v100-pytorch.yaml')!;
		expect(text).toContain('# Replay: stackwiz --non-interactive a100-v100-pytorch.yaml');
		expect(text).toContain('driver: "550.54.15"');
		const {selection, problems} = recipeToSelection(catalog, recipeSchema.parse(parse(text)));
		expect(problems).toEqual([]);
		const plan = planSelection(catalog, selection);
		expect(ui.recorded.outputs.get('.stackwiz/a100-v100-pytorch')).toEqual(generateFiles(plan.resolution, plan.tree));
	});

	test('a recipe file that exists already: the review says saving replaces it', async () => {
		const catalog = await e2eCatalog();
		const ui = await renderWizard(catalog, {existingFiles: new Set(['a100-v100-pytorch.yaml'])});
		current = ui;
		await ui.waitFor('step 1/10');
		await toReview(ui);
		await ui.waitFor('a100-v100-pytorch.yaml exists already and will be replaced (Esc to rename)');
		expect(ui.frame()).toContain('replay: stackwiz --non-interactive a100-v100-pytorch.yaml');
	});

	test('a file that cannot be written returns to the form with the reason', async () => {
		const catalog = await e2eCatalog();
		const ui = await renderWizard(catalog, {writeError: Object.assign(new Error('out exists and was not written by stackwiz; refusing to replace it.'), {hint: 'Choose a new or empty directory.'})});
		current = ui;
		await ui.waitFor('step 1/10');
		await toReview(ui);
		await ui.press(KEY.down, KEY.enter);
		await ui.waitFor('refusing to replace it.');
		expect(ui.frame().replaceAll(/\s+/g, ' ')).toContain('Choose a new or empty directory.');
		expect(ui.frame()).toContain('step 9/10');
		expect(ui.recorded.exitCodes).toEqual([]);
	});

	test('"Start over" resets to the first step', async () => {
		const ui = await start();
		await toReview(ui);
		await ui.press(KEY.down, KEY.down, KEY.enter);
		await ui.waitFor('step 1/10');
		expect(ui.frame()).toContain('pick at least one GPU model');
	});
});

describe('quitting', () => {
	test('Ctrl+C quits with 130', async () => {
		const ui = await start();
		await ui.press(KEY.ctrlC);
		await vi.waitFor(() => {
			expect(ui.recorded.exitCodes).toEqual([130]);
		});
		expect(ui.frame()).toContain('step 1/10');
	});

	test('SIGINT or SIGTERM from outside (the command\'s abort signal) quits the same way', async () => {
		const controller = new AbortController();
		const ui = await start({signal: controller.signal});
		controller.abort();
		await vi.waitFor(() => {
			expect(ui.recorded.exitCodes).toEqual([130]);
		});
	});
});

describe('terminal', () => {
	test('every frame of a whole flow fits 80x24', async () => {
		const ui = await start({hostNote: 'No NVIDIA GPU seen here (nvidia-smi): pick the models of the nodes the images will run on, and a long note that has to be cut.'});
		await ui.press('?');
		await toReview(ui);
		for (const frame of ui.frames()) {
			const lines = frame.split('\n');
			expect(lines.length).toBeLessThanOrEqual(23);
			for (const line of lines) {
				expect(line.length).toBeLessThanOrEqual(80);
			}
		}
	});

	test('a wide terminal puts the tree beside the list', async () => {
		const ui = await start({size: {columns: 130, rows: 30}});
		await ui.press(KEY.space);
		await ui.waitFor(/filter: .* Tier tree {2}4 tiers, 1 image/);
		expect(ui.frame()).toMatch(/Ampere \(sm_80\) +base +BusyBox 1\.36/);
		for (const line of ui.frame().split('\n')) {
			expect(line.length).toBeLessThanOrEqual(130);
		}
	});

	test('NO_COLOR: no colour codes; greyed options still read as greyed', async () => {
		const level = chalk.level;
		chalk.level = 3;
		try {
			const coloured = await start();
			await coloured.press(KEY.space);
			await coloured.waitFor('[x] A100');
			expect(coloured.lastFrame()).toMatch(/\u001B\[(3\d|2)m/);
			coloured.unmount();
			const plain = await start({noColor: true});
			await toCuda(plain, '520.61.05');
			expect(plain.lastFrame()).toContain('× CUDA 12.4.1');
			expect(plain.lastFrame()).not.toMatch(/\u001B\[(3\d|9\d|2)m/);
		} finally {
			chalk.level = level;
		}
	});
});

describe('on the bundled catalogs', () => {
	test('H100: filter, the architecture and driver reasons, forward compatibility noted', async () => {
		const ui = await renderWizard(await bundledCatalog());
		current = ui;
		await ui.waitFor('step 1/10');
		expect(ui.frame()).toContain('Blackwell (sm_100, sm_103, sm_120)');
		await ui.press('h', '1', '0', '0');
		await ui.waitFor(/› \[ \] NVIDIA H100/);
		await ui.press(KEY.space, KEY.enter);
		await ui.waitFor('step 2/10');
		await ui.press(KEY.enter, ...'470.57.02'.split(''), KEY.enter);
		await ui.waitFor('step 3/10');
		expect(ui.frame()).toMatch(/› let stackwiz choose {2}now: CUDA [\d.]+ for PyTorch/);
		await ui.press(KEY.end);
		await ui.waitFor('× CUDA 11.0.3  NVIDIA H100 (sm_90) needs CUDA >= 11.8');
		await ui.press(KEY.home);
		await ui.waitFor('› let stackwiz choose');
		for (let count = 0; count < 30 && !/› CUDA 12\.\d\.\d {2}forward compatibility/.test(ui.frame()); count++) {
			await ui.press(KEY.down);
		}

		expect(ui.frame()).toMatch(/› CUDA 12\.8\.1 {2}forward compatibility/);
		expect(ui.frame()).toMatch(/× CUDA 12\.9\.\d {2}CUDA 12\.9\.\d needs driver >= 575/);
	});
});
