import {builderNamePattern} from '../../core/generate.js';
import {UserError} from '../../errors.js';
import {docker, firstErrorLine, type DockerResult} from './docker-cli.js';
import {childSignal} from './registry.js';

/** Ends a sentence that quotes an error, without doubling its punctuation. */
const sentence = (text: string) => (/[.?!]$/.test(text) ? text : `${text}.`);

/** The oldest buildx whose bake prints `--progress=rawjson` (0.12.0 vendored it). */
export const minimumBuildx = {major: 0, minor: 12, patch: 0} as const;

export type BuildxVersion = {version: string; major: number; minor: number; patch: number};

export type BuilderInfo = {
	name: string;
	driver: string;
	status: string | null;
	buildkit: string | null;
	platforms: string[];
	error: string | null;
};

export type Preflight = {buildx: BuildxVersion; builder: BuilderInfo; serverVersion: string};

/** A bake file as far as feature checks care. */
export type BakeFeatures = {target: Record<string, {platforms?: string[]; 'cache-to'?: string[]; attest?: string[]}>};

/**
 * Parses `docker buildx version`: "github.com/docker/buildx 0.13.1+ds1 0.13.1+ds1-3" (Debian) or
 * "github.com/docker/buildx v0.19.2 1fc5647" (upstream).
 */
export function parseBuildxVersion(output: string): BuildxVersion | undefined {
	const match = /(?:^|\s)v?(\d+)\.(\d+)\.(\d+)(\S*)/.exec(output.replace(/^\S*buildx\S*/, ''));
	if (!match) {
		return undefined;
	}

	return {version: `${match[1]}.${match[2]}.${match[3]}${match[4] ?? ''}`, major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3])};
}

export function versionAtLeast(version: BuildxVersion, minimum: {major: number; minor: number; patch: number}): boolean {
	if (version.major !== minimum.major) {
		return version.major > minimum.major;
	}

	if (version.minor !== minimum.minor) {
		return version.minor > minimum.minor;
	}

	return version.patch >= minimum.patch;
}

/** Parses `docker buildx inspect [NAME]`; platforms are the union over the builder's nodes. */
export function parseBuilderInspect(output: string): BuilderInfo {
	const info: BuilderInfo = {name: '', driver: '', status: null, buildkit: null, platforms: [], error: null};
	for (const line of output.split('\n')) {
		const match = /^([A-Za-z][A-Za-z ]*?):\s*(.*)$/.exec(line.trim());
		if (!match) {
			continue;
		}

		const [, key, value = ''] = match;
		switch (key) {
			case 'Name': {
				info.name ||= value;
				break;
			}

			case 'Driver': {
				info.driver ||= value;
				break;
			}

			case 'Status': {
				info.status ??= value;
				break;
			}

			case 'BuildKit version':
			case 'Buildkit': {
				info.buildkit ??= value;
				break;
			}

			case 'Platforms': {
				for (const platform of value.split(',').map(part => part.trim().replace(/\*$/, ''))) {
					if (platform && !info.platforms.includes(platform)) {
						info.platforms.push(platform);
					}
				}

				break;
			}

			case 'Error': {
				info.error ??= value;
				break;
			}

			default: {
				break;
			}
		}
	}

	return info;
}

/** A builder that can build `platform`: "linux/amd64" is served by "linux/amd64" and its /v2, /v3 variants. */
function builds(builder: BuilderInfo, platform: string): boolean {
	return builder.platforms.some(offered => offered === platform || offered.startsWith(`${platform}/`) || platform.startsWith(`${offered}/`));
}

/**
 * Features of the bake file this builder cannot do, each as a sentence with its reason. The docker
 * driver without the containerd image store can neither export cache (except inline) nor build
 * several platforms or attestations; a builder only builds the platforms it lists.
 */
export function unsupportedFeatures(bake: BakeFeatures, builder: BuilderInfo, containerdStore: boolean): string[] {
	const problems: string[] = [];
	const limitedDocker = builder.driver === 'docker' && !containerdStore;
	for (const [name, target] of Object.entries(bake.target)) {
		const platforms = target.platforms ?? [];
		if (limitedDocker && platforms.length > 1) {
			problems.push(`target ${name} builds ${platforms.length} platforms (${platforms.join(', ')}), and the docker driver of builder "${builder.name}" builds one platform at a time`);
		}

		for (const cache of target['cache-to'] ?? []) {
			const type = /(?:^|,)type=([^,]+)/.exec(cache)?.[1] ?? 'registry';
			if (limitedDocker && type !== 'inline') {
				problems.push(`target ${name} exports its build cache (cache-to type=${type}), and the docker driver of builder "${builder.name}" can only export inline cache`);
			}
		}

		if (limitedDocker && (target.attest ?? []).length > 0) {
			problems.push(`target ${name} asks for attestations, and the docker driver of builder "${builder.name}" cannot add them`);
		}

		if (builder.platforms.length > 0) {
			for (const platform of platforms) {
				if (!builds(builder, platform)) {
					problems.push(`target ${name} is for ${platform}, and builder "${builder.name}" builds only ${builder.platforms.join(', ')}`);
				}
			}
		}
	}

	return [...new Set(problems)];
}

const needsContainerdCheck = (bake: BakeFeatures) =>
	Object.values(bake.target).some(target => (target.platforms ?? []).length > 1 || (target['cache-to'] ?? []).length > 0 || (target.attest ?? []).length > 0);

/**
 * What Docker must offer before a build starts, each failure a UserError (exit 2) that says how to
 * fix it: the docker CLI, the daemon, buildx and its version, the builder and its driver, and what
 * the bake file needs from them. The calls run at once (each docker plugin call costs a process
 * start); their answers are judged in that order, so the first problem reported is the same as if
 * they ran one by one, and the calls still running are then stopped.
 */
export async function preflight(options: {builder?: string; bake: BakeFeatures; signal?: AbortSignal}): Promise<Preflight> {
	if (options.builder !== undefined && !builderNamePattern.test(options.builder)) {
		throw new UserError(`"${options.builder}" is not a builder name.`, 'Pass a name from `docker buildx ls`, e.g. --builder default.');
	}

	const stop = childSignal(options.signal);
	const {signal} = stop;
	const started = {
		version: docker(['version', '--format', '{{.Server.Version}}'], {signal}),
		buildx: docker(['buildx', 'version'], {signal}),
		inspect: docker(['buildx', 'inspect', ...(options.builder ? [options.builder] : [])], {signal}),
	};
	try {
		return await judge(started, options);
	} finally {
		stop.abort();
		stop.done();
		await Promise.allSettled(Object.values(started));
	}
}

type StartedChecks = {version: Promise<DockerResult>; buildx: Promise<DockerResult>; inspect: Promise<DockerResult>};

async function judge(started: StartedChecks, options: {builder?: string; bake: BakeFeatures; signal?: AbortSignal}): Promise<Preflight> {
	const version = await started.version;
	if (version.missing) {
		throw new UserError('docker was not found on PATH.', 'Install Docker Engine and its CLI (https://docs.docker.com/engine/install/), then run again.');
	}

	if (version.exitCode !== 0 || version.stdout.trim() === '') {
		const reason = firstErrorLine(version.stderr);
		const hint = /permission denied/i.test(reason)
			? 'Add your user to the docker group (`sudo usermod -aG docker $USER`, then log in again), or run stackwiz with sudo.'
			: 'Start the daemon (for example `sudo systemctl start docker`) or point DOCKER_HOST at a running one, then run again.';
		throw new UserError(sentence(`the Docker daemon is not reachable: ${reason}`), hint);
	}

	const buildxOutput = await started.buildx;
	const buildx = buildxOutput.exitCode === 0 ? parseBuildxVersion(buildxOutput.stdout) : undefined;
	if (!buildx) {
		throw new UserError(
			buildxOutput.exitCode === 0 ? `cannot read the buildx version from "${buildxOutput.stdout.trim()}".` : 'docker buildx is not installed.',
			'Install the buildx plugin (Debian/Ubuntu: `apt-get install docker-buildx`; Docker\'s repository: docker-buildx-plugin), then run again.',
		);
	}

	if (!versionAtLeast(buildx, minimumBuildx)) {
		throw new UserError(`docker buildx ${buildx.version} is too old: stackwiz needs ${minimumBuildx.major}.${minimumBuildx.minor}.${minimumBuildx.patch} or newer for --progress=rawjson.`, 'Upgrade the buildx plugin (https://github.com/docker/buildx/releases), then run again.');
	}

	const inspect = await started.inspect;
	const shownName = options.builder ?? 'the default builder';
	if (inspect.exitCode !== 0) {
		const reason = firstErrorLine(inspect.stderr || inspect.stdout);
		if (/no builder .* found|not found/i.test(reason)) {
			throw new UserError(`builder "${options.builder ?? ''}" was not found.`, `List the builders with \`docker buildx ls\`, create one with \`docker buildx create --name ${options.builder ?? 'NAME'}\`, or drop --builder.`);
		}

		throw new UserError(sentence(`${shownName} cannot be inspected: ${reason}`), 'Check it with `docker buildx inspect --bootstrap`, or pick another with --builder.');
	}

	const builder = parseBuilderInspect(inspect.stdout);
	if (builder.error) {
		throw new UserError(sentence(`builder "${builder.name || shownName}" does not work: ${builder.error}`), `Check it with \`docker buildx inspect --bootstrap ${builder.name}\`, or pick another with --builder.`);
	}

	let containerdStore = false;
	if (builder.driver === 'docker' && needsContainerdCheck(options.bake)) {
		const info = await docker(['info', '--format', '{{json .DriverStatus}}'], {...(options.signal ? {signal: options.signal} : {})});
		containerdStore = info.stdout.includes('io.containerd.snapshotter');
	}

	const problems = unsupportedFeatures(options.bake, builder, containerdStore);
	if (problems.length > 0) {
		throw new UserError(
			`the build needs what builder "${builder.name}" (${builder.driver} driver) cannot do: ${problems.join('; ')}.`,
			'Use a docker-container builder (`docker buildx create --name stackwiz --driver docker-container --use`, then --builder stackwiz), or turn on the containerd image store.',
		);
	}

	return {buildx, builder, serverVersion: version.stdout.trim()};
}
