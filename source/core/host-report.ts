/**
 * `stackwiz doctor` without side effects: raw outputs of nvidia-smi, nvidia-container-cli, nvidia-ctk and
 * docker (collected by services/host) in, a report with one finding per check out.
 */
import type {Catalog, Gpu} from './catalog.js';
import {driverVerdict, smName} from './compat.js';
import {findGpu} from './recipe.js';
import type {TierTree} from './tier-tree.js';
import {checkImageStart, imageRequirements, nativeCuda, parseDslTerm, type RequireHost, type StartVerdict} from './require-cuda.js';
import {compareDotted, majorMinor} from './versions.js';

/** What running one command gave: `missing` = not on PATH, `failed` = non-zero exit, `timeout` = killed. */
export type ProbeOutput = {status: 'ok' | 'failed' | 'missing' | 'timeout'; exitCode?: number; stdout: string; stderr: string};

/** Every raw fact doctor collects; optional probes are absent when they were not run. */
export type HostProbes = {
	/** `nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total --format=csv,noheader`. */
	smiQuery: ProbeOutput;
	/** The same without compute_cap, run when the driver does not know that field (drivers before R510). */
	smiLegacyQuery?: ProbeOutput;
	/** `nvidia-smi -q`: CUDA Version, Product Brand, MIG mode. */
	smiDetails?: ProbeOutput;
	/** `nvidia-smi -L`: GPUs and their MIG devices. */
	smiList?: ProbeOutput;
	/** `nvidia-container-cli info`: the brand, arch and CUDA version the toolkit itself compares. */
	containerCliInfo?: ProbeOutput;
	containerCliVersion?: ProbeOutput;
	ctkVersion?: ProbeOutput;
	/** `docker info --format '{{json .}}'`. */
	dockerInfo?: ProbeOutput;
	buildxVersion?: ProbeOutput;
	/** `docker buildx ls`. */
	buildxList?: ProbeOutput;
	/** CDI spec files per directory; error when a directory exists but cannot be read. */
	cdi?: Array<{directory: string; files: string[]; error?: string}>;
	/** Registries with credentials in the docker config file; never the credentials themselves. */
	registry?: {file: string; registries: string[]; credsStore?: string; error?: string};
};

export type HostGpu = {
	index: number;
	name: string;
	computeCapability: string | null;
	/** Where the capability came from: nvidia-smi's compute_cap, nvidia-container-cli, or the catalog entry of the name. */
	capabilitySource: 'nvidia-smi' | 'nvidia-container-cli' | 'catalog' | null;
	memoryMiB: number | null;
	/** The brand string NVIDIA_REQUIRE_CUDA's brand= terms are compared with ("Nvidia", "Tesla", ...). */
	brand: string | null;
	brandSource: 'nvidia-container-cli' | 'nvidia-smi' | 'catalog' | null;
	/** The catalog entry the nvidia-smi name maps to. */
	catalogId: string | null;
	mig: {enabled: boolean | null; devices: string[]};
};

export type HostCheck = {name: string; ok: boolean; detail: string; fix: string | null};

export type BuildxBuilder = {name: string; driver: string; status: string; current: boolean};

export type HostReport = {
	gpus: HostGpu[];
	driver: string | null;
	/** The CUDA version the driver reports (nvidia-smi -q "CUDA Version" or nvidia-container-cli). */
	cudaDriver: string | null;
	/** The newest catalog CUDA release whose minimum driver this driver meets ("MAJOR.MINOR"). */
	cudaNative: string | null;
	/** Catalog releases beyond native that run through minor-version compatibility. */
	cudaMinorVersion: string[];
	/** Catalog releases beyond that that run through forward compatibility (cuda-compat, data-center GPUs). */
	cudaForward: string[];
	docker: {serverVersion: string} | null;
	runtimes: {available: string[]; default: string | null; nvidia: boolean} | null;
	toolkit: {containerCli: string | null; ctk: string | null; cdiSpecs: string[]};
	buildx: {version: string; builders: BuildxBuilder[]} | null;
	registries: string[];
	/** Why this host cannot run GPU containers in one phrase ("nvidia-smi is not on PATH"), null when it can try. */
	driverProblem: string | null;
	checks: HostCheck[];
};

const firstLine = (text: string) => text.split('\n').map(line => line.trim()).find(Boolean) ?? '';
const outputText = (probe: ProbeOutput) => `${probe.stdout}\n${probe.stderr}`;

/** nvidia-smi answers drivers before R510 with this when asked for compute_cap. */
export function computeCapUnsupported(probe: ProbeOutput): boolean {
	return probe.status === 'failed' && /"compute_cap" is not a valid field to query/.test(outputText(probe));
}

type SmiRow = {name: string; computeCapability: string | null; driver: string; memoryMiB: number | null};

/** Rows of `--format=csv,noheader`: fields separated by ", ", "[N/A]" for missing values. */
export function parseSmiCsv(stdout: string, withComputeCap: boolean): SmiRow[] {
	return stdout.split('\n').map(line => line.trim()).filter(Boolean).flatMap(line => {
		const fields = line.split(', ');
		const [name = '', ...rest] = fields;
		const [capability, driver = '', memory = ''] = withComputeCap ? rest : [undefined, ...rest];
		if (name === '' || !/^\d{3}(\.\d+)*$/.test(driver)) {
			return [];
		}

		const memoryMatch = /^(\d+) MiB$/.exec(memory);
		return [{
			name,
			computeCapability: capability && /^\d+\.\d+$/.test(capability) ? capability : null,
			driver,
			memoryMiB: memoryMatch ? Number.parseInt(memoryMatch[1]!, 10) : null,
		}];
	});
}

type SmiDetails = {driver?: string; cuda?: string; gpus: Array<{name?: string; brand?: string; migCurrent?: string}>};

/** `nvidia-smi -q`: the header values and, per "GPU 00000000:07:00.0" section, name, brand and MIG mode. */
export function parseSmiDetails(text: string): SmiDetails {
	const value = (block: string, key: string) => new RegExp(`^\\s*${key}\\s*:\\s*(.*?)\\s*$`, 'm').exec(block)?.[1];
	const [head = '', ...sections] = text.split(/^GPU [0-9A-Fa-f]+:[0-9A-Fa-f]+:[0-9A-Fa-f]+\.[0-9A-Fa-f]+\s*$/m);
	const cuda = value(head, 'CUDA Version');
	return {
		...(value(head, 'Driver Version') ? {driver: value(head, 'Driver Version')!} : {}),
		...(cuda && /^\d+\.\d+$/.test(cuda) ? {cuda} : {}),
		gpus: sections.map(section => {
			const mig = /^\s*MIG Mode\s*\n\s*Current\s*:\s*(.*?)\s*$/m.exec(section)?.[1];
			const name = value(section, 'Product Name');
			const brand = value(section, 'Product Brand');
			return {...(name ? {name} : {}), ...(brand ? {brand} : {}), ...(mig ? {migCurrent: mig} : {})};
		}),
	};
}

/** `nvidia-smi -L`: "GPU 0: NAME (UUID: ...)" lines, each followed by its "  MIG 3g.40gb Device 0: ..." lines. */
export function parseSmiList(text: string): Array<{index: number; name: string; mig: string[]}> {
	const gpus: Array<{index: number; name: string; mig: string[]}> = [];
	for (const line of text.split('\n')) {
		const gpu = /^GPU (\d+): (.+?) \(UUID: [^)]*\)\s*$/.exec(line);
		if (gpu) {
			gpus.push({index: Number.parseInt(gpu[1]!, 10), name: gpu[2]!, mig: []});
			continue;
		}

		const mig = /^\s+MIG (\S+)\s+Device\s+\d+:/.exec(line);
		if (mig && gpus.length > 0) {
			gpus.at(-1)!.mig.push(mig[1]!);
		}
	}

	return gpus;
}

type ContainerCliInfo = {driver?: string; cuda?: string; devices: Array<{index: number; model?: string; brand?: string; arch?: string}>};

/** `nvidia-container-cli info`: "NVRM version:", "CUDA version:", then one block per device. */
export function parseContainerCliInfo(text: string): ContainerCliInfo {
	const info: ContainerCliInfo = {devices: []};
	for (const line of text.split('\n')) {
		const match = /^([A-Za-z ]+):\s+(.*?)\s*$/.exec(line);
		if (!match) {
			continue;
		}

		const [, key = '', raw = ''] = match;
		const value = raw === '(null)' ? undefined : raw;
		const device = info.devices.at(-1);
		if (key === 'NVRM version' && value) {
			info.driver = value;
		} else if (key === 'CUDA version' && value) {
			info.cuda = value;
		} else if (key === 'Device Index') {
			info.devices.push({index: Number.parseInt(raw, 10)});
		} else if (device && key === 'Model' && value) {
			device.model = value;
		} else if (device && key === 'Brand' && value) {
			device.brand = value;
		} else if (device && key === 'Architecture' && value) {
			device.arch = value;
		}
	}

	return info;
}

/**
 * The brand libnvidia-container reports for an nvidia-smi -q "Product Brand": its own names since 1.9.0;
 * before 1.9.0 everything but Quadro, Tesla, NVS, GRID, GeForce and TITAN was "Unknown".
 */
export function toolkitBrand(productBrand: string, containerCliVersion?: string | null): string | undefined {
	const brand = smiBrandNames[productBrand.trim().toLowerCase()];
	if (!brand) {
		return undefined;
	}

	const legacy = ['Quadro', 'Tesla', 'NVS', 'GRID', 'GeForce', 'TITAN'];
	return containerCliVersion && compareDotted(containerCliVersion, '1.9.0') < 0 && !legacy.includes(brand) ? 'Unknown' : brand;
}

/** nvidia-smi -q "Product Brand" (lower case) -> libnvidia-container's name for the same NVML brand. */
const smiBrandNames: Record<string, string> = {
		quadro: 'Quadro',
		tesla: 'Tesla',
		nvs: 'NVS',
		grid: 'GRID',
		geforce: 'GeForce',
		titan: 'TITAN',
		'nvidia virtual applications': 'VApps',
		'nvidia virtual pc': 'VPC',
		'nvidia virtual compute server': 'VCS',
		'nvidia rtx virtual workstation': 'VWS',
		'nvidia cloud gaming': 'CloudGaming',
		'quadro rtx': 'QuadroRTX',
		'nvidia rtx': 'NvidiaRTX',
		nvidia: 'Nvidia',
		'geforce rtx': 'GeForceRTX',
		'titan rtx': 'TitanRTX',
		unknown: 'Unknown',
	};

/** A catalog brand ("nvidiartx", written as the images' brand= terms) in libnvidia-container's spelling. */
export function catalogBrand(brand: string): string {
	return Object.values(smiBrandNames).find(name => name.toLowerCase() === brand.toLowerCase()) ?? brand;
}

/** "cli-version: 1.14.3" (1.4 and later) or "version: 1.0.7" (older). */
export function parseContainerCliVersion(text: string): string | undefined {
	return /^(?:cli-)?version:\s*v?(\d[\w.+~-]*)/m.exec(text)?.[1];
}

/** "NVIDIA Container Toolkit CLI version 1.12.0". */
export function parseCtkVersion(text: string): string | undefined {
	return /version\s+v?(\d+\.\d+[\w.+~-]*)/.exec(text)?.[1];
}

/** "github.com/docker/buildx v0.12.1 30feaa1" or a distribution's "github.com/docker/buildx 0.13.1+ds1 0.13.1+ds1-3". */
export function parseBuildxVersion(text: string): string | undefined {
	return /buildx\s+v?(\d+\.\d+[\w.+~-]*)/.exec(text)?.[1];
}

/** `docker buildx ls` text (every buildx version): builder lines start at column 0, the current one is starred. */
export function parseBuildxList(text: string): BuildxBuilder[] {
	const builders: BuildxBuilder[] = [];
	for (const line of text.split('\n').slice(1)) {
		if (line.trim() === '' || /^(WARNING|ERROR)/.test(line)) {
			continue;
		}

		const tokens = line.trim().split(/\s+/).filter(token => token !== '\\_');
		if (!/^\s/.test(line)) {
			const [first = '', second = '', third = ''] = tokens;
			const current = first.endsWith('*') || second === '*';
			builders.push({name: first.replace(/\*$/, ''), driver: (second === '*' ? third : second) || 'unknown', status: 'unknown', current});
		} else if (builders.length > 0) {
			const status = tokens.find(token => ['running', 'inactive', 'stopped', 'error'].includes(token));
			if (status && builders.at(-1)!.status === 'unknown') {
				builders.at(-1)!.status = status;
			}
		}
	}

	return builders;
}

type DockerInfo = {serverVersion?: string; runtimes: string[]; defaultRuntime?: string; cdiSpecDirs: string[]};

export function parseDockerInfo(stdout: string): DockerInfo | undefined {
	let data: Record<string, unknown>;
	try {
		data = JSON.parse(stdout) as Record<string, unknown>;
	} catch {
		return undefined;
	}

	const runtimes = data['Runtimes'] && typeof data['Runtimes'] === 'object' ? Object.keys(data['Runtimes']).sort() : [];
	const string = (key: string) => (typeof data[key] === 'string' && data[key] !== '' ? data[key] : undefined);
	return {
		...(string('ServerVersion') ? {serverVersion: string('ServerVersion')!} : {}),
		runtimes,
		...(string('DefaultRuntime') ? {defaultRuntime: string('DefaultRuntime')!} : {}),
		cdiSpecDirs: Array.isArray(data['CDISpecDirs']) ? (data['CDISpecDirs'] as unknown[]).filter((dir): dir is string => typeof dir === 'string') : [],
	};
}

function gpusFrom(probes: HostProbes, catalog: Catalog | undefined, cliVersion: string | null): {gpus: HostGpu[]; driver: string | null; cuda: string | null} {
	const withCap = probes.smiQuery.status === 'ok';
	const rows = withCap
		? parseSmiCsv(probes.smiQuery.stdout, true)
		: probes.smiLegacyQuery?.status === 'ok' ? parseSmiCsv(probes.smiLegacyQuery.stdout, false) : [];
	const details = probes.smiDetails?.status === 'ok' ? parseSmiDetails(probes.smiDetails.stdout) : undefined;
	const list = probes.smiList?.status === 'ok' ? parseSmiList(probes.smiList.stdout) : [];
	const cli = probes.containerCliInfo?.status === 'ok' ? parseContainerCliInfo(probes.containerCliInfo.stdout) : undefined;
	const gpus = rows.map((row, index): HostGpu => {
		const known = catalog ? findGpu(catalog, row.name) : undefined;
		const cliDevice = cli?.devices.find(device => device.index === index);
		const detail = details?.gpus[index];
		const smiBrand = detail?.brand ? toolkitBrand(detail.brand, cliVersion) : undefined;
		const capability = row.computeCapability ?? cliDevice?.arch ?? known?.computeCapability ?? null;
		const brand = cliDevice?.brand ?? smiBrand ?? (known?.brand ? catalogBrand(known.brand) : null);
		const migDevices = list.find(gpu => gpu.index === index)?.mig ?? [];
		const migCurrent = detail?.migCurrent;
		return {
			index,
			name: row.name,
			computeCapability: capability,
			capabilitySource: row.computeCapability ? 'nvidia-smi' : cliDevice?.arch ? 'nvidia-container-cli' : known ? 'catalog' : null,
			memoryMiB: row.memoryMiB,
			brand,
			brandSource: cliDevice?.brand ? 'nvidia-container-cli' : smiBrand ? 'nvidia-smi' : known?.brand ? 'catalog' : null,
			catalogId: known?.id ?? null,
			mig: {
				enabled: migCurrent === 'Enabled' ? true : migCurrent === 'Disabled' ? false : migDevices.length > 0 ? true : null,
				devices: migDevices,
			},
		};
	});
	return {gpus, driver: rows[0]?.driver ?? details?.driver ?? cli?.driver ?? null, cuda: details?.cuda ?? cli?.cuda ?? null};
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

function describeGpu(gpu: HostGpu): string {
	const parts = [
		gpu.computeCapability ? smName(gpu.computeCapability) : 'compute capability unknown',
		...(gpu.memoryMiB === null ? [] : [`${gpu.memoryMiB} MiB`]),
		...(gpu.brand ? [`brand ${gpu.brand}`] : []),
	];
	if (gpu.mig.enabled) {
		const counts = new Map<string, number>();
		for (const profile of gpu.mig.devices) {
			counts.set(profile, (counts.get(profile) ?? 0) + 1);
		}

		parts.push(gpu.mig.devices.length > 0
			? `MIG: ${[...counts].map(([profile, count]) => `${count} x ${profile}`).join(', ')}`
			: 'MIG enabled, no instances');
	}

	return `${gpu.name} (${parts.join(', ')})`;
}

/** What nvidia-smi's failure means and how to fix it. */
function smiFailure(probe: ProbeOutput): HostCheck {
	if (probe.status === 'missing') {
		return {
			name: 'nvidia-smi',
			ok: false,
			detail: 'nvidia-smi is not on PATH: no NVIDIA driver is installed here (or it is not on PATH)',
			fix: 'On a GPU node install the NVIDIA driver, which provides nvidia-smi (e.g. `sudo apt-get install -y nvidia-driver-550`), then reboot. A build-only host needs no driver: images build without GPUs and `stackwiz verify` runs the CPU-side checks.',
		};
	}

	if (probe.status === 'timeout') {
		return {name: 'nvidia-smi', ok: false, detail: 'nvidia-smi did not answer in time (a hung driver or a GPU that fell off the bus)', fix: 'Look for NVRM or Xid errors in `sudo dmesg`; reset the GPU (`sudo nvidia-smi -r`) or reboot the node.'};
	}

	const message = firstLine(outputText(probe));
	const detail = `nvidia-smi failed (exit ${probe.exitCode ?? '?'}): ${message}`;
	const text = outputText(probe);
	if (/couldn't communicate with the NVIDIA driver/.test(text)) {
		return {name: 'nvidia-smi', ok: false, detail, fix: 'The NVIDIA kernel module is not loaded: `sudo modprobe nvidia`; after a kernel update rebuild it (`sudo dkms autoinstall`) or reinstall the driver, then reboot.'};
	}

	if (/version mismatch/.test(text)) {
		return {name: 'nvidia-smi', ok: false, detail, fix: 'The driver was upgraded but the old kernel module is still loaded: reboot (or unload and reload the nvidia kernel modules).'};
	}

	if (/No supported GPUs were found|No devices were found/.test(text)) {
		return {name: 'nvidia-smi', ok: false, detail, fix: 'The driver sees no GPU: check `lspci | grep -i nvidia`; the GPU may be bound to another driver (nouveau, vfio-pci) or be too new or too old for this driver branch.'};
	}

	return {name: 'nvidia-smi', ok: false, detail, fix: 'Run `nvidia-smi` by hand and fix what it reports; `sudo dmesg | grep -i nvrm` shows driver errors.'};
}

function cudaReach(catalog: Catalog | undefined, driver: string, gpus: HostGpu[]): {native: string | null; minor: string[]; forward: string[]} {
	if (!catalog) {
		return {native: null, minor: [], forward: []};
	}

	const known = gpus.map(gpu => (gpu.catalogId ? catalog.gpus.find(entry => entry.id === gpu.catalogId) : undefined));
	const catalogGpus: Gpu[] = known.every(Boolean) ? known as Gpu[] : [];
	const native = nativeCuda(catalog.cuda.versions, driver) ?? null;
	const minor = new Set<string>();
	const forward = new Set<string>();
	for (const release of catalog.cuda.versions) {
		const verdict = driverVerdict(catalog, release, driver, catalogGpus);
		if (verdict.ok && verdict.level === 'minor-version') {
			minor.add(majorMinor(release.version));
		} else if (verdict.ok && verdict.level === 'forward') {
			forward.add(majorMinor(release.version));
		}
	}

	const ascending = (set: Set<string>) => [...set].filter(version => native === null || compareDotted(version, native) > 0).sort(compareDotted);
	const minorList = ascending(minor);
	return {native, minor: minorList, forward: ascending(forward).filter(version => !minorList.includes(version))};
}

/** Ascending MAJOR.MINOR versions with runs of three or more consecutive minors shortened: "12.0-12.6, 12.8, 13.0". */
export function versionList(versions: string[]): string {
	const runs: string[][] = [];
	for (const version of versions) {
		const run = runs.at(-1);
		const previous = run?.at(-1);
		const [major, minor] = version.split('.').map(Number);
		const [previousMajor, previousMinor] = (previous ?? '').split('.').map(Number);
		if (run && major === previousMajor && minor === previousMinor! + 1) {
			run.push(version);
		} else {
			runs.push([version]);
		}
	}

	return runs.flatMap(run => (run.length >= 3 ? [`${run[0]}-${run.at(-1)}`] : run)).join(', ');
}

function dockerChecks(probes: HostProbes, driver: boolean): {checks: HostCheck[]; info?: DockerInfo} {
	const probe = probes.dockerInfo;
	if (!probe) {
		return {checks: []};
	}

	if (probe.status === 'missing') {
		return {checks: [{name: 'docker', ok: false, detail: 'the docker CLI is not on PATH', fix: 'Install Docker Engine (https://docs.docker.com/engine/install/); stackwiz needs the docker CLI, a running daemon and the buildx plugin.'}]};
	}

	const info = probe.stdout ? parseDockerInfo(probe.stdout) : undefined;
	if (probe.status !== 'ok' || !info?.serverVersion) {
		const message = firstLine(probe.stderr) || firstLine(probe.stdout) || `exit ${probe.exitCode ?? '?'}`;
		const permission = /permission denied/i.test(message);
		return {checks: [{
			name: 'docker',
			ok: false,
			detail: probe.status === 'timeout' ? 'docker info did not answer in time' : `the docker CLI cannot reach the daemon: ${message}`,
			fix: permission
				? 'Let your user talk to the daemon: `sudo usermod -aG docker $USER`, then log in again.'
				: 'Start the daemon (`sudo systemctl start docker`) or point DOCKER_HOST / `docker context use` at a running one.',
		}]};
	}

	const nvidia = info.runtimes.includes('nvidia');
	const runtimes = info.runtimes.join(', ') || 'none';
	const defaultRuntime = info.defaultRuntime ?? 'unknown';
	const runtimeCheck: HostCheck = nvidia
		? {
			name: 'nvidia-runtime',
			ok: true,
			detail: `runtimes ${runtimes}; default ${defaultRuntime}${defaultRuntime === 'nvidia' ? ' (every container goes through the NVIDIA hook)' : ' (GPU containers need --gpus all or --runtime=nvidia)'}`,
			fix: null,
		}
		: !driver
			? {name: 'nvidia-runtime', ok: true, detail: `runtimes ${runtimes}; no nvidia runtime, which only a host with an NVIDIA driver needs`, fix: null}
			: {
			name: 'nvidia-runtime',
			ok: false,
			detail: `runtimes ${runtimes}; nvidia is not registered with the daemon (default ${defaultRuntime})`,
			fix: 'Register the NVIDIA runtime: `sudo nvidia-ctk runtime configure --runtime=docker && sudo systemctl restart docker` (`docker run --gpus` also works through the toolkit hook without it).',
		};
	return {checks: [{name: 'docker', ok: true, detail: `Docker Engine ${info.serverVersion} answers`, fix: null}, runtimeCheck], info};
}

function toolkitCheck(containerCli: string | null, ctk: string | null, driver: boolean): HostCheck {
	if (!containerCli && !ctk && !driver) {
		return {name: 'nvidia-container-toolkit', ok: true, detail: 'not installed; only a host with an NVIDIA driver needs it', fix: null};
	}

	if (!containerCli && !ctk) {
		return {
			name: 'nvidia-container-toolkit',
			ok: false,
			detail: 'neither nvidia-container-cli nor nvidia-ctk is on PATH: `docker run --gpus` cannot give a container a GPU here',
			fix: 'Install the NVIDIA Container Toolkit (`sudo apt-get install -y nvidia-container-toolkit` from NVIDIA\'s repository, see https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html).',
		};
	}

	const versions = [containerCli ? `nvidia-container-cli ${containerCli}` : 'no nvidia-container-cli', ctk ? `nvidia-ctk ${ctk}` : 'no nvidia-ctk'].join(', ');
	if (containerCli && compareDotted(containerCli, '1.9.0') < 0) {
		return {
			name: 'nvidia-container-toolkit',
			ok: false,
			detail: `${versions}: libnvidia-container before 1.9.0 reports the brand of newer GPUs (NVIDIA, NVIDIA RTX, ...) as Unknown to NVIDIA_REQUIRE_CUDA`,
			fix: 'Upgrade the toolkit: `sudo apt-get install -y nvidia-container-toolkit`.',
		};
	}

	return {name: 'nvidia-container-toolkit', ok: true, detail: versions, fix: null};
}

function cdiCheck(probes: HostProbes, hasGpus: boolean): {check?: HostCheck; specs: string[]} {
	if (!probes.cdi) {
		return {specs: []};
	}

	const specs = probes.cdi.flatMap(entry => entry.files);
	const errors = probes.cdi.filter(entry => entry.error).map(entry => `${entry.directory}: ${entry.error}`);
	const directories = probes.cdi.map(entry => entry.directory).join(', ');
	if (specs.length > 0) {
		return {specs, check: {name: 'cdi', ok: true, detail: `CDI specs: ${specs.join(', ')}`, fix: null}};
	}

	const detail = `no CDI spec in ${directories}${errors.length > 0 ? ` (${errors.join('; ')})` : ''}; CDI is needed for --device nvidia.com/gpu=all and the toolkit's CDI mode, not for --gpus`;
	return {
		specs,
		check: hasGpus
			? {name: 'cdi', ok: false, detail, fix: 'Generate one: `sudo nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml` (again after every driver upgrade).'}
			: {name: 'cdi', ok: true, detail, fix: null},
	};
}

function buildxCheck(probes: HostProbes): {check?: HostCheck; buildx: HostReport['buildx']} {
	const probe = probes.buildxVersion;
	if (!probe) {
		return {buildx: null};
	}

	const version = probe.status === 'ok' ? parseBuildxVersion(probe.stdout) : undefined;
	if (!version) {
		return {
			buildx: null,
			check: {
				name: 'buildx',
				ok: false,
				detail: probe.status === 'missing' ? 'no docker CLI, so no buildx' : `docker buildx does not work: ${firstLine(outputText(probe)) || `exit ${probe.exitCode ?? '?'}`}`,
				fix: 'Install the buildx plugin (Docker\'s docker-buildx-plugin package, or docker-buildx on Debian/Ubuntu); stackwiz builds with `docker buildx bake`.',
			},
		};
	}

	const builders = probes.buildxList?.status === 'ok' ? parseBuildxList(probes.buildxList.stdout) : [];
	const listed = builders.map(builder => `${builder.name}${builder.current ? '*' : ''} (${builder.driver}, ${builder.status})`).join(', ');
	return {
		buildx: {version, builders},
		check: {name: 'buildx', ok: true, detail: `buildx ${version}; builders: ${listed || 'none listed'}`, fix: null},
	};
}

function registryCheck(probes: HostProbes): {check?: HostCheck; registries: string[]} {
	const registry = probes.registry;
	if (!registry) {
		return {registries: []};
	}

	if (registry.error) {
		return {registries: [], check: {name: 'registry-login', ok: false, detail: `${registry.file} cannot be read: ${registry.error}`, fix: 'Fix or remove the file, then `docker login REGISTRY`.'}};
	}

	if (registry.registries.length === 0) {
		return {
			registries: [],
			check: {
				name: 'registry-login',
				ok: false,
				detail: `no registry credentials in ${registry.file}${registry.credsStore ? ` (credsStore ${registry.credsStore} holds none that docker listed)` : ''}`,
				fix: 'Run `docker login REGISTRY` before pushing tiers; a local registry such as 127.0.0.1:5000 needs no login.',
			},
		};
	}

	const store = registry.credsStore ? ` (stored by docker-credential-${registry.credsStore})` : '';
	return {registries: registry.registries, check: {name: 'registry-login', ok: true, detail: `logged in to ${registry.registries.join(', ')}${store}`, fix: null}};
}

/**
 * Turns the probes into the doctor report. `catalog` maps nvidia-smi names to known GPUs (and their compute
 * capability on drivers without compute_cap) and gives the CUDA releases; `catalogError` says why it is missing.
 */
export function buildHostReport(probes: HostProbes, catalog: Catalog | undefined, catalogError?: string): HostReport {
	const checks: HostCheck[] = [];
	const containerCli = probes.containerCliVersion?.status === 'ok' ? parseContainerCliVersion(outputText(probes.containerCliVersion)) ?? null : null;
	const ctk = probes.ctkVersion?.status === 'ok' ? parseCtkVersion(outputText(probes.ctkVersion)) ?? null : null;
	const smiOk = probes.smiQuery.status === 'ok' || (computeCapUnsupported(probes.smiQuery) && probes.smiLegacyQuery?.status === 'ok');
	const {gpus, driver, cuda} = smiOk ? gpusFrom(probes, catalog, containerCli) : {gpus: [], driver: null, cuda: null};
	let reach: {native: string | null; minor: string[]; forward: string[]} = {native: null, minor: [], forward: []};

	if (catalogError) {
		checks.push({name: 'catalog', ok: false, detail: `the catalogs did not load, so GPU names and CUDA releases are not looked up: ${catalogError}`, fix: 'Fix the catalog files named above, or pass --catalog DIR / --no-bundled.'});
	}

	if (smiOk) {
		checks.push({name: 'nvidia-smi', ok: true, detail: `driver ${driver ?? 'unknown'}${probes.smiQuery.status === 'ok' ? '' : ' (no compute_cap field before R510: capabilities come from the catalog)'}`, fix: null});
		checks.push(gpus.length > 0
			? {name: 'gpus', ok: true, detail: `${plural(gpus.length, 'GPU')}: ${gpus.map(gpu => describeGpu(gpu)).join('; ')}`, fix: null}
			: {name: 'gpus', ok: false, detail: 'nvidia-smi lists no GPU', fix: 'Check `lspci | grep -i nvidia`; the GPU may be bound to another driver or unsupported by this driver branch.'});
		const unknown = gpus.filter(gpu => !gpu.catalogId);
		if (catalog && gpus.length > 0) {
			checks.push(unknown.length === 0
				? {name: 'gpu-catalog', ok: true, detail: `every GPU is in the catalog: ${[...new Set(gpus.map(gpu => gpu.catalogId))].join(', ')}`, fix: null}
				: {
					name: 'gpu-catalog',
					ok: false,
					detail: unknown.map(gpu => `${gpu.name} is not in the catalog (${gpu.computeCapability ? `compute capability ${gpu.computeCapability} from ${gpu.capabilitySource}` : 'compute capability unknown: this driver has no compute_cap field'})`).join('; '),
					fix: `Add ${unknown.length === 1 ? 'it' : 'them'} to catalogs/gpus.yaml (id, compute_capability, brand, nvidia_smi_names: [${[...new Set(unknown.map(gpu => JSON.stringify(gpu.name)))].join(', ')}]) or pass --catalog DIR with such a gpus.yaml; recipes cannot name ${unknown.length === 1 ? 'it' : 'them'} until then.`,
				});
		}

		if (driver) {
			reach = cudaReach(catalog, driver, gpus);
			const reported = cuda ? `reports CUDA ${cuda}` : 'reports no CUDA version (nvidia-smi -q failed)';
			const parts = [
				reach.native ? `runs CUDA ${reach.native} natively` : catalog ? 'is older than every CUDA release in the catalog' : 'native CUDA unknown (no catalog)',
				...(reach.minor.length > 0 ? [`${versionList(reach.minor)} through minor-version compatibility (no PTX JIT: every GPU needs SASS in the image)`] : []),
				...(reach.forward.length > 0 ? [`${versionList(reach.forward)} through forward compatibility (cuda-compat in the image, data-center GPUs)`] : []),
			];
			const oldest = catalog?.cuda.versions.filter(release => release.min_driver).at(-1);
			checks.push(reach.native || !catalog
				? {name: 'cuda', ok: true, detail: `driver ${driver} ${reported}; ${parts.join('; ')}`, fix: null}
				: {name: 'cuda', ok: false, detail: `driver ${driver} ${reported}; ${parts.join('; ')}${oldest ? ` (the oldest, CUDA ${oldest.version}, needs ${oldest.min_driver})` : ''}`, fix: 'Upgrade the driver to a branch the catalog\'s CUDA releases support.'});
		}
	} else {
		checks.push(computeCapUnsupported(probes.smiQuery) && probes.smiLegacyQuery ? smiFailure(probes.smiLegacyQuery) : smiFailure(probes.smiQuery));
	}

	// nvidia-smi on PATH (even a failing one) means an NVIDIA driver is meant to be here.
	const driverHost = probes.smiQuery.status !== 'missing';
	checks.push(toolkitCheck(containerCli, ctk, driverHost));
	const docker = dockerChecks(probes, driverHost);
	checks.push(...docker.checks);
	const cdi = cdiCheck(probes, gpus.length > 0);
	if (cdi.check) {
		checks.push(cdi.check);
	}

	const buildx = buildxCheck(probes);
	if (buildx.check) {
		checks.push(buildx.check);
	}

	const registry = registryCheck(probes);
	if (registry.check) {
		checks.push(registry.check);
	}

	return {
		gpus,
		driver,
		cudaDriver: cuda,
		cudaNative: reach.native,
		cudaMinorVersion: reach.minor,
		cudaForward: reach.forward,
		docker: docker.info?.serverVersion ? {serverVersion: docker.info.serverVersion} : null,
		runtimes: docker.info?.serverVersion ? {available: docker.info.runtimes, default: docker.info.defaultRuntime ?? null, nvidia: docker.info.runtimes.includes('nvidia')} : null,
		toolkit: {containerCli, ctk, cdiSpecs: cdi.specs},
		buildx: buildx.buildx,
		registries: registry.registries,
		driverProblem: smiOk
			? gpus.length === 0 ? 'nvidia-smi lists no GPU' : null
			: probes.smiQuery.status === 'missing' ? 'nvidia-smi is not on PATH'
				: probes.smiQuery.status === 'timeout' ? 'nvidia-smi did not answer'
					: `nvidia-smi failed: ${firstLine(outputText(probes.smiLegacyQuery ?? probes.smiQuery))}`,
		checks,
	};
}

/** The `doctor --json` document. */
export function hostReportJson(report: HostReport) {
	return {
		gpus: report.gpus.map(gpu => ({name: gpu.name, computeCapability: gpu.computeCapability, memoryMiB: gpu.memoryMiB})),
		driver: report.driver,
		cudaNative: report.cudaNative,
		cudaDriver: report.cudaDriver,
		cudaMinorVersion: report.cudaMinorVersion,
		cudaForward: report.cudaForward,
		devices: report.gpus.map(gpu => ({index: gpu.index, name: gpu.name, brand: gpu.brand, catalogId: gpu.catalogId, mig: gpu.mig})),
		docker: report.docker,
		runtimes: report.runtimes,
		toolkit: report.toolkit,
		buildx: report.buildx,
		registries: report.registries,
		checks: report.checks,
	};
}

/** The human `doctor` output: one line per check, its fix under a failing one. */
export function formatHostReport(report: HostReport): string {
	const width = Math.max(...report.checks.map(check => check.name.length));
	const lines = report.checks.flatMap(check => [
		`${check.ok ? 'ok  ' : 'FAIL'}  ${check.name.padEnd(width)}  ${check.detail}`,
		...(check.fix ? [`${' '.repeat(width + 8)}fix: ${check.fix}`] : []),
	]);
	const failed = report.checks.filter(check => !check.ok).length;
	lines.push('', failed === 0 ? `all ${report.checks.length} checks passed` : `${plural(failed, 'check')} of ${report.checks.length} failed`);
	return lines.join('\n');
}

/**
 * The facts nvidia-container-cli would compare NVIDIA_REQUIRE_CUDA with on this host. The CUDA version is
 * the driver's own (nvmlSystemGetCudaDriverVersion, as nvidia-smi -q prints it); only when that is unknown
 * does the catalog's native CUDA for the driver stand in.
 */
export function requireHostOf(report: HostReport): RequireHost {
	return {
		...(report.driver ? {driver: report.driver} : {}),
		...(report.cudaDriver ?? report.cudaNative ? {cuda: (report.cudaDriver ?? report.cudaNative)!} : {}),
		devices: report.gpus.map(gpu => ({
			name: gpu.name,
			...(gpu.computeCapability ? {arch: gpu.computeCapability} : {}),
			...(gpu.brand ? {brand: gpu.brand} : {}),
		})),
	};
}

// ---------------------------------------------------------------------------------------------------
// `stackwiz verify IMAGE`: what docker image inspect and a few `docker run`s inside the image say.

/** One verify finding; `skip` means not applicable here (no GPU, nothing to compare), with the reason. */
export type VerifyCheck = {name: string; status: 'pass' | 'fail' | 'skip'; detail: string; fix: string | null};

export type InspectedImage = {id: string; platform: string; env: Record<string, string>; labels: Record<string, string>};

/** `docker image inspect --format '{{json .}}' IMAGE`. */
export function parseImageInspect(stdout: string): InspectedImage | undefined {
	let data: Record<string, unknown>;
	try {
		const parsed = JSON.parse(stdout) as unknown;
		data = (Array.isArray(parsed) ? parsed[0] : parsed) as Record<string, unknown>;
	} catch {
		return undefined;
	}

	if (typeof data !== 'object' || data === null) {
		return undefined;
	}

	const config = (data['Config'] ?? {}) as Record<string, unknown>;
	const env: Record<string, string> = {};
	for (const entry of Array.isArray(config['Env']) ? config['Env'] as string[] : []) {
		const separator = entry.indexOf('=');
		if (separator > 0) {
			env[entry.slice(0, separator)] = entry.slice(separator + 1);
		}
	}

	const labels = typeof config['Labels'] === 'object' && config['Labels'] !== null ? config['Labels'] as Record<string, string> : {};
	return {
		id: typeof data['Id'] === 'string' ? data['Id'] : '',
		platform: `${String(data['Os'] ?? 'unknown')}/${String(data['Architecture'] ?? 'unknown')}`,
		env,
		labels,
	};
}

export const versionLabelPrefix = 'io.stackwiz.version.';

/** resource id -> version from the io.stackwiz.version.* labels every tier adds. */
export function labelVersions(labels: Record<string, string>): Map<string, string> {
	return new Map(Object.entries(labels)
		.filter(([key]) => key.startsWith(versionLabelPrefix))
		.map(([key, value]): [string, string] => [key.slice(versionLabelPrefix.length), value])
		.sort(([a], [b]) => a.localeCompare(b)));
}

/** Marks the one line of JSON the verify script prints, so image entrypoint chatter cannot confuse it. */
export const verifyMarker = 'STACKWIZ-VERIFY ';

/**
 * Runs inside the image as `python3 -c SCRIPT IDS MODE`: the Python version, installed distributions for
 * the label ids, system NCCL/cuDNN versions from their sonames, and (when torch imports) a CPU matmul, and
 * with MODE=gpu CUDA availability, the devices, the arch list, a GPU matmul checked against the CPU one and
 * the NCCL torch uses. Standard library only; never raises.
 */
export const verifyScript = String.raw`
import glob, json, os, platform, re, sys
out = {"python": platform.python_version()}
ids = json.loads(sys.argv[1])
mode = sys.argv[2]
try:
    from importlib import metadata
except ImportError:
    metadata = None
dists = {}
for name in ids:
    for candidate in (("torch",) if name == "pytorch" else (name, name.replace("_", "-"), name.replace("-", "_"))):
        try:
            dists[name] = metadata.version(candidate)
            break
        except Exception:
            pass
out["distributions"] = dists
libraries = {}
for lib, pattern in (("nccl", "libnccl.so.*"), ("cudnn", "libcudnn.so.*")):
    found = []
    for directory in ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib/sbsa-linux-gnu", "/usr/lib64", "/usr/local/cuda/lib64"):
        found += glob.glob(os.path.join(directory, pattern))
    versions = [m.group(1) for m in (re.search(r"\.so\.(\d+(?:\.\d+)+)$", f) for f in found) if m]
    versions.sort(key=lambda v: [int(p) for p in v.split(".")])
    libraries[lib] = versions[-1] if versions else None
out["libraries"] = libraries
try:
    import torch
    t = {"version": torch.__version__, "cuda": torch.version.cuda}
    a = torch.arange(6.0).reshape(2, 3)
    t["cpuMatmul"] = (a @ torch.ones(3, 2)).tolist()
    try:
        t["cudnn"] = torch.backends.cudnn.version()
    except Exception:
        t["cudnn"] = None
    if mode == "gpu":
        t["cudaAvailable"] = bool(torch.cuda.is_available())
        if t["cudaAvailable"]:
            t["devices"] = [{"name": torch.cuda.get_device_name(i), "capability": "%d.%d" % torch.cuda.get_device_capability(i)} for i in range(torch.cuda.device_count())]
            t["archList"] = torch.cuda.get_arch_list()
            try:
                x = torch.randn(256, 256, device="cuda")
                y = torch.randn(256, 256, device="cuda")
                expected = x.cpu() @ y.cpu()
                t["gpuMatmulError"] = float(((x @ y).cpu() - expected).abs().max() / expected.abs().max())
            except Exception as error:
                t["gpuMatmulFailure"] = "%s: %s" % (type(error).__name__, error)
            try:
                t["nccl"] = ".".join(str(part) for part in torch.cuda.nccl.version())
            except Exception:
                t["nccl"] = None
    out["torch"] = t
except Exception as error:
    out["torch"] = {"error": "%s: %s" % (type(error).__name__, error)}
print("STACKWIZ-VERIFY " + json.dumps(out))
`;

export type VerifyFacts = {
	python: string;
	distributions: Record<string, string>;
	libraries: {nccl: string | null; cudnn: string | null};
	torch?: {
		version?: string;
		cuda?: string | null;
		cpuMatmul?: number[][];
		cudnn?: number | null;
		cudaAvailable?: boolean;
		devices?: Array<{name: string; capability: string}>;
		archList?: string[];
		gpuMatmulError?: number;
		gpuMatmulFailure?: string;
		nccl?: string | null;
		error?: string;
	};
};

export function parseVerifyOutput(stdout: string): VerifyFacts | undefined {
	const line = stdout.split('\n').find(candidate => candidate.startsWith(verifyMarker));
	if (!line) {
		return undefined;
	}

	try {
		return JSON.parse(line.slice(verifyMarker.length)) as VerifyFacts;
	} catch {
		return undefined;
	}
}

/**
 * How a GPU of `capability` gets kernels from an arch list (torch.cuda.get_arch_list()): SASS built for
 * the same major and an equal or lower minor runs as is (CUDA binary compatibility; an arch-specific
 * sm_90a only on 9.0 itself), else PTX of an equal or lower version is JIT-compiled, else nothing runs.
 */
export function archCoverage(archList: string[], capability: string): 'sass' | 'ptx' | 'none' {
	const [major = 0, minor = 0] = capability.split('.').map(Number);
	const wanted = major * 10 + minor;
	const parsed = archList.flatMap(arch => {
		const match = /^(sm|compute)_(\d+)([af]?)$/.exec(arch);
		return match ? [{kind: match[1]!, number: Number.parseInt(match[2]!, 10), suffix: match[3]!}] : [];
	});
	const sass = parsed.some(({kind, number, suffix}) => kind === 'sm' && (suffix === 'a' ? number === wanted : Math.floor(number / 10) === major && number % 10 <= minor));
	if (sass) {
		return 'sass';
	}

	return parsed.some(({kind, number, suffix}) => kind === 'compute' && suffix === '' && number <= wanted) ? 'ptx' : 'none';
}

/** Same arch question for TORCH_CUDA_ARCH_LIST-style plan strings ("7.0;8.0;9.0+PTX"). */
export function archListCoverage(cudaArchList: string, capability: string): 'sass' | 'ptx' | 'none' {
	const entries = cudaArchList.split(/[;\s]+/).filter(Boolean);
	const list = entries.flatMap(entry => {
		const version = entry.replace('+PTX', '').replace('.', '');
		return entry.endsWith('+PTX') ? [`sm_${version}`, `compute_${version}`] : [`sm_${version}`];
	});
	return archCoverage(list, capability);
}

const notFound = (text: string) => /executable file not found|no such file or directory|not found in \$PATH/i.test(text);

/** "2.4.1+cu121" -> "2.4.1": the local part names the wheel's build, not the version. */
const publicVersion = (version: string) => version.replace(/\+.*$/, '');
const parts = (version: string, count: number) => version.split('.').slice(0, count).join('.');

export type VerifyInput = {
	image: string;
	inspect: InspectedImage;
	/** The doctor report of this host's GPUs and driver (GPU probes only). */
	host: HostReport;
	/** Whether the GPU checks run: a driver, at least one GPU and no --cpu. */
	gpu: boolean;
	/** Why the GPU checks were skipped, when they were. */
	skipReason?: string;
	nvidiaSmi?: ProbeOutput;
	python?: ProbeOutput;
	osRelease?: ProbeOutput;
	/** Result of checkImageStart for the image's env on this host. */
	start: StartVerdict;
};

/** The id of the framework among the labels (the catalog's framework ids: pytorch). */
const frameworkIds = ['pytorch'];

export function buildVerifyReport(input: VerifyInput): VerifyCheck[] {
	const checks: VerifyCheck[] = [];
	const versions = labelVersions(input.inspect.labels);
	const {env} = input.inspect;
	checks.push({name: 'image', status: 'pass', detail: `${input.image} (${input.inspect.platform}, ${input.inspect.id.slice(0, 19) || 'no id'})`, fix: null});
	checks.push(versions.size > 0
		? {name: 'labels', status: 'pass', detail: [...versions].map(([id, version]) => `${id} ${version}`).join(', '), fix: null}
		: {name: 'labels', status: 'skip', detail: 'no io.stackwiz.version.* labels: not built by stackwiz, so there are no tier versions to compare', fix: null});

	checks.push(requirementsCheck(input));
	checks.push(capabilitiesCheck(env));

	if (input.gpu) {
		const smi = input.nvidiaSmi;
		checks.push(!smi
			? {name: 'nvidia-smi', status: 'skip', detail: 'not run', fix: null}
			: smi.status === 'ok'
				? {name: 'nvidia-smi', status: 'pass', detail: `nvidia-smi works inside: ${smi.stdout.trim().split('\n').map(line => line.trim()).join('; ')}`, fix: null}
				: {name: 'nvidia-smi', status: 'fail', detail: `\`docker run --gpus all\` with nvidia-smi failed: ${lastMeaningfulLine(smi)}`, fix: dockerGpuFix(smi)});
	}

	const python = input.python;
	const facts = python?.status === 'ok' ? parseVerifyOutput(python.stdout) : undefined;
	const pythonMissing = python !== undefined && python.status !== 'ok' && notFound(`${python.stdout}\n${python.stderr}`);
	const framework = frameworkIds.find(id => versions.has(id));
	const pythonLabel = versions.get('python');
	if (facts) {
		checks.push({name: 'python', status: 'pass', detail: `Python ${facts.python}`, fix: null});
	} else if (pythonMissing) {
		checks.push(pythonLabel || framework
			? {name: 'python', status: 'fail', detail: `python3 is not in the image (${lastMeaningfulLine(python!)}), though its labels say ${pythonLabel ? `Python ${pythonLabel}` : `${framework} ${versions.get(framework!)}`}`, fix: 'Rebuild the basic tier: its install steps did not leave a python3 on PATH.'}
			: {name: 'python', status: 'skip', detail: 'no python3 in the image and no Python label: nothing to run the framework checks with', fix: null});
	} else if (python) {
		checks.push({name: 'python', status: 'fail', detail: `the check script did not run: ${lastMeaningfulLine(python)}`, fix: 'Run it by hand: `docker run --rm --entrypoint python3 IMAGE -c "import torch"` and fix what fails.'});
	}

	checks.push(...frameworkChecks(input, facts, framework, versions, pythonMissing));
	checks.push(versionsCheck(versions, env, facts, input.osRelease, pythonMissing));
	return checks;
}

function lastMeaningfulLine(probe: ProbeOutput): string {
	if (probe.status === 'timeout') {
		return 'timed out';
	}

	if (probe.status === 'missing') {
		return 'the docker CLI is not on PATH';
	}

	const text = `${probe.stderr}\n${probe.stdout}`;
	const exec = /exec: "[^"]+": executable file not found in \$PATH/.exec(text);
	if (exec) {
		return exec[0];
	}

	const lines = text.split('\n').map(line => line.trim()).filter(Boolean);
	const useful = lines.find(line => /nvidia-container-cli|executable file not found|Error response from daemon/.test(line)) ?? lines.at(-1) ?? `exit ${probe.exitCode ?? '?'}`;
	return useful.replace(/^docker: /, '');
}

function dockerGpuFix(probe: ProbeOutput): string {
	const text = `${probe.stdout}\n${probe.stderr}`;
	if (/unsatisfied condition|requirement error/.test(text)) {
		return 'The host driver is too old for the image\'s NVIDIA_REQUIRE_CUDA: upgrade the driver or use an image with an older CUDA tier (see the requirements check).';
	}

	if (/could not select device driver/.test(text)) {
		return 'Docker has no GPU device driver: install the NVIDIA Container Toolkit and restart docker (`sudo nvidia-ctk runtime configure --runtime=docker && sudo systemctl restart docker`).';
	}

	return 'Run `stackwiz doctor` and fix the toolkit/runtime findings, then retry.';
}

function requirementsCheck(input: VerifyInput): VerifyCheck {
	const required = imageRequirements(input.inspect.env);
	if (!required.disabled && required.requirements.length === 0 && !required.error) {
		return {name: 'requirements', status: 'pass', detail: 'the image sets no NVIDIA_REQUIRE_* and no CUDA_VERSION: nothing for the toolkit to check', fix: null};
	}

	const requirement = input.inspect.env['NVIDIA_REQUIRE_CUDA'];
	const shown = requirement === undefined ? 'no NVIDIA_REQUIRE_CUDA' : `NVIDIA_REQUIRE_CUDA=${requirement.length > 60 ? `${requirement.slice(0, 57)}...` : requirement}`;
	const verdict = input.start;
	switch (verdict.status) {
		case 'runs': {
			return {name: 'requirements', status: 'pass', detail: `${shown}: ${verdict.detail}`, fix: null};
		}

		case 'not-checked': {
			return {name: 'requirements', status: 'pass', detail: verdict.detail, fix: null};
		}

		case 'refused': {
			return {
				name: 'requirements',
				status: 'fail',
				detail: `\`docker run --gpus\` would stop with "nvidia-container-cli: ${verdict.message}": ${verdict.reasons.join('; ')}`,
				fix: 'Upgrade the host driver to one that runs this CUDA natively, or plan the image for this driver (`driver:` in the recipe) so it gets a CUDA tier the driver can run.',
			};
		}

		case 'unknown': {
			return {name: 'requirements', status: 'skip', detail: `${shown}: not decided: ${verdict.detail}`, fix: null};
		}

		default: {
			const invalid = invalidTerms(input.inspect.env);
			return invalid.length > 0
				? {name: 'requirements', status: 'fail', detail: `${shown}: nvidia-container-cli rejects ${invalid.map(term => `"${term}"`).join(', ')} as an invalid expression`, fix: 'Fix NVIDIA_REQUIRE_CUDA in the cuda tier (terms are cuda, driver, arch or brand with =, !=, <, <=, >, >=).'}
				: {name: 'requirements', status: 'skip', detail: `${shown}: not evaluated: no NVIDIA driver on this host`, fix: null};
		}
	}
}

function invalidTerms(env: Record<string, string>): string[] {
	return Object.entries(env)
		.filter(([name]) => name.startsWith('NVIDIA_REQUIRE_') && !name.startsWith('NVIDIA_REQUIRE_JETPACK'))
		.flatMap(([, value]) => value.split(/[ ,]/).filter(Boolean).filter(term => !parseDslTerm(term)));
}

function capabilitiesCheck(env: Record<string, string>): VerifyCheck {
	const value = env['NVIDIA_DRIVER_CAPABILITIES'];
	if (value === undefined || value === '') {
		return {name: 'nvidia-env', status: 'pass', detail: 'NVIDIA_DRIVER_CAPABILITIES unset: the toolkit mounts its default, utility,compute', fix: null};
	}

	const capabilities = new Set(value.split(',').map(capability => capability.trim()));
	const missing = capabilities.has('all') ? [] : ['compute', 'utility'].filter(capability => !capabilities.has(capability));
	return missing.length === 0
		? {name: 'nvidia-env', status: 'pass', detail: `NVIDIA_DRIVER_CAPABILITIES=${value}`, fix: null}
		: {
			name: 'nvidia-env',
			status: 'fail',
			detail: `NVIDIA_DRIVER_CAPABILITIES=${value} lacks ${missing.join(' and ')}: ${missing.includes('compute') ? 'libcuda is not mounted, so CUDA cannot start' : 'nvidia-smi and NVML are not mounted'}`,
			fix: 'Set NVIDIA_DRIVER_CAPABILITIES=compute,utility in the cuda tier.',
		};
}

function frameworkChecks(input: VerifyInput, facts: VerifyFacts | undefined, framework: string | undefined, versions: Map<string, string>, pythonMissing: boolean): VerifyCheck[] {
	const gpuSkip = (name: string): VerifyCheck => ({name, status: 'skip', detail: `GPU check skipped: ${input.skipReason ?? 'no GPU'}`, fix: null});
	const gpuNames = ['cuda-available', 'gpu-matmul', 'arch-list'];
	if (!framework) {
		return [{name: 'framework', status: 'skip', detail: 'no framework label (io.stackwiz.version.pytorch): nothing to import', fix: null}];
	}

	const label = `PyTorch ${versions.get(framework)}`;
	if (!facts) {
		const why = pythonMissing ? 'no python3 in the image' : 'the check script did not run';
		return [
			{name: 'framework', status: 'fail', detail: `cannot import ${label}: ${why}`, fix: 'Rebuild the framework tier; `docker run --rm --entrypoint python3 IMAGE -c "import torch"` must work.'},
			...(input.gpu ? gpuNames.map(name => ({name, status: 'fail' as const, detail: `not run: ${why}`, fix: null})) : gpuNames.map(name => gpuSkip(name))),
		];
	}

	const torch = facts.torch;
	if (!torch || torch.error || !torch.version) {
		return [
			{name: 'framework', status: 'fail', detail: `import torch failed: ${torch?.error ?? 'no answer'}`, fix: 'Rebuild the framework tier; its wheels did not install or do not load.'},
			...(input.gpu ? gpuNames.map(name => ({name, status: 'fail' as const, detail: 'not run: torch does not import', fix: null})) : gpuNames.map(name => gpuSkip(name))),
		];
	}

	const expected = [[3, 3], [12, 12]];
	const cpuOk = JSON.stringify(torch.cpuMatmul) === JSON.stringify(expected);
	const checks: VerifyCheck[] = [cpuOk
		? {name: 'framework', status: 'pass', detail: `torch ${torch.version} imports; a CPU matmul is right`, fix: null}
		: {name: 'framework', status: 'fail', detail: `torch ${torch.version} imports but a CPU matmul gave ${JSON.stringify(torch.cpuMatmul)} instead of ${JSON.stringify(expected)}`, fix: 'The wheel is broken for this CPU; rebuild the framework tier.'}];
	if (!input.gpu) {
		return [...checks, ...gpuNames.map(name => gpuSkip(name))];
	}

	if (!torch.cudaAvailable) {
		return [...checks, {name: 'cuda-available', status: 'fail', detail: `torch.cuda.is_available() is False with --gpus all (torch built for CUDA ${torch.cuda ?? 'none: a CPU-only wheel'})`, fix: torch.cuda ? 'The driver cannot run this CUDA (see requirements) or no GPU reached the container (see nvidia-smi).' : 'The framework tier installed a CPU-only torch; install the CUDA wheel (the variant\'s index_url).'}, {name: 'gpu-matmul', status: 'fail', detail: 'not run: CUDA is not available', fix: null}, {name: 'arch-list', status: 'fail', detail: 'not run: CUDA is not available', fix: null}];
	}

	const devices = torch.devices ?? [];
	checks.push({name: 'cuda-available', status: 'pass', detail: `torch sees ${plural(devices.length, 'GPU')}: ${devices.map(device => `${device.name} (${smName(device.capability)})`).join(', ')}`, fix: null});
	checks.push(torch.gpuMatmulFailure
		? {name: 'gpu-matmul', status: 'fail', detail: `a 256x256 matmul on the GPU failed: ${torch.gpuMatmulFailure}`, fix: 'Often "no kernel image is available": the wheel lacks this GPU\'s architecture (see arch-list).'}
		: (torch.gpuMatmulError ?? 1) < 1e-2
			? {name: 'gpu-matmul', status: 'pass', detail: `a 256x256 matmul on the GPU matches the CPU (relative error ${(torch.gpuMatmulError ?? 0).toExponential(1)})`, fix: null}
			: {name: 'gpu-matmul', status: 'fail', detail: `the GPU matmul differs from the CPU by ${torch.gpuMatmulError} (relative)`, fix: 'Check the GPU (dmesg Xid errors, nvidia-smi -q ECC counters).'});
	const archList = torch.archList ?? [];
	const coverage = devices.map(device => ({device, how: archCoverage(archList, device.capability)}));
	const uncovered = coverage.filter(entry => entry.how === 'none');
	const viaPtx = coverage.filter(entry => entry.how === 'ptx');
	checks.push(uncovered.length > 0
		? {name: 'arch-list', status: 'fail', detail: `torch.cuda.get_arch_list() (${archList.join(' ')}) has no kernels for ${uncovered.map(entry => `${entry.device.name} (${smName(entry.device.capability)})`).join(', ')}`, fix: 'Use a framework version whose wheels include this architecture (the plan lists each wheel\'s arch_list).'}
		: {name: 'arch-list', status: 'pass', detail: `torch.cuda.get_arch_list() covers ${coverage.map(entry => smName(entry.device.capability)).join(', ')}${viaPtx.length > 0 ? ` (${viaPtx.map(entry => smName(entry.device.capability)).join(', ')} through PTX JIT: slower first start)` : ''}`, fix: null});
	return checks;
}

function osFacts(probe: ProbeOutput | undefined): {id: string; version: string} | undefined {
	if (probe?.status !== 'ok') {
		return undefined;
	}

	const value = (key: string) => new RegExp(`^${key}="?([^"\\n]*)"?$`, 'm').exec(probe.stdout)?.[1];
	const id = value('ID');
	const version = value('VERSION_ID');
	return id && version ? {id, version} : undefined;
}

function versionsCheck(versions: Map<string, string>, env: Record<string, string>, facts: VerifyFacts | undefined, osRelease: ProbeOutput | undefined, pythonMissing: boolean): VerifyCheck {
	if (versions.size === 0) {
		return {name: 'versions', status: 'skip', detail: 'no tier labels to compare with', fix: null};
	}

	const matched: string[] = [];
	const mismatched: string[] = [];
	const unchecked: string[] = [];
	const os = osFacts(osRelease);
	for (const [id, label] of versions) {
		let actual: string | undefined;
		let same = false;
		let where = '';
		if (id === 'cuda') {
			const sources = [
				...(env['CUDA_VERSION'] ? [{where: 'CUDA_VERSION', value: env['CUDA_VERSION'], same: env['CUDA_VERSION'] === label}] : []),
				...(facts?.torch?.cuda ? [{where: 'torch.version.cuda', value: facts.torch.cuda, same: parts(label, 2) === parts(facts.torch.cuda, 2)}] : []),
			];
			for (const source of sources) {
				(source.same ? matched : mismatched).push(source.same ? `cuda ${source.value} (${source.where})` : `cuda: label ${label}, ${source.where} ${source.value}`);
			}

			if (sources.length === 0) {
				unchecked.push(id);
			}

			continue;
		}

		if (id === 'python' && facts) {
			[actual, where, same] = [facts.python, 'python3', facts.python === label];
		} else if ((id === 'nccl' || id === 'cudnn') && facts?.libraries[id]) {
			actual = facts.libraries[id]!;
			where = `lib${id}.so.${actual}`;
			same = parts(actual, 3) === parts(label, 3);
		} else if (facts?.distributions[id]) {
			actual = facts.distributions[id];
			where = id === 'pytorch' ? 'torch' : 'pip';
			same = publicVersion(actual) === publicVersion(label);
		} else if (os && id === os.id) {
			[actual, where, same] = [os.version, '/etc/os-release', os.version === label];
		}

		if (actual === undefined) {
			unchecked.push(id);
		} else if (same) {
			matched.push(`${id} ${actual}${where === 'pip' || where === 'python3' ? '' : ` (${where})`}`);
		} else {
			mismatched.push(`${id}: label ${label}, ${where} ${actual}`);
		}
	}

	const why = pythonMissing ? 'no python3 in the image' : facts ? 'not a Python package or system library stackwiz can read' : 'the check script did not run';
	const rest = unchecked.length > 0 ? `; not compared: ${unchecked.join(', ')} (${why})` : '';
	if (mismatched.length > 0) {
		return {name: 'versions', status: 'fail', detail: `${mismatched.join('; ')}${matched.length > 0 ? `; matching: ${matched.join(', ')}` : ''}${rest}`, fix: 'A tier installed something other than its label says: rebuild it (check its install steps pin the version).'};
	}

	return matched.length > 0
		? {name: 'versions', status: 'pass', detail: `match the labels: ${matched.join(', ')}${rest}`, fix: null}
		: {name: 'versions', status: 'skip', detail: `nothing could be compared${rest}`, fix: null};
}

// ---------------------------------------------------------------------------------------------------
// `stackwiz plan RECIPE --host`: would each planned image start here?

/** The environment an image's top tier ends up with: every tier's ENV, bottom up, later ones winning. */
export function imageEnv(tree: TierTree, leafId: string): Record<string, string> {
	const byId = new Map(tree.nodes.map(node => [node.id, node]));
	const chain = [];
	for (let node = byId.get(leafId); node; node = node.parent ? byId.get(node.parent) : undefined) {
		chain.unshift(node);
	}

	return Object.fromEntries(chain.flatMap(node => node.env));
}

export type ImageOnHost = {
	image: string;
	/** true: starts with --gpus here; false: it does not; null: stackwiz could not decide. */
	runnable: boolean | null;
	status: StartVerdict['status'];
	summary: string;
	reasons: string[];
	/** What starts but may still disappoint: GPUs whose kernels come from PTX JIT or are missing. */
	notes: string[];
};

export type PlanOnHost = {driver: string | null; cuda: string | null; gpus: Array<{name: string; computeCapability: string | null}>; problem: string | null; images: ImageOnHost[]};

/** Evaluates every planned image's NVIDIA_REQUIRE_* against this host, like nvidia-container-cli at `docker run --gpus`. */
export function planOnHost(tree: TierTree, host: HostReport): PlanOnHost {
	const requireHost = requireHostOf(host);
	const images = tree.images.map((image): ImageOnHost => {
		const leaf = tree.leaves.get(image.name)!;
		const verdict = checkImageStart(imageEnv(tree, leaf), requireHost);
		const notes = host.gpus.flatMap(gpu => {
			if (!gpu.computeCapability) {
				return [`${gpu.name}: compute capability unknown, kernels not checked`];
			}

			const how = archListCoverage(image.cudaArchList, gpu.computeCapability);
			return how === 'sass' ? [] : how === 'ptx'
				? [`${gpu.name} (${smName(gpu.computeCapability)}) runs through PTX JIT from ${image.cudaArchList} (slower first start)`]
				: [`${gpu.name} (${smName(gpu.computeCapability)}) has no kernels in ${image.cudaArchList}: the image starts but the framework cannot use this GPU`];
		});
		switch (verdict.status) {
			case 'runs':
			case 'not-checked': {
				return {image: image.name, runnable: true, status: verdict.status, summary: verdict.detail, reasons: [], notes};
			}

			case 'refused': {
				return {image: image.name, runnable: false, status: verdict.status, summary: `nvidia-container-cli: ${verdict.message}`, reasons: verdict.reasons, notes};
			}

			case 'no-driver': {
				return {image: image.name, runnable: false, status: verdict.status, summary: verdict.detail, reasons: [], notes: []};
			}

			default: {
				return {image: image.name, runnable: null, status: verdict.status, summary: verdict.detail, reasons: [], notes};
			}
		}
	});
	return {
		driver: host.driver,
		cuda: host.cudaDriver ?? host.cudaNative,
		gpus: host.gpus.map(gpu => ({name: gpu.name, computeCapability: gpu.computeCapability})),
		problem: host.driverProblem,
		images,
	};
}

export function formatPlanOnHost(onHost: PlanOnHost): string {
	const head = onHost.driver
		? `on this host: driver ${onHost.driver}${onHost.cuda ? ` (CUDA ${onHost.cuda})` : ''}, ${onHost.gpus.length > 0 ? onHost.gpus.map(gpu => `${gpu.name}${gpu.computeCapability ? ` ${smName(gpu.computeCapability)}` : ''}`).join(', ') : 'no GPU'}`
		: `on this host: no NVIDIA driver (${onHost.problem ?? 'nvidia-smi gave no driver version'})`;
	const width = Math.max(...onHost.images.map(image => image.image.length));
	const verdictWord = (image: ImageOnHost) => (image.runnable === true ? 'runs      ' : image.runnable === false ? 'won\'t run ' : 'unknown   ');
	const lines = [head];
	for (const image of onHost.images) {
		lines.push(`  ${image.image.padEnd(width)}  ${verdictWord(image)}${image.summary}`);
		for (const reason of image.reasons) {
			lines.push(`  ${' '.repeat(width)}  ${' '.repeat(10)}${reason}`);
		}

		for (const note of image.notes) {
			lines.push(`  ${' '.repeat(width)}  ${' '.repeat(10)}note: ${note}`);
		}
	}

	return lines.join('\n');
}
