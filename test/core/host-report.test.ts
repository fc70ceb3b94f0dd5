import {readFile} from 'node:fs/promises';
import path from 'node:path';
import {beforeAll, describe, expect, test} from 'vitest';
import type {Catalog} from '../../source/core/catalog.js';
import {
	archCoverage,
	archListCoverage,
	buildHostReport,
	buildVerifyReport,
	computeCapUnsupported,
	formatHostReport,
	hostReportJson,
	labelVersions,
	parseBuildxList,
	parseBuildxVersion,
	parseContainerCliInfo,
	parseContainerCliVersion,
	parseCtkVersion,
	parseDockerInfo,
	parseImageInspect,
	parseSmiCsv,
	parseSmiDetails,
	parseSmiList,
	parseVerifyOutput,
	requireHostOf,
	toolkitBrand,
	versionList,
	type HostProbes,
	type ProbeOutput,
	type VerifyInput,
} from '../../source/core/host-report.js';
import {checkImageStart} from '../../source/core/require-cuda.js';
import {loadCatalog} from '../../source/services/catalog-loader.js';
import {fixture, hostFixtures, recordedProbe} from '../services/host/fake-host.js';

const smiQuery = 'nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total --format=csv,noheader';
const smiLegacyQuery = 'nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader';
const text = async (name: string) => readFile(path.join(hostFixtures, name), 'utf8');
const missing: ProbeOutput = {status: 'missing', stdout: '', stderr: ''};

let catalog: Catalog;
beforeAll(async () => {
	catalog = await loadCatalog([path.join(hostFixtures, 'catalog')], path.join(hostFixtures, '../catalog-e2e'));
});

/** The probes doctor would collect on a host answering from these responses files. */
async function probesFrom(gpu: string, docker = 'docker/responses-nvidia.json', toolkit = 'toolkit/responses-current.json'): Promise<HostProbes> {
	const smi = fixture(`nvidia-smi/${gpu}`);
	const query = await recordedProbe(smi, smiQuery);
	return {
		smiQuery: query,
		...(computeCapUnsupported(query) ? {smiLegacyQuery: await recordedProbe(smi, smiLegacyQuery)} : {}),
		smiDetails: await recordedProbe(smi, 'nvidia-smi -q'),
		smiList: await recordedProbe(smi, 'nvidia-smi -L'),
		containerCliVersion: await recordedProbe(fixture(toolkit), 'nvidia-container-cli --version'),
		ctkVersion: await recordedProbe(fixture(toolkit), 'nvidia-ctk --version'),
		dockerInfo: await recordedProbe(fixture(docker), 'docker info --format {{json .}}'),
		buildxVersion: await recordedProbe(fixture(docker), 'docker buildx version'),
		buildxList: await recordedProbe(fixture(docker), 'docker buildx ls'),
		cdi: [{directory: '/etc/cdi', files: ['/etc/cdi/nvidia.yaml']}, {directory: '/var/run/cdi', files: []}],
		registry: {file: '/home/user/.docker/config.json', registries: ['127.0.0.1:5000', 'ghcr.io'], credsStore: 'pass'},
	};
}

const check = (report: {checks: Array<{name: string}>}, name: string) => report.checks.find(entry => entry.name === name);

describe('parsing recorded outputs', () => {
	test('--query-gpu CSV rows, with and without compute_cap', async () => {
		expect(parseSmiCsv(await text('nvidia-smi/rtx-a400-a4000-580/query.csv'), true)).toEqual([
			{name: 'NVIDIA RTX A400', computeCapability: '8.6', driver: '580.95.05', memoryMiB: 4094},
			{name: 'NVIDIA RTX A4000', computeCapability: '8.6', driver: '580.95.05', memoryMiB: 16376},
		]);
		expect(parseSmiCsv(await text('nvidia-smi/a100-470-no-compute-cap/query-legacy.csv'), false)).toEqual([
			{name: 'NVIDIA A100-SXM4-80GB', computeCapability: null, driver: '470.103.01', memoryMiB: 81920},
		]);
		expect(parseSmiCsv('NVIDIA A100-SXM4-80GB, [N/A], 535.104.05, [N/A]\n', true)).toEqual([
			{name: 'NVIDIA A100-SXM4-80GB', computeCapability: null, driver: '535.104.05', memoryMiB: null},
		]);
	});

	test('an R470 nvidia-smi rejects compute_cap', async () => {
		expect(computeCapUnsupported(await recordedProbe(fixture('nvidia-smi/a100-470-no-compute-cap'), smiQuery))).toBe(true);
		expect(computeCapUnsupported(await recordedProbe(fixture('nvidia-smi/driver-not-loaded'), smiQuery))).toBe(false);
	});

	test('nvidia-smi -q: driver, CUDA version, brand and MIG mode per GPU', async () => {
		expect(parseSmiDetails(await text('nvidia-smi/a100-470-no-compute-cap/q.txt'))).toEqual({
			driver: '470.103.01',
			cuda: '11.4',
			gpus: [{name: 'NVIDIA A100-SXM4-80GB', brand: 'NVIDIA', migCurrent: 'Disabled'}],
		});
	});

	test('nvidia-smi -L: MIG devices under their GPU', async () => {
		expect(parseSmiList(await text('nvidia-smi/a100-mig-530/list.txt'))).toEqual([{index: 0, name: 'NVIDIA A100 80GB PCIe', mig: ['3g.40gb', '3g.40gb']}]);
	});

	test('nvidia-container-cli info (as pasted in NVIDIA/nvidia-docker#904)', () => {
		const info = 'NVRM version:   390.87\nCUDA version:   9.1\n\nDevice Index:   0\nDevice Minor:   0\nModel:          GeForce GTX 1080 with Max-Q Design\nBrand:          GeForce\nGPU UUID:       GPU-e572b8ee-523e-f7be-a359-33149791a02a\nBus Location:   00000000:01:00.0\nArchitecture:   6.1\n';
		expect(parseContainerCliInfo(info)).toEqual({driver: '390.87', cuda: '9.1', devices: [{index: 0, model: 'GeForce GTX 1080 with Max-Q Design', brand: 'GeForce', arch: '6.1'}]});
	});

	test('toolkit, ctk and buildx versions in their old and new formats', async () => {
		expect(parseContainerCliVersion(await text('toolkit/container-cli-1.14.3.txt'))).toBe('1.14.3');
		expect(parseContainerCliVersion(await text('toolkit/container-cli-1.0.7.txt'))).toBe('1.0.7');
		expect(parseCtkVersion(await text('toolkit/ctk-1.12.0.txt'))).toBe('1.12.0');
		expect(parseBuildxVersion(await text('docker/buildx-version.txt'))).toBe('0.13.1+ds1');
		expect(parseBuildxVersion('github.com/docker/buildx v0.12.1 30feaa1\n')).toBe('0.12.1');
	});

	test('docker buildx ls: the 0.13 tree layout and the older one (docker/buildx#2055)', async () => {
		expect(parseBuildxList(await text('docker/buildx-ls.txt'))).toEqual([{name: 'default', driver: 'docker', status: 'running', current: true}]);
		const older = 'NAME/NODE       DRIVER/ENDPOINT      STATUS  BUILDKIT             PLATFORMS\ndev             remote\n  dev0          tcp://localhost:1234 running v0.0.0+unknown       linux/arm64\ndesktop-linux * docker\n  desktop-linux desktop-linux        running v0.11.6+0a15675913b7 linux/arm64\n';
		expect(parseBuildxList(older)).toEqual([
			{name: 'dev', driver: 'remote', status: 'running', current: false},
			{name: 'desktop-linux', driver: 'docker', status: 'running', current: true},
		]);
	});

	test('docker info JSON: runtimes, default runtime, CDI directories', async () => {
		expect(parseDockerInfo(await text('docker/info-runc.json'))).toEqual({serverVersion: '26.1.5+dfsg1', runtimes: ['io.containerd.runc.v2', 'runc'], defaultRuntime: 'runc', cdiSpecDirs: []});
		expect(parseDockerInfo(await text('docker/info-unreachable.json'))).toEqual({runtimes: [], cdiSpecDirs: []});
		expect(parseDockerInfo('not json')).toBeUndefined();
	});

	test('nvidia-smi -q brands in libnvidia-container\'s names; before toolkit 1.9.0 newer brands are Unknown', () => {
		expect(toolkitBrand('NVIDIA')).toBe('Nvidia');
		expect(toolkitBrand('NVIDIA RTX')).toBe('NvidiaRTX');
		expect(toolkitBrand('Titan')).toBe('TITAN');
		expect(toolkitBrand('NVIDIA RTX Virtual Workstation')).toBe('VWS');
		expect(toolkitBrand('NVIDIA', '1.3.0')).toBe('Unknown');
		expect(toolkitBrand('Tesla', '1.3.0')).toBe('Tesla');
		expect(toolkitBrand('Something New')).toBeUndefined();
	});

	test('versionList shortens runs of minors', () => {
		expect(versionList(['12.0', '12.1', '12.2', '12.4', '12.5', '13.0'])).toBe('12.0-12.2, 12.4, 12.5, 13.0');
	});
});

describe('buildHostReport', () => {
	test('an A100 on R470 without compute_cap: capability from the catalog, brand from -q, forward compatibility to 12.x', async () => {
		const report = buildHostReport(await probesFrom('a100-470-no-compute-cap'), catalog);
		expect(report.gpus).toEqual([{
			index: 0,
			name: 'NVIDIA A100-SXM4-80GB',
			computeCapability: '8.0',
			capabilitySource: 'catalog',
			memoryMiB: 81920,
			brand: 'Nvidia',
			brandSource: 'nvidia-smi',
			catalogId: 'a100',
			mig: {enabled: false, devices: []},
		}]);
		expect([report.driver, report.cudaDriver, report.cudaNative, report.cudaMinorVersion, report.cudaForward]).toEqual(['470.103.01', '11.4', '11.4', ['11.8'], ['12.1', '12.2', '12.4', '12.8']]);
		expect(check(report, 'nvidia-smi')).toEqual({name: 'nvidia-smi', ok: true, detail: 'driver 470.103.01 (no compute_cap field before R510: capabilities come from the catalog)', fix: null});
		expect(check(report, 'cuda')).toEqual({
			name: 'cuda',
			ok: true,
			detail: 'driver 470.103.01 reports CUDA 11.4; runs CUDA 11.4 natively; 11.8 through minor-version compatibility (no PTX JIT: every GPU needs SASS in the image); 12.1, 12.2, 12.4, 12.8 through forward compatibility (cuda-compat in the image, data-center GPUs)',
			fix: null,
		});
	});

	test('the same GPU with libnvidia-container 1.0.7 reports brand Unknown, and the toolkit check says why that matters', async () => {
		const report = buildHostReport(await probesFrom('a100-470-no-compute-cap', 'docker/responses-nvidia.json', 'toolkit/responses-old.json'), catalog);
		expect(report.gpus[0]!.brand).toBe('Unknown');
		expect(check(report, 'nvidia-container-toolkit')).toEqual({
			name: 'nvidia-container-toolkit',
			ok: false,
			detail: 'nvidia-container-cli 1.0.7, no nvidia-ctk: libnvidia-container before 1.9.0 reports the brand of newer GPUs (NVIDIA, NVIDIA RTX, ...) as Unknown to NVIDIA_REQUIRE_CUDA',
			fix: 'Upgrade the toolkit: `sudo apt-get install -y nvidia-container-toolkit`.',
		});
	});

	test('a MIG-partitioned A100: MIG devices listed, CUDA version from the catalog when -q has none', async () => {
		const report = buildHostReport(await probesFrom('a100-mig-530'), catalog);
		expect(check(report, 'gpus')?.['detail' as never]).toBe('1 GPU: NVIDIA A100 80GB PCIe (sm_80, 81920 MiB, brand Nvidia, MIG: 2 x 3g.40gb)');
		expect(report.gpus[0]!.mig).toEqual({enabled: true, devices: ['3g.40gb', '3g.40gb']});
		expect([report.cudaDriver, report.cudaNative]).toEqual([null, '12.1']);
		expect(requireHostOf(report)).toEqual({driver: '530.30.02', cuda: '12.1', devices: [{name: 'NVIDIA A100 80GB PCIe', arch: '8.0', brand: 'Nvidia'}]});
	});

	test('two GPU models, one unknown to the catalog', async () => {
		const report = buildHostReport(await probesFrom('rtx-a400-a4000-580'), catalog);
		expect(check(report, 'gpus')).toEqual({name: 'gpus', ok: true, detail: '2 GPUs: NVIDIA RTX A400 (sm_86, 4094 MiB); NVIDIA RTX A4000 (sm_86, 16376 MiB, brand NvidiaRTX)', fix: null});
		expect(check(report, 'gpu-catalog')).toEqual({
			name: 'gpu-catalog',
			ok: false,
			detail: 'NVIDIA RTX A400 is not in the catalog (compute capability 8.6 from nvidia-smi)',
			fix: 'Add it to catalogs/gpus.yaml (id, compute_capability, brand, nvidia_smi_names: ["NVIDIA RTX A400"]) or pass --catalog DIR with such a gpus.yaml; recipes cannot name it until then.',
		});
		expect([report.cudaDriver, report.cudaNative]).toEqual(['13.0', '13.0']);
	});

	test.each([
		['no-gpu', 'nvidia-smi failed (exit 255): Failed to initialize NVML: No supported GPUs were found', 'The driver sees no GPU: check `lspci | grep -i nvidia`; the GPU may be bound to another driver (nouveau, vfio-pci) or be too new or too old for this driver branch.'],
		['driver-not-loaded', 'nvidia-smi failed (exit 9): NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.', 'The NVIDIA kernel module is not loaded: `sudo modprobe nvidia`; after a kernel update rebuild it (`sudo dkms autoinstall`) or reinstall the driver, then reboot.'],
		['driver-mismatch', 'nvidia-smi failed (exit 18): Failed to initialize NVML: Driver/library version mismatch', 'The driver was upgraded but the old kernel module is still loaded: reboot (or unload and reload the nvidia kernel modules).'],
	])('nvidia-smi failing (%s) is a finding with its fix', async (scenario, detail, fix) => {
		const report = buildHostReport(await probesFrom(scenario), catalog);
		expect(check(report, 'nvidia-smi')).toEqual({name: 'nvidia-smi', ok: false, detail, fix});
		expect(report.gpus).toEqual([]);
		expect(check(report, 'gpus')).toBeUndefined();
	});

	test('a host with neither nvidia-smi nor Docker: findings, no crash', () => {
		const report = buildHostReport({smiQuery: missing, containerCliVersion: missing, ctkVersion: missing, dockerInfo: missing, buildxVersion: missing, cdi: [], registry: {file: '/home/user/.docker/config.json', registries: []}}, catalog);
		expect(report.checks.map(entry => [entry.name, entry.ok])).toEqual([
			['nvidia-smi', false],
			['nvidia-container-toolkit', true],
			['docker', false],
			['cdi', true],
			['buildx', false],
			['registry-login', false],
		]);
		expect(check(report, 'docker')).toEqual({name: 'docker', ok: false, detail: 'the docker CLI is not on PATH', fix: 'Install Docker Engine (https://docs.docker.com/engine/install/); stackwiz needs the docker CLI, a running daemon and the buildx plugin.'});
		expect(report.driverProblem).toBe('nvidia-smi is not on PATH');
	});

	test('a daemon that does not answer', async () => {
		const report = buildHostReport(await probesFrom('a100-mig-530', 'docker/responses-unreachable.json'), catalog);
		expect(check(report, 'docker')).toEqual({
			name: 'docker',
			ok: false,
			detail: 'the docker CLI cannot reach the daemon: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?',
			fix: 'Start the daemon (`sudo systemctl start docker`) or point DOCKER_HOST / `docker context use` at a running one.',
		});
		expect(report.runtimes).toBeNull();
	});

	test('a GPU host whose daemon lacks the nvidia runtime', async () => {
		const report = buildHostReport(await probesFrom('a100-mig-530', 'docker/responses-runc.json'), catalog);
		expect(check(report, 'nvidia-runtime')).toEqual({
			name: 'nvidia-runtime',
			ok: false,
			detail: 'runtimes io.containerd.runc.v2, runc; nvidia is not registered with the daemon (default runc)',
			fix: 'Register the NVIDIA runtime: `sudo nvidia-ctk runtime configure --runtime=docker && sudo systemctl restart docker` (`docker run --gpus` also works through the toolkit hook without it).',
		});
	});

	test('--json has the documented keys and never a credential', async () => {
		const json = hostReportJson(buildHostReport(await probesFrom('a100-mig-530'), catalog));
		expect(Object.keys(json)).toEqual(expect.arrayContaining(['gpus', 'driver', 'cudaNative', 'runtimes', 'toolkit', 'buildx', 'checks']));
		expect(json.gpus).toEqual([{name: 'NVIDIA A100 80GB PCIe', computeCapability: '8.0', memoryMiB: 81920}]);
		expect(json.runtimes).toEqual({available: ['io.containerd.runc.v2', 'nvidia', 'runc'], default: 'nvidia', nvidia: true});
		expect(json.toolkit).toEqual({containerCli: '1.14.3', ctk: '1.12.0', cdiSpecs: ['/etc/cdi/nvidia.yaml']});
		expect(json.buildx).toEqual({version: '0.13.1+ds1', builders: [{name: 'default', driver: 'docker', status: 'running', current: true}]});
		expect(json.checks.every(entry => Object.keys(entry).join() === 'name,ok,detail,fix')).toBe(true);
		expect(JSON.stringify(json)).not.toContain('ZmFrZS');
	});

	test('the text report: one line per check, the fix under a failing one', async () => {
		const report = buildHostReport(await probesFrom('rtx-a400-a4000-580'), catalog);
		const lines = formatHostReport(report).split('\n');
		expect(lines).toContain('ok    nvidia-smi                driver 580.95.05');
		expect(lines).toContain('FAIL  gpu-catalog               NVIDIA RTX A400 is not in the catalog (compute capability 8.6 from nvidia-smi)');
		expect(lines.at(-1)).toBe('1 check of 10 failed');
	});

	test('without a catalog the GPU names stay unmapped and the catalog problem is a finding', async () => {
		const report = buildHostReport(await probesFrom('a100-470-no-compute-cap'), undefined, 'catalogs/cuda.yaml:3:1 versions: expected a list');
		expect(check(report, 'catalog')).toMatchObject({ok: false, detail: 'the catalogs did not load, so GPU names and CUDA releases are not looked up: catalogs/cuda.yaml:3:1 versions: expected a list'});
		expect(report.gpus[0]).toMatchObject({computeCapability: null, capabilitySource: null, brand: 'Nvidia'});
		expect(requireHostOf(report)).toEqual({driver: '470.103.01', cuda: '11.4', devices: [{name: 'NVIDIA A100-SXM4-80GB', brand: 'Nvidia'}]});
	});
});

describe('verify report', () => {
	const inspectJson = JSON.stringify({
		Id: 'sha256:6969a674acb2c138fe1190e252bc25f43b6f878a71656496ac12496bfa44343d',
		Os: 'linux',
		Architecture: 'amd64',
		Config: {
			Env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'CUDA_VERSION=12.4.1', 'NVIDIA_VISIBLE_DEVICES=all', 'NVIDIA_DRIVER_CAPABILITIES=compute,utility', 'NVIDIA_REQUIRE_CUDA=cuda>=12.4'],
			Labels: {'io.stackwiz.tier': 'framework', 'io.stackwiz.version.ubuntu': '22.04', 'io.stackwiz.version.cuda': '12.4.1', 'io.stackwiz.version.nccl': '2.21.5', 'io.stackwiz.version.python': '3.11.9', 'io.stackwiz.version.pytorch': '2.4.1', 'io.stackwiz.version.torchvision': '0.19.1'},
		},
	});
	const inspect = parseImageInspect(inspectJson)!;
	const ok = (stdout: string): ProbeOutput => ({status: 'ok', exitCode: 0, stdout, stderr: ''});
	const facts = {
		python: '3.11.9',
		distributions: {pytorch: '2.4.1+cu124', torchvision: '0.19.1+cu124'},
		libraries: {nccl: '2.21.5', cudnn: null},
		torch: {version: '2.4.1+cu124', cuda: '12.4', cpuMatmul: [[3, 3], [12, 12]], cudnn: 90100, cudaAvailable: true, devices: [{name: 'NVIDIA A100-SXM4-80GB', capability: '8.0'}], archList: ['sm_50', 'sm_60', 'sm_70', 'sm_75', 'sm_80', 'sm_86', 'sm_90'], gpuMatmulError: 2.1e-7, nccl: '2.20.5'},
	};
	const osRelease = ok('PRETTY_NAME="Ubuntu 22.04.4 LTS"\nNAME="Ubuntu"\nVERSION_ID="22.04"\nID=ubuntu\n');

	async function input(overrides: Partial<VerifyInput>): Promise<VerifyInput> {
		const host = buildHostReport(await probesFrom('a100-470-no-compute-cap'), catalog);
		return {image: 'registry.example.com/ml/stackwiz/framework:pytorch2.4.1', inspect, host, gpu: true, nvidiaSmi: ok('NVIDIA A100-SXM4-80GB, 470.103.01\n'), python: ok(`noise\nSTACKWIZ-VERIFY ${JSON.stringify(facts)}\n`), osRelease, start: checkImageStart(inspect.env, requireHostOf(host)), ...overrides};
	}

	test('labels and the verify script\'s line are read', () => {
		expect(labelVersions(inspect.labels)).toEqual(new Map([['cuda', '12.4.1'], ['nccl', '2.21.5'], ['python', '3.11.9'], ['pytorch', '2.4.1'], ['torchvision', '0.19.1'], ['ubuntu', '22.04']]));
		expect(parseVerifyOutput(`x\nSTACKWIZ-VERIFY ${JSON.stringify(facts)}\n`)).toEqual(facts);
		expect(parseVerifyOutput('Traceback ...')).toBeUndefined();
	});

	test('a healthy image on a GPU host: every check passes, versions against labels', async () => {
		const checks = buildVerifyReport(await input({}));
		expect(checks.map(entry => `${entry.status} ${entry.name}`)).toEqual([
			'pass image', 'pass labels', 'fail requirements', 'pass nvidia-env', 'pass nvidia-smi', 'pass python', 'pass framework', 'pass cuda-available', 'pass gpu-matmul', 'pass arch-list', 'pass versions',
		]);
		expect(checks.find(entry => entry.name === 'versions')!.detail).toBe('match the labels: cuda 12.4.1 (CUDA_VERSION), cuda 12.4 (torch.version.cuda), nccl 2.21.5 (libnccl.so.2.21.5), python 3.11.9, pytorch 2.4.1+cu124 (torch), torchvision 0.19.1+cu124, ubuntu 22.04 (/etc/os-release)');
		expect(checks.find(entry => entry.name === 'requirements')).toEqual({
			name: 'requirements',
			status: 'fail',
			detail: '`docker run --gpus` would stop with "nvidia-container-cli: requirement error: unsatisfied condition: cuda>=12.4, please update your driver to a newer version, or use an earlier cuda container": cuda>=12.4: this driver (470.103.01) supports CUDA 11.4',
			fix: 'Upgrade the host driver to one that runs this CUDA natively, or plan the image for this driver (`driver:` in the recipe) so it gets a CUDA tier the driver can run.',
		});
	});

	test('a GPU the wheel has no kernels for, and a label that lies', async () => {
		const broken = {...facts, distributions: {...facts.distributions, torchvision: '0.18.0'}, torch: {...facts.torch, devices: [{name: 'NVIDIA B200', capability: '10.0'}]}};
		const checks = buildVerifyReport(await input({python: ok(`STACKWIZ-VERIFY ${JSON.stringify(broken)}\n`)}));
		expect(checks.find(entry => entry.name === 'arch-list')).toMatchObject({status: 'fail', detail: 'torch.cuda.get_arch_list() (sm_50 sm_60 sm_70 sm_75 sm_80 sm_86 sm_90) has no kernels for NVIDIA B200 (sm_100)'});
		expect(checks.find(entry => entry.name === 'versions')).toMatchObject({status: 'fail'});
		expect(checks.find(entry => entry.name === 'versions')!.detail).toMatch(/^torchvision: label 0\.19\.1, pip 0\.18\.0; matching: /);
	});

	test('the CPU path: GPU checks are skipped with the reason, the rest still runs', async () => {
		const checks = buildVerifyReport(await input({gpu: false, skipReason: 'no GPU here (nvidia-smi is not on PATH)', nvidiaSmi: undefined as never}));
		expect(checks.filter(entry => entry.status === 'skip').map(entry => [entry.name, entry.detail])).toEqual([
			['cuda-available', 'GPU check skipped: no GPU here (nvidia-smi is not on PATH)'],
			['gpu-matmul', 'GPU check skipped: no GPU here (nvidia-smi is not on PATH)'],
			['arch-list', 'GPU check skipped: no GPU here (nvidia-smi is not on PATH)'],
		]);
		expect(checks.find(entry => entry.name === 'framework')).toMatchObject({status: 'pass', detail: 'torch 2.4.1+cu124 imports; a CPU matmul is right'});
	});

	test('an image without python3 fails the Python and framework checks with the reason', async () => {
		const noPython: ProbeOutput = {status: 'failed', exitCode: 127, stdout: '', stderr: 'docker: Error response from daemon: failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "python3": executable file not found in $PATH: unknown.\n'};
		const checks = buildVerifyReport(await input({gpu: false, skipReason: '--cpu was given', python: noPython}));
		expect(checks.find(entry => entry.name === 'python')).toEqual({name: 'python', status: 'fail', detail: 'python3 is not in the image (exec: "python3": executable file not found in $PATH), though its labels say Python 3.11.9', fix: 'Rebuild the basic tier: its install steps did not leave a python3 on PATH.'});
		expect(checks.find(entry => entry.name === 'framework')).toMatchObject({status: 'fail', detail: 'cannot import PyTorch 2.4.1: no python3 in the image'});
		expect(checks.find(entry => entry.name === 'versions')!.detail).toBe('match the labels: cuda 12.4.1 (CUDA_VERSION), ubuntu 22.04 (/etc/os-release); not compared: nccl, python, pytorch, torchvision (no python3 in the image)');
	});

	test('NVIDIA_DRIVER_CAPABILITIES without compute fails; unset means the toolkit default', async () => {
		const withCaps = (value?: string) => parseImageInspect(JSON.stringify({Config: {Env: value === undefined ? [] : [`NVIDIA_DRIVER_CAPABILITIES=${value}`], Labels: {}}}))!;
		expect(buildVerifyReport(await input({inspect: withCaps('utility')})).find(entry => entry.name === 'nvidia-env')).toMatchObject({status: 'fail', detail: 'NVIDIA_DRIVER_CAPABILITIES=utility lacks compute: libcuda is not mounted, so CUDA cannot start'});
		expect(buildVerifyReport(await input({inspect: withCaps()})).find(entry => entry.name === 'nvidia-env')).toMatchObject({status: 'pass', detail: 'NVIDIA_DRIVER_CAPABILITIES unset: the toolkit mounts its default, utility,compute'});
		expect(buildVerifyReport(await input({inspect: withCaps('all')})).find(entry => entry.name === 'nvidia-env')).toMatchObject({status: 'pass'});
	});

	test('arch coverage: binary-compatible SASS, PTX JIT from an older compute_XY, or nothing', () => {
		expect(archCoverage(['sm_80', 'sm_90'], '9.0')).toBe('sass');
		expect(archCoverage(['sm_80', 'sm_90'], '8.9')).toBe('sass');
		expect(archCoverage(['sm_80', 'compute_80'], '9.0')).toBe('ptx');
		expect(archCoverage(['sm_90a', 'compute_90'], '8.9')).toBe('none');
		expect(archCoverage(['sm_90a'], '9.0')).toBe('sass');
		expect(archListCoverage('7.0;8.0;9.0+PTX', '12.0')).toBe('ptx');
		expect(archListCoverage('7.0;8.0+PTX', '7.5')).toBe('sass');
		expect(archListCoverage('8.6;9.0', '8.0')).toBe('none');
	});
});
