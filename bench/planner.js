// Planner benchmark: resolve + plan for each shipped recipe, for the catalog grown 10x and 100x with
// synthetic versions, and for a 100-image sweep. Targets: 100-image sweep <= 100 ms; 100x catalog
// <= 100 ms per plan.
import {readdir} from 'node:fs/promises';
import {fileURLToPath} from 'node:url';
import {loadCatalog} from '../dist/services/catalog-loader.js';
import {loadRecipe} from '../dist/services/recipe-loader.js';
import {recipeToSelection} from '../dist/core/recipe.js';
import {planSelection} from '../dist/core/plan.js';
import {markdownTable, median, ms, timeRuns, writeResult} from './lib.js';

const recipesDirectory = fileURLToPath(new URL('../recipes/', import.meta.url));

/**
 * The catalog with `factor` times as many CUDA releases and framework versions: each real entry is
 * copied with synthetic patch numbers (12.4.1 -> 12.4.1001, ...), keeping its facts, so the resolver
 * sees the same shape of data, only more of it.
 */
export function grownCatalog(catalog, factor) {
	const bump = (version, copy) => {
		const parts = version.split('.');
		parts[parts.length - 1] = `${parts.at(-1)}${String(copy).padStart(3, '0')}`;
		return parts.join('.');
	};

	const copies = (list, make) => list.flatMap(item => [item, ...Array.from({length: factor - 1}, (_, index) => make(item, index + 1))]);
	const pytorch = catalog.frameworks.get('pytorch');
	return {
		...catalog,
		cuda: {...catalog.cuda, versions: copies(catalog.cuda.versions, (cuda, copy) => ({...cuda, version: bump(cuda.version, copy)}))},
		frameworks: new Map([['pytorch', {...pytorch, versions: copies(pytorch.versions, (version, copy) => ({...version, version: bump(version.version, copy)}))}]]),
	};
}

function sweepSelection(catalog, count) {
	const lines = ['2.14', '2.13', '2.12', '2.11', '2.10', '2.9', '2.8', '2.7', '2.6', '2.5', '2.4', '2.3', '2.2', '2.1', '2.0'];
	const images = Array.from({length: count}, (_, index) => ({
		name: `image-${index}`,
		framework: `pytorch@${lines[index % lines.length]}`,
		extras: index % 2 === 1 ? ['torchvision'] : [],
		apps: index % 3 === 0 ? ['nlp'] : [],
	}));
	const {selection, problems} = recipeToSelection(catalog, {name: 'sweep-100', gpus: ['A100', 'H100'], driver: '580.65.06', components: [], images});
	if (problems.length > 0) {
		throw new Error(problems.map(problem => problem.message).join('\n'));
	}

	return selection;
}

export async function runPlannerBench({quick}) {
	const runs = quick ? 7 : 21;
	const catalog = await loadCatalog();
	const rows = [];
	const record = async (label, selection, usedCatalog = catalog) => {
		const durations = await timeRuns(runs, () => planSelection(usedCatalog, selection));
		const plan = planSelection(usedCatalog, selection);
		rows.push({label, medianMs: median(durations), runs, images: selection.images.length, tiers: plan.tree.nodes.length});
	};

	for (const file of (await readdir(recipesDirectory)).sort()) {
		await record(`recipe ${file}`, await loadRecipe(`${recipesDirectory}${file}`, catalog));
	}

	const base = await loadRecipe(`${recipesDirectory}sweep-2cuda-2pytorch.yaml`, catalog);
	for (const factor of [10, 100]) {
		await record(`sweep-2cuda-2pytorch on the catalog x${factor}`, base, grownCatalog(catalog, factor));
	}

	await record('100-image sweep', sweepSelection(catalog, 100));
	const targets = {
		'100-image sweep': 100,
		'sweep-2cuda-2pytorch on the catalog x100': 100,
	};
	const table = markdownTable(['plan', 'images', 'tiers', 'median', 'target'], rows.map(row => [row.label, row.images, row.tiers, ms(row.medianMs), targets[row.label] ? `<= ${targets[row.label]} ms ${row.medianMs <= targets[row.label] ? 'met' : 'MISSED'}` : '']));
	return writeResult('planner', {rows, targets}, table);
}
