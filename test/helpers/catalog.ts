import {cp, mkdtemp, readFile, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {parse} from 'yaml';
import type {Catalog} from '../../source/core/catalog.js';
import {recipeSchema, recipeToSelection, type Selection} from '../../source/core/recipe.js';
import {loadCatalog} from '../../source/services/catalog-loader.js';

export const e2eCatalogDirectory = path.resolve('test/fixtures/catalog-e2e');

/** The synthetic five-tier catalog the end-to-end tests build. */
export async function e2eCatalog(): Promise<Catalog> {
	return loadCatalog([], e2eCatalogDirectory);
}

/** The bundled catalogs, loaded once per test file. */
let bundled: Promise<Catalog> | undefined;
export async function bundledCatalog(): Promise<Catalog> {
	bundled ??= loadCatalog();
	return bundled;
}

/** A selection from recipe YAML text, failing the test on any recipe problem. */
export function selectionFrom(catalog: Catalog, yamlText: string): Selection {
	const recipe = recipeSchema.parse(parse(yamlText));
	const {selection, problems} = recipeToSelection(catalog, recipe);
	if (problems.length > 0) {
		throw new Error(problems.map(problem => problem.message).join('\n'));
	}

	return selection;
}

/** A copy of the e2e catalog with one file's text edited, for catalog-validation tests. */
export async function editedCatalogCopy(file: string, edit: (text: string) => string): Promise<string> {
	const directory = await mkdtemp(path.join(tmpdir(), 'stackwiz-catalog-'));
	await cp(e2eCatalogDirectory, directory, {recursive: true});
	const target = path.join(directory, file);
	await writeFile(target, edit(await readFile(target, 'utf8')));
	return directory;
}
