import {spawn} from 'node:child_process';
import {mkdtemp, readFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {describe, expect, test, vi} from 'vitest';
import type {BuildEvent, BuildResult} from '../../../source/core/build-events.js';
import {fakeDockerDirectory, rawjsonDirectory} from './fake-docker.js';

/** `stackwiz --non-interactive` end to end, with the fake docker on PATH instead of an engine. */
const recipe = 'test/fixtures/recipes/e2e-two-images.yaml';
const catalog = ['--catalog', 'test/fixtures/catalog-e2e', '--no-bundled'];

function start(args: string[], env: Record<string, string>) {
	const child = spawn(process.execPath, [path.resolve('bin/stackwiz.js'), ...args], {
		stdio: ['ignore', 'pipe', 'pipe'],
		env: {...process.env, NO_COLOR: '1', PATH: `${fakeDockerDirectory}${path.delimiter}${process.env['PATH'] ?? ''}`, ...env},
	});
	const output = {stdout: '', stderr: ''};
	child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output.stdout += chunk));
	child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
	const done = new Promise<{code: number | null} & typeof output>(resolve => {
		child.on('close', code => {
			resolve({code, ...output});
		});
	});
	return {child, output, done};
}

describe('stackwiz --non-interactive with a fake docker', () => {
	test('a preflight problem exits 2 with one sentence and the fix, before anything is built', async () => {
		const out = path.join(await mkdtemp(path.join(tmpdir(), 'stackwiz-cmd-')), 'out');
		const run = await start(['--non-interactive', recipe, ...catalog, '--out', out, '--no-push'], {FAKE_DOCKER_DAEMON: 'down'}).done;
		expect(run).toEqual({
			code: 2,
			stdout: '',
			stderr: 'stackwiz: the Docker daemon is not reachable: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\nStart the daemon (for example `sudo systemctl start docker`) or point DOCKER_HOST at a running one, then run again.\n',
		});
	});

	test('--json --no-push: the events as JSON lines on stdout, ending with the result; bake is asked to --load', async () => {
		const directory = await mkdtemp(path.join(tmpdir(), 'stackwiz-cmd-'));
		const out = path.join(directory, 'out');
		const log = path.join(directory, 'calls.jsonl');
		const run = await start(['--non-interactive', recipe, ...catalog, '--out', out, '--json', '--no-push'], {FAKE_DOCKER_CAPTURE: path.join(rawjsonDirectory, 'load'), FAKE_DOCKER_LOG: log}).done;
		expect(run.stderr).toBe('');
		expect(run.code).toBe(0);
		const events = run.stdout.trimEnd().split('\n').map(line => JSON.parse(line) as BuildEvent);
		expect(events[0]).toMatchObject({type: 'start', push: false, registry: '127.0.0.1:5000/e2e', builder: 'default', driver: 'docker', buildx: '0.13.1+ds1'});
		expect(events.filter(event => event.type === 'queued')).toHaveLength(7);
		const finish = events.at(-1) as Extract<BuildEvent, {type: 'finish'}>;
		expect(finish).toMatchObject({type: 'finish', outcome: 'ok', message: null});
		expect(JSON.parse(await readFile(path.join(out, 'build-result.json'), 'utf8')) as BuildResult).toEqual(finish.result);
		const bake = (await readFile(log, 'utf8')).split('\n').filter(Boolean).map(line => JSON.parse(line) as {args: string[]; cwd: string; registry: string}).find(call => call.args[1] === 'bake')!;
		expect(bake).toEqual({
			args: ['buildx', 'bake', '-f', 'docker-bake.json', '--progress=rawjson', '--metadata-file', path.join(out, 'bake-metadata.json'), '--load'],
			cwd: out,
			registry: '127.0.0.1:5000/e2e',
		});
	});

	test.each(['SIGINT', 'SIGTERM'] as const)('%s mid-build: bake is stopped, the tiers are cancelled, exit 130', async signal => {
		const out = path.join(await mkdtemp(path.join(tmpdir(), 'stackwiz-cmd-')), 'out');
		const running = start(['--non-interactive', recipe, ...catalog, '--out', out, '--no-push'], {FAKE_DOCKER_CAPTURE: path.join(rawjsonDirectory, 'cancel'), FAKE_DOCKER_HOLD: 'cancel'});
		await vi.waitFor(() => {
			expect(running.output.stderr).toMatch(/^apps-demo1-0-pytorch2-4-1 +queued/m);
		}, {timeout: 10_000});
		running.child.kill(signal);
		const run = await running.done;
		expect(run.code).toBe(130);
		expect(run.stderr).toMatch(/^base-busybox1-36 +cancelled +interrupted$/m);
		expect(run.stderr).toContain('stackwiz: interrupted; no tier finished.\nRun the same command again to continue: finished steps come from the build cache.\n');
		expect((JSON.parse(await readFile(path.join(out, 'build-result.json'), 'utf8')) as BuildResult).outcome).toBe('cancelled');
	});
});
