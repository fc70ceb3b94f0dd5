import type {Catalog} from './catalog.js';
import type {Selection} from './recipe.js';
import {resolveSelection, type Resolution} from './resolve.js';
import {planTierTree, type TierTree} from './tier-tree.js';

export type Plan = {resolution: Resolution; tree: TierTree};

/** Why a selection cannot be built, one block per image that fits nothing. */
export class UnsatisfiableError extends Error {
	constructor(readonly resolution: Resolution) {
		super(resolution.images
			.filter(image => !image.resolved)
			.map(image => `image ${image.request.name}: ${image.problems.join('\n  ')}`)
			.join('\n'));
	}
}

/** catalogs -> resolve -> tier tree: the one path every mode takes. */
export function planSelection(catalog: Catalog, selection: Selection): Plan {
	const resolution = resolveSelection(catalog, selection);
	if (!resolution.ok) {
		throw new UnsatisfiableError(resolution);
	}

	const images = resolution.images.map(image => image.resolved!);
	return {resolution, tree: planTierTree(catalog, images, selection.registry, selection.secrets)};
}
