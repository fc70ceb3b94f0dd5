import {createHash} from 'node:crypto';
import {readdir, readFile, rename, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {buildCatalog, CatalogError, type Catalog} from '../core/catalog.js';
import {catalogFileSchemas, detectCatalogKind, type CatalogFile, type CatalogFileKind} from '../core/catalog-schema.js';
import type {ZodType} from 'zod';
import {formatIssue, parseYamlDocument, type DocumentIssue, type Locate} from '../core/document.js';
import {UserError} from '../errors.js';
import {packageRoot} from './package-files.js';

/** The catalogs shipped in the package, next to dist/. */
export const bundledCatalogDirectory = path.join(packageRoot, 'catalogs/');

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

const notACatalog = 'is not a catalog file: expected a top-level gpus:, extras:, components: or apps: list, or a resource: with tier base, cuda, basic or framework';

function parseCatalogText(text: string, label: string): LoadedFile | DocumentIssue[] {
	let kind: CatalogFileKind | null = null;
	const result = parseYamlDocument(label, text, data => {
		kind = detectCatalogKind(data);
		return kind ? catalogFileSchemas[kind] as ZodType<unknown> : notACatalog;
	});
	if (!result.ok) {
		return result.issues;
	}

	return {entry: {kind: kind as CatalogFileKind | null, file: label, data: result.value} as unknown as CatalogFile, locate: result.locate};
}

/**
 * Validated catalog files by the sha256 of their text, written at build time so that start-up
 * skips YAML parsing and schema checks for files nobody edited. Any other file is parsed as usual.
 */
type Snapshot = Record<string, {kind: CatalogFileKind; data: unknown}>;
const snapshotPath = path.join(packageRoot, 'dist', 'catalog-snapshot.json');
let snapshot: Promise<Snapshot> | undefined;
const textHash = (text: string) => createHash('sha256').update(text).digest('hex');

async function loadFile(filePath: string, label: string): Promise<LoadedFile | DocumentIssue[]> {
	const text = await readFile(filePath, 'utf8');
	snapshot ??= readFile(snapshotPath, 'utf8').then(json => JSON.parse(json) as Snapshot, () => ({}));
	const known = (await snapshot)[textHash(text)];
	if (known) {
		// Positions are only needed for a semantic problem; parse again then.
		const locate: Locate = (path, message) => (parseCatalogText(text, label) as LoadedFile).locate(path, message);
		return {entry: {kind: known.kind, file: label, data: known.data} as CatalogFile, locate};
	}

	return parseCatalogText(text, label);
}

/** Writes the snapshot of the bundled catalogs; run by `npm run build`, fails on any catalog problem. */
export async function writeCatalogSnapshot(): Promise<number> {
	snapshot = Promise.resolve({});
	await loadCatalog();
	const entries: Snapshot = {};
	for (const file of await yamlFiles(bundledCatalogDirectory)) {
		const text = await readFile(file, 'utf8');
		const parsed = parseCatalogText(text, file) as LoadedFile;
		entries[textHash(text)] = {kind: parsed.entry.kind, data: parsed.entry.data};
	}

	await writeFile(`${snapshotPath}.tmp`, JSON.stringify(entries));
	await rename(`${snapshotPath}.tmp`, snapshotPath);
	return Object.keys(entries).length;
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

