import {describe, expect, test} from 'vitest';
import {formatIssue, parseYamlDocument} from '../../source/core/document.js';
import {recipeSchema} from '../../source/core/recipe.js';

const messages = (text: string) => {
	const result = parseYamlDocument('recipe.yaml', text, recipeSchema);
	return result.ok ? [] : result.issues.map(formatIssue);
};

describe('parseYamlDocument', () => {
	test('a numeric version names line, column and the quoting fix', () => {
		expect(messages('name: a\ngpus: [A100]\ncuda: 12.10\nimages: [{framework: pytorch}]\n')).toEqual([
			'recipe.yaml:3:7 cuda: expected a quoted string, got the number 12.1 (YAML reads 12.10 as 12.1); write it as "12.1"',
		]);
	});

	test('an unknown key is reported at the key, not silently ignored', () => {
		expect(messages('name: a\ngpus: [A100]\nimages:\n  - framework: pytorch\n    extra: [deepspeed]\n')).toEqual([
			'recipe.yaml:5:5 images[0].extra: unknown key "extra"; check the spelling (allowed keys are listed in the README)',
		]);
	});

	test('a missing key points at its parent', () => {
		expect(messages('name: a\nimages: [{framework: pytorch}]\n')).toEqual([
			'recipe.yaml:1:1 gpus: expected a list of GPU names, like [A100, V100]',
		]);
	});

	test('malformed YAML is one positioned line', () => {
		const [line] = messages('name: a\ngpus: [A100\n');
		expect(line).toMatch(/^recipe\.yaml:\d+:\d+ invalid YAML: /);
	});

	test('an alias bomb is refused instead of expanded', () => {
		const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
		for (let index = 1; index < 9; index++) {
			levels.push(`${String.fromCodePoint(97 + index)}: &${String.fromCodePoint(97 + index)} [${Array.from({length: 9}, () => `*${String.fromCodePoint(96 + index)}`).join(',')}]`);
		}

		const [line] = messages(`${levels.join('\n')}\n`);
		expect(line).toMatch(/^recipe\.yaml:1:1 invalid YAML: /);
	});

	test('non-UTF-8 bytes are refused', () => {
		const text = Buffer.from([0x6E, 0x61, 0x6D, 0x65, 0x3A, 0x20, 0xFF, 0x0A]).toString('utf8');
		expect(messages(text)).toEqual(['recipe.yaml:1:7 is not valid UTF-8; save the file as UTF-8']);
	});

	test('a duplicate key is an error', () => {
		const [line] = messages('name: a\nname: b\ngpus: [A100]\nimages: [{framework: pytorch}]\n');
		expect(line).toMatch(/^recipe\.yaml:2:1 invalid YAML: Map keys must be unique/);
	});
});
