import {readdir, readFile} from 'node:fs/promises';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {buildCatalog, CatalogError, type Catalog} from '../core/catalog.js';
import {catalogFileSchemas, detectCatalogKind, type CatalogFile} from '../core/catalog-schema.js';
import {formatIssue, parseYamlDocument, type DocumentIssue, type Locate} from '../core/document.js';
import {parse} from 'yaml';
import {UserError} from '../errors.js';

/** The catalogs shipped in the package, next to dist/. */
export const bundledCatalogDirectory = fileURLToPath(new URL('../../catalogs/', import.meta.url));

async function yamlFiles(directory: string): Promise<string[]> {
	let entries: string[];
	try {
		entries = await readdir(directory);
	} catch {
		throw new UserError(`catalog directory ${directory} cannot be read.`, 'Pass an existing directory of *.yaml catalog files to --catalog.');
	}

	return entries.filter(name => /\.ya?ml$/.test(name)).sort().map(name => path.join(directory, name));
}

type LoadedFile = {entry: CatalogFile; locate: Locate};

async function loadFile(filePath: string, label: string): Promise<LoadedFile | DocumentIssue[]> {
	const text = await readFile(filePath, 'utf8');
	let kind: ReturnType<typeof detectCatalogKind>;
	try {
		kind = detectCatalogKind(parse(text, {maxAliasCount: 50}));
	} catch {
		kind = 'gpus'; // Let the positioned parse below report the YAML error.
	}

	if (!kind) {
		return [{file: label, line: 1, column: 1, path: '', message: 'is not a catalog file: expected a top-level gpus:, extras:, components: or apps: list, or a resource: with tier base, cuda, basic or framework'}];
	}

	const result = parseYamlDocument(label, text, catalogFileSchemas[kind] as never);
	if (!result.ok) {
		return result.issues;
	}

	return {entry: {kind, file: label, data: result.value} as CatalogFile, locate: result.locate};
}

/**
 * Reads the bundled catalogs and, merged over them in order, each `--catalog DIR`.
 * Every problem in any file is reported at once, positioned as `file:line:col path: message`.
 */
export async function loadCatalog(extraDirectories: string[] = [], bundled = bundledCatalogDirectory): Promise<Catalog> {
	const sources = [
		...(await yamlFiles(bundled)).map(file => ({file, label: bundled === bundledCatalogDirectory ? path.posix.join('catalogs', path.basename(file)) : path.join(bundled, path.basename(file))})),
		...(await Promise.all(extraDirectories.map(async directory => (await yamlFiles(directory)).map(file => ({file, label: path.join(directory, path.basename(file))}))))).flat(),
	];
	const loaded = await Promise.all(sources.map(async ({file, label}) => loadFile(file, label)));
	const issues = loaded.filter((item): item is DocumentIssue[] => Array.isArray(item)).flat();
	if (issues.length > 0) {
		throw new UserError(issues.map(formatIssue).join('\n'), 'Fix the catalog entries above; every version is a quoted string and every key is spelled as in the bundled catalogs.');
	}

	const files = loaded.filter((item): item is LoadedFile => !Array.isArray(item));
	try {
		return buildCatalog(files.map(file => file.entry));
	} catch (error) {
		if (error instanceof CatalogError) {
			const byFile = new Map(files.map(file => [file.entry.file, file]));
			const lines = error.problems.map(problem => {
				const file = byFile.get(problem.file);
				return file ? formatIssue(file.locate(problem.path, problem.message)) : `${problem.file}: ${problem.message}`;
			});
			throw new UserError(lines.join('\n'), 'Fix the catalog entries above.');
		}

		throw error;
	}
}

