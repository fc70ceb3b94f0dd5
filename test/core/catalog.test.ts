import {describe, expect, test} from 'vitest';
import {loadCatalog} from '../../source/services/catalog-loader.js';
import {UserError} from '../../source/errors.js';
import {e2eCatalog, editedCatalogCopy} from '../helpers/catalog.js';

async function catalogError(file: string, edit: (text: string) => string): Promise<string> {
	const directory = await editedCatalogCopy(file, edit);
	const error = await loadCatalog([], directory).catch((error_: unknown) => error_);
	expect(error).toBeInstanceOf(UserError);
	return (error as UserError).message.replaceAll(directory, 'DIR');
}

describe('catalog validation', () => {
	test('the e2e catalog loads and merges its files', async () => {
		const catalog = await e2eCatalog();
		expect(catalog.gpus.map(gpu => gpu.id)).toEqual(['a100', 'v100']);
		expect(catalog.cuda.versions.map(version => version.version)).toEqual(['12.4.1', '12.1.1']);
		expect([...catalog.apps.keys()]).toEqual(['demo']);
	});

	test('a numeric driver version is positioned with the quoting fix', async () => {
		const message = await catalogError('cuda.yaml', text => text.replace('min_driver: "530.30.02"', 'min_driver: 530.30'));
		expect(message).toBe('DIR/cuda.yaml:19:17 versions[1].min_driver: expected a quoted string, got the number 530.3 (YAML reads 12.10 as 12.1); write it as "530.3"');
	});

	test('a lifecycle-rule violation names both resources', async () => {
		const message = await catalogError('apps.yaml', text => text.replace('lifecycle_days: 45', 'lifecycle_days: 400'));
		expect(message).toBe('DIR/apps.yaml:6:21 apps[0].lifecycle_days: lifecycle rule broken: demo (apps tier) is pinned for 400 days, not less than pytorch (framework tier, 120 days); a higher tier must hold resources that change more often, so lower demo\'s lifecycle_days or move it down');
	});

	test('a dangling dependency is named', async () => {
		const message = await catalogError('apps.yaml', text => text.replace('      - version: "1.0"\n', '      - version: "1.0"\n        requires: {tensorflow: ">=2.0.0"}\n'));
		expect(message).toBe('DIR/apps.yaml:3:5 apps[0]: demo 1.0 depends on "tensorflow", which no catalog defines; add it or remove the dependency');
	});

	test('a dependency that points up the tree is refused', async () => {
		const directory = await editedCatalogCopy('python.yaml', text => `${text}common_packages:\n  - id: helper\n    lifecycle_days: 180\n    versions:\n      - version: "1.0"\n        requires: {pytorch: ">=2.0.0"}\n        install: ["true"]\n`);
		const error = await loadCatalog([], directory).catch((error_: unknown) => error_ as UserError);
		expect((error as UserError).message.replaceAll(directory, 'DIR')).toBe('DIR/python.yaml:8:5 common_packages[0]: helper 1.0 (basic tier) depends on pytorch in the higher framework tier; dependencies must point down the tree');
	});

	test('duplicate ids and a dependency cycle are reported together', async () => {
		const cyclic = `sources: ["test"]
components:
  - {id: ucx, name: UCX, category: communication, lifecycle_days: 365, versions: [{version: "1.0", depends: [openmpi], install: ["true"]}]}
  - {id: openmpi, name: Open MPI, category: communication, lifecycle_days: 365, versions: [{version: "1.0", depends: [ucx], install: ["true"]}]}
  - {id: ucx, name: UCX, category: communication, lifecycle_days: 365, versions: [{version: "2.0", install: ["true"]}]}
`;
		const directory = await editedCatalogCopy('apps.yaml', text => text);
		const {writeFile} = await import('node:fs/promises');
		await writeFile(`${directory}/comm.yaml`, cyclic);
		const error = await loadCatalog([], directory).catch((error_: unknown) => error_ as UserError);
		const lines = (error as UserError).message.replaceAll(directory, 'DIR').split('\n');
		expect(lines).toContain('DIR/comm.yaml:5:5 components[2]: duplicate id "ucx"; each must appear once per file');
	});

	test('a multi-line install command is refused: it would inject Dockerfile instructions', async () => {
		const message = await catalogError('os.yaml', text => text.replace('      - "mkdir -p /stackwiz', '      - "true\\nUSER root"\n      - "mkdir -p /stackwiz'));
		expect(message).toBe('DIR/os.yaml:7:9 versions[0].install[0]: a command must be one line (no newline, carriage return or NUL); split it into several list items');
	});

	test('an unknown file shape is named', async () => {
		const directory = await editedCatalogCopy('apps.yaml', text => text);
		const {writeFile} = await import('node:fs/promises');
		await writeFile(`${directory}/notes.yaml`, 'hello: world\n');
		const error = await loadCatalog([], directory).catch((error_: unknown) => error_ as UserError);
		expect((error as UserError).message.replaceAll(directory, 'DIR')).toBe('DIR/notes.yaml:1:1 is not a catalog file: expected a top-level gpus:, extras:, components: or apps: list, or a resource: with tier base, cuda, basic or framework');
	});

	test('a tier named like an Object prototype member is not a catalog kind (found by the property tests)', async () => {
		const directory = await editedCatalogCopy('apps.yaml', text => text);
		const {writeFile} = await import('node:fs/promises');
		await writeFile(`${directory}/odd.yaml`, 'sources: ["test"]\nresource: {id: odd, name: Odd, category: x, relation: task, tier: valueOf, lifecycle_days: 30}\n');
		const error = await loadCatalog([], directory).catch((error_: unknown) => error_ as UserError);
		expect((error as UserError).message.replaceAll(directory, 'DIR')).toBe('DIR/odd.yaml:1:1 is not a catalog file: expected a top-level gpus:, extras:, components: or apps: list, or a resource: with tier base, cuda, basic or framework');
	});

	test('--catalog entries override bundled ones by key', async () => {
		const override = await editedCatalogCopy('apps.yaml', text => text.replace('name: Demo app', 'name: Demo app (site build)'));
		const catalog = await loadCatalog([override], 'test/fixtures/catalog-e2e');
		expect(catalog.apps.get('demo')?.kind.name).toBe('Demo app (site build)');
		expect(catalog.apps.get('demo')?.versions.map(version => version.version)).toEqual(['1.1', '1.0']);
	});
});
