import {mkdtemp} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterEach, describe, expect, test, vi} from 'vitest';
import {UserError} from '../../../source/errors.js';
import {parseBuilderInspect, parseBuildxVersion, preflight, unsupportedFeatures, type BuilderInfo} from '../../../source/services/docker/preflight.js';
import {useFakeDocker} from './fake-docker.js';

afterEach(() => {
	vi.unstubAllEnvs();
});

const singlePlatform = {target: {base: {platforms: ['linux/amd64']}}};

/** The UserError a preflight throws, as `message | hint | exit code`. */
async function preflightError(options: Parameters<typeof preflight>[0]): Promise<string> {
	try {
		await preflight(options);
	} catch (error) {
		if (error instanceof UserError) {
			return `${error.message} | ${error.hint ?? ''} | ${error.exitCode}`;
		}

		throw error;
	}

	return 'no error';
}

describe('parseBuildxVersion', () => {
	test('reads Debian and upstream version lines', () => {
		expect(parseBuildxVersion('github.com/docker/buildx 0.13.1+ds1 0.13.1+ds1-3')).toEqual({version: '0.13.1+ds1', major: 0, minor: 13, patch: 1});
		expect(parseBuildxVersion('github.com/docker/buildx v0.19.2 1fc5647dc281ca3c2ad5b451aeff2dce84f1dc49')).toEqual({version: '0.19.2', major: 0, minor: 19, patch: 2});
		expect(parseBuildxVersion('github.com/docker/buildx v0.15.0-desktop.1 abc')).toEqual({version: '0.15.0-desktop.1', major: 0, minor: 15, patch: 0});
		expect(parseBuildxVersion('something else')).toBeUndefined();
	});
});

describe('parseBuilderInspect', () => {
	test('reads name, driver, node status, BuildKit version, platforms and errors', () => {
		const text = 'Name:          default\nDriver:        docker\nLast Activity: 2026-11-22 22:43:07 +0000 UTC\n\nNodes:\nName:             default\nEndpoint:         default\nStatus:           running\nBuildKit version: v0.0.0+unknown\nPlatforms:        linux/amd64, linux/amd64/v2, linux/386\nLabels:\n org.mobyproject.buildkit.worker.moby.host-gateway-ip: 172.17.0.1\n';
		expect(parseBuilderInspect(text)).toEqual({name: 'default', driver: 'docker', status: 'running', buildkit: 'v0.0.0+unknown', platforms: ['linux/amd64', 'linux/amd64/v2', 'linux/386'], error: null});
		expect(parseBuilderInspect('Name:   default\nDriver:   \nError:    Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?\n').error).toBe('Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?');
	});
});

describe('unsupportedFeatures', () => {
	const dockerDriver: BuilderInfo = {name: 'default', driver: 'docker', status: 'running', buildkit: null, platforms: ['linux/amd64', 'linux/amd64/v2'], error: null};

	test('the docker driver refuses registry cache export and multi-platform, with the reason', () => {
		const bake = {target: {cuda: {platforms: ['linux/amd64', 'linux/arm64'], 'cache-to': ['type=registry,ref=r/cache:cuda', 'type=inline']}}};
		expect(unsupportedFeatures(bake, dockerDriver, false)).toEqual([
			'target cuda builds 2 platforms (linux/amd64, linux/arm64), and the docker driver of builder "default" builds one platform at a time',
			'target cuda exports its build cache (cache-to type=registry), and the docker driver of builder "default" can only export inline cache',
			'target cuda is for linux/arm64, and builder "default" builds only linux/amd64, linux/amd64/v2',
		]);
	});

	test('a docker-container builder or the containerd image store can do them', () => {
		const bake = {target: {cuda: {platforms: ['linux/amd64'], 'cache-to': ['type=registry,ref=r/cache:cuda']}}};
		expect(unsupportedFeatures(bake, {...dockerDriver, driver: 'docker-container'}, false)).toEqual([]);
		expect(unsupportedFeatures(bake, dockerDriver, true)).toEqual([]);
		expect(unsupportedFeatures(singlePlatform, {...dockerDriver, platforms: []}, false)).toEqual([]);
	});
});

describe('preflight against a fake docker', () => {
	test('a working setup returns the versions and the builder', async () => {
		useFakeDocker();
		await expect(preflight({bake: singlePlatform})).resolves.toEqual({
			buildx: {version: '0.13.1+ds1', major: 0, minor: 13, patch: 1},
			builder: {name: 'default', driver: 'docker', status: 'running', buildkit: 'v0.0.0+unknown', platforms: ['linux/amd64', 'linux/amd64/v2', 'linux/386'], error: null},
			serverVersion: '26.1.5+dfsg1',
		});
	});

	test('no docker on PATH', async () => {
		vi.stubEnv('PATH', await mkdtemp(path.join(tmpdir(), 'stackwiz-empty-')));
		expect(await preflightError({bake: singlePlatform})).toBe('docker was not found on PATH. | Install Docker Engine and its CLI (https://docs.docker.com/engine/install/), then run again. | 2');
	});

	test('the daemon is down', async () => {
		useFakeDocker({FAKE_DOCKER_DAEMON: 'down'});
		expect(await preflightError({bake: singlePlatform})).toBe('the Docker daemon is not reachable: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running? | Start the daemon (for example `sudo systemctl start docker`) or point DOCKER_HOST at a running one, then run again. | 2');
	});

	test('buildx is missing or too old', async () => {
		useFakeDocker({FAKE_BUILDX_VERSION: 'missing'});
		expect(await preflightError({bake: singlePlatform})).toBe("docker buildx is not installed. | Install the buildx plugin (Debian/Ubuntu: `apt-get install docker-buildx`; Docker's repository: docker-buildx-plugin), then run again. | 2");
		vi.stubEnv('FAKE_BUILDX_VERSION', 'github.com/docker/buildx v0.11.2 9872040');
		expect(await preflightError({bake: singlePlatform})).toBe('docker buildx 0.11.2 is too old: stackwiz needs 0.12.0 or newer for --progress=rawjson. | Upgrade the buildx plugin (https://github.com/docker/buildx/releases), then run again. | 2');
	});

	test('an unknown builder, and a builder that reports an error', async () => {
		useFakeDocker();
		expect(await preflightError({builder: 'nosuch', bake: singlePlatform})).toBe('builder "nosuch" was not found. | List the builders with `docker buildx ls`, create one with `docker buildx create --name nosuch`, or drop --builder. | 2');
		vi.stubEnv('FAKE_BUILDX_INSPECT', 'Name:   remote1\nDriver:   remote\n\nNodes:\nName:   remote10\nStatus:   inactive\nError:    dial tcp 10.0.0.1:1234: connect: connection refused\n');
		expect(await preflightError({builder: 'remote1', bake: singlePlatform})).toBe('builder "remote1" does not work: dial tcp 10.0.0.1:1234: connect: connection refused. | Check it with `docker buildx inspect --bootstrap remote1`, or pick another with --builder. | 2');
	});

	test('the calls run at once, but the first problem in the fixed order is the one reported', async () => {
		useFakeDocker({FAKE_DOCKER_DAEMON: 'down', FAKE_BUILDX_VERSION: 'missing'});
		expect(await preflightError({bake: singlePlatform})).toMatch(/^the Docker daemon is not reachable: /);
	});

	test('a feature the builder lacks is refused before the build', async () => {
		useFakeDocker();
		expect(await preflightError({bake: {target: {cuda: {platforms: ['linux/amd64', 'linux/arm64']}}}})).toBe(
			'the build needs what builder "default" (docker driver) cannot do: target cuda builds 2 platforms (linux/amd64, linux/arm64), and the docker driver of builder "default" builds one platform at a time; target cuda is for linux/arm64, and builder "default" builds only linux/amd64, linux/amd64/v2, linux/386. | Use a docker-container builder (`docker buildx create --name stackwiz --driver docker-container --use`, then --builder stackwiz), or turn on the containerd image store. | 2',
		);
	});
});
