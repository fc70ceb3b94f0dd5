import {spawnSync} from 'node:child_process';
import path from 'node:path';

export const binPath = path.resolve('bin/stackwiz.js');

export type CliResult = {code: number | null; stdout: string; stderr: string};

/** Runs the real `bin/stackwiz.js` (built dist/) without a TTY, as CI and scripts do. */
export function runCli(args: string[], options: {cwd?: string; env?: Record<string, string>} = {}): CliResult {
	const result = spawnSync(process.execPath, [binPath, ...args], {
		cwd: options.cwd ?? process.cwd(),
		env: {...process.env, NO_COLOR: '1', ...options.env},
		encoding: 'utf8',
		stdio: ['ignore', 'pipe', 'pipe'],
		timeout: 60_000,
	});
	return {code: result.status, stdout: result.stdout, stderr: result.stderr};
}
