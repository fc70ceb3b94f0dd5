import {Buffer} from 'node:buffer';
import {createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse} from 'node:http';
import type {Socket} from 'node:net';
import {registryHost} from './engine.js';

/**
 * An HTTP proxy on a loopback port in front of the shared registry (127.0.0.1:5000), to play a registry
 * that misbehaves without touching the real one: it can want a login (Basic auth), stall every request
 * (a hung registry), or vanish after a given request (the registry going away mid-push). Repositories
 * land in the real registry, so the tests clean them up with engine.ts's cleanUp.
 */
export type RegistryProxy = {
	host: string;
	port: number;
	/** "METHOD path" of every request, in order. */
	requests: string[];
	/** Stop answering: requests from now on hang until the proxy closes. */
	stall: () => void;
	/** Close the port and drop every connection: the registry is gone. */
	vanish: () => Promise<void>;
	/** Listen again on the same port, passing requests through. */
	revive: () => Promise<void>;
	close: () => Promise<void>;
};

export type ProxyOptions = {
	/** Require `docker login` with these credentials (401 with a Basic challenge otherwise). */
	auth?: {user: string; password: string};
	/** Vanish as soon as the response to a matching request has been sent. */
	vanishAfter?: (method: string, url: string) => boolean;
};

export async function startRegistryProxy(options: ProxyOptions = {}): Promise<RegistryProxy> {
	const requests: string[] = [];
	const sockets = new Set<Socket>();
	let stalled = false;
	let server: Server | undefined;
	let port = 0;
	const expected = options.auth ? `Basic ${Buffer.from(`${options.auth.user}:${options.auth.password}`).toString('base64')}` : undefined;

	const vanish = async () => {
		const closing = server;
		server = undefined;
		for (const socket of sockets) {
			socket.destroy();
		}

		sockets.clear();
		if (closing) {
			await new Promise(resolve => {
				closing.close(resolve);
			});
		}
	};

	const handle = (incoming: IncomingMessage, response: ServerResponse) => {
		const method = incoming.method ?? 'GET';
		const url = incoming.url ?? '/';
		requests.push(`${method} ${url}`);
		if (stalled) {
			return;
		}

		if (expected && incoming.headers.authorization !== expected) {
			incoming.resume();
			response.writeHead(401, {'www-authenticate': 'Basic realm="stackwiz-test"', 'content-type': 'application/json', 'docker-distribution-api-version': 'registry/2.0'});
			response.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
			return;
		}

		const headers = {...incoming.headers};
		delete headers.authorization;
		const upstream = httpRequest({host: registryHost.split(':')[0], port: Number(registryHost.split(':')[1]), method, path: url, headers}, answer => {
			response.writeHead(answer.statusCode ?? 502, answer.headers);
			answer.pipe(response);
			if (options.vanishAfter?.(method, url)) {
				response.on('finish', () => {
					void vanish();
				});
			}
		});
		upstream.on('error', () => response.destroy());
		incoming.pipe(upstream);
	};

	const listen = async () => {
		const created = createServer(handle);
		created.on('connection', socket => {
			sockets.add(socket);
			socket.on('close', () => sockets.delete(socket));
		});
		await new Promise<void>((resolve, reject) => {
			created.once('error', reject);
			created.listen(port, '127.0.0.1', resolve);
		});
		port = (created.address() as {port: number}).port;
		server = created;
	};

	await listen();
	return {
		get host() {
			return `127.0.0.1:${port}`;
		},
		get port() {
			return port;
		},
		requests,
		stall() {
			stalled = true;
		},
		vanish,
		async revive() {
			stalled = false;
			options.vanishAfter = undefined;
			await listen();
		},
		close: vanish,
	};
}
