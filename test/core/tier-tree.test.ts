import {describe, expect, test} from 'vitest';
import {planSelection} from '../../source/core/plan.js';
import {treeRows} from '../../source/core/tree-layout.js';
import {e2eCatalog, selectionFrom} from '../helpers/catalog.js';

const twoImages = `name: t
gpus: [A100, V100]
registry: reg.example/ml
images:
  - {name: old, framework: pytorch@2.3, apps: [demo@1.0]}
  - {name: new, framework: pytorch@2.4, apps: [demo@1.0]}
`;

describe('planTierTree', () => {
	test('two frameworks on one CUDA line are two branches of one tree', async () => {
		const catalog = await e2eCatalog();
		const {tree} = planSelection(catalog, selectionFrom(catalog, twoImages));
		expect(treeRows(tree).map(row => `${row.prefix}${row.node.id}`)).toEqual([
			'base-busybox1-36',
			'└─ cuda-12-1-1-busybox1-36',
			'   └─ basic-py3-11-cuda12-1-1',
			'      ├─ framework-pytorch2-3-1-cu121-py3-11',
			'      │  └─ apps-demo1-0-pytorch2-3-1',
			'      └─ framework-pytorch2-4-1-cu121-py3-11',
			'         └─ apps-demo1-0-pytorch2-4-1',
		]);
		const basic = tree.nodes.find(node => node.tier === 'basic')!;
		expect(basic.images).toEqual(['old', 'new']);
		expect(tree.leaves.get('new')).toBe('apps-demo1-0-pytorch2-4-1');
	});

	test('tags are content-addressed: equal input, equal tags; the registry only prefixes them', async () => {
		const catalog = await e2eCatalog();
		const first = planSelection(catalog, selectionFrom(catalog, twoImages)).tree;
		const again = planSelection(catalog, selectionFrom(catalog, twoImages)).tree;
		const elsewhere = planSelection(catalog, selectionFrom(catalog, twoImages.replace('reg.example/ml', '127.0.0.1:5000/x'))).tree;
		expect(again.nodes.map(node => node.tag)).toEqual(first.nodes.map(node => node.tag));
		expect(elsewhere.nodes.map(node => node.ref)).toEqual(first.nodes.map(node => node.ref));
		expect(first.nodes[0]!.tag).toMatch(/^reg\.example\/ml\/stackwiz\/base:busybox1\.36-[0-9a-f]{8}$/);
	});

	test('a change in a lower tier changes every tag above it and none below', async () => {
		const catalog = await e2eCatalog();
		const before = planSelection(catalog, selectionFrom(catalog, twoImages)).tree;
		catalog.cuda.install = [...catalog.cuda.install, 'echo patched'];
		const after = planSelection(catalog, selectionFrom(catalog, twoImages)).tree;
		const changed = before.nodes.filter((node, index) => node.tag !== after.nodes[index]!.tag).map(node => node.tier);
		expect(changed).toEqual(['cuda', 'basic', 'framework', 'apps', 'framework', 'apps']);
	});

	test('a changed app rebuilds only the apps tier', async () => {
		const catalog = await e2eCatalog();
		const before = planSelection(catalog, selectionFrom(catalog, twoImages)).tree;
		const after = planSelection(catalog, selectionFrom(catalog, twoImages.replace('{name: new, framework: pytorch@2.4, apps: [demo@1.0]}', '{name: new, framework: pytorch@2.4, apps: [demo@1.1]}'))).tree;
		const beforeTags = new Set(before.nodes.map(node => node.tag));
		expect(after.nodes.filter(node => !beforeTags.has(node.tag)).map(node => node.id)).toEqual(['apps-demo1-1-pytorch2-4-1']);
	});

	test('a patch tier sits on top of the apps tier', async () => {
		const catalog = await e2eCatalog();
		const recipe = `name: t\ngpus: [A100]\nimages:\n  - framework: pytorch@2.4\n    apps: [demo]\n    patch: {version: "2", run: ["echo fix > /stackwiz/patch"]}\n`;
		const {tree} = planSelection(catalog, selectionFrom(catalog, recipe));
		const patch = tree.nodes.at(-1)!;
		expect(patch.tier).toBe('patch');
		expect(patch.parent).toBe('apps-demo1-1-pytorch2-4-1');
		expect(patch.run).toEqual(['echo fix > /stackwiz/patch']);
		expect(patch.image).toBe('pytorch-2-4');
		expect(patch.tag).toMatch(/^stackwiz\/patch:demo1\.1-pytorch2\.4\.1-p2-[0-9a-f]{8}$/);
	});
});
