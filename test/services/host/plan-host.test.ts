import path from 'node:path';
import {afterEach, expect, test} from 'vitest';
import {run} from '../../../source/cli.js';
import {captureIo, fakeHost, fixture, hostFixtures, type FakeHost} from './fake-host.js';

// `stackwiz plan RECIPE --host` and `gpus: [auto]` / `driver: auto`, with nvidia-smi faked on PATH.
const e2eCatalog = path.join(hostFixtures, '../catalog-e2e');
const hostCatalog = path.join(hostFixtures, 'catalog');
const twoImages = path.join(hostFixtures, '../recipes/e2e-two-images.yaml');

let host: FakeHost | undefined;
afterEach(async () => {
	await host?.cleanup();
	host = undefined;
});

async function plan(args: string[], scenario?: string) {
	host = await fakeHost(scenario ? ['nvidia-smi'] : [], scenario ? [fixture(`nvidia-smi/${scenario}`)] : []);
	const {out, io} = captureIo();
	const code = await run(['plan', ...args], io);
	return {code, ...out, hostSection: out.stdout.slice(out.stdout.indexOf('on this host')).split('\n')};
}

test('images planned for driver 550 do not start on a 470 workstation when they only say cuda>=12.1', async () => {
	const {code, hostSection} = await plan([twoImages, '--host', '--no-bundled', '--catalog', e2eCatalog], 'a100-470-no-compute-cap');
	expect(code).toBe(0);
	expect(hostSection).toEqual([
		'on this host: driver 470.103.01 (CUDA 11.4), NVIDIA A100-SXM4-80GB',
		'  train-old  won\'t run nvidia-container-cli: requirement error: unsatisfied condition: cuda>=12.1, please update your driver to a newer version, or use an earlier cuda container',
		'                       cuda>=12.1: this driver (470.103.01) supports CUDA 11.4',
		'                       note: NVIDIA A100-SXM4-80GB: compute capability unknown, kernels not checked',
		'  train-new  won\'t run nvidia-container-cli: requirement error: unsatisfied condition: cuda>=12.1, please update your driver to a newer version, or use an earlier cuda container',
		'                       cuda>=12.1: this driver (470.103.01) supports CUDA 11.4',
		'                       note: NVIDIA A100-SXM4-80GB: compute capability unknown, kernels not checked',
		'',
	]);
});

test('with NVIDIA\'s NVIDIA_REQUIRE_CUDA the same host runs them through forward compatibility', async () => {
	const {hostSection} = await plan([twoImages, '--host', '--no-bundled', '--catalog', e2eCatalog, '--catalog', hostCatalog], 'a100-470-no-compute-cap');
	expect(hostSection.slice(0, 3)).toEqual([
		'on this host: driver 470.103.01 (CUDA 11.4), NVIDIA A100-SXM4-80GB sm_80',
		'  train-old  runs      NVIDIA_REQUIRE_CUDA satisfied by driver 470.103.01 (CUDA 11.4) on NVIDIA A100-SXM4-80GB (sm_80)',
		'  train-new  runs      NVIDIA_REQUIRE_CUDA satisfied by driver 470.103.01 (CUDA 11.4) on NVIDIA A100-SXM4-80GB (sm_80)',
	]);
});

test('--json adds a host section with runnable per image', async () => {
	const {stdout} = await plan([twoImages, '--host', '--json', '--no-bundled', '--catalog', e2eCatalog], 'rtx-4070-550');
	const document = JSON.parse(stdout) as {recipe: string; host: unknown};
	expect(document.recipe).toBe('e2e-two-images');
	expect(document.host).toEqual({
		driver: '550.40.07',
		cuda: '12.4',
		gpus: [{name: 'NVIDIA GeForce RTX 4070', computeCapability: '8.9'}],
		problem: null,
		images: ['train-old', 'train-new'].map(image => ({
			image,
			runnable: true,
			status: 'runs',
			summary: 'NVIDIA_REQUIRE_CUDA satisfied by driver 550.40.07 (CUDA 12.4) on NVIDIA GeForce RTX 4070 (sm_89)',
			reasons: [],
			notes: [],
		})),
	});
});

test('without a driver nothing can start with --gpus here', async () => {
	const {code, hostSection} = await plan([twoImages, '--host', '--no-bundled', '--catalog', e2eCatalog]);
	expect(code).toBe(0);
	expect(hostSection).toEqual([
		'on this host: no NVIDIA driver (nvidia-smi is not on PATH)',
		'  train-old  won\'t run no NVIDIA driver on this host: `docker run --gpus` fails before any requirement is checked; the image can only run without --gpus',
		'  train-new  won\'t run no NVIDIA driver on this host: `docker run --gpus` fails before any requirement is checked; the image can only run without --gpus',
		'',
	]);
});

test('gpus: [auto] and driver: auto come from nvidia-smi', async () => {
	const {code, stdout} = await plan([path.join(hostFixtures, 'recipes/auto.yaml'), '--no-bundled', '--catalog', e2eCatalog, '--catalog', hostCatalog], 'a100-mig-530');
	expect(code).toBe(0);
	expect(stdout.split('\n')[0]).toBe('host-auto: 1 image, 4 tiers for NVIDIA A100 sm_80, driver 530.30.02');
	expect(await host!.calls()).toEqual([['nvidia-smi', '--query-gpu=name,compute_cap,driver_version,memory.total', '--format=csv,noheader']]);
});

test('gpus: [auto] on a host without nvidia-smi is a recipe error', async () => {
	const {code, stderr} = await plan([path.join(hostFixtures, 'recipes/auto.yaml'), '--no-bundled', '--catalog', e2eCatalog, '--catalog', hostCatalog]);
	expect(code).toBe(2);
	expect(stderr).toContain('auto found no NVIDIA GPU on this host (nvidia-smi lists none)');
});

test('a recipe that names its GPUs never runs nvidia-smi', async () => {
	const {code} = await plan([twoImages, '--no-bundled', '--catalog', e2eCatalog], 'a100-mig-530');
	expect(code).toBe(0);
	expect(await host!.calls()).toEqual([]);
});
