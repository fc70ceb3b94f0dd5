// Wizard keypress-to-frame latency: runs bench/wizard-latency.bench.tsx in vitest (for its TSX
// transform) with React's production build, then reads back bench/results/wizard.json.
import {spawnSync} from 'node:child_process';
import {readFile} from 'node:fs/promises';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {resultsDirectory} from './lib.js';

const root = fileURLToPath(new URL('..', import.meta.url));

export async function runWizardBench() {
	const result = spawnSync(process.execPath, [path.join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--config', 'bench/vitest.config.ts'], {
		cwd: root,
		env: {...process.env, NODE_ENV: 'production', CI: 'false'},
		stdio: ['ignore', 'inherit', 'inherit'],
	});
	if (result.status !== 0) {
		throw new Error(`the wizard latency benchmark failed (exit ${result.status})`);
	}

	return JSON.parse(await readFile(path.join(resultsDirectory, 'wizard.json'), 'utf8'));
}
