import {smName} from '../core/compat.js';
import type {Plan} from '../core/plan.js';
import {describeTier, treeRows} from '../core/tree-layout.js';

/** The human `plan` output: what was chosen for each image, then the tree with tags. */
export function formatPlan(plan: Plan): string {
	const {selection} = plan.resolution;
	const {tree} = plan;
	const gpus = selection.gpus.map(gpu => `${gpu.name} ${smName(gpu.computeCapability)}`).join(', ');
	const lines = [
		`${selection.name}: ${tree.images.length} image${tree.images.length === 1 ? '' : 's'}, ${tree.nodes.length} tiers for ${gpus}${selection.driver ? `, driver ${selection.driver}` : ''}`,
		'',
	];
	for (const image of tree.images) {
		const compat = image.compat === 'native' ? `native, driver >= ${image.cuda.min_driver}` : `${image.compat} compatibility`;
		lines.push(
			`image ${image.name}: ${image.framework.catalog.kind.name} ${image.framework.version.version} (cu${image.framework.variant.cuda.replace('.', '')}), CUDA ${image.cuda.version} (${compat}), Python ${image.python.patch}, ${image.os.token}, arch ${image.cudaArchList}`,
			`  run: docker run --rm -it --gpus all ${tree.nodes.find(node => node.id === tree.leaves.get(image.name))!.tag}`,
			...image.notes.map(note => `  note: ${note}`),
		);
	}

	lines.push('', 'tiers:');
	const rows = treeRows(tree);
	const width = Math.max(...rows.map(row => row.prefix.length + row.node.tier.length));
	for (const row of rows) {
		const label = `${row.prefix}${row.node.tier}`.padEnd(width);
		lines.push(`${label}  ${describeTier(row.node)}`, `${' '.repeat(width)}  ${row.node.tag}`);
	}

	return lines.join('\n');
}
