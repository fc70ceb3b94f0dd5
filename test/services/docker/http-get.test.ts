import {createServer, type Server} from 'node:http';
import {afterEach, describe, expect, test} from 'vitest';
import {httpGet, maxBodyBytes} from '../../../source/services/docker/http-get.js';
import {closedPort} from './fake-docker.js';

let server: Server | undefined;

async function stop(): Promise<void> {
	const running = server;
	server = undefined;
	running?.closeAllConnections();
	await new Promise(resolve => {
		if (running) {
			running.close(resolve);
		} else {
			resolve(undefined);
		}
	});
}

afterEach(stop);

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
	server = createServer(handler);
	await new Promise<void>(resolve => {
		server!.listen(0, '127.0.0.1', resolve);
	});
	return `http://127.0.0.1:${(server.address() as {port: number}).port}`;
}

describe('httpGet', () => {
	test('follows a redirect and gives status, headers and body', async () => {
		const base = await serve((request, response) => {
			if (request.url === '/old') {
				response.writeHead(307, {location: '/new'});
				response.end();
				return;
			}

			response.writeHead(200, {'docker-content-digest': 'sha256:abc', 'x-accept': request.headers.accept ?? ''});
			response.end('{"ok":true}');
		});
		const answer = await httpGet(`${base}/old`, {headers: {accept: 'application/json'}, signal: new AbortController().signal});
		expect(answer.status).toBe(200);
		expect(answer.header('docker-content-digest')).toBe('sha256:abc');
		expect(answer.header('x-accept')).toBe('application/json');
		expect(await answer.text()).toBe('{"ok":true}');
	});

	test('a kept-alive connection the server resets when it is reused: the GET goes again on a new one', async () => {
		const served = new WeakSet<object>();
		let resets = 0;
		const base = await serve((request, response) => {
			if (served.has(request.socket)) {
				resets++;
				request.socket.resetAndDestroy();
				return;
			}

			served.add(request.socket);
			response.end('ok');
		});
		const signal = new AbortController().signal;
		expect(await (await httpGet(base, {signal})).text()).toBe('ok');
		expect(await (await httpGet(base, {signal})).text()).toBe('ok');
		expect(resets).toBe(1);
	});

	test('refuses a body larger than a manifest can be', async () => {
		const base = await serve((_request, response) => {
			response.writeHead(200);
			response.end(Buffer.alloc(maxBodyBytes + 1, 'x'));
		});
		const answer = await httpGet(base, {signal: new AbortController().signal});
		await expect(answer.text()).rejects.toThrow(`the answer is larger than ${maxBodyBytes} bytes`);
	});

	test('an abort rejects with the reason as its cause; a refused connection with its code', async () => {
		const base = await serve(() => {
			// Never answers.
		});
		const controller = new AbortController();
		const pending = httpGet(base, {signal: controller.signal});
		controller.abort(new DOMException('no answer within 10 ms', 'TimeoutError'));
		await expect(pending).rejects.toMatchObject({name: 'AbortError', cause: {name: 'TimeoutError'}});

		await expect(httpGet(`http://127.0.0.1:${await closedPort()}/`, {signal: new AbortController().signal})).rejects.toMatchObject({code: 'ECONNREFUSED'});
	});
});
