import {lstat, mkdtemp, readdir, readFile, rm, symlink, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, afterEach, describe, expect, test, vi} from 'vitest';
import {run} from '../../source/cli.js';
import {UserError} from '../../source/errors.js';
import {writeOutputDirectory, WriteInterruptedError} from '../../source/services/output-writer.js';
import {writeFileAtomic} from '../../source/services/docker/reuse.js';
import type {BuildEvent} from '../../source/core/build-events.js';
import {generateFiles} from '../../source/core/generate.js';
import {planSelection} from '../../source/core/plan.js';
import {buildTree} from '../../source/services/docker/build-tree.js';
import {e2eCatalog, selectionFrom} from '../helpers/catalog.js';
import {rawjsonDirectory, useFakeDocker} from './docker/fake-docker.js';

/**
 * A full disk, simulated: `writeFile` fails with ENOSPC after a number of files, as it does when the
 * disk fills up in the middle of writing the output. Also an abort (Ctrl-C) in the middle of writing,
 * and outputs that are links. The real thing, on a full tmpfs, is in test/e2e/faults.test.ts.
 */

const failure = {after: Number.POSITIVE_INFINITY, code: 'ENOSPC', calls: 0, onCall: undefined as (() => void) | undefined};

vi.mock('node:fs/promises', async importOriginal => {
	const actual = await importOriginal<typeof import('node:fs/promises')>();
	const writeFile: typeof actual.writeFile = async (file, data, options) => {
		failure.calls++;
		failure.onCall?.();
		if (failure.calls > failure.after) {
			// Like the kernel: part of the data may be on disk before the error.
			await actual.writeFile(file, typeof data === 'string' ? data.slice(0, 10) : '', options);
			throw Object.assign(new Error(`${failure.code}: no space left on device, write`), {code: failure.code});
		}

		return actual.writeFile(file, data, options);
	};

	return {...actual, default: {...actual, writeFile}, writeFile};
});

afterEach(() => {
	vi.unstubAllEnvs();
	Object.assign(failure, {after: Number.POSITIVE_INFINITY, code: 'ENOSPC', calls: 0, onCall: undefined});
});

const files = (label: string) => new Map([
	['stackwiz-plan.json', `{"recipe": "${label}"}\n`],
	['docker-bake.json', `{"label": "${label}"}\n`],
	['base-x/Dockerfile', `FROM scratch\n# ${label}\n`],
	['cuda-x/Dockerfile', `FROM parent\n# ${label}\n`],
]);

async function snapshot(directory: string): Promise<Record<string, string>> {
	const result: Record<string, string> = {};
	for (const entry of await readdir(directory, {recursive: true, withFileTypes: true})) {
		if (entry.isFile()) {
			const full = path.join(entry.parentPath, entry.name);
			result[path.relative(directory, full)] = await readFile(full, 'utf8');
		}
	}

	return result;
}

const scratchDirectories: string[] = [];

afterAll(async () => {
	await Promise.all(scratchDirectories.map(async directory => rm(directory, {recursive: true, force: true})));
});

async function scratch(): Promise<string> {
	const directory = await mkdtemp(path.join(tmpdir(), 'stackwiz-disk-'));
	scratchDirectories.push(directory);
	return directory;
}

describe('disk full while writing the output', () => {
	test.each([0, 1, 3])('ENOSPC after %i files: a UserError, the earlier output untouched, no staging left; a re-run writes it', async after => {
		const directory = await scratch();
		const out = path.join(directory, 'out');
		await writeOutputDirectory(out, files('old'));
		const before = await snapshot(out);
		failure.after = after;
		failure.calls = 0;
		const error = await writeOutputDirectory(out, files('new')).catch((error: unknown) => error);
		expect(error).toBeInstanceOf(UserError);
		expect((error as UserError).message).toBe(`cannot write ${out} (ENOSPC: the disk is full); nothing was changed there.`);
		expect((error as UserError).hint).toBe('Free some disk space and run again.');
		expect(await snapshot(out)).toEqual(before);
		expect((await readdir(directory)).sort()).toEqual(['out']);

		failure.after = Number.POSITIVE_INFINITY;
		await writeOutputDirectory(out, files('new'));
		expect(await snapshot(out)).toEqual(Object.fromEntries([...files('new')].map(([name, content]) => [path.normalize(name), content])));
		expect((await readdir(directory)).sort()).toEqual(['out']);
	});

	test('a first output: nothing at all is left behind', async () => {
		const directory = await scratch();
		failure.after = 2;
		await expect(writeOutputDirectory(path.join(directory, 'out'), files('new'))).rejects.toThrow(UserError);
		expect(await readdir(directory)).toEqual([]);
	});

	test.each(['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES'])('%s replacing build-result.json: a UserError, the old file intact, no temporary file', async code => {
		const directory = await scratch();
		const file = path.join(directory, 'build-result.json');
		await writeFileAtomic(file, '{"old": true}\n');
		failure.after = 0;
		failure.calls = 0;
		failure.code = code;
		const error = await writeFileAtomic(file, '{"new": true}\n').catch((error: unknown) => error);
		expect(error).toBeInstanceOf(UserError);
		expect((error as UserError).message).toMatch(new RegExp(`^cannot write ${file.replaceAll(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(${code}.*\\); build-result\\.json was not changed\\.$`));
		expect(await readFile(file, 'utf8')).toBe('{"old": true}\n');
		expect(await readdir(directory)).toEqual(['build-result.json']);
	});

	test('the CLI says it in one sentence, exits 2 and keeps the earlier output', async () => {
		const directory = await scratch();
		const out = path.join(directory, 'out');
		const args = ['--non-interactive', 'test/fixtures/recipes/e2e-two-images.yaml', '--dry-run', '--out', out, '--catalog', 'test/fixtures/catalog-e2e', '--no-bundled'];
		const io = {stdout: '', stderr: ''};
		const capture = {stdout: (text: string) => (io.stdout += text), stderr: (text: string) => (io.stderr += text)};
		expect(await run(args, capture)).toBe(0);
		const before = await snapshot(out);
		failure.calls = 0;
		failure.after = 4;
		io.stderr = '';
		io.stdout = '';
		expect(await run(args, capture)).toBe(2);
		expect(io).toEqual({stdout: '', stderr: `stackwiz: cannot write ${out} (ENOSPC: the disk is full); nothing was changed there.\nFree some disk space and run again.\n`});
		expect(await snapshot(out)).toEqual(before);
		expect(await readdir(directory)).toEqual(['out']);
	});
});

describe('disk full after the build', () => {
	test('build-result.json cannot be written: a warning, the stale one removed, the summary and exit code as built', async () => {
		const directory = await scratch();
		const out = path.join(directory, 'out');
		const catalog = await e2eCatalog();
		const {resolution, tree} = planSelection(catalog, selectionFrom(catalog, await readFile('test/fixtures/recipes/e2e-two-images.yaml', 'utf8')));
		const generated = generateFiles(resolution, tree);
		await writeOutputDirectory(out, generated);
		await writeFile(path.join(out, 'build-result.json'), '{"outcome": "from an earlier run"}\n');
		useFakeDocker({FAKE_DOCKER_CAPTURE: path.join(rawjsonDirectory, 'load')});
		failure.after = failure.calls;
		const events: BuildEvent[] = [];
		const {exitCode} = await buildTree({recipe: 'e2e-two-images', tree, files: generated, out, push: false, reuse: false, signal: new AbortController().signal, onEvent: event => events.push(event)});
		expect(exitCode).toBe(0);
		expect(events.find(event => event.type === 'warning')).toMatchObject({message: 'could not write build-result.json (ENOSPC); the result is only in this output, and no earlier build-result.json is left to be mistaken for it'});
		expect(events.at(-1)).toMatchObject({type: 'finish', outcome: 'ok'});
		expect(await readdir(out)).not.toContain('build-result.json');
		expect((await readdir(out)).filter(name => name.endsWith('.tmp'))).toEqual([]);
	}, 20_000);
});

describe('an abort while writing', () => {
	test('the output is not swapped in: WriteInterruptedError, the earlier output intact, no staging left', async () => {
		const directory = await scratch();
		const out = path.join(directory, 'out');
		await writeOutputDirectory(out, files('old'));
		const before = await snapshot(out);
		const controller = new AbortController();
		failure.calls = 0;
		failure.onCall = () => {
			if (failure.calls === 2) {
				controller.abort(new Error('received SIGINT'));
			}
		};

		await expect(writeOutputDirectory(out, files('new'), controller.signal)).rejects.toThrow(WriteInterruptedError);
		expect(await snapshot(out)).toEqual(before);
		expect(await readdir(directory)).toEqual(['out']);
	});

	test('--non-interactive: exit 130 and "was not changed"', async () => {
		const directory = await scratch();
		const out = path.join(directory, 'out');
		const controller = new AbortController();
		failure.calls = 0;
		failure.onCall = () => {
			controller.abort(new Error('received SIGTERM'));
		};

		const io = {stdout: '', stderr: ''};
		const code = await run(['--non-interactive', 'test/fixtures/recipes/e2e-two-images.yaml', '--dry-run', '--out', out, '--catalog', 'test/fixtures/catalog-e2e', '--no-bundled'], {stdout: text => (io.stdout += text), stderr: text => (io.stderr += text)}, controller.signal);
		expect(code).toBe(130);
		expect(io).toEqual({stdout: '', stderr: `stackwiz: interrupted while writing; ${out} was not changed.\n`});
		expect(await readdir(directory)).toEqual([]);
	});
});

describe('no write outside the output directory', () => {
	test('an output that is a link to another directory is replaced by a directory; the link target stays empty', async () => {
		const directory = await scratch();
		const elsewhere = await scratch();
		const out = path.join(directory, 'out');
		await symlink(elsewhere, out);
		await writeOutputDirectory(out, files('new'));
		expect((await lstat(out)).isDirectory()).toBe(true);
		expect(await readdir(elsewhere)).toEqual([]);
		expect(Object.keys(await snapshot(out)).length).toBe(4);
	});

	test('a link inside an earlier output is not followed: the new output replaces it, its target is untouched', async () => {
		const directory = await scratch();
		const elsewhere = await scratch();
		const out = path.join(directory, 'out');
		await writeOutputDirectory(out, files('old'));
		await rm(path.join(out, 'base-x'), {recursive: true});
		await symlink(elsewhere, path.join(out, 'base-x'));
		await writeOutputDirectory(out, files('new'));
		expect(await readdir(elsewhere)).toEqual([]);
		expect((await lstat(path.join(out, 'base-x'))).isDirectory()).toBe(true);
	});

	test('a link to a directory stackwiz did not write is refused', async () => {
		const directory = await scratch();
		const elsewhere = await scratch();
		await writeFile(path.join(elsewhere, 'precious'), 'keep');
		const out = path.join(directory, 'out');
		await symlink(elsewhere, out);
		await expect(writeOutputDirectory(out, files('new'))).rejects.toThrow(/exists and was not written by stackwiz/);
		expect(await readdir(elsewhere)).toEqual(['precious']);
	});

	test.each(['../escape/Dockerfile', 'a/../../escape', '/etc/passwd-stackwiz', 'x/../../../tmp/y'])('a generated path %s is refused and nothing is written', async relative => {
		const directory = await scratch();
		const out = path.join(directory, 'nested', 'out');
		await expect(writeOutputDirectory(out, new Map([...files('new'), [relative, 'x']]))).rejects.toThrow(/escapes the output directory/);
		expect(await readdir(path.join(directory, 'nested'))).toEqual([]);
		expect(await readdir(directory)).toEqual(['nested']);
	});
});
