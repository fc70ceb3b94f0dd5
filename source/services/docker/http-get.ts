import http from 'node:http';
import https from 'node:https';

/** A registry's answer to one GET. */
export type HttpAnswer = {
	status: number;
	/** A response header, lower-case name. */
	header: (name: string) => string | undefined;
	/** The body as UTF-8 text; refused past `maxBodyBytes`. */
	text: () => Promise<string>;
	/** Drops the body, keeping the connection for the next request where possible. */
	discard: () => void;
};

/** Manifests and the v2 ping are small; a body past this is not a registry's. */
export const maxBodyBytes = 4 * 1024 * 1024;
const maxRedirects = 5;

// Idle connections are kept for the next look-up; the agents unref them, so they never hold the process.
const agents = {'http:': new http.Agent({keepAlive: true}), 'https:': new https.Agent({keepAlive: true})};

/**
 * One request; a kept-alive connection that the server closed just as it was reused (ECONNRESET on
 * a reused socket) is retried on a new connection, as a GET may be.
 */
async function send(target: URL, options: {headers?: Record<string, string>; signal: AbortSignal}): Promise<http.IncomingMessage> {
	const client = target.protocol === 'https:' ? https : http;
	const agent = agents[target.protocol as keyof typeof agents];
	for (;;) {
		const answer = await new Promise<http.IncomingMessage | 'stale'>((resolve, reject) => {
			const request = client.get(target, {headers: options.headers ?? {}, signal: options.signal, agent}, resolve);
			request.on('error', error => {
				if (request.reusedSocket && (error as {code?: string}).code === 'ECONNRESET' && !options.signal.aborted) {
					resolve('stale');
				} else {
					reject(error);
				}
			});
		});
		if (answer !== 'stale') {
			return answer;
		}
	}
}

/**
 * One GET over node:http(s), following redirects. Not fetch: on Node 20 fetch costs tens of
 * milliseconds to load and keeps the process alive about 100 ms after its last response, most of
 * a re-run that has nothing to build. Errors are node's (`code` ECONNREFUSED, ENOTFOUND, a TLS
 * code …); an abort rejects with an AbortError whose `cause` is the signal's reason.
 */
export async function httpGet(url: string, options: {headers?: Record<string, string>; signal: AbortSignal}, redirects = maxRedirects): Promise<HttpAnswer> {
	const target = new URL(url);
	const response = await send(target, options);
	const status = response.statusCode ?? 0;
	const location = response.headers.location;
	if (status >= 300 && status < 400 && location && redirects > 0) {
		response.resume();
		return httpGet(new URL(location, target).toString(), options, redirects - 1);
	}

	return {
		status,
		header: name => {
			const value = response.headers[name];
			return Array.isArray(value) ? value.join(', ') : value;
		},
		text: async () => new Promise<string>((resolve, reject) => {
			const chunks: Buffer[] = [];
			let size = 0;
			response.on('data', (chunk: Buffer) => {
				size += chunk.length;
				if (size > maxBodyBytes) {
					// Settled first: destroying the response then reports it as cut short.
					reject(new Error(`the answer is larger than ${maxBodyBytes} bytes`));
					response.destroy();
					return;
				}

				chunks.push(chunk);
			});
			response.on('end', () => {
				resolve(Buffer.concat(chunks).toString('utf8'));
			});
			response.on('error', reject);
			response.on('aborted', () => {
				reject(new Error('the connection closed before the answer ended'));
			});
		}),
		discard: () => {
			response.resume();
		},
	};
}
