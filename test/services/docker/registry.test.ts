import {createHash} from 'node:crypto';
import {createServer, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {mkdtemp, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, afterEach, beforeAll, describe, expect, test, vi} from 'vitest';
import {checkRegistry, inspectImage, parseReference, registryHost} from '../../../source/services/docker/registry.js';
import {closedPort, useFakeDocker} from './fake-docker.js';

const digestOf = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;
const manifest = JSON.stringify({schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json', config: {digest: 'sha256:c', size: 10}, layers: [{digest: 'sha256:l1', size: 1000}, {digest: 'sha256:l2', size: 234}]});
const platformManifest = JSON.stringify({schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', layers: [{digest: 'sha256:l1', size: 1000}]});
const index = JSON.stringify({
	schemaVersion: 2,
	mediaType: 'application/vnd.oci.image.index.v1+json',
	manifests: [
		{digest: 'sha256:arm', mediaType: 'application/vnd.oci.image.manifest.v1+json', platform: {os: 'linux', architecture: 'arm64'}},
		{digest: digestOf(platformManifest), mediaType: 'application/vnd.oci.image.manifest.v1+json', platform: {os: 'linux', architecture: 'amd64'}},
		{digest: 'sha256:att', mediaType: 'application/vnd.oci.image.manifest.v1+json', platform: {os: 'unknown', architecture: 'unknown'}, annotations: {'vnd.docker.reference.type': 'attestation-manifest'}},
	],
});

/** A registry v2 API with three manifests, and a path that wants a login. */
const routes = new Map<string, string>([
	['/v2/e2e/stackwiz/base/manifests/t1', manifest],
	['/v2/e2e/stackwiz/multi/manifests/t1', index],
	[`/v2/e2e/stackwiz/multi/manifests/${digestOf(platformManifest)}`, platformManifest],
]);
let server: Server;
let host: string;
const seen: Array<{url: string; accept: string}> = [];

beforeAll(async () => {
	server = createServer((request, response) => {
		seen.push({url: request.url ?? '', accept: request.headers.accept ?? ''});
		if (request.url === '/v2/') {
			response.writeHead(200).end('{}');
			return;
		}

		if (request.url?.startsWith('/v2/private/')) {
			response.writeHead(401, {'www-authenticate': 'Bearer realm="x"'}).end();
			return;
		}

		const body = routes.get(request.url ?? '');
		if (body === undefined) {
			response.writeHead(404).end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
			return;
		}

		response.writeHead(200, {'content-type': JSON.parse(body).mediaType as string, 'docker-content-digest': digestOf(body)}).end(body);
	});
	await new Promise<void>(resolve => {
		server.listen(0, '127.0.0.1', resolve);
	});
	host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
	await new Promise(resolve => {
		server.close(resolve);
	});
});

afterEach(() => {
	vi.unstubAllEnvs();
});

describe('references', () => {
	test('split into host, repository and tag or digest', () => {
		expect(parseReference('127.0.0.1:5000/e2e/stackwiz/base:busybox1.36-b8309577')).toEqual({host: '127.0.0.1:5000', repository: 'e2e/stackwiz/base', reference: 'busybox1.36-b8309577'});
		expect(parseReference('127.0.0.1:5000/x@sha256:abc')).toEqual({host: '127.0.0.1:5000', repository: 'x', reference: 'sha256:abc'});
		expect(parseReference('acme/stackwiz/cuda:12')).toEqual({host: 'docker.io', repository: 'acme/stackwiz/cuda', reference: '12'});
		expect(parseReference('busybox')).toEqual({host: 'docker.io', repository: 'library/busybox', reference: 'latest'});
		expect(registryHost('registry.example.com/ml')).toBe('registry.example.com');
		expect(registryHost('localhost/ml')).toBe('localhost');
	});
});

describe('the registry v2 API', () => {
	test('checkRegistry accepts a registry and names an unreachable one', async () => {
		await expect(checkRegistry(`${host}/e2e`)).resolves.toBeUndefined();
		const port = await closedPort();
		await expect(checkRegistry(`127.0.0.1:${port}/e2e`)).rejects.toThrow(`registry 127.0.0.1:${port} is not reachable (ECONNREFUSED).`);
	});

	test('a tag the registry has: its manifest digest and layers', async () => {
		await expect(inspectImage(`${host}/e2e/stackwiz/base:t1`)).resolves.toEqual({digest: digestOf(manifest), layers: [{digest: 'sha256:l1', size: 1000}, {digest: 'sha256:l2', size: 234}], size: 1234});
		expect(seen.find(request => request.url === '/v2/e2e/stackwiz/base/manifests/t1')?.accept).toContain('application/vnd.oci.image.index.v1+json');
	});

	test('a tag it does not have', async () => {
		await expect(inspectImage(`${host}/e2e/stackwiz/base:nope`)).resolves.toBeNull();
	});

	test('an index: the index digest to pin, the linux/amd64 image for the layers', async () => {
		await expect(inspectImage(`${host}/e2e/stackwiz/multi:t1`)).resolves.toEqual({digest: digestOf(index), layers: [{digest: 'sha256:l1', size: 1000}], size: 1000});
	});

	test('a registry that wants a login is asked through `docker buildx imagetools`, which has the credentials', async () => {
		const images = path.join(await mkdtemp(path.join(tmpdir(), 'stackwiz-images-')), 'images.json');
		await writeFile(images, JSON.stringify({[`${host}/private/base:t1`]: manifest}));
		useFakeDocker({FAKE_DOCKER_IMAGES: images});
		await expect(inspectImage(`${host}/private/base:t1`)).resolves.toEqual({digest: digestOf(manifest), layers: [{digest: 'sha256:l1', size: 1000}, {digest: 'sha256:l2', size: 234}], size: 1234});
		await expect(inspectImage(`${host}/private/base:t2`)).resolves.toBeNull();
	});
});
