import {mkdtemp, readdir, readFile, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {beforeAll, describe, expect, test} from 'vitest';
import {run} from '../dist/cli.js';

/**
 * Every case in test/fixtures/bad/: exit 2, one message naming file:line:col and the fix, no stack
 * trace, nothing written, an earlier output directory left untouched. The messages are golden
 * (test/fixtures/bad/expected.json; UPDATE_GOLDEN=1 rewrites it).
 */
const badDirectory = path.resolve('test/fixtures/bad');
const expectedFile = path.join(badDirectory, 'expected.json');

type Case = {name: string; args: string[]};

async function cases(scratch: string): Promise<Case[]> {
	const recipes = (await readdir(path.join(badDirectory, 'recipes'))).sort().map(file => ({
		name: `recipe ${file}`,
		args: [path.join('test/fixtures/bad/recipes', file)],
	}));
	const catalogs = (await readdir(path.join(badDirectory, 'catalogs'))).sort().map(directory => ({
		name: `catalog ${directory}`,
		args: ['test/fixtures/recipes/e2e-two-images.yaml', '--catalog', 'test/fixtures/catalog-e2e', '--catalog', path.join('test/fixtures/bad/catalogs', directory), '--no-bundled'],
	}));
	const huge = path.join(scratch, 'huge.yaml');
	await writeFile(huge, `name: huge\n# ${'x'.repeat(10 * 1024 * 1024)}\n`);
	return [...recipes, ...catalogs, {name: 'recipe 10 MB', args: [huge]}];
}

async function runCaptured(args: string[]): Promise<{code: number; stdout: string; stderr: string}> {
	let stdout = '';
	let stderr = '';
	const code = await run(args, {stdout: text => {
		stdout += text;
	}, stderr: text => {
		stderr += text;
	}});
	return {code, stdout, stderr};
}

describe('bad input', () => {
	let scratch = '';
	let out = '';
	let earlier = '';
	let expected: Record<string, string> = {};
	const actual: Record<string, string> = {};

	beforeAll(async () => {
		scratch = await mkdtemp(path.join(tmpdir(), 'stackwiz-bad-'));
		out = path.join(scratch, 'out');
		expect((await runCaptured(['--non-interactive', 'test/fixtures/recipes/e2e-two-images.yaml', '--dry-run', '--out', out, '--catalog', 'test/fixtures/catalog-e2e', '--no-bundled'])).code).toBe(0);
		earlier = await readFile(path.join(out, 'docker-bake.json'), 'utf8');
		expected = JSON.parse(await readFile(expectedFile, 'utf8').catch(() => '{}')) as Record<string, string>;
	});

	test('at least 60 cases, each refused with exit 2 and its golden message, nothing written', async () => {
		const all = await cases(scratch);
		expect(all.length).toBeGreaterThanOrEqual(60);
		for (const {name, args} of all) {
			const planned = await runCaptured(['plan', ...args]);
			const written = await runCaptured(['--non-interactive', ...args, '--dry-run', '--out', out]);
			for (const result of [planned, written]) {
				expect({name, code: result.code, stdout: result.stdout}).toEqual({name, code: 2, stdout: ''});
				expect(result.stderr).toMatch(/^stackwiz: /);
				expect(result.stderr).not.toMatch(/\n\s+at /);
			}

			expect(written.stderr).toBe(planned.stderr);
			actual[name] = planned.stderr.replaceAll(scratch, 'SCRATCH');
			expect(await readFile(path.join(out, 'docker-bake.json'), 'utf8')).toBe(earlier);
		}

		expect((await readdir(scratch)).sort()).toEqual(['huge.yaml', 'out']);
		if (process.env['UPDATE_GOLDEN'] === '1') {
			await writeFile(expectedFile, `${JSON.stringify(actual, null, 2)}\n`);
		} else {
			expect(actual).toEqual(expected);
		}
	}, 120_000);
});
