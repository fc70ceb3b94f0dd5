import {mkdtemp, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {describe, expect, test} from 'vitest';
import {parse} from 'yaml';
import {planSelection} from '../../source/core/plan.js';
import {recipeSchema, recipeToSelection, type Recipe} from '../../source/core/recipe.js';
import {selectionToRecipe, serializeRecipe} from '../../source/core/recipe-writer.js';
import {loadRecipe} from '../../source/services/recipe-loader.js';
import {e2eCatalog} from '../helpers/catalog.js';

const full: Recipe = recipeSchema.parse({
	name: 'vision-team',
	gpus: ['A100', 'V100'],
	driver: '550.54.15',
	cuda: '>=12.1',
	python: '3.11',
	registry: '127.0.0.1:5000/ml',
	components: [],
	secrets: [{id: 'pip-index', env: 'PIP_INDEX_TOKEN'}],
	images: [
		{name: 'old', framework: 'pytorch@2.3.1', cuda: '12.1.1', python: '3.11', apps: ['demo@1.0']},
		{name: 'new', framework: 'pytorch@>=2.4 <2.5', extras: [], apps: ['demo'], patch: {version: '2', run: ['echo "fix: a, b" > /x', 'true']}},
	],
});

describe('serializeRecipe', () => {
	test('round-trips through recipeSchema to an equal recipe', () => {
		const text = serializeRecipe(full);
		expect(recipeSchema.parse(parse(text))).toEqual(full);
	});

	test('writes versions as double-quoted strings, so 12.10 stays 12.10', () => {
		const recipe = recipeSchema.parse({name: 'q', gpus: ['A100'], driver: '535.104.05', images: [{framework: 'pytorch', cuda: '12.10', python: '3.10'}]});
		const text = serializeRecipe(recipe);
		expect(text).toContain('driver: "535.104.05"');
		expect(text).toContain('cuda: "12.10"');
		expect(text).toContain('python: "3.10"');
		expect(recipeSchema.parse(parse(text)).images[0]!.cuda).toBe('12.10');
	});

	test('short lists are flow style, empty lists are left out, the comment heads the file', () => {
		const text = serializeRecipe(full, 'written by the stackwiz wizard\nreplay: stackwiz --non-interactive vision-team.yaml');
		expect(text.split('\n').slice(0, 4)).toEqual([
			'# written by the stackwiz wizard',
			'# replay: stackwiz --non-interactive vision-team.yaml',
			'',
			'name: vision-team',
		]);
		expect(text).toContain('gpus: [A100, V100]');
		expect(text).toContain('apps: [demo@1.0]');
		expect(text.indexOf('registry:')).toBeLessThan(text.indexOf('secrets:'));
		expect(text.indexOf('secrets:')).toBeLessThan(text.indexOf('images:'));
		expect(text).not.toContain('components');
		expect(text).not.toContain('extras');
	});

	test('rejects a recipe the schema would reject, instead of writing it', () => {
		expect(() => serializeRecipe({...full, name: 'Not Valid'})).toThrow();
	});
});

describe('selectionToRecipe', () => {
	test('a selection written and read back plans the same tags', async () => {
		const catalog = await e2eCatalog();
		const {selection, problems} = recipeToSelection(catalog, full);
		expect(problems).toEqual([]);
		const recipe = selectionToRecipe(selection);
		const again = recipeToSelection(catalog, recipeSchema.parse(parse(serializeRecipe(recipe))));
		expect(again.problems).toEqual([]);
		expect(again.selection).toEqual(selection);
		const tags = (chosen: typeof selection) => planSelection(catalog, chosen).tree.nodes.map(node => node.tag);
		expect(tags(again.selection)).toEqual(tags(selection));
	});

	test('the written file loads through the recipe loader that --non-interactive uses', async () => {
		const catalog = await e2eCatalog();
		const {selection} = recipeToSelection(catalog, full);
		const directory = await mkdtemp(path.join(tmpdir(), 'stackwiz-recipe-'));
		const file = path.join(directory, 'vision-team.yaml');
		await writeFile(file, serializeRecipe(selectionToRecipe(selection)));
		expect(await loadRecipe(file, catalog)).toEqual(selection);
	});
});
