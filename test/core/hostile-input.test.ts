import {spawnSync} from 'node:child_process';
import {mkdtemp, readdir, readFile, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import {parse} from 'yaml';
import {beforeAll, describe, expect, test} from 'vitest';
import {buildCatalog, CatalogError, type Catalog} from '../../source/core/catalog.js';
import {catalogFileSchemas, commandProblem, detectCatalogKind, type CatalogFile} from '../../source/core/catalog-schema.js';
import {bakeArguments, bakeFileName, builderNamePattern, dockerfileString, generateFiles, hclLiteral, planFileName, registryVariable, shellQuote, type BakeFile} from '../../source/core/generate.js';
import {planSelection, UnsatisfiableError} from '../../source/core/plan.js';
import {recipeSchema, recipeToSelection, secretPath} from '../../source/core/recipe.js';
import {TemplateError} from '../../source/core/template.js';
import {secretsReadBy, type TierTree} from '../../source/core/tier-tree.js';
import {redact} from '../../source/services/docker/build-tree.js';
import {writeOutputDirectory} from '../../source/services/output-writer.js';
import {e2eCatalogDirectory} from '../helpers/catalog.js';
import {parseDockerfile, parsePairs, readHclTemplate} from '../helpers/dockerfile.js';

/**
 * Property tests: random strings, line breaks, Dockerfile, HCL and shell metacharacters in every field
 * of a recipe and of a catalog. Each input is either refused by validation, or planned and generated
 * into files in which it changed nothing but its own value: no extra Dockerfile instruction, RUN flag
 * or heredoc, no shell metacharacter a template did not have, no HCL interpolation, no bake key, no
 * path outside the output directory.
 */

const runs = Number(process.env['STACKWIZ_PROPERTY_RUNS'] ?? 300);
// Random inputs everywhere but in CI, which must give the same verdict on every run of one commit;
// STACKWIZ_PROPERTY_SEED replays a reported counterexample.
const seed = process.env['STACKWIZ_PROPERTY_SEED'] ?? (process.env['CI'] === 'true' ? '20261122' : undefined);
if (seed !== undefined) {
	fc.configureGlobal({seed: Number(seed)});
}

/** Payloads aimed at each context a string can reach. */
const payloads = [
	'\nRUN touch /pwned',
	'\r\nRUN touch /pwned',
	'x\nLABEL evil=1',
	'x \\',
	'x\\',
	'<<EOF',
	'cat <<EOF',
	'cat <<-EOF',
	'--mount=type=bind,source=/,target=/host',
	'--network=host true',
	' --security=insecure true',
	'${STACKWIZ_REGISTRY}',
	'${HOME}',
	'%{ if true }x%{ endif }',
	'$${X}',
	'$(touch /pwned)',
	'`touch /pwned`',
	'; touch /pwned',
	'| sh',
	'&& touch /pwned',
	'"',
	'\'',
	'\\',
	'\u0000',
	'\u001B[2J\u001B]0;title\u0007',
	'\u2028RUN touch /pwned',
	'../../etc/cron.d/x',
	'/etc/passwd',
	'# escape=`',
	'# syntax=evil/frontend',
	'id=x,src=/etc/shadow',
	'", "network": "host',
	'{{cuda.version}}',
	'{{self.version}}',
	'{{nope}}',
	'/run/secrets/pip-index',
	'user:password@registry.example.com',
	'-rf',
	'*',
];

const metacharacterUnit = fc.constantFrom('\n', '\r', '\\', '$', '{', '}', '%', '"', '\'', ';', '|', '&', '<', '>', '-', '#', '`', ' ', '\t', 'a', 'Z', '1', '.', '/', '=', ',', ':', '@', '\u0000', '\u001B');
const prefixes = ['12.4', '3.11', '535.104.05', 'demo', 'pytorch@2.3', 'A100', '1', 'echo ok', 'busybox1.36', 'pip-index', 'PIP_INDEX_TOKEN', '127.0.0.1:5000/e2e'];

const hostile: fc.Arbitrary<string> = fc.oneof(
	fc.constantFrom(...payloads),
	fc.string({maxLength: 30}),
	fc.string({unit: 'grapheme', maxLength: 30}),
	fc.string({unit: metacharacterUnit, maxLength: 24}),
	fc.tuple(fc.constantFrom(...prefixes), fc.constantFrom(...payloads)).map(([prefix, payload]) => `${prefix}${payload}`),
	fc.tuple(fc.constantFrom(...prefixes), fc.string({unit: metacharacterUnit, maxLength: 8})).map(([prefix, tail]) => `${prefix}${tail}`),
);

type Json = null | boolean | number | string | Json[] | {[key: string]: Json};
type Path = Array<string | number>;

/** Every string leaf, every string list (to append to) and every map key of a parsed YAML value. */
function fields(value: Json, at: Path = []): Array<{path: Path; kind: 'value' | 'append' | 'key'}> {
	if (typeof value === 'string') {
		return [{path: at, kind: 'value'}];
	}

	if (Array.isArray(value)) {
		const items = value.flatMap((item, index) => fields(item, [...at, index]));
		return value.every(item => typeof item === 'string') ? [{path: at, kind: 'append'}, ...items] : items;
	}

	if (value && typeof value === 'object') {
		return Object.entries(value).flatMap(([key, item]) => [{path: [...at, key], kind: 'key' as const}, ...fields(item, [...at, key])]);
	}

	return [];
}

/** A copy of `value` with the string at `field.path` replaced, appended to, or its map key renamed. */
function mutate(value: Json, field: {path: Path; kind: 'value' | 'append' | 'key'}, text: string): Json {
	const copy = structuredClone(value);
	const parentPath = field.path.slice(0, -1);
	let parent = copy as Record<string | number, Json>;
	for (const step of parentPath) {
		parent = parent[step] as Record<string | number, Json>;
	}

	const last = field.path.at(-1)!;
	if (field.kind === 'value') {
		parent[last] = text;
	} else if (field.kind === 'append') {
		(parent[last] as Json[]).push(text);
	} else {
		const entries = Object.entries(parent).map(([key, item]): [string, Json] => [key === last ? text : key, item]);
		for (const key of Object.keys(parent)) {
			delete parent[key];
		}

		Object.assign(parent, Object.fromEntries(entries));
	}

	return copy;
}

/** The recipe every catalog mutation is planned with: two images, apps, a patch that reads a build secret. */
const baseRecipe: Json = {
	name: 'hostile',
	gpus: ['A100', 'V100'],
	driver: '550.54.15',
	registry: '127.0.0.1:5000/e2e',
	secrets: [{id: 'pip-index', env: 'PIP_INDEX_TOKEN'}],
	images: [
		{name: 'train-old', framework: 'pytorch@2.3', apps: ['demo@1.0']},
		{name: 'train-new', framework: 'pytorch@2.4', apps: ['demo@1.0'], patch: {version: '1', run: ['echo patched > /stackwiz/patch', `wc -c < ${secretPath('pip-index')} > /stackwiz/secret-length`]}},
	],
};

type Planned = {rejected: string} | {tree: TierTree; files: Map<string, string>; commands: string[]};

/** Validation and planning as the CLI does them; anything refused is `rejected`, anything else is generated. */
function planAndGenerate(catalogFiles: Array<{file: string; data: Json}>, recipe: Json): Planned {
	const entries: CatalogFile[] = [];
	for (const {file, data} of catalogFiles) {
		const kind = detectCatalogKind(data);
		if (!kind) {
			return {rejected: `${file}: not a catalog`};
		}

		const parsed = catalogFileSchemas[kind].safeParse(data);
		if (!parsed.success) {
			return {rejected: `${file}: ${parsed.error.issues[0]!.message}`};
		}

		entries.push({kind, file, data: parsed.data} as CatalogFile);
	}

	let catalog: Catalog;
	try {
		catalog = buildCatalog(entries);
	} catch (error) {
		if (error instanceof CatalogError) {
			return {rejected: error.message};
		}

		throw error;
	}

	const parsed = recipeSchema.safeParse(recipe);
	if (!parsed.success) {
		return {rejected: `recipe: ${parsed.error.issues[0]!.message}`};
	}

	const {selection, problems} = recipeToSelection(catalog, parsed.data);
	if (problems.length > 0) {
		return {rejected: problems[0]!.message};
	}

	let plan;
	try {
		plan = planSelection(catalog, selection);
	} catch (error) {
		if (error instanceof UnsatisfiableError || error instanceof TemplateError) {
			return {rejected: error.message};
		}

		throw error;
	}

	// Generation must not throw for anything validation let through.
	const files = generateFiles(plan.resolution, plan.tree);
	const commands = [...commandsIn(catalogFiles.map(entry => entry.data)), ...parsed.data.images.flatMap(image => image.patch?.run ?? [])];
	return {tree: plan.tree, files, commands};
}

/** Every install command in the catalog files: the templates RUN lines are filled from. */
function commandsIn(values: Json[]): string[] {
	const found: string[] = [];
	const walk = (value: Json, key?: string) => {
		if (Array.isArray(value)) {
			for (const item of value) {
				if (typeof item === 'string' && (key === 'install' || key === 'devel_install')) {
					found.push(item);
				} else {
					walk(item);
				}
			}
		} else if (value && typeof value === 'object') {
			for (const [name, item] of Object.entries(value)) {
				walk(item, name);
			}
		}
	};

	for (const value of values) {
		walk(value);
	}

	return found;
}

/** The shell metacharacters of a command in order, placeholders left out: what a filled value must not add to. */
const metacharacters = (command: string) => command.replaceAll(/\{\{[^}]*\}\}/g, '').replaceAll(/[^;&|$`()<>"'\\*?!#[\]\n\r{}]/g, '');

const safeFileName = /^(docker-bake\.json|stackwiz-plan\.json|[a-z0-9][a-z0-9-]*\/Dockerfile)$/;
const targetKeys = new Set(['context', 'dockerfile', 'contexts', 'tags', 'platforms', 'secret']);

/** Everything generated from hostile input is what the tree says, and nothing more. */
function expectSafeOutput(planned: Extract<Planned, {tree: TierTree}>): void {
	const {tree, files, commands} = planned;
	const templates = new Set(commands.map(command => metacharacters(command)));
	for (const name of files.keys()) {
		expect(name).toMatch(safeFileName);
	}

	expect([...files.keys()].sort()).toEqual([bakeFileName, planFileName, ...tree.nodes.map(node => `${node.id}/Dockerfile`)].sort());
	JSON.parse(files.get(planFileName)!);

	for (const node of tree.nodes) {
		const {directives, instructions} = parseDockerfile(files.get(`${node.id}/Dockerfile`)!);
		expect(directives).toEqual({});
		const keywords = instructions.map(instruction => instruction.keyword);
		expect(keywords).toEqual([
			'FROM',
			...(node.shell ? ['SHELL'] : []),
			'LABEL',
			...(node.env.length > 0 ? ['ENV'] : []),
			...node.run.map(() => 'RUN'),
		]);
		expect(instructions[0]!.body).toBe(node.parent ? 'parent' : node.from);
		for (const instruction of instructions) {
			expect(instruction.heredocs).toEqual([]);
			if (instruction.keyword !== 'RUN') {
				expect(instruction.flags).toEqual([]);
			}
		}

		const runs = instructions.filter(instruction => instruction.keyword === 'RUN');
		for (const [index, run] of runs.entries()) {
			const command = node.run[index]!;
			expect(run.body.trim()).toBe(command.trim());
			expect(run.flags).toEqual(secretsReadBy(command, node.secrets ?? []).map(secret => `--mount=type=secret,id=${secret.id},target=${secretPath(secret.id)},required=true`));
			// A filled template has exactly the metacharacters of some template: values add none.
			expect(templates.has(metacharacters(command)), `RUN ${command}`).toBe(true);
		}

		const label = parsePairs(instructions.find(instruction => instruction.keyword === 'LABEL')!.body);
		for (const pair of label) {
			expect(pair.expands, pair.key).toBe(false);
			expect(pair.value).not.toMatch(/[\n\r]/);
		}

		expect(label.find(pair => pair.key === 'io.stackwiz.tier')?.value).toBe(node.tier);
		expect(new Set(label.map(pair => pair.key)).size).toBe(label.length);
		const env = instructions.find(instruction => instruction.keyword === 'ENV');
		if (env) {
			expect(parsePairs(env.body).map(pair => [pair.key, pair.value])).toEqual(node.env);
		}
	}

	const bake = JSON.parse(files.get(bakeFileName)!) as BakeFile & Record<string, unknown>;
	expect(Object.keys(bake).every(key => ['variable', 'group', 'target'].includes(key))).toBe(true);
	expect(Object.keys(bake.variable ?? {})).toEqual(tree.registry ? [registryVariable] : []);
	expect(readHclTemplate(bake.variable?.[registryVariable]?.default ?? '').interpolations).toEqual([]);
	expect(Object.keys(bake.group)).toEqual(['default']);
	expect(bake.group['default']!.targets.map(target => readHclTemplate(target))).toEqual(tree.nodes.map(node => ({literal: node.id, interpolations: []})));
	expect(Object.keys(bake.target).sort()).toEqual(tree.nodes.map(node => node.id).sort());
	for (const node of tree.nodes) {
		const target = bake.target[node.id]! as unknown as Record<string, unknown>;
		expect(Object.keys(target).every(key => targetKeys.has(key)), Object.keys(target).join()).toBe(true);
		const strings = JSON.stringify(target).match(/"(?:[^"\\]|\\.)*"/g)!.map(item => JSON.parse(item) as string);
		for (const text of strings) {
			const {interpolations} = readHclTemplate(text);
			expect(interpolations.every(expression => expression === `\${${registryVariable}}`)).toBe(true);
		}

		const [tag] = bake.target[node.id]!.tags;
		expect(readHclTemplate(tag!)).toEqual(tree.registry ? {literal: `\u0000/${node.ref}`, interpolations: [`\${${registryVariable}}`]} : {literal: node.ref, interpolations: []});
		for (const secret of bake.target[node.id]!.secret ?? []) {
			expect(secret).toMatch(/^id=[a-z0-9][a-z0-9_.-]*,env=[A-Z_][A-Z0-9_]*$/);
		}
	}
}

let catalogFiles: Array<{file: string; data: Json}> = [];
let catalogFields: Array<{file: number; path: Path; kind: 'value' | 'append' | 'key'}> = [];
const recipeFields = fields(baseRecipe);

beforeAll(async () => {
	const names = (await readdir(e2eCatalogDirectory)).filter(name => name.endsWith('.yaml')).sort();
	catalogFiles = await Promise.all(names.map(async name => ({file: path.join(e2eCatalogDirectory, name), data: parse(await readFile(path.join(e2eCatalogDirectory, name), 'utf8')) as Json})));
	catalogFields = catalogFiles.flatMap((entry, file) => fields(entry.data).map(field => ({file, ...field})));
});

describe('hostile input never reaches the generated files unescaped', () => {
	test('the unmutated recipe and catalog pass the checks (the checks are not vacuous)', () => {
		const planned = planAndGenerate(catalogFiles, baseRecipe);
		expect('rejected' in planned ? planned.rejected : '').toBe('');
		expectSafeOutput(planned as Extract<Planned, {tree: TierTree}>);
		const patch = (planned as Extract<Planned, {tree: TierTree}>).files.get([...(planned as Extract<Planned, {tree: TierTree}>).files.keys()].find(name => name.startsWith('patch-'))!)!;
		expect(patch).toContain('RUN --mount=type=secret,id=pip-index,target=/run/secrets/pip-index,required=true wc -c < /run/secrets/pip-index > /stackwiz/secret-length\n');
	});

	test('every recipe field', () => {
		let generated = 0;
		fc.assert(
			fc.property(fc.constantFrom(...recipeFields), hostile, (field, text) => {
				const planned = planAndGenerate(catalogFiles, mutate(baseRecipe, field, text));
				if (!('rejected' in planned)) {
					generated++;
					expectSafeOutput(planned);
				}
			}),
			{numRuns: runs},
		);
		// Some hostile values are harmless and accepted (a patch command full of shell syntax).
		expect(generated).toBeGreaterThan(0);
	});

	test('every catalog field and map key', () => {
		let generated = 0;
		fc.assert(
			fc.property(fc.nat(), hostile, (pick, text) => {
				const field = catalogFields[pick % catalogFields.length]!;
				const files = catalogFiles.map((entry, index) => (index === field.file ? {file: entry.file, data: mutate(entry.data, field, text)} : entry));
				const planned = planAndGenerate(files, baseRecipe);
				if (!('rejected' in planned)) {
					generated++;
					expectSafeOutput(planned);
				}
			}),
			{numRuns: runs * 2},
		);
		expect(generated).toBeGreaterThan(0);
	});

	test('a payload in an install command stays one RUN step with no flag and no heredoc, or is refused', () => {
		fc.assert(
			fc.property(hostile, hostile, (first, second) => {
				const accepted = [first, second].filter(command => command.length > 0 && commandProblem(command) === undefined);
				const {instructions} = parseDockerfile(['FROM x', ...accepted.map(command => `RUN ${command}`), 'RUN echo last', ''].join('\n'));
				expect(instructions.map(instruction => instruction.keyword)).toEqual(['FROM', ...accepted.map(() => 'RUN'), 'RUN']);
				expect(instructions.slice(1).map(instruction => [instruction.body.trim(), instruction.flags, instruction.heredocs])).toEqual([...accepted, 'echo last'].map(command => [command.trim(), [], []]));
			}),
			{numRuns: runs * 3},
		);
	});

	test('each context\'s escaping round-trips any string: HCL literals, Dockerfile strings, shell words', () => {
		fc.assert(
			fc.property(fc.string({unit: 'grapheme', maxLength: 40}), hostile, (plain, payload) => {
				for (const text of [plain, payload, `${plain}${payload}`]) {
					expect(readHclTemplate(hclLiteral(text))).toEqual({literal: text, interpolations: []});
					expect(parsePairs(`k=${dockerfileString(text)}`)).toEqual([{key: 'k', value: text.replaceAll(/[\n\r]/g, ' '), expands: false}]);
				}
			}),
			{numRuns: runs * 3},
		);

		// One shell run for a batch of quoted words: each must come back byte for byte.
		const words = fc.sample(fc.oneof(hostile, fc.string({unit: 'grapheme', maxLength: 20})), 300).map(word => word.replaceAll('\u0000', '')).filter(word => word !== '');
		const result = spawnSync('sh', ['-c', `printf '%s\\0' ${words.map(word => shellQuote(word)).join(' ')}`], {encoding: 'utf8'});
		expect(result.status).toBe(0);
		expect(result.stdout.split('\u0000').slice(0, -1)).toEqual(words);
	});

	test('no argv injection: a builder name is one word that is never an option, or it is refused', () => {
		const tree = {nodes: [], leaves: new Map(), images: [], registry: '127.0.0.1:5000/e2e'} as TierTree;
		fc.assert(
			fc.property(fc.oneof(hostile, fc.constantFrom('default', 'stackwiz', 'my_builder.2', '-x', '--push', 'a b')), builder => {
				let args: string[];
				try {
					args = bakeArguments(tree, {push: true, builder, progress: 'rawjson', metadataFile: '/tmp/m.json'});
				} catch {
					expect(builderNamePattern.test(builder)).toBe(false);
					return;
				}

				expect(args).toEqual(['buildx', 'bake', '-f', bakeFileName, '--progress=rawjson', '--builder', builder, '--metadata-file', '/tmp/m.json', '--push']);
				expect(builder).toMatch(/^[A-Za-z0-9]/);
			}),
			{numRuns: runs},
		);
	});

	test('no write outside the output directory, whatever the generated paths are', async () => {
		const segment = fc.oneof(fc.constantFrom('..', '.', '', '/', '~', 'base-x', 'Dockerfile', '..\\..', '%2e%2e'), fc.string({maxLength: 8}));
		const relative = fc.array(segment, {minLength: 1, maxLength: 5}).map(parts => parts.join('/'));
		const root = await mkdtemp(path.join(tmpdir(), 'stackwiz-hostile-'));
		try {
			await fc.assert(
				fc.asyncProperty(fc.array(relative, {minLength: 1, maxLength: 4}), async names => {
					const parent = await mkdtemp(path.join(root, 'case-'));
					const out = path.join(parent, 'out');
					const accepted = await writeOutputDirectory(out, new Map([['stackwiz-plan.json', '{}\n'], ...names.map((name, index): [string, string] => [name, `file ${index}`])])).then(() => true, () => false);
					const entries = await readdir(parent, {recursive: true});
					// Everything is inside out/ (or, refused, nothing at all is there).
					expect(entries.every(entry => entry === 'out' || entry.startsWith(`out${path.sep}`)), entries.join(', ')).toBe(true);
					if (!accepted) {
						expect(entries).toEqual([]);
					}

					expect((await readdir(root)).every(name => name.startsWith('case-'))).toBe(true);
				}),
				{numRuns: Math.max(50, runs / 3)},
			);
		} finally {
			await rm(root, {recursive: true, force: true});
		}
	}, 60_000);

	test('a secret value never survives redaction, wherever it sits in an event', () => {
		fc.assert(
			fc.property(fc.string({unit: 'grapheme', minLength: 4, maxLength: 40}), fc.string({maxLength: 20}), fc.string({maxLength: 20}), (secret, before, after) => {
				const event = {type: 'log', tier: 'apps', line: `${before}${secret}${after}`, nested: [{reason: `x${secret}`}]};
				const text = JSON.stringify(redact(event, [secret]));
				expect(text.includes(JSON.stringify(secret).slice(1, -1))).toBe(false);
			}),
			{numRuns: runs},
		);
	});
});
