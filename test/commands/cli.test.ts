import {mkdtemp, readdir, readFile, writeFile, mkdir} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {describe, expect, test} from 'vitest';
import {runCli} from '../helpers/run-cli.js';

const e2eCatalog = ['--catalog', 'test/fixtures/catalog-e2e', '--no-bundled'];
const temporary = async () => mkdtemp(path.join(tmpdir(), 'stackwiz-cli-'));

describe('bin/stackwiz.js', () => {
	test('plan --json prints the contract object', () => {
		const result = runCli(['plan', 'test/fixtures/recipes/e2e-two-images.yaml', '--json', ...e2eCatalog]);
		expect(result.code).toBe(0);
		const plan = JSON.parse(result.stdout) as {recipe: string; resolved: Array<Record<string, unknown>>; tiers: Array<Record<string, unknown>>};
		expect(plan.recipe).toBe('e2e-two-images');
		expect(plan.resolved[0]).toMatchObject({image: 'train-old', os: 'busybox1.36', cuda: '12.1.1', python: '3.11.9', framework: {name: 'pytorch', version: '2.3.1'}, cudaArchList: '7.0;8.0+PTX', driverMin: '530.30.02', compat: 'native'});
		expect(plan.tiers.map(tier => [tier['tier'], tier['parent'] === null])).toEqual([['base', true], ['cuda', false], ['basic', false], ['framework', false], ['apps', false], ['framework', false], ['apps', false]]);
		expect(plan.tiers[1]!['env']).toEqual({CUDA_VERSION: '12.1.1', NVIDIA_VISIBLE_DEVICES: 'all', NVIDIA_DRIVER_CAPABILITIES: 'compute,utility', NVIDIA_REQUIRE_CUDA: 'cuda>=12.1'});
	});

	test('plan of every shipped recipe succeeds on the bundled catalogs', async () => {
		for (const recipe of await readdir('recipes')) {
			const result = runCli(['plan', path.join('recipes', recipe), '--json']);
			expect({recipe, code: result.code, stderr: result.stderr}).toEqual({recipe, code: 0, stderr: ''});
		}
	});

	test('--dry-run writes byte-identical files on every run and prints the bake command', async () => {
		const out = path.join(await temporary(), 'out');
		const first = runCli(['--non-interactive', 'test/fixtures/recipes/e2e-two-images.yaml', '--dry-run', '--out', out, ...e2eCatalog]);
		expect(first.code).toBe(0);
		expect(first.stdout).toBe(`cd ${out} && docker buildx bake -f docker-bake.json --push\n`);
		const bake = await readFile(path.join(out, 'docker-bake.json'), 'utf8');
		const again = runCli(['--non-interactive', 'test/fixtures/recipes/e2e-two-images.yaml', '--dry-run', '--out', out, ...e2eCatalog]);
		expect(again.code).toBe(0);
		expect(await readFile(path.join(out, 'docker-bake.json'), 'utf8')).toBe(bake);
		expect((await readdir(out)).sort()).toEqual((await readdir('test/golden/e2e-two-images')).sort());
	});

	test('bad input exits 2 with one positioned message, writes nothing and leaves an earlier output alone', async () => {
		const directory = await temporary();
		const out = path.join(directory, 'out');
		expect(runCli(['--non-interactive', 'test/fixtures/recipes/e2e-two-images.yaml', '--dry-run', '--out', out, ...e2eCatalog]).code).toBe(0);
		const before = await readFile(path.join(out, 'docker-bake.json'), 'utf8');
		const recipe = path.join(directory, 'bad.yaml');
		await writeFile(recipe, 'name: bad\ngpus: [A1000]\ncuda: 12.10\nimages:\n  - framework: pytorch\n');
		const result = runCli(['--non-interactive', recipe, '--dry-run', '--out', out, ...e2eCatalog]);
		expect(result.code).toBe(2);
		expect(result.stdout).toBe('');
		expect(result.stderr).toBe(`stackwiz: ${recipe}:3:7 cuda: expected a quoted string, got the number 12.1 (YAML reads 12.10 as 12.1); write it as "12.1"\nFix the recipe lines above (see README, "Recipe file").\n`);
		expect(await readFile(path.join(out, 'docker-bake.json'), 'utf8')).toBe(before);
		expect((await readdir(directory)).sort()).toEqual(['bad.yaml', 'out']);
	});

	test('an unknown GPU suggests the nearest names', async () => {
		const directory = await temporary();
		const recipe = path.join(directory, 'gpu.yaml');
		await writeFile(recipe, 'name: g\ngpus: [A10O]\nimages: [{framework: pytorch}]\n');
		const result = runCli(['plan', recipe, ...e2eCatalog]);
		expect(result.code).toBe(2);
		expect(result.stderr).toBe(`stackwiz: ${recipe}:2:8 gpus[0]: unknown GPU "A10O"; did you mean A100, V100? (list them with \`stackwiz gpus\`, or add it with --catalog)\nFix the recipe lines above; \`stackwiz gpus\` lists the known GPUs, and the README the recipe keys.\n`);
	});

	test('an unsatisfiable recipe explains why and exits 2', async () => {
		const directory = await temporary();
		const recipe = path.join(directory, 'old.yaml');
		await writeFile(recipe, 'name: old\ngpus: [A100]\ndriver: "450.80.02"\nimages: [{framework: pytorch@2.4}]\n');
		const result = runCli(['plan', recipe, ...e2eCatalog]);
		expect(result.code).toBe(2);
		expect(result.stderr).toContain('nothing fits.\nimage pytorch-2-4: no CUDA release fits pytorch@2.4 on A100: CUDA 12.4.1 needs driver >= 550.54.15 (525.60.13 with minor-version compatibility); nodes have 450.80.02');
	});

	test('a directory stackwiz did not write is never replaced', async () => {
		const directory = await temporary();
		await mkdir(path.join(directory, 'mine'));
		await writeFile(path.join(directory, 'mine', 'notes.txt'), 'keep me');
		const result = runCli(['--non-interactive', 'test/fixtures/recipes/e2e-two-images.yaml', '--dry-run', '--out', path.join(directory, 'mine'), ...e2eCatalog]);
		expect(result.code).toBe(2);
		expect(result.stderr).toBe(`stackwiz: ${path.join(directory, 'mine')} exists and was not written by stackwiz; refusing to replace it.\nChoose a new or empty directory with --out.\n`);
		expect(await readdir(path.join(directory, 'mine'))).toEqual(['notes.txt']);
	});

	test('usage errors exit 2; --help and --version exit 0', () => {
		expect(runCli(['frob'])).toMatchObject({code: 2, stderr: 'stackwiz: unknown command "frob".\nRun `stackwiz --help` for the commands.\n'});
		expect(runCli(['plan', '--frobnicate', 'x.yaml'])).toMatchObject({code: 2, stderr: 'stackwiz: unknown option --frobnicate.\nRun `stackwiz --help` for the commands and options.\n'});
		expect(runCli(['plan', 'x.yaml', '--out'])).toMatchObject({code: 2});
		expect(runCli(['--help']).stdout).toContain('Exit codes: 0 ok, 1 build failed, 2 bad input');
		expect(runCli(['--version']).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
	});
});
