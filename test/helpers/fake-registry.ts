import {createHash} from 'node:crypto';
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http';
import type {Socket} from 'node:net';
import {afterEach} from 'vitest';

/**
 * A loopback HTTP server that plays a misbehaving registry:
 *   ok            the v2 API answers, no image is there (404 for every manifest)
 *   full          the v2 API answers, and every tag asked for is there (one 1000-byte layer each)
 *   unauthorized  401 with a Basic challenge for everything, as a registry that wants a login
 *   error         500 for everything (a proxy or web server, not a registry)
 *   silent        accepts connections and never answers (a hung registry)
 */
export type RegistryMode = 'ok' | 'full' | 'unauthorized' | 'error' | 'silent';

export type FakeRegistry = {host: string; requests: string[]; close: () => Promise<void>};

export async function startFakeRegistry(mode: RegistryMode): Promise<FakeRegistry> {
	const requests: string[] = [];
	const sockets = new Set<Socket>();
	const server = createServer((request: IncomingMessage, response: ServerResponse) => {
		requests.push(`${request.method ?? ''} ${request.url ?? ''}`);
		switch (mode) {
			case 'silent': {
				return;
			}

			case 'unauthorized': {
				response.writeHead(401, {'www-authenticate': 'Basic realm="stackwiz-test"', 'content-type': 'application/json'});
				response.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
				return;
			}

			case 'error': {
				response.writeHead(500);
				response.end('internal error');
				return;
			}

			case 'full': {
				if (request.url === '/v2/') {
					response.writeHead(200, {'content-type': 'application/json'});
					response.end('{}');
					return;
				}

				// A manifest of its own per reference, so every tag has its own digest.
				const layer = `sha256:${createHash('sha256').update(request.url ?? '').digest('hex')}`;
				const body = JSON.stringify({schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', layers: [{mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer, size: 1000}]});
				response.writeHead(200, {'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': `sha256:${createHash('sha256').update(body).digest('hex')}`});
				response.end(body);
				return;
			}

			case 'ok': {
				response.writeHead(request.url === '/v2/' ? 200 : 404, {'content-type': 'application/json'});
				response.end(request.url === '/v2/' ? '{}' : '{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
			}
		}
	});
	server.on('connection', socket => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
	});
	await new Promise<void>(resolve => {
		server.listen(0, '127.0.0.1', resolve);
	});
	const {port} = server.address() as {port: number};
	return {
		host: `127.0.0.1:${port}`,
		requests,
		async close() {
			for (const socket of sockets) {
				socket.destroy();
			}

			await new Promise(resolve => {
				server.close(resolve);
			});
		},
	};
}

/** Fake registries for one test file, each closed after the test that started it. */
export function useFakeRegistries(): (mode: RegistryMode) => Promise<FakeRegistry> {
	const started: FakeRegistry[] = [];
	afterEach(async () => {
		await Promise.all(started.splice(0).map(async registry => registry.close()));
	});
	return async mode => {
		const registry = await startFakeRegistry(mode);
		started.push(registry);
		return registry;
	};
}
