// Start-up benchmark: `stackwiz --help` and `stackwiz plan RECIPE --json` against `node -e 0`, side by
// side in the same run. Targets: --help <= 2x node -e 0, plan --json <= 4x.
import {spawnSync} from 'node:child_process';
import {fileURLToPath} from 'node:url';
import {markdownTable, median, ms, timeRuns, writeResult} from './lib.js';

const bin = fileURLToPath(new URL('../bin/stackwiz.js', import.meta.url));
const recipe = fileURLToPath(new URL('../recipes/sweep-2cuda-2pytorch.yaml', import.meta.url));

function spawnTimed(args) {
	return () => {
		const result = spawnSync(process.execPath, args, {stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8'});
		if (result.status !== 0) {
			throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr}`);
		}
	};
}

export async function runStartupBench({quick}) {
	const runs = quick ? 7 : 21;
	const commands = [
		['node -e 0', ['-e', '0']],
		['stackwiz --help', [bin, '--help']],
		['stackwiz plan RECIPE --json', [bin, 'plan', recipe, '--json']],
	];
	// Interleave the commands run by run, so load on the machine hits all of them alike.
	const durations = new Map(commands.map(([label]) => [label, []]));
	for (const [, args] of commands) {
		spawnTimed(args)();
	}

	for (let index = 0; index < runs; index++) {
		for (const [label, args] of commands) {
			durations.get(label).push(...await timeRuns(1, spawnTimed(args), {warmup: 0}));
		}
	}

	const baseline = median(durations.get('node -e 0'));
	const targets = {'stackwiz --help': 2, 'stackwiz plan RECIPE --json': 4};
	const rows = commands.map(([label]) => {
		const value = median(durations.get(label));
		return {label, medianMs: value, ratio: value / baseline, target: targets[label]};
	});
	const table = markdownTable(['command', 'median', 'x node -e 0', 'target'], rows.map(row => [row.label, ms(row.medianMs), row.ratio.toFixed(2), row.target ? `<= ${row.target}x ${row.ratio <= row.target ? 'met' : 'MISSED'}` : '']));
	return writeResult('startup', {rows, runs}, table);
}
