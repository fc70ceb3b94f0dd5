// Shared helpers for the benchmarks: timing with medians, result files, markdown tables.
import {mkdir, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

export const resultsDirectory = fileURLToPath(new URL('results/', import.meta.url));

export function median(values) {
	const sorted = [...values].sort((a, b) => a - b);
	const middle = Math.floor(sorted.length / 2);
	return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Runs `work` `runs` times (after one warm-up unless told otherwise) and returns every duration in ms. */
export async function timeRuns(runs, work, {warmup = 1} = {}) {
	for (let index = 0; index < warmup; index++) {
		await work();
	}

	const durations = [];
	for (let index = 0; index < runs; index++) {
		const start = performance.now();
		await work();
		durations.push(performance.now() - start);
	}

	return durations;
}

export function machine() {
	return {
		cpus: `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'unknown'}`,
		memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
		node: process.version,
		platform: `${os.platform()} ${os.release()}`,
	};
}

export function markdownTable(header, rows) {
	const lines = [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`];
	for (const row of rows) {
		lines.push(`| ${row.join(' | ')} |`);
	}

	return lines.join('\n');
}

/** Writes results/<name>.json and results/<name>.md. */
export async function writeResult(name, data, markdown) {
	await mkdir(resultsDirectory, {recursive: true});
	const stamped = {name, date: new Date().toISOString(), machine: machine(), ...data};
	await writeFile(path.join(resultsDirectory, `${name}.json`), `${JSON.stringify(stamped, null, 2)}\n`);
	await writeFile(path.join(resultsDirectory, `${name}.md`), `# ${name}\n\n${markdown}\n\nMachine: ${stamped.machine.cpus}, ${stamped.machine.memoryGiB} GiB, Node ${stamped.machine.node}. Each figure is the median of the runs shown.\n`);
	return stamped;
}

export const ms = value => `${value.toFixed(1)} ms`;
