import type {TierNode, TierTree} from './tier-tree.js';

/** One row of a drawn tree: the branch glyphs in front of a node, depth first. */
export type TreeRow = {node: TierNode; prefix: string; depth: number};

/** Lays the tier tree out as rows with `├─ └─ │` prefixes; the Ink panel and plain output both draw these. */
export function treeRows(tree: Pick<TierTree, 'nodes'>): TreeRow[] {
	const children = new Map<string | null, TierNode[]>();
	for (const node of tree.nodes) {
		children.set(node.parent, [...children.get(node.parent) ?? [], node]);
	}

	const rows: TreeRow[] = [];
	const walk = (parent: string | null, indent: string, depth: number) => {
		const list = children.get(parent) ?? [];
		for (const [index, node] of list.entries()) {
			const last = index === list.length - 1;
			rows.push({node, depth, prefix: depth === 0 ? '' : `${indent}${last ? '└─ ' : '├─ '}`});
			walk(node.id, depth === 0 ? '' : `${indent}${last ? '   ' : '│  '}`, depth + 1);
		}
	};

	walk(null, '', 0);
	return rows;
}

/** "CUDA Toolkit 12.4.1, cuDNN 9.1.0.70": what a tier holds, short. */
export function describeTier(node: TierNode, limit = 4): string {
	const names = node.resources.map(resource => `${resource.name} ${resource.version}`);
	return names.length > limit ? `${names.slice(0, limit).join(', ')} +${names.length - limit}` : names.join(', ');
}
