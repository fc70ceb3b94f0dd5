import {spawnSync} from 'node:child_process';
import {readFile} from 'node:fs/promises';
import path from 'node:path';
import {afterAll, beforeAll, describe, expect, test} from 'vitest';
import {catalogCopy, cleanUp, docker, recipeCopy, requireEngine, stackwiz, temporaryDirectory, uniqueRun} from './engine.js';

/**
 * `stackwiz verify` on the real engine, CPU path: the test catalog's busybox tiers carry stackwiz's labels
 * and NVIDIA environment but no python3, so the framework checks must fail with that reason, not crash.
 * `--cpu` keeps the run the same on hosts with and without GPUs.
 */
const {runId, registry} = uniqueRun('verify');
let directory: string;
let images: Record<string, string>;

beforeAll(async () => {
	await requireEngine();
	directory = await temporaryDirectory('verify');
	const catalog = await catalogCopy(directory, runId);
	const recipe = await recipeCopy(directory, registry, 'verify');
	const out = path.join(directory, 'out');
	const written = await stackwiz(['--non-interactive', recipe, '--catalog', catalog, '--no-bundled', '--dry-run', '--out', out]);
	expect(written.code).toBe(0);
	const bake = spawnSync('docker', ['buildx', 'bake', '-f', 'docker-bake.json', '--load'], {cwd: out, encoding: 'utf8', timeout: 170_000});
	expect(bake.status, bake.stderr).toBe(0);
	const plan = JSON.parse(await readFile(path.join(out, 'stackwiz-plan.json'), 'utf8')) as {resolved: Array<{image: string; tag: string}>};
	images = Object.fromEntries(plan.resolved.map(entry => [entry.image, entry.tag]));
});

afterAll(async () => {
	await cleanUp(registry);
});

describe.sequential('verify on the local engine', () => {
	test('a stackwiz image without python3: labels and env read, framework checks fail with the reason, GPU checks skipped', async () => {
		const image = images['train-new']!;
		expect(docker(['image', 'inspect', image]).code).toBe(0);
		const run = await stackwiz(['verify', image, '--cpu']);
		expect(run.stderr).toBe(`checking ${image} on the CPU (--cpu was given)\n`);
		const lines = run.stdout.split('\n');
		expect(lines[0]).toBe(`verify ${image} (CPU only: --cpu was given)`);
		expect(lines[1]).toMatch(new RegExp(`^pass  image           ${image.replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(linux/amd64, sha256:[0-9a-f]{12}\\)$`));
		expect(lines).toContain('pass  labels          busybox 1.36, cuda 12.1.1, demo 1.0, nccl 2.17.1, python 3.11.9, pytorch 2.4.1');
		expect(lines.some(line => /^(pass|skip|fail) {2}requirements {4}NVIDIA_REQUIRE_CUDA=cuda>=12\.1: /.test(line))).toBe(true);
		expect(lines).toContain('pass  nvidia-env      NVIDIA_DRIVER_CAPABILITIES=compute,utility');
		expect(lines).toContain('fail  python          python3 is not in the image (exec: "python3": executable file not found in $PATH), though its labels say Python 3.11.9');
		expect(lines).toContain('fail  framework       cannot import PyTorch 2.4.1: no python3 in the image');
		for (const name of ['cuda-available', 'gpu-matmul', 'arch-list']) {
			expect(lines).toContain(`skip  ${name.padEnd(14)}  GPU check skipped: --cpu was given`);
		}

		expect(lines).toContain('pass  versions        match the labels: cuda 12.1.1 (CUDA_VERSION); not compared: busybox, demo, nccl, python, pytorch (no python3 in the image)');
		expect(lines.at(-2)).toMatch(/^\d passed, 2 failed, [34] skipped$/);
		expect(run.code).toBe(1);
	});

	test('--json carries the same checks', async () => {
		const run = await stackwiz(['verify', images['train-old']!, '--cpu', '--json']);
		expect(run.code).toBe(1);
		const report = JSON.parse(run.stdout) as {image: string; mode: string; skipped: string; checks: Array<{name: string; status: string}>};
		expect(report).toMatchObject({image: images['train-old'], mode: 'cpu', skipped: '--cpu was given'});
		expect(Object.fromEntries(report.checks.map(check => [check.name, check.status]))).toMatchObject({
			image: 'pass',
			labels: 'pass',
			'nvidia-env': 'pass',
			python: 'fail',
			framework: 'fail',
			'cuda-available': 'skip',
			'gpu-matmul': 'skip',
			'arch-list': 'skip',
			versions: 'pass',
		});
	});

	test('an image stackwiz did not build: nothing to compare, nothing claimed, exit 0', async () => {
		const run = await stackwiz(['verify', 'local/busybox:stable', '--cpu']);
		const lines = run.stdout.split('\n').map(line => line.replaceAll(/ {2,}/g, '  '));
		expect(lines).toContain('skip  labels  no io.stackwiz.version.* labels: not built by stackwiz, so there are no tier versions to compare');
		expect(lines).toContain('pass  requirements  the image sets no NVIDIA_REQUIRE_* and no CUDA_VERSION: nothing for the toolkit to check');
		expect(lines).toContain('pass  nvidia-env  NVIDIA_DRIVER_CAPABILITIES unset: the toolkit mounts its default, utility,compute');
		expect(lines).toContain('skip  python  no python3 in the image and no Python label: nothing to run the framework checks with');
		expect(lines).toContain('skip  framework  no framework label (io.stackwiz.version.pytorch): nothing to import');
		expect(lines).toContain('skip  versions  no tier labels to compare with');
		expect(run.code).toBe(0);
	});

	test('an image neither here nor in the registry: exit 2 with the registry\'s answer', async () => {
		const image = `${registry}/stackwiz/missing:1`;
		const run = await stackwiz(['verify', image]);
		expect(run.code).toBe(2);
		expect(run.stderr.split('\n')[0]).toBe(`pulling ${image}`);
		expect(run.stderr.split('\n')[1]).toMatch(new RegExp(`^stackwiz: image ${image.replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not available: .*(manifest unknown|not found)`));
	});
});
