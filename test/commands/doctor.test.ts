import path from 'node:path';
import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import os from 'node:os';
import {afterEach, expect, test, vi} from 'vitest';
import {run} from '../../source/cli.js';
import {captureIo, fakeHost, fixture, hostFixtures, withoutFixturePath, type FakeHost} from '../services/host/fake-host.js';

const catalogFlags = ['--no-bundled', '--catalog', path.join(hostFixtures, '../catalog-e2e'), '--catalog', path.join(hostFixtures, 'catalog')];
const allTools = ['nvidia-smi', 'nvidia-container-cli', 'nvidia-ctk', 'docker'];

let host: FakeHost | undefined;
afterEach(async () => {
	await host?.cleanup();
	host = undefined;
});

async function doctor(args: string[] = []) {
	const {out, io} = captureIo();
	const code = await run(['doctor', ...catalogFlags, ...args], io);
	return {code, stdout: withoutFixturePath(out.stdout), stderr: out.stderr};
}

test('a MIG-partitioned A100 with the toolkit and the nvidia runtime: one line per check, exit 0', async () => {
	host = await fakeHost(allTools, [fixture('nvidia-smi/a100-mig-530'), fixture('docker/responses-nvidia.json'), fixture('toolkit/responses-current.json')], {DOCKER_CONFIG: path.join(hostFixtures, 'docker-config/logged-in')});
	const {code, stdout} = await doctor();
	expect(code).toBe(0);
	expect(stdout).toBe([
		'ok    nvidia-smi                driver 530.30.02',
		'ok    gpus                      1 GPU: NVIDIA A100 80GB PCIe (sm_80, 81920 MiB, brand Nvidia, MIG: 2 x 3g.40gb)',
		'ok    gpu-catalog               every GPU is in the catalog: a100',
		'ok    cuda                      driver 530.30.02 reports no CUDA version (nvidia-smi -q failed); runs CUDA 12.1 natively; 12.2, 12.4, 12.8 through minor-version compatibility (no PTX JIT: every GPU needs SASS in the image)',
		'ok    nvidia-container-toolkit  nvidia-container-cli 1.14.3, nvidia-ctk 1.12.0',
		'ok    docker                    Docker Engine 26.1.5+dfsg1 answers',
		'ok    nvidia-runtime            runtimes io.containerd.runc.v2, nvidia, runc; default nvidia (every container goes through the NVIDIA hook)',
		'ok    cdi                       CDI specs: <fixtures>/cdi/etc/nvidia.yaml',
		'ok    buildx                    buildx 0.13.1+ds1; builders: default* (docker, running)',
		'ok    registry-login            logged in to 123456789012.dkr.ecr.us-east-1.amazonaws.com, 127.0.0.1:5000, ghcr.io (stored by docker-credential-pass)',
		'',
		'all 10 checks passed',
		'',
	].join('\n'));
	expect(stdout).not.toContain('ZmFrZS');
});

test('--json: gpus, driver, cudaNative, runtimes, toolkit, buildx and checks', async () => {
	host = await fakeHost(allTools, [fixture('nvidia-smi/rtx-a400-a4000-580'), fixture('docker/responses-runc.json'), fixture('toolkit/responses-current.json')]);
	const {code, stdout} = await doctor(['--json']);
	expect(code).toBe(0);
	const report = JSON.parse(stdout) as Record<string, unknown>;
	expect(report['gpus']).toEqual([
		{name: 'NVIDIA RTX A400', computeCapability: '8.6', memoryMiB: 4094},
		{name: 'NVIDIA RTX A4000', computeCapability: '8.6', memoryMiB: 16376},
	]);
	expect([report['driver'], report['cudaNative'], report['cudaDriver']]).toEqual(['580.95.05', '13.0', '13.0']);
	expect(report['runtimes']).toEqual({available: ['io.containerd.runc.v2', 'runc'], default: 'runc', nvidia: false});
	expect(report['toolkit']).toMatchObject({containerCli: '1.14.3', ctk: '1.12.0'});
	expect(report['buildx']).toEqual({version: '0.13.1+ds1', builders: [{name: 'default', driver: 'docker', status: 'running', current: true}]});
	// This daemon reports no CDI directories, so the cdi check reads the real /etc/cdi and /var/run/cdi: left out.
	expect((report['checks'] as Array<{name: string; ok: boolean}>).filter(check => !check.ok && check.name !== 'cdi').map(check => check.name)).toEqual(['gpu-catalog', 'nvidia-runtime', 'registry-login']);
});

test('no nvidia-smi, no toolkit, no docker: every missing piece is a finding and doctor still exits 0', async () => {
	host = await fakeHost([], []);
	const {code, stdout} = await doctor();
	expect(code).toBe(0);
	const lines = stdout.split('\n');
	expect(lines).toContain('FAIL  nvidia-smi                nvidia-smi is not on PATH: no NVIDIA driver is installed here (or it is not on PATH)');
	expect(lines).toContain('ok    nvidia-container-toolkit  not installed; only a host with an NVIDIA driver needs it');
	expect(lines).toContain('FAIL  docker                    the docker CLI is not on PATH');
	expect(lines).toContain('FAIL  buildx                    no docker CLI, so no buildx');
	expect(lines.at(-2)).toMatch(/^\d checks of \d+ failed$/);
});

test('nvidia-smi that cannot reach the driver, and a daemon that does not answer', async () => {
	host = await fakeHost(allTools, [fixture('nvidia-smi/driver-not-loaded'), fixture('docker/responses-unreachable.json'), fixture('toolkit/responses-current.json')]);
	const {code, stdout} = await doctor();
	expect(code).toBe(0);
	const lines = stdout.split('\n');
	expect(lines).toContain('FAIL  nvidia-smi                nvidia-smi failed (exit 9): NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.');
	expect(lines).toContain('                                fix: The NVIDIA kernel module is not loaded: `sudo modprobe nvidia`; after a kernel update rebuild it (`sudo dkms autoinstall`) or reinstall the driver, then reboot.');
	expect(lines).toContain('FAIL  docker                    the docker CLI cannot reach the daemon: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?');
});

test('a broken catalog is a finding, not a crash', async () => {
	host = await fakeHost(['nvidia-smi'], [fixture('nvidia-smi/a100-mig-530')]);
	const {out, io} = captureIo();
	const code = await run(['doctor', '--no-bundled', '--catalog', path.join(hostFixtures, 'cdi/etc')], io);
	expect(code).toBe(0);
	expect(out.stdout).toMatch(/^FAIL {2}catalog +the catalogs did not load, so GPU names and CUDA releases are not looked up: /m);
	expect(out.stdout).toContain('ok    gpus                      1 GPU: NVIDIA A100 80GB PCIe (sm_80, 81920 MiB, MIG: 2 x 3g.40gb)');
});

test('doctor takes no positional arguments', async () => {
	const {out, io} = captureIo();
	expect(await run(['doctor', 'extra'], io)).toBe(2);
	expect(out.stderr).toBe('stackwiz: doctor takes no arguments, got "extra".\nRun `stackwiz doctor` or `stackwiz doctor --json`.\n');
});

test('Ctrl-C while nvidia-smi hangs: the probe is killed and doctor returns 130 without a report', async () => {
	const directory = await mkdtemp(path.join(os.tmpdir(), 'stackwiz-hung-'));
	const responses = path.join(directory, 'responses.json');
	await writeFile(responses, JSON.stringify({commands: {'nvidia-smi *': {stdoutText: 'late\n', delayMs: 60_000}}}));
	host = await fakeHost(['nvidia-smi'], [responses]);
	const controller = new AbortController();
	const {out, io} = captureIo();
	const started = Date.now();
	const running = run(['doctor', ...catalogFlags], io, controller.signal);
	await vi.waitFor(async () => {
		expect((await host!.calls()).length).toBeGreaterThan(0);
	}, {timeout: 10_000});
	controller.abort(new Error('received SIGINT'));
	expect(await running).toBe(130);
	expect(Date.now() - started).toBeLessThan(30_000);
	expect(out.stdout).toBe('');
	await rm(directory, {recursive: true, force: true});
});
