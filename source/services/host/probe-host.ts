import {readdir, readFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {computeCapUnsupported, parseDockerInfo, type HostProbes, type ProbeOutput} from '../../core/host-report.js';
import {runProbe, type ProbeOptions} from './run-probe.js';

/** The query doctor and `gpus: [auto]` read: one CSV row per GPU. */
export const smiQueryArgs = ['--query-gpu=name,compute_cap,driver_version,memory.total', '--format=csv,noheader'];
/** The same for drivers before R510, which reject compute_cap. */
export const smiLegacyQueryArgs = ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'];
/** Where the NVIDIA Container Toolkit looks for CDI specs unless the daemon names others. */
export const defaultCdiDirectories = ['/etc/cdi', '/var/run/cdi'];

export type GpuProbes = Pick<HostProbes, 'smiQuery' | 'smiLegacyQuery' | 'smiDetails' | 'smiList' | 'containerCliInfo' | 'containerCliVersion'>;

/** nvidia-smi's GPU rows, falling back to the query without compute_cap on old drivers. */
export async function probeGpuRows(options: ProbeOptions = {}): Promise<Pick<HostProbes, 'smiQuery' | 'smiLegacyQuery'>> {
	const smiQuery = await runProbe('nvidia-smi', smiQueryArgs, options);
	return computeCapUnsupported(smiQuery)
		? {smiQuery, smiLegacyQuery: await runProbe('nvidia-smi', smiLegacyQueryArgs, options)}
		: {smiQuery};
}

/** Everything about the GPUs and driver: nvidia-smi rows, -q, -L, and the toolkit's own view. */
export async function probeGpus(options: ProbeOptions = {}): Promise<GpuProbes> {
	const [rows, containerCliVersion] = await Promise.all([
		probeGpuRows(options),
		runProbe('nvidia-container-cli', ['--version'], {...options, timeoutMs: 10_000}),
	]);
	const answered = rows.smiQuery.status === 'ok' || rows.smiLegacyQuery?.status === 'ok';
	if (!answered) {
		return {...rows, containerCliVersion};
	}

	const [smiDetails, smiList, containerCliInfo] = await Promise.all([
		runProbe('nvidia-smi', ['-q'], options),
		runProbe('nvidia-smi', ['-L'], options),
		containerCliVersion.status === 'ok' ? runProbe('nvidia-container-cli', ['info'], options) : Promise.resolve(undefined),
	]);
	return {...rows, smiDetails, smiList, ...(containerCliInfo ? {containerCliInfo} : {}), containerCliVersion};
}

/** CDI spec files (*.json, *.yaml) in each directory; a missing directory is simply empty. */
export async function listCdiSpecs(directories: string[]): Promise<NonNullable<HostProbes['cdi']>> {
	return Promise.all(directories.map(async directory => {
		try {
			const entries = await readdir(directory);
			return {directory, files: entries.filter(name => /\.(json|ya?ml)$/.test(name)).sort().map(name => path.join(directory, name))};
		} catch (error) {
			const code = (error as NodeJS.ErrnoException).code;
			return code === 'ENOENT' || code === 'ENOTDIR' ? {directory, files: []} : {directory, files: [], error: code ?? 'unreadable'};
		}
	}));
}

/**
 * Registries the docker config file ($DOCKER_CONFIG/config.json, else ~/.docker/config.json) has credentials
 * for: the keys of `auths` and `credHelpers`, and the name of `credsStore`. The credentials are never read out.
 */
export async function readRegistryLogins(configDirectory = process.env['DOCKER_CONFIG'] ?? path.join(os.homedir(), '.docker')): Promise<NonNullable<HostProbes['registry']>> {
	const file = path.join(configDirectory, 'config.json');
	let text: string;
	try {
		text = await readFile(file, 'utf8');
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		return code === 'ENOENT' ? {file, registries: []} : {file, registries: [], error: code ?? 'unreadable'};
	}

	let config: unknown;
	try {
		config = JSON.parse(text);
	} catch {
		return {file, registries: [], error: 'not valid JSON'};
	}

	const record = typeof config === 'object' && config !== null ? config as Record<string, unknown> : {};
	const keys = (value: unknown) => (typeof value === 'object' && value !== null ? Object.keys(value) : []);
	const registries = [...new Set([...keys(record['auths']), ...keys(record['credHelpers'])])].sort();
	const credsStore = typeof record['credsStore'] === 'string' && record['credsStore'] !== '' ? record['credsStore'] : undefined;
	return {file, registries, ...(credsStore ? {credsStore} : {})};
}

export type HostProbeOptions = ProbeOptions & {
	/** Overrides the CDI directories (else the daemon's CDISpecDirs, else /etc/cdi and /var/run/cdi). */
	cdiDirectories?: string[];
	dockerConfigDirectory?: string;
};

/** Runs every doctor probe; independent ones in parallel. */
export async function probeHost(options: HostProbeOptions = {}): Promise<HostProbes> {
	const quick = {...options, timeoutMs: 10_000};
	const [gpus, ctkVersion, dockerInfo, registry] = await Promise.all([
		probeGpus(options),
		runProbe('nvidia-ctk', ['--version'], quick),
		runProbe('docker', ['info', '--format', '{{json .}}'], options),
		readRegistryLogins(options.dockerConfigDirectory),
	]);
	const [buildxVersion, buildxList] = dockerInfo.status === 'missing'
		? [dockerInfo, undefined]
		: await Promise.all([runProbe('docker', ['buildx', 'version'], quick), runProbe('docker', ['buildx', 'ls'], quick)]);
	const daemonDirectories = dockerInfo.status === 'ok' ? parseDockerInfo(dockerInfo.stdout)?.cdiSpecDirs ?? [] : [];
	const cdi = await listCdiSpecs(options.cdiDirectories ?? (daemonDirectories.length > 0 ? daemonDirectories : defaultCdiDirectories));
	return {
		...gpus,
		ctkVersion,
		dockerInfo,
		buildxVersion: buildxVersion as ProbeOutput,
		...(buildxList ? {buildxList} : {}),
		cdi,
		registry,
	};
}
