import {readFile, stat} from 'node:fs/promises';
import type {Catalog} from '../core/catalog.js';
import {formatIssue, maxDocumentBytes, parseYamlDocument} from '../core/document.js';
import {recipeSchema, recipeToSelection, type Selection} from '../core/recipe.js';
import {UserError} from '../errors.js';

/** The host facts a recipe's `gpus: [auto]` and `driver: auto` stand for. */
export type HostFacts = {gpuNames: string[]; driver?: string};

/**
 * Reads, validates and resolves names in a recipe file. Every problem is reported at once,
 * as `recipe.yaml:LINE:COL path: message`.
 */
export async function loadRecipe(file: string, catalog: Catalog, detectHost?: () => Promise<HostFacts>): Promise<Selection> {
	let text: string;
	try {
		const info = await stat(file);
		if (!info.isFile()) {
			throw new UserError(`${file} is not a file.`, 'Pass the path of a recipe YAML file, e.g. recipes/workstation-rtx4090.yaml.');
		}

		if (info.size > maxDocumentBytes) {
			throw new UserError(`${file}:1:1 is ${Math.round(info.size / 1024)} KiB; a recipe is a few KiB.`, 'Check that this is the right file.');
		}

		text = await readFile(file, 'utf8');
	} catch (error) {
		if (error instanceof UserError) {
			throw error;
		}

		throw new UserError(`recipe ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}).`, 'Check the path; recipes that ship with stackwiz are in its recipes/ folder.');
	}

	const parsed = parseYamlDocument(file, text, recipeSchema);
	if (!parsed.ok) {
		throw new UserError(parsed.issues.map(formatIssue).join('\n'), 'Fix the recipe lines above (see README, "Recipe file").');
	}

	let recipe = parsed.value;
	const wantsHost = recipe.gpus.some(name => name.toLowerCase() === 'auto') || recipe.driver === 'auto';
	if (wantsHost) {
		if (!detectHost) {
			throw new UserError(`${file}: gpus: [auto] and driver: auto need host detection, which this command does not do.`, 'Name the GPUs and the driver in the recipe.');
		}

		const host = await detectHost();
		if (recipe.gpus.some(name => name.toLowerCase() === 'auto') && host.gpuNames.length === 0) {
			throw new UserError(parsed.locate(['gpus'], 'auto found no NVIDIA GPU on this host (nvidia-smi lists none)').message, 'Name the GPU models in the recipe, e.g. gpus: [A100].');
		}

		recipe = {
			...recipe,
			gpus: recipe.gpus.flatMap(name => (name.toLowerCase() === 'auto' ? host.gpuNames : [name])),
			...(recipe.driver === 'auto' ? (host.driver ? {driver: host.driver} : {driver: undefined}) : {}),
		};
	}

	const {selection, problems} = recipeToSelection(catalog, recipe);
	if (problems.length > 0) {
		throw new UserError(problems.map(problem => formatIssue(parsed.locate(problem.path, problem.message))).join('\n'), 'Fix the recipe lines above; `stackwiz gpus` lists the known GPUs, and the README the recipe keys.');
	}

	return selection;
}
