import {Document, isPair, isScalar, isSeq, visit} from 'yaml';
import {recipeSchema, type PackageRequest, type Recipe, type Selection} from './recipe.js';

/** Keys whose values are versions: always written double-quoted, so YAML never reads 12.10 as 12.1. */
const versionKeys = new Set(['driver', 'cuda', 'python', 'version']);

/** Short lists read best on one line: `gpus: [A100, V100]`. */
const flowKeys = new Set(['gpus', 'extras', 'apps', 'components']);

const spec = (request: PackageRequest) => (request.range === '*' ? request.id : `${request.id}@${request.range}`);

/**
 * The recipe a selection came from, in the form `--non-interactive` reads: GPUs by the name the
 * catalog gives them, packages as `id` or `id@range`. Feeding the result back through
 * recipeToSelection gives the same selection.
 */
export function selectionToRecipe(selection: Selection): Recipe {
	return {
		name: selection.name,
		gpus: selection.gpus.map(gpu => gpu.name),
		...(selection.driver ? {driver: selection.driver} : {}),
		...(selection.cuda ? {cuda: selection.cuda} : {}),
		...(selection.os ? {os: selection.os} : {}),
		...(selection.python ? {python: selection.python} : {}),
		...(selection.registry ? {registry: selection.registry} : {}),
		components: selection.components.map(spec),
		...(selection.secrets?.length ? {secrets: selection.secrets} : {}),
		images: selection.images.map(image => ({
			name: image.name,
			framework: spec(image.framework),
			...(image.cuda ? {cuda: image.cuda} : {}),
			...(image.python ? {python: image.python} : {}),
			extras: image.extras.map(spec),
			apps: image.apps.map(spec),
			...(image.patch ? {patch: image.patch} : {}),
		})),
	};
}

/** Keys in the order the schema declares them, which is the order people read a recipe in. */
const recipeKeys = Object.keys(recipeSchema.shape);
const imageKeys = Object.keys(recipeSchema.shape.images.element.shape);

/** The object with its keys in `order` and absent values and empty lists left out. */
function compact(object: Record<string, unknown>, order: string[]): Record<string, unknown> {
	const result: Record<string, unknown> = {};
	for (const key of [...order, ...Object.keys(object).filter(key => !order.includes(key))]) {
		const value = object[key];
		if (value !== undefined && !(Array.isArray(value) && value.length === 0)) {
			result[key] = value;
		}
	}

	return result;
}

const plain = (recipe: Recipe) => compact({...recipe, images: recipe.images.map(image => compact(image, imageKeys))}, recipeKeys);

/**
 * Writes a recipe as YAML that recipeSchema reads back to an equal object: versions are quoted
 * strings, short lists use flow style, and an optional comment heads the file.
 */
export function serializeRecipe(recipe: Recipe, comment?: string): string {
	const checked = recipeSchema.parse(recipe);
	const document = new Document(plain(checked));
	visit(document, {
		Pair(_, pair) {
			if (!isPair(pair) || !isScalar(pair.key)) {
				return;
			}

			const key = String(pair.key.value);
			if (versionKeys.has(key) && isScalar(pair.value)) {
				pair.value.type = 'QUOTE_DOUBLE';
			}

			if (flowKeys.has(key) && isSeq(pair.value)) {
				pair.value.flow = true;
			}
		},
	});
	if (comment) {
		document.commentBefore = comment.split('\n').map(line => ` ${line}`).join('\n');
	}

	return document.toString({lineWidth: 0, flowCollectionPadding: false});
}
