import {describe, expect, test} from 'vitest';
import {resolveSelection, type Option, type Resolution} from '../../source/core/resolve.js';
import {bundledCatalog, selectionFrom} from '../helpers/catalog.js';

async function resolve(recipe: string): Promise<Resolution> {
	const catalog = await bundledCatalog();
	return resolveSelection(catalog, selectionFrom(catalog, `name: t\n${recipe}`));
}

const option = (options: Option[], value: string) => options.find(candidate => candidate.value === value);

describe('resolveSelection on the bundled catalogs', () => {
	test('a GPU newer than the CUDA range: the arch reason and the range asked', async () => {
		const {images: [image]} = await resolve('gpus: [H100]\ncuda: "<11.8"\nimages: [{framework: pytorch}]\n');
		expect(image!.resolved).toBeUndefined();
		expect(image!.problems[0]!.split('\n')[0]).toBe('no CUDA release fits pytorch@* on NVIDIA H100: NVIDIA H100 (sm_90) needs CUDA >= 11.8; cuda "<11.8" was asked');
		expect(option(image!.options.cuda, '11.7.1')).toEqual({value: '11.7.1', allowed: false, reason: 'NVIDIA H100 (sm_90) needs CUDA >= 11.8'});
		expect(option(image!.options.cuda, '12.1.1')).toEqual({value: '12.1.1', allowed: false, reason: 'CUDA 12.1.1 is outside cuda "<11.8" that the recipe asks for'});
	});

	test('an architecture CUDA 13 dropped keeps the image on CUDA 12', async () => {
		const {images: [image]} = await resolve('gpus: [P100]\nimages: [{framework: pytorch@2.14}]\n');
		expect(image!.resolved?.cuda.version).toBe('12.6.3');
		expect(option(image!.options.cuda, '13.0.0')?.reason).toBe('Tesla P100 (sm_60) is not supported after CUDA 12.9');
	});

	test('native compatibility: the framework default CUDA wins over a newer allowed one', async () => {
		const {images: [image]} = await resolve('gpus: [A100, V100]\ndriver: "550.54.15"\nimages: [{framework: pytorch@2.4}]\n');
		expect(image!.resolved?.cuda.version).toBe('12.1.1');
		expect(image!.resolved?.compat).toBe('native');
		expect(image!.resolved?.cudaArchList).toBe('7.0;8.0+PTX');
		expect(option(image!.options.cuda, '12.4.1')).toEqual({value: '12.4.1', allowed: true});
	});

	test('a driver too old for a release, named with both floors', async () => {
		const {images: [image]} = await resolve('gpus: [RTX 4090]\ndriver: "470.82.01"\nimages: [{framework: pytorch@2.4}]\n');
		expect(option(image!.options.cuda, '12.4.1')?.reason).toBe('CUDA 12.4.1 needs driver >= 550.54.15 (525 with minor-version compatibility); nodes have 470.82.01');
		expect(image!.resolved?.cuda.version).toBe('11.8.0');
		expect(image!.resolved?.compat).toBe('minor-version');
	});

	test('minor-version compatibility when the range forces a release newer than the driver', async () => {
		const {images: [image]} = await resolve('gpus: [A100]\ndriver: "525.60.13"\ncuda: "12.1"\nimages: [{framework: pytorch@2.3}]\n');
		expect(image!.resolved?.cuda.version).toBe('12.1.1');
		expect(image!.resolved?.compat).toBe('minor-version');
		expect(image!.resolved?.notes).toEqual(['nodes run CUDA 12.1.1 through minor-version compatibility (driver 525.60.13 < 530.30.02)']);
	});

	test('forward compatibility for data-center GPUs on a driver branch NVIDIA lists', async () => {
		const {images: [image]} = await resolve('gpus: [A100]\ndriver: "470.82.01"\ncuda: ">=12.0"\nimages: [{framework: pytorch@2.4}]\n');
		expect(image!.resolved?.compat).toBe('forward');
		expect(image!.resolved?.cuda.version).toBe('12.1.1');
		expect(option(image!.options.cuda, '12.4.1')).toEqual({value: '12.4.1', allowed: true, note: 'forward compatibility'});
	});

	test('a framework without a build for the asked CUDA line', async () => {
		const {images: [image]} = await resolve('gpus: [A100]\ncuda: "12.4"\nimages: [{framework: pytorch@2.3}]\n');
		expect(image!.problems[0]!.split('\n')[0]).toBe('no CUDA release fits pytorch@2.3 on NVIDIA A100: PyTorch 2.3.1 has no CUDA 12.4 build (it ships cu118, cu121); cuda "12.4" was asked');
	});

	test('a Python the framework has no wheels for', async () => {
		const {images: [image]} = await resolve('gpus: [A100]\npython: "3.13"\nimages: [{framework: pytorch@2.3}]\n');
		expect(image!.problems).toEqual(['no Python fits PyTorch 2.3.1: PyTorch 2.3.1 has no Python 3.13 wheels (3.8, 3.9, 3.10, 3.11, 3.12)']);
		expect(option(image!.options.python, '3.12')).toEqual({value: '3.12', allowed: false, reason: 'outside python "3.13" asked'});
	});

	test('an extra that needs a newer GPU', async () => {
		const {images: [image]} = await resolve('gpus: [V100]\nimages: [{framework: pytorch@2.4, extras: [flash-attn]}]\n');
		expect(image!.problems[0]).toContain('FlashAttention 2.8.3 needs compute capability >= 8.0, Tesla V100 (sm_70) has less');
	});

	test('wheels without SASS for a GPU of the same major are fine (sm_86 code runs on sm_89)', async () => {
		const {images: [image]} = await resolve('gpus: [RTX 4090]\ndriver: "550.54.15"\nimages: [{framework: pytorch@2.5}]\n');
		expect(image!.resolved?.framework.variant.cuda).toBe('12.4');
		expect(image!.resolved?.framework.variant.arch_list).not.toContain('8.9');
	});

	test('PyTorch before 2.4 gets NumPy 1 in the basic tier', async () => {
		const {images: [image]} = await resolve('gpus: [A100]\npython: "3.11"\nimages: [{framework: pytorch@2.3}]\n');
		expect(image!.resolved?.common.find(choice => choice.catalog.kind.id === 'numpy')?.version.version).toBe('1.26.4');
	});

	test('framework versions outside the asked range are greyed with that reason', async () => {
		const {images: [image]} = await resolve('gpus: [A100]\nimages: [{framework: pytorch@2.4}]\n');
		expect(option(image!.options.framework, '2.5.1')).toEqual({value: '2.5.1', allowed: false, reason: 'outside pytorch@2.4 asked'});
		expect(option(image!.options.framework, '2.4.1')).toEqual({value: '2.4.1', allowed: true});
	});

	test('images of one recipe prefer a common OS and Python so lower tiers are shared', async () => {
		const {images} = await resolve('gpus: [A100]\ndriver: "580.65.06"\nimages: [{name: a, framework: pytorch@2.14}, {name: b, framework: pytorch@2.4}]\n');
		expect(images.map(image => `${image.resolved?.os.token} py${image.resolved?.python.version}`)).toEqual(['ubuntu22.04 py3.12', 'ubuntu22.04 py3.12']);
	});
});
