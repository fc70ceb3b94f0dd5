import {readFileSync} from 'node:fs';
import path from 'node:path';
import {vi} from 'vitest';

/** The directory of the fake `docker` (test/fixtures/bin/docker, see fake-docker.mjs there). */
export const fakeDockerDirectory = path.resolve('test/fixtures/bin');
export const rawjsonDirectory = path.resolve('test/fixtures/rawjson');

/** Puts the fake docker first on PATH with its settings; undo with `vi.unstubAllEnvs()`. */
export function useFakeDocker(settings: Record<string, string> = {}): void {
	vi.stubEnv('PATH', `${fakeDockerDirectory}${path.delimiter}${process.env['PATH'] ?? ''}`);
	for (const [key, value] of Object.entries(settings)) {
		vi.stubEnv(key, value);
	}
}

/** The invocations the fake docker logged to FAKE_DOCKER_LOG. */
export function fakeDockerCalls(logFile: string): Array<{args: string[]; cwd: string; registry: string | null}> {
	try {
		return readFileSync(logFile, 'utf8')
			.split('\n')
			.filter(Boolean)
			.map(line => JSON.parse(line) as {args: string[]; cwd: string; registry: string | null});
	} catch {
		return [];
	}
}

/** Whether a process still runs (a zombie waiting to be reaped does not count). */
export function processRuns(pid: number): boolean {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
	} catch {
		return false;
	}
}

/** A loopback port nothing listens on (bound once, then released). */
export async function closedPort(): Promise<number> {
	const {createServer} = await import('node:net');
	const server = createServer();
	await new Promise<void>(resolve => {
		server.listen(0, '127.0.0.1', resolve);
	});
	const {port} = server.address() as {port: number};
	await new Promise(resolve => {
		server.close(resolve);
	});
	return port;
}
