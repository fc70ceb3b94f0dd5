import {isMap, isNode, isPair, isScalar, parseDocument, type Document} from 'yaml';
import {z} from 'zod';

/** One validation problem, positioned in its file. */
export type DocumentIssue = {
	file: string;
	line: number;
	column: number;
	path: string;
	message: string;
};

/** Positions a later, semantic problem at the YAML node its path names (or the nearest existing parent). */
export type Locate = (path: ReadonlyArray<string | number>, message: string) => DocumentIssue;

export type DocumentResult<T> = {ok: true; value: T; locate: Locate} | {ok: false; issues: DocumentIssue[]};

/** Recipes and catalogs are small; anything larger is a mistake or an attack. */
export const maxDocumentBytes = 1024 * 1024;

export function formatIssue(issue: DocumentIssue): string {
	const where = `${issue.file}:${issue.line}:${issue.column}`;
	return issue.path ? `${where} ${issue.path}: ${issue.message}` : `${where} ${issue.message}`;
}

/** `versions[3].min_driver` */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
	let text = '';
	for (const segment of path) {
		text += typeof segment === 'number' ? `[${segment}]` : `${text ? '.' : ''}${String(segment)}`;
	}

	return text;
}

/**
 * Parses YAML text and validates it against a schema, keeping line:column for every problem.
 * Pure: the caller reads the file and names it.
 */
export function parseYamlDocument<T>(file: string, text: string, schema: z.ZodType<T> | ((data: unknown) => z.ZodType<T> | string)): DocumentResult<T> {
	const at = (offset: number, path = '', message = ''): DocumentIssue => {
		const before = text.slice(0, offset);
		const line = before.split('\n').length;
		return {file, line, column: offset - before.lastIndexOf('\n'), path, message};
	};

	if (Buffer.byteLength(text) > maxDocumentBytes) {
		return {ok: false, issues: [at(0, '', `is larger than ${maxDocumentBytes / 1024} KiB; a recipe or catalog file is a few KiB, check that this is the right file`)]};
	}

	if (text.includes('\uFFFD')) {
		return {ok: false, issues: [at(text.indexOf('\uFFFD'), '', 'is not valid UTF-8; save the file as UTF-8')]};
	}

	const document = parseDocument(text, {uniqueKeys: true, prettyErrors: false});
	const yamlProblems = [...document.errors, ...document.warnings];
	if (yamlProblems.length > 0) {
		return {
			ok: false,
			issues: yamlProblems.map(problem => at(problem.pos[0], '', `invalid YAML: ${firstLine(problem.message)}`)),
		};
	}

	let data: unknown;
	try {
		data = document.toJS({maxAliasCount: 50});
	} catch (error) {
		// The yaml package refuses alias expansion past maxAliasCount ("billion laughs").
		return {ok: false, issues: [at(0, '', `invalid YAML: ${firstLine((error as Error).message)}`)]};
	}

	const chosen = typeof schema === 'function' ? schema(data) : schema;
	if (typeof chosen === 'string') {
		return {ok: false, issues: [at(0, '', chosen)]};
	}

	const parsed = chosen.safeParse(data);
	if (parsed.success) {
		return {ok: true, value: parsed.data, locate: (path, message) => at(nodeOffset(document, [...path]), formatPath(path), message)};
	}

	return {ok: false, issues: parsed.error.issues.map(issue => positionIssue(document, issue, at))};
}

function positionIssue(
	document: Document,
	issue: z.core.$ZodIssue,
	at: (offset: number, path?: string, message?: string) => DocumentIssue,
): DocumentIssue {
	const path = issue.path.filter((segment): segment is string | number => typeof segment !== 'symbol');
	if (issue.code === 'unrecognized_keys') {
		const key = issue.keys[0] ?? '';
		const offset = keyOffset(document, path, key);
		const known = issue.keys.length > 1 ? `unknown keys ${issue.keys.map(k => `"${k}"`).join(', ')}` : `unknown key "${key}"`;
		return at(offset, formatPath([...path, key]), `${known}; check the spelling (allowed keys are listed in the README)`);
	}

	return at(nodeOffset(document, path), formatPath(path), friendlyMessage(issue, path));
}

/** zod's generic wording ("Invalid input: expected string, received undefined") in plain words. */
function friendlyMessage(issue: z.core.$ZodIssue, path: Array<string | number>): string {
	const match = /^Invalid input: expected (\w+), received (\w+)/.exec(issue.message);
	if (issue.code !== 'invalid_type' || !match) {
		return issue.message;
	}

	const [, expected = '', received = ''] = match;
	const words: Record<string, string> = {object: 'a mapping of keys', array: 'a list', string: 'a string', number: 'a number', boolean: 'true or false', null: 'nothing', undefined: 'nothing'};
	if (path.length === 0) {
		return `expected a mapping of keys (name:, gpus:, images: ...), got ${words[received] ?? received}`;
	}

	if (received === 'undefined') {
		return `${String(path.at(-1))} is required`;
	}

	return `expected ${words[expected] ?? expected}, got ${words[received] ?? received}`;
}

/** The offset of the deepest node that exists along `path` (a missing key points at its parent). */
function nodeOffset(document: Document, path: Array<string | number>): number {
	for (let length = path.length; length >= 0; length--) {
		const node = document.getIn(path.slice(0, length), true);
		if (isNode(node) && node.range) {
			return node.range[0];
		}
	}

	return 0;
}

function keyOffset(document: Document, path: Array<string | number>, key: string): number {
	const parent = path.length === 0 ? document.contents : document.getIn(path, true);
	if (isMap(parent)) {
		for (const pair of parent.items) {
			if (isPair(pair) && isScalar(pair.key) && pair.key.value === key && pair.key.range) {
				return pair.key.range[0];
			}
		}
	}

	return nodeOffset(document, path);
}

function firstLine(message: string): string {
	return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '').trim();
}
