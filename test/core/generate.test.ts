import {mkdir, readFile, readdir, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {describe, expect, test} from 'vitest';
import {dockerfileString, generateFiles, hclLiteral} from '../../source/core/generate.js';
import {planSelection} from '../../source/core/plan.js';
import {e2eCatalog, selectionFrom} from '../helpers/catalog.js';

const goldenDirectory = path.resolve('test/golden/e2e-two-images');

describe('generateFiles', () => {
	test('matches the golden files byte for byte (UPDATE_GOLDEN=1 rewrites them)', async () => {
		const catalog = await e2eCatalog();
		const recipe = await readFile('test/fixtures/recipes/e2e-two-images.yaml', 'utf8');
		const {resolution, tree} = planSelection(catalog, selectionFrom(catalog, recipe));
		const files = generateFiles(resolution, tree);
		if (process.env['UPDATE_GOLDEN'] === '1') {
			for (const [relative, content] of files) {
				await mkdir(path.dirname(path.join(goldenDirectory, relative)), {recursive: true});
				await writeFile(path.join(goldenDirectory, relative), content);
			}
		}

		const golden = new Map<string, string>();
		for (const entry of await readdir(goldenDirectory, {recursive: true, withFileTypes: true})) {
			if (entry.isFile()) {
				const full = path.join(entry.parentPath, entry.name);
				golden.set(path.relative(goldenDirectory, full), await readFile(full, 'utf8'));
			}
		}

		expect(new Map([...files].sort())).toEqual(new Map([...golden].sort()));
	});

	test('the cuda tier carries the NVIDIA container runtime variables', async () => {
		const catalog = await e2eCatalog();
		const {resolution, tree} = planSelection(catalog, selectionFrom(catalog, 'name: t\ngpus: [A100]\nimages: [{framework: pytorch@2.4}]\n'));
		const dockerfile = generateFiles(resolution, tree).get('cuda-12-1-1-busybox1-36/Dockerfile')!;
		expect(dockerfile).toContain('    NVIDIA_VISIBLE_DEVICES="all" \\\n    NVIDIA_DRIVER_CAPABILITIES="compute,utility" \\\n    NVIDIA_REQUIRE_CUDA="cuda>=12.1"\n');
		expect(dockerfile).toContain('FROM parent\n');
	});

	test('literal template markers are escaped for HCL and for Dockerfile strings', () => {
		expect(hclLiteral('echo ${HOME} %{x}')).toBe('echo $${HOME} %%{x}');
		expect(dockerfileString('a "b" $HOME \\')).toBe('"a \\"b\\" \\$HOME \\\\"');
	});
});
