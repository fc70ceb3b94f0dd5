import {mkdtemp, readFile, rm, writeFile, chmod} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {vi} from 'vitest';
import type {ProbeOutput} from '../../../source/core/host-report.js';

/** test/fixtures/host: fake tools, recorded outputs and the README naming their sources. */
export const hostFixtures = fileURLToPath(new URL('../../fixtures/host/', import.meta.url));

/** A responses file under test/fixtures/host, e.g. fixture('nvidia-smi/a100-mig-530'). */
export const fixture = (name: string) => path.join(hostFixtures, name.endsWith('.json') ? name : `${name}/responses.json`);

export type FakeHost = {
	/** PATH holding only the fake tools. */
	directory: string;
	/** Every call, as its argument array, in order. */
	calls: () => Promise<string[][]>;
	cleanup: () => Promise<void>;
};

/**
 * Puts fake `tools` (nvidia-smi, docker, ...) and nothing else on PATH, answering from the given responses
 * files (later files win). Tools not listed are simply absent, as on a host without them.
 */
export async function fakeHost(tools: string[], responses: string[], environment: Record<string, string> = {}): Promise<FakeHost> {
	const directory = await mkdtemp(path.join(os.tmpdir(), 'stackwiz-fake-host-'));
	const log = path.join(directory, 'calls.jsonl');
	for (const tool of tools) {
		const script = path.join(directory, tool);
		await writeFile(script, `#!/bin/sh\nexec '${process.execPath}' '${path.join(hostFixtures, 'fake-tool.js')}' '${tool}' "$@"\n`);
		await chmod(script, 0o755);
	}

	vi.stubEnv('PATH', directory);
	vi.stubEnv('STACKWIZ_FAKE_HOST', responses.join(':'));
	vi.stubEnv('STACKWIZ_FAKE_LOG', log);
	vi.stubEnv('DOCKER_CONFIG', path.join(hostFixtures, 'docker-config/empty'));
	for (const [name, value] of Object.entries(environment)) {
		vi.stubEnv(name, value);
	}

	return {
		directory,
		async calls() {
			const text = await readFile(log, 'utf8').catch(() => '');
			return text.split('\n').filter(Boolean).map(line => JSON.parse(line) as string[]);
		},
		async cleanup() {
			vi.unstubAllEnvs();
			await rm(directory, {recursive: true, force: true});
		},
	};
}

/** An Io that collects what a command writes. */
export function captureIo() {
	const out = {stdout: '', stderr: ''};
	return {out, io: {stdout: (text: string) => {
		out.stdout += text;
	}, stderr: (text: string) => {
		out.stderr += text;
	}}};
}

/**
 * What the fake tool would answer for `commandLine` from a responses file, read directly (no process):
 * lets pure tests feed the same recorded outputs to buildHostReport. A command the file does not know
 * comes back as a failure, as the fake tool exits 2 for it.
 */
export async function recordedProbe(responsesFile: string, commandLine: string): Promise<ProbeOutput> {
	const {commands} = JSON.parse(await readFile(responsesFile, 'utf8')) as {commands: Record<string, {stdout?: string; stderr?: string; stdoutText?: string; stderrText?: string; exitCode?: number}>};
	const entry = Object.entries(commands).findLast(([key]) => (key.endsWith(' *') ? commandLine.startsWith(key.slice(0, -2)) : key === commandLine));
	if (!entry) {
		return {status: 'failed', exitCode: 2, stdout: '', stderr: `fake: no fixture for "${commandLine}"\n`};
	}

	const [, response] = entry;
	const directory = path.dirname(responsesFile);
	const read = async (name: string | undefined, text: string | undefined) => (name ? await readFile(path.join(directory, name), 'utf8') : text ?? '').replaceAll('@FIXTURES@', hostFixtures.replace(/\/$/, ''));
	const exitCode = response.exitCode ?? 0;
	return {status: exitCode === 0 ? 'ok' : 'failed', exitCode, stdout: await read(response.stdout, response.stdoutText), stderr: await read(response.stderr, response.stderrText)};
}

/** Replaces this checkout's fixture directory with <fixtures> in command output. */
export const withoutFixturePath = (text: string) => text.replaceAll(hostFixtures.replace(/\/$/, ''), '<fixtures>');
