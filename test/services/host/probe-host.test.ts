import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {afterEach, describe, expect, test} from 'vitest';
import {detectHostFacts} from '../../../source/services/host/detect-host.js';
import {listCdiSpecs, probeGpuRows, probeGpus, probeHost, readRegistryLogins, smiLegacyQueryArgs, smiQueryArgs} from '../../../source/services/host/probe-host.js';
import {runProbe} from '../../../source/services/host/run-probe.js';
import {fakeHost, fixture, hostFixtures, type FakeHost} from './fake-host.js';

let host: FakeHost | undefined;
afterEach(async () => {
	await host?.cleanup();
	host = undefined;
});

const gpuTools = ['nvidia-smi', 'nvidia-container-cli', 'nvidia-ctk', 'docker'];

describe('probeGpus', () => {
	test('an R470 driver: the compute_cap query fails, the legacy query answers, then -q, -L and the toolkit', async () => {
		host = await fakeHost(gpuTools, [fixture('nvidia-smi/a100-470-no-compute-cap'), fixture('toolkit/responses-current.json')]);
		const probes = await probeGpus();
		expect(probes.smiQuery).toMatchObject({status: 'failed', exitCode: 2});
		expect(probes.smiLegacyQuery).toMatchObject({status: 'ok', stdout: 'NVIDIA A100-SXM4-80GB, 470.103.01, 81920 MiB'});
		expect(probes.smiDetails?.status).toBe('ok');
		const calls = await host.calls();
		const order = (call: string[]) => calls.findIndex(entry => JSON.stringify(entry) === JSON.stringify(call));
		expect(calls).toEqual(expect.arrayContaining([
			['nvidia-smi', ...smiQueryArgs],
			['nvidia-container-cli', '--version'],
			['nvidia-smi', ...smiLegacyQueryArgs],
			['nvidia-smi', '-q'],
			['nvidia-smi', '-L'],
			['nvidia-container-cli', 'info'],
		]));
		expect(order(['nvidia-smi', ...smiQueryArgs])).toBeLessThan(order(['nvidia-smi', ...smiLegacyQueryArgs]));
		expect(order(['nvidia-smi', ...smiLegacyQueryArgs])).toBeLessThan(order(['nvidia-smi', '-q']));
		expect(calls).toHaveLength(6);
	});

	test('no nvidia-smi on PATH: one probe, status missing, nothing else asked', async () => {
		host = await fakeHost([], []);
		expect(await probeGpuRows()).toEqual({smiQuery: {status: 'missing', stdout: '', stderr: ''}});
	});

	test('a hung nvidia-smi is cut off at the time limit', async () => {
		const directory = await mkdtemp(path.join(os.tmpdir(), 'stackwiz-hung-'));
		const responses = path.join(directory, 'responses.json');
		await writeFile(responses, JSON.stringify({commands: {'nvidia-smi *': {stdoutText: 'late\n', delayMs: 30_000}}}));
		host = await fakeHost(['nvidia-smi'], [responses]);
		const started = Date.now();
		expect(await runProbe('nvidia-smi', smiQueryArgs, {timeoutMs: 500})).toMatchObject({status: 'timeout'});
		expect(Date.now() - started).toBeLessThan(10_000);
		await rm(directory, {recursive: true, force: true});
	});
});

describe('detectHostFacts (recipes with gpus: [auto] and driver: auto)', () => {
	test.each([
		['a100-mig-530', {gpuNames: ['NVIDIA A100 80GB PCIe'], driver: '530.30.02'}],
		['rtx-a400-a4000-580', {gpuNames: ['NVIDIA RTX A400', 'NVIDIA RTX A4000'], driver: '580.95.05'}],
		['a100-470-no-compute-cap', {gpuNames: ['NVIDIA A100-SXM4-80GB'], driver: '470.103.01'}],
		['no-gpu', {gpuNames: []}],
		['driver-not-loaded', {gpuNames: []}],
	])('%s', async (scenario, facts) => {
		host = await fakeHost(['nvidia-smi'], [fixture(`nvidia-smi/${scenario}`)]);
		expect(await detectHostFacts()).toEqual(facts);
	});

	test('without nvidia-smi: no GPU, no driver', async () => {
		host = await fakeHost([], []);
		expect(await detectHostFacts()).toEqual({gpuNames: []});
	});
});

describe('files doctor reads', () => {
	test('registry logins: the registries only, never the credentials', async () => {
		const logins = await readRegistryLogins(path.join(hostFixtures, 'docker-config/logged-in'));
		expect(logins).toEqual({
			file: path.join(hostFixtures, 'docker-config/logged-in/config.json'),
			registries: ['123456789012.dkr.ecr.us-east-1.amazonaws.com', '127.0.0.1:5000', 'ghcr.io'],
			credsStore: 'pass',
		});
		expect(JSON.stringify(logins)).not.toContain('ZmFrZS');
	});

	test('no config file is no login; a broken one says so', async () => {
		const directory = await mkdtemp(path.join(os.tmpdir(), 'stackwiz-docker-config-'));
		expect(await readRegistryLogins(directory)).toEqual({file: path.join(directory, 'config.json'), registries: []});
		await writeFile(path.join(directory, 'config.json'), '{"auths": ');
		expect(await readRegistryLogins(directory)).toEqual({file: path.join(directory, 'config.json'), registries: [], error: 'not valid JSON'});
		await rm(directory, {recursive: true, force: true});
	});

	test('CDI specs: *.json and *.yaml per directory, a missing directory is empty', async () => {
		expect(await listCdiSpecs([path.join(hostFixtures, 'cdi/etc'), path.join(hostFixtures, 'cdi/run'), path.join(hostFixtures, 'cdi/none')])).toEqual([
			{directory: path.join(hostFixtures, 'cdi/etc'), files: [path.join(hostFixtures, 'cdi/etc/nvidia.yaml')]},
			{directory: path.join(hostFixtures, 'cdi/run'), files: []},
			{directory: path.join(hostFixtures, 'cdi/none'), files: []},
		]);
	});
});

test('probeHost reads the CDI directories the daemon reports', async () => {
	host = await fakeHost(gpuTools, [fixture('nvidia-smi/a100-mig-530'), fixture('docker/responses-nvidia.json'), fixture('toolkit/responses-current.json')]);
	const probes = await probeHost({dockerConfigDirectory: path.join(hostFixtures, 'docker-config/logged-in')});
	expect(probes.cdi).toEqual([
		{directory: path.join(hostFixtures, 'cdi/etc'), files: [path.join(hostFixtures, 'cdi/etc/nvidia.yaml')]},
		{directory: path.join(hostFixtures, 'cdi/run'), files: []},
	]);
	expect(probes.registry?.registries).toHaveLength(3);
	expect(probes.buildxList?.status).toBe('ok');
	const calls = await host.calls();
	expect(calls).toEqual(expect.arrayContaining([['docker', 'info', '--format', '{{json .}}'], ['docker', 'buildx', 'version'], ['docker', 'buildx', 'ls'], ['nvidia-ctk', '--version']]));
});
