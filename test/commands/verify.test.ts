import path from 'node:path';
import {afterEach, expect, test} from 'vitest';
import {run} from '../../source/cli.js';
import {captureIo, fakeHost, fixture, hostFixtures, type FakeHost} from '../services/host/fake-host.js';

const image = 'registry.example.com/ml/stackwiz/apps:demo1.0-pytorch2.4.1-0123abcd';
const catalogFlags = ['--no-bundled', '--catalog', path.join(hostFixtures, '../catalog-e2e'), '--catalog', path.join(hostFixtures, 'catalog')];

let host: FakeHost | undefined;
afterEach(async () => {
	await host?.cleanup();
	host = undefined;
});

async function verify(args: string[]) {
	const {out, io} = captureIo();
	const code = await run(['verify', ...catalogFlags, ...args], io);
	return {code, ...out};
}

test('GPU host (A100, driver 470.103.01): --gpus all runs nvidia-smi and the framework checks; forward compatibility lets CUDA 12.4 start', async () => {
	host = await fakeHost(['nvidia-smi', 'docker'], [fixture('nvidia-smi/a100-470-no-compute-cap'), fixture('verify/responses.json')]);
	const {code, stdout, stderr} = await verify([image]);
	expect(stderr).toBe(`checking ${image} with --gpus all\n`);
	expect(stdout.split('\n')).toEqual([
		`verify ${image} (GPU: NVIDIA A100-SXM4-80GB)`,
		`pass  image           ${image} (linux/amd64, sha256:3b1f0c6cb1e6)`,
		'pass  labels          cuda 12.4.1, cudnn 9.1.0.70, demo 1.0, nccl 2.21.5, python 3.11.9, pytorch 2.4.1, torchvision 0.19.1, ubuntu 22.04',
		'pass  requirements    NVIDIA_REQUIRE_CUDA=cuda>=12.4 brand=tesla,driver>=470,driver<471 brand=unkno...: NVIDIA_REQUIRE_CUDA satisfied by driver 470.103.01 (CUDA 11.4) on NVIDIA A100-SXM4-80GB (sm_80)',
		'pass  nvidia-env      NVIDIA_DRIVER_CAPABILITIES=compute,utility',
		'pass  nvidia-smi      nvidia-smi works inside: NVIDIA A100-SXM4-80GB, 470.103.01',
		'pass  python          Python 3.11.9',
		'pass  framework       torch 2.4.1+cu124 imports; a CPU matmul is right',
		'pass  cuda-available  torch sees 1 GPU: NVIDIA A100-SXM4-80GB (sm_80)',
		'pass  gpu-matmul      a 256x256 matmul on the GPU matches the CPU (relative error 2.3e-7)',
		'pass  arch-list       torch.cuda.get_arch_list() covers sm_80',
		'pass  versions        match the labels: cuda 12.4.1 (CUDA_VERSION), cuda 12.4 (torch.version.cuda), cudnn 9.1.0 (libcudnn.so.9.1.0), nccl 2.21.5 (libnccl.so.2.21.5), python 3.11.9, pytorch 2.4.1+cu124 (torch), torchvision 0.19.1+cu124, ubuntu 22.04 (/etc/os-release); not compared: demo (not a Python package or system library stackwiz can read)',
		'',
		'11 passed, 0 failed, 0 skipped',
		'',
	]);
	expect(code).toBe(0);
	const calls = await host.calls();
	expect(calls).toEqual(expect.arrayContaining([
		['docker', 'image', 'inspect', '--format', '{{json .}}', image],
		['docker', 'run', '--rm', '--network', 'none', '--gpus', 'all', '--entrypoint', 'nvidia-smi', image, '--query-gpu=name,driver_version', '--format=csv,noheader'],
		['docker', 'run', '--rm', '--network', 'none', '--entrypoint', 'cat', image, '/etc/os-release'],
	]));
	const python = calls.find(call => call.includes('python3'))!;
	expect(python.slice(0, 10)).toEqual(['docker', 'run', '--rm', '--network', 'none', '--gpus', 'all', '--entrypoint', 'python3', image]);
	expect(python.slice(11).slice(1)).toEqual(['["cuda","cudnn","demo","nccl","python","pytorch","torchvision","ubuntu"]', 'gpu']);
});

test('no GPU here: the CPU-side checks run, the GPU ones say they were skipped and why', async () => {
	host = await fakeHost(['docker'], [fixture('verify/responses.json')]);
	const {code, stdout, stderr} = await verify([image]);
	expect(stderr).toBe(`checking ${image} on the CPU (no GPU here (nvidia-smi is not on PATH))\n`);
	const lines = stdout.split('\n');
	expect(lines[0]).toBe(`verify ${image} (CPU only: no GPU here (nvidia-smi is not on PATH))`);
	expect(lines).toContain('skip  requirements    NVIDIA_REQUIRE_CUDA=cuda>=12.4 brand=tesla,driver>=470,driver<471 brand=unkno...: not evaluated: no NVIDIA driver on this host');
	expect(lines).toContain('skip  cuda-available  GPU check skipped: no GPU here (nvidia-smi is not on PATH)');
	expect(lines).toContain('pass  framework       torch 2.4.1+cu124 imports; a CPU matmul is right');
	expect(lines.at(-2)).toBe('6 passed, 0 failed, 4 skipped');
	expect(code).toBe(0);
	expect((await host.calls()).some(call => call.includes('--gpus'))).toBe(false);
});

test('--cpu on a GPU host skips the GPU checks but still evaluates NVIDIA_REQUIRE_CUDA against the driver', async () => {
	host = await fakeHost(['nvidia-smi', 'docker'], [fixture('nvidia-smi/rtx-4070-550'), fixture('verify/responses.json')]);
	const {code, stdout} = await verify([image, '--cpu', '--json']);
	const report = JSON.parse(stdout) as {mode: string; skipped: string; host: unknown; checks: Array<{name: string; status: string; detail: string}>};
	expect(report.mode).toBe('cpu');
	expect(report.skipped).toBe('--cpu was given');
	expect(report.host).toEqual({driver: '550.40.07', cuda: '12.4', gpus: [{name: 'NVIDIA GeForce RTX 4070', computeCapability: '8.9'}]});
	expect(report.checks.find(check => check.name === 'requirements')).toMatchObject({status: 'pass'});
	expect(report.checks.map(check => check.status)).not.toContain('fail');
	expect(code).toBe(0);
});

test('an image that is not here is pulled first', async () => {
	host = await fakeHost(['docker'], [fixture('verify/responses.json')]);
	const {stderr} = await verify(['local/missing:1']);
	expect(stderr.split('\n')[0]).toBe('pulling local/missing:1');
	expect((await host.calls()).slice(0, 3)).toEqual([
		['docker', 'image', 'inspect', '--format', '{{json .}}', 'local/missing:1'],
		['docker', 'pull', '--quiet', 'local/missing:1'],
		['docker', 'image', 'inspect', '--format', '{{json .}}', 'local/missing:1'],
	]);
});

test('an image that cannot be pulled is bad input (exit 2) with docker\'s reason', async () => {
	host = await fakeHost(['docker'], [fixture('verify/responses.json')]);
	const {code, stderr} = await verify(['local/nowhere:1']);
	expect(code).toBe(2);
	expect(stderr).toBe('pulling local/nowhere:1\nstackwiz: image local/nowhere:1 is not available: Error response from daemon: pull access denied for local/nowhere, repository does not exist or may require \'docker login\': denied: requested access to the resource is denied\nCheck the name and tag; build it (`docker buildx bake --load`) or pull it first.\n');
});

test('without docker verify cannot start (exit 2)', async () => {
	host = await fakeHost([], []);
	const {code, stderr} = await verify([image]);
	expect(code).toBe(2);
	expect(stderr).toBe('stackwiz: verify needs the docker CLI, which is not on PATH.\nInstall Docker Engine; `stackwiz doctor` lists what else is missing.\n');
});

test('verify needs exactly one image', async () => {
	const {out, io} = captureIo();
	expect(await run(['verify'], io)).toBe(2);
	expect(out.stderr).toBe('stackwiz: verify needs an image.\nRun `stackwiz verify IMAGE`, e.g. `stackwiz verify registry.example.com/ml/stackwiz/apps:TAG`.\n');
});

test('an image argument that would be a docker option is refused before docker runs', async () => {
	const {code, stdout, stderr} = await verify(['--', '-v=/:/host']);
	expect({code, stdout}).toEqual({code: 2, stdout: ''});
	expect(stderr).toBe('stackwiz: "-v=/:/host" is not an image reference.\nPass a reference like registry.example.com/ml/stackwiz/apps:TAG or an image id.\n');
});
