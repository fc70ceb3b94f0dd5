/**
 * `stackwiz` with no command outside a terminal, and which command lines load Ink at all: the
 * real bin/stackwiz.js (built dist/) in a child process, with an import tracer that reports
 * whether ink or react was resolved.
 */
import {spawnSync} from 'node:child_process';
import {mkdtemp} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {describe, expect, test} from 'vitest';
import {interactiveProblem} from '../../source/commands/wizard.js';

const bin = path.resolve('bin/stackwiz.js');
const tracer = path.resolve('test/ui/helpers/trace-imports.mjs');
const e2e = ['--no-bundled', '--catalog', 'test/fixtures/catalog-e2e'];

function run(args: string[], env: Record<string, string> = {}) {
	const result = spawnSync(process.execPath, ['--import', tracer, bin, ...args], {
		encoding: 'utf8',
		stdio: ['ignore', 'pipe', 'pipe'],
		env: {...process.env, NO_COLOR: '1', ...env},
		timeout: 60_000,
	});
	const loaded = [...result.stderr.matchAll(/^TRACE-LOADED (\S+)$/gm)].map(match => match[1]);
	return {code: result.status, stdout: result.stdout, stderr: result.stderr.replaceAll(/\n?TRACE-LOADED \S+\n/g, ''), loaded};
}

describe('stackwiz without a terminal', () => {
	test('one message pointing to --non-interactive, exit 2, and Ink never loaded', () => {
		const result = run([]);
		expect(result).toEqual({
			code: 2,
			stdout: '',
			stderr: 'stackwiz: the interactive wizard needs a terminal (stdin is not a terminal).\nRun `stackwiz --non-interactive RECIPE` instead (add --dry-run to only write the files); `stackwiz --help` shows the rest.\n',
			loaded: [],
		});
	});

	test('options before no command still mean the wizard (`stackwiz --catalog DIR`)', () => {
		const result = run(e2e);
		expect(result.code).toBe(2);
		expect(result.stderr).toContain('the interactive wizard needs a terminal');
		expect(result.loaded).toEqual([]);
	});

	test('`stackwiz wizard` is the same; a word after it is an unknown command', () => {
		expect(run(['wizard']).stderr).toContain('the interactive wizard needs a terminal');
		const extra = run(['wizard', 'now']);
		expect(extra.code).toBe(2);
		expect(extra.stderr).toContain('unknown command "now"');
	});

	test('the terminal check: raw-mode stdin, a terminal stdout, and no CI', () => {
		const tty = {stdin: {isTTY: true, setRawMode() {}}, stdout: {isTTY: true}};
		expect(interactiveProblem(tty, {})).toBeUndefined();
		expect(interactiveProblem(tty, {CI: 'false'})).toBeUndefined();
		expect(interactiveProblem(tty, {CI: 'true'})).toBe('CI is set');
		expect(interactiveProblem({...tty, stdin: {isTTY: true}}, {})).toBe('stdin is not a terminal');
		expect(interactiveProblem({...tty, stdin: {}}, {})).toBe('stdin is not a terminal');
		expect(interactiveProblem({...tty, stdout: {isTTY: false}}, {})).toBe('stdout is not a terminal');
	});
});

describe('only the wizard loads Ink', () => {
	test.each([
		['--help', ['--help']],
		['--version', ['--version']],
		['gpus', ['gpus', ...e2e]],
		['plan', ['plan', 'test/fixtures/recipes/e2e-two-images.yaml', ...e2e]],
	])('%s', (_name, args) => {
		const result = run(args);
		expect(result.code).toBe(0);
		expect(result.loaded).toEqual([]);
	});

	test('--non-interactive --dry-run', async () => {
		const out = path.join(await mkdtemp(path.join(tmpdir(), 'stackwiz-noink-')), 'out');
		const result = run(['--non-interactive', 'test/fixtures/recipes/e2e-two-images.yaml', '--dry-run', '--out', out, ...e2e]);
		expect(result.code).toBe(0);
		expect(result.loaded).toEqual([]);
	});

	test('the tracer does see Ink when the wizard module is imported', () => {
		const result = spawnSync(process.execPath, ['--import', tracer, '--input-type=module', '-e', `await import(${JSON.stringify(path.resolve('dist/ui/run.js'))})`], {encoding: 'utf8'});
		expect(result.stderr).toContain('TRACE-LOADED ink');
	});
});
