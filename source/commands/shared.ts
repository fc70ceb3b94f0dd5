import type {Catalog} from '../core/catalog.js';
import {planSelection, UnsatisfiableError, type Plan} from '../core/plan.js';
import type {Selection} from '../core/recipe.js';
import {TemplateError} from '../core/template.js';
import {UserError} from '../errors.js';
import {loadCatalog} from '../services/catalog-loader.js';
import {loadRecipe, type HostFacts} from '../services/recipe-loader.js';
import type {ParsedValues} from './command.js';

/** Bundled catalogs with `--catalog` directories merged over them, or only those with `--no-bundled`. */
export async function loadCatalogFor(values: ParsedValues): Promise<Catalog> {
	const directories = (values['catalog'] as string[] | undefined) ?? [];
	if (values['no-bundled']) {
		const [first, ...rest] = directories;
		if (!first) {
			throw new UserError('--no-bundled needs at least one --catalog DIR.', 'Add --catalog DIR, or drop --no-bundled to use the bundled catalogs.');
		}

		return loadCatalog(rest, first);
	}

	return loadCatalog(directories);
}

/** Plans a selection, turning "nothing fits" into a user error with every reason. */
export function planOrExplain(catalog: Catalog, selection: Selection, source: string): Plan {
	try {
		return planSelection(catalog, selection);
	} catch (error) {
		if (error instanceof UnsatisfiableError) {
			throw new UserError(`${source}: nothing fits.\n${error.message}`, 'Relax the recipe (another framework version, a cuda range, a newer driver); `stackwiz plan` shows each option with its reason.');
		}

		if (error instanceof TemplateError) {
			throw new UserError(`${error.message}.`, 'Fix the placeholder in that catalog file; a value that may be missing is written {{name?}} and drops the command when it is.');
		}

		throw error;
	}
}

/** catalogs -> recipe -> resolve -> tree, for the commands that take a recipe file. */
export async function planRecipeFile(recipeFile: string | undefined, values: ParsedValues, command: string, detectHost?: () => Promise<HostFacts>): Promise<{plan: Plan; catalog: Catalog}> {
	if (!recipeFile) {
		throw new UserError(`${command} needs a recipe file.`, `Run \`stackwiz ${command} recipes/workstation-rtx4090.yaml\`, or see \`stackwiz --help\`.`);
	}

	const catalog = await loadCatalogFor(values);
	const selection = await loadRecipe(recipeFile, catalog, detectHost);
	return {catalog, plan: planOrExplain(catalog, selection, recipeFile)};
}
