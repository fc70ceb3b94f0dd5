import {mkdtemp, readdir, readFile, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {describe, expect, test} from 'vitest';
import {generateFiles, renderBakeFile} from '../../../source/core/generate.js';
import {planSelection} from '../../../source/core/plan.js';
import {withReusedTiers, writeFileAtomic} from '../../../source/services/docker/reuse.js';
import {e2eCatalog, selectionFrom} from '../../helpers/catalog.js';

async function e2ePlan() {
	const catalog = await e2eCatalog();
	return planSelection(catalog, selectionFrom(catalog, await readFile('test/fixtures/recipes/e2e-two-images.yaml', 'utf8')));
}

describe('withReusedTiers', () => {
	test('drops reused tiers and pins their children to the registry digest', async () => {
		const {tree} = await e2ePlan();
		const bake = renderBakeFile(tree);
		const reused = new Map([
			['base-busybox1-36', 'sha256:b'],
			['cuda-12-1-1-busybox1-36', 'sha256:c'],
			['basic-py3-11-cuda12-1-1', 'sha256:d'],
			['framework-pytorch2-3-1-cu121-py3-11', 'sha256:e'],
		]);
		const rewritten = withReusedTiers(bake, tree, reused);
		expect(rewritten.group['default']!.targets).toEqual(['apps-demo1-0-pytorch2-3-1', 'framework-pytorch2-4-1-cu121-py3-11', 'apps-demo1-0-pytorch2-4-1']);
		expect(Object.keys(rewritten.target)).toEqual(['apps-demo1-0-pytorch2-3-1', 'framework-pytorch2-4-1-cu121-py3-11', 'apps-demo1-0-pytorch2-4-1']);
		expect(rewritten.target['apps-demo1-0-pytorch2-3-1']!.contexts).toEqual({parent: 'docker-image://127.0.0.1:5000/e2e/stackwiz/framework:pytorch2.3.1-cu121-py3.11-77870552@sha256:e'});
		expect(rewritten.target['framework-pytorch2-4-1-cu121-py3-11']!.contexts).toEqual({parent: 'docker-image://127.0.0.1:5000/e2e/stackwiz/basic:py3.11-cuda12.1.1-b6b0e7bf@sha256:d'});
		expect(rewritten.target['apps-demo1-0-pytorch2-4-1']!.contexts).toEqual({parent: 'target:framework-pytorch2-4-1-cu121-py3-11'});
		expect(rewritten.variable).toEqual(bake.variable);
		expect(renderBakeFile(tree)).toEqual(bake);
	});

	test('nothing reused: the same file; everything reused: an empty group', async () => {
		const {tree} = await e2ePlan();
		const bake = renderBakeFile(tree);
		expect(withReusedTiers(bake, tree, new Map())).toEqual(bake);
		const all = withReusedTiers(bake, tree, new Map(tree.nodes.map(node => [node.id, 'sha256:x'])));
		expect(all.group['default']!.targets).toEqual([]);
		expect(all.target).toEqual({});
	});

	test('the dry-run files do not depend on the registry', async () => {
		const {resolution, tree} = await e2ePlan();
		expect(generateFiles(resolution, tree)).toEqual(generateFiles(resolution, tree));
	});
});

describe('writeFileAtomic', () => {
	test('replaces the file and leaves no temporary file behind', async () => {
		const directory = await mkdtemp(path.join(tmpdir(), 'stackwiz-atomic-'));
		const file = path.join(directory, 'docker-bake.json');
		await writeFile(file, 'old');
		await writeFileAtomic(file, 'new');
		expect(await readFile(file, 'utf8')).toBe('new');
		expect(await readdir(directory)).toEqual(['docker-bake.json']);
	});
});
