/**
 * Benchmark (not a test): keypress-to-frame latency of the wizard on the bundled catalogs, through
 * ink-testing-library: the time from a key on stdin to the frame that answers it, and to the frame
 * whose tier tree shows the new answers. Target: keypress to frame <= 16 ms median. Run by
 * `npm run bench` (bench/run.js) with React's production build; writes bench/results/wizard.json.
 */
import {render} from 'ink-testing-library';
import {cpus, loadavg} from 'node:os';
import {stripVTControlCharacters} from 'node:util';
import {describe, expect, test} from 'vitest';
import {App} from '../source/ui/app.js';
import {prefetchIdleMs} from '../source/ui/hooks/use-preview.js';
import {bundledCatalog} from '../test/helpers/catalog.js';
import {fakeServices} from '../test/ui/fixtures.js';
import {KEY} from '../test/ui/helpers/render.js';
import {markdownTable, ms, writeResult} from './lib.js';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const p95 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * 0.95))]!;
const turn = async () => new Promise(resolve => {
	setImmediate(resolve);
});

type Sample = {frame: number; tree: number};

/**
 * Times one key: from writing it to stdin to the first frame Ink writes to stdout, and to the first
 * frame whose tier tree shows the new answers. The times are taken inside stdout's write, when the
 * frame is out, not when a polling loop gets around to looking.
 */
async function measure(app: ReturnType<typeof render>, key: string, treeSettled: (frame: string) => boolean): Promise<Sample> {
	const stdout = app.stdout as unknown as {write: (frame: string) => void};
	const write = stdout.write;
	let frame = Number.NaN;
	let tree = Number.NaN;
	const start = performance.now();
	stdout.write = (output: string) => {
		write(output);
		const at = performance.now() - start;
		if (Number.isNaN(frame)) {
			frame = at;
		}

		if (Number.isNaN(tree) && treeSettled(stripVTControlCharacters(output))) {
			tree = at;
		}
	};

	try {
		app.stdin.write(key);
		while (Number.isNaN(frame) || Number.isNaN(tree)) {
			if (performance.now() - start > 5000) {
				throw new Error(`no settled frame after ${JSON.stringify(key)}:\n${stripVTControlCharacters(app.lastFrame() ?? '')}`);
			}

			await turn();
		}
	} finally {
		stdout.write = write;
	}

	// Let Ink re-subscribe its input handlers before the next key, as a human pause would.
	for (let count = 0; count < 5; count++) {
		await turn();
	}

	return {frame, tree};
}

const report = (label: string, samples: Sample[]) => {
	const frames = samples.map(sample => sample.frame);
	const trees = samples.map(sample => sample.tree);
	console.log(`${label}: keypress->frame median ${median(frames).toFixed(1)} ms (p95 ${p95(frames).toFixed(1)}); keypress->tree median ${median(trees).toFixed(1)} ms (p95 ${p95(trees).toFixed(1)}); n=${samples.length}`);
	return {frame: median(frames), tree: median(trees)};
};

describe('latency on the bundled catalogs', () => {
	test('moving through CUDA releases and toggling GPUs', async () => {
		const loadBefore = loadavg()[0];
		const catalog = await bundledCatalog();
		const {services} = fakeServices();
		const app = render(<App catalog={catalog} services={services} host={{gpuNames: ['NVIDIA A100-SXM4-80GB', 'Tesla V100-SXM2-32GB'], driver: '535.104.05'}} onExit={() => {}}/>);
		try {
			const text = () => stripVTControlCharacters(app.lastFrame() ?? '');
			const settledTree = (frame: string) => /Tier tree {2}\d+ tiers, 1 image(?! {2}…)/.test(frame) || /Tier tree\n/.test(frame);

			// GPU toggles: every toggle is a new selection, planned after the frame that shows the check.
			// Each model is checked and unchecked again, so the host's A100 + V100 remain selected.
			const toggles: Sample[] = [];
			for (let count = 0; count < 6; count++) {
				await measure(app, KEY.down, settledTree);
				toggles.push(await measure(app, KEY.space, settledTree), await measure(app, KEY.space, settledTree));
			}

			expect(text()).toContain('selected: NVIDIA A100, Tesla V100');
			await measure(app, KEY.enter, frame => frame.includes('step 2/10'));
			await measure(app, KEY.enter, frame => frame.includes('step 3/10') && settledTree(frame));

			// Right after entering the step: the planner is still working ahead of the cursor.
			const cold: Sample[] = [];
			for (let count = 0; count < 10; count++) {
				cold.push(await measure(app, KEY.down, settledTree));
			}

			// A reader's pause: planning ahead starts once keys rest (prefetchIdleMs) and covers all 59
			// options within a second or two; after that a move only draws.
			await new Promise(resolve => {
				setTimeout(resolve, prefetchIdleMs + 2500);
			});

			const warm: Sample[] = [];
			for (let count = 0; count < 30; count++) {
				warm.push(await measure(app, count < 15 ? KEY.down : KEY.up, settledTree));
			}

			const rows = [
				{label: 'GPU toggle (a new selection each time)', ...report('GPU toggle', toggles), runs: toggles.length},
				{label: 'CUDA cursor, just entered the step', ...report('CUDA cursor, just entered', cold), runs: cold.length},
				{label: 'CUDA cursor, options planned ahead', ...report('CUDA cursor, planned ahead', warm), runs: warm.length},
			];
			const load = {before: loadBefore, after: loadavg()[0]};
			const table = markdownTable(['keypress', 'to frame (median)', 'to tier tree (median)', 'runs', 'target'], rows.map(row => [row.label, ms(row.frame), ms(row.tree), String(row.runs), `<= 16 ms ${row.frame <= 16 ? 'met' : 'MISSED'}`]));
			await writeResult('wizard', {rows, load, nodeEnv: process.env['NODE_ENV'] ?? 'development'}, `${table}\n\n1-minute load average ${load.before.toFixed(1)} before and ${load.after.toFixed(1)} after, on ${cpus().length} cores.`);
			expect(rows).toHaveLength(3);
		} finally {
			app.unmount();
		}
	}, 180_000);
});
