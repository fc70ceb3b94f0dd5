import {createHash} from 'node:crypto';
import type {Catalog} from './catalog.js';
import type {TierName} from './catalog-schema.js';
import {secretPath, type BuildSecret} from './recipe.js';
import type {ChosenAddOn, ResolvedImage} from './resolve.js';
import {fillAll, fillTemplate, type TemplateValues} from './template.js';
import {majorMinor} from './versions.js';

export type TierResource = {id: string; name: string; version: string};

/** One node of the tree: one image tier, built FROM its parent. */
export type TierNode = {
	/** Bake target name. */
	id: string;
	tier: TierName;
	parent: string | null;
	/** FROM of the root tier (the public OS image); children build FROM their parent. */
	from?: string;
	/** SHELL of the root tier; tiers above inherit it through the image config. */
	shell?: string[];
	resources: TierResource[];
	env: Array<[string, string]>;
	run: string[];
	/** Build secrets some RUN step of this tier reads (at `/run/secrets/<id>`); absent when none. */
	secrets?: BuildSecret[];
	/** sha256 of the parent's hash and this node's content: equal tiers get equal tags anywhere. */
	contentHash: string;
	/** Human part of the tag: "12.4.1-cudnn9-ubuntu22.04". */
	readable: string;
	/** Repository and tag without the registry: "stackwiz/cuda:12.4.1-cudnn9-ubuntu22.04-1a2b3c4d". */
	ref: string;
	/** Full tag users push and pull. */
	tag: string;
	/** Names of the images this tier is part of. */
	images: string[];
	/** The image whose top tier this is, if any. */
	image: string | null;
};

export type TierTree = {
	registry?: string;
	nodes: TierNode[];
	/** Image name -> its top node id. */
	leaves: Map<string, string>;
	images: ResolvedImage[];
};

export class PlanError extends Error {}

type Draft = Omit<TierNode, 'id' | 'parent' | 'contentHash' | 'ref' | 'tag' | 'images' | 'image'>;

const resource = (id: string, name: string, version: string): TierResource => ({id, name, version});
const addOnResources = (choices: ChosenAddOn[]) => choices.map(choice => resource(choice.catalog.kind.id, choice.catalog.kind.name, choice.version.version));

/** Everything install steps and ENV templates may reference for one image. */
export function templateValues(catalog: Catalog, image: ResolvedImage): TemplateValues {
	const {os, cuda, python, framework} = image;
	const [major = '', minor = '', patch = '0'] = cuda.version.split('.');
	const values: TemplateValues = {
		'os.id': os.kind.id,
		'os.version': os.version,
		'os.codename': os.codename,
		'os.apt_repo': os.aptRepo,
		'os.image': os.image,
		'os.toolchain': os.toolchain.length > 0 ? os.toolchain.join(' ') : undefined,
		'cuda.version': cuda.version,
		'cuda.major': major,
		'cuda.minor': minor,
		'cuda.patch': patch,
		'cuda.major_minor': majorMinor(cuda.version),
		'cuda.dash': `${major}-${minor}`,
		'cuda.cudart': cuda.cudart,
		'cuda.nccl': cuda.nccl,
		'cuda.cudnn_package': cuda.cudnn?.package,
		'cuda.cudnn_version': cuda.cudnn?.version,
		'cuda.cudnn_pin': cuda.cudnn ? cudnnPin(cuda.cudnn, major) : undefined,
		'cuda.nccl_pin': cuda.nccl ? `libnccl2=${cuda.nccl}+cuda${majorMinor(cuda.version)}` : undefined,
		'cuda.require_cuda': cuda.require_cuda,
		'python.version': python.version,
		'python.patch': python.patch,
		'python.uv_version': catalog.python.uvVersion,
		'image.cuda_arch_list': image.cudaArchList,
		'framework.id': framework.catalog.kind.id,
		'framework.version': framework.version.version,
		'framework.index_url': framework.variant.index_url,
		'framework.cuda': framework.variant.cuda,
		'framework.cuda_tag': `cu${framework.variant.cuda.replace('.', '')}`,
		'framework.packages': [
			`${frameworkPackage(framework.catalog.kind.id)}==${framework.version.version}`,
			...image.companions.map(companion => `${companion.id}==${companion.version}`),
		].join(' '),
	};
	for (const companion of image.companions) {
		values[`framework.${companion.id}`] = companion.version;
	}

	return values;
}

/**
 * The apt pin of NVIDIA's cuDNN package. cuDNN 9 versions carry their Debian revision
 * ("libcudnn9-cuda-12=9.1.0.70-1"); cuDNN 8 versions do not, and NVIDIA's Dockerfiles append
 * "-1+cudaX.Y" for the CUDA line the build targets, so any build of this major matches.
 */
function cudnnPin(cudnn: {package: string; version: string}, cudaMajor: string): string {
	return cudnn.version.includes('-') ? `${cudnn.package}=${cudnn.version}` : `${cudnn.package}=${cudnn.version}-1+cuda${cudaMajor}.*`;
}

/** PyPI name of a framework id (torch for pytorch). */
const frameworkPackage = (id: string) => (id === 'pytorch' ? 'torch' : id);

function addOnRun(choices: ChosenAddOn[], values: TemplateValues): string[] {
	return choices.flatMap(choice => fillAll(choice.version.install, {...values, 'self.id': choice.catalog.kind.id, 'self.version': choice.version.version}, `${choice.catalog.kind.file}: ${choice.catalog.kind.id} ${choice.version.version} install`));
}

function fillEnv(env: Record<string, string>, values: TemplateValues, owner: string): Array<[string, string]> {
	return Object.entries(env).flatMap(([key, value]): Array<[string, string]> => {
		const filled = fillTemplate(value, values, `${owner} env ${key}`);
		return filled === undefined ? [] : [[key, filled]];
	});
}

/** The tiers of one image, bottom up, before they are linked and hashed. */
function imageTiers(catalog: Catalog, image: ResolvedImage): Draft[] {
	const values = templateValues(catalog, image);
	const {os, cuda, python, framework} = image;
	const cudnnMajor = cuda.cudnn ? `-cudnn${cuda.cudnn.version.split('.')[0]}` : '';
	const compatEnv: Array<[string, string]> = image.compat === 'forward'
		? [['LD_LIBRARY_PATH', `/usr/local/cuda/compat:${fillTemplate(catalog.cuda.env['LD_LIBRARY_PATH'] ?? '', values, 'cuda') ?? ''}`.replace(/:$/, '')]]
		: [];
	const cudaEnv = new Map<string, string>([
		...fillEnv(catalog.cuda.env, values, catalog.cuda.kind.file),
		['NVIDIA_VISIBLE_DEVICES', 'all'],
		['NVIDIA_DRIVER_CAPABILITIES', 'compute,utility'],
		['NVIDIA_REQUIRE_CUDA', cuda.require_cuda ?? `cuda>=${majorMinor(cuda.version)}`],
		...compatEnv,
	]);
	const bundled = catalog.cuda.bundled.flatMap(library => {
		const version = library.id === 'cudnn' ? cuda.cudnn?.version : library.id === 'nccl' ? cuda.nccl : undefined;
		return version ? [resource(library.id, library.name, version.replace(/-\d+(\+.*)?$/, ''))] : [];
	});

	const tiers: Draft[] = [
		{
			tier: 'base',
			from: os.image,
			...(os.shell ? {shell: os.shell} : {}),
			resources: [resource(os.kind.id, os.kind.name, os.version)],
			env: fillEnv(os.env, values, os.kind.file),
			run: fillAll(os.install, values, `${os.kind.file}: ${os.token} install`),
			readable: os.token,
		},
		{
			tier: 'cuda',
			resources: [resource('cuda', catalog.cuda.kind.name, cuda.version), ...bundled, ...addOnResources(image.components)],
			env: [...cudaEnv],
			run: [
				...fillAll(catalog.cuda.install, values, `${catalog.cuda.kind.file}: install`),
				...(image.devel ? fillAll(catalog.cuda.develInstall, values, `${catalog.cuda.kind.file}: devel_install`) : []),
				...addOnRun(image.components, values),
			],
			readable: `${cuda.version}${cudnnMajor}${image.devel ? '-devel' : ''}-${os.token}`,
		},
		{
			tier: 'basic',
			resources: [resource('python', catalog.python.kind.name, python.patch), ...addOnResources(image.common)],
			env: fillEnv(catalog.python.env, values, catalog.python.kind.file),
			run: [
				...fillAll(python.install ?? catalog.python.install, values, `${catalog.python.kind.file}: python ${python.version} install`),
				...addOnRun(image.common, values),
			],
			readable: `py${python.version}-cuda${cuda.version}`,
		},
		{
			tier: 'framework',
			resources: [
				resource(framework.catalog.kind.id, framework.catalog.kind.name, framework.version.version),
				...image.companions.map(companion => resource(companion.id, companion.id, companion.version)),
				...addOnResources(image.extras),
			],
			env: fillEnv(framework.catalog.env, values, framework.catalog.kind.file),
			run: [...fillAll(framework.catalog.install, values, `${framework.catalog.kind.file}: install`), ...addOnRun(image.extras, values)],
			readable: `${framework.catalog.kind.id}${framework.version.version}-cu${framework.variant.cuda.replace('.', '')}-py${python.version}${image.extras.map(extra => `-${extra.catalog.kind.id}`).join('')}`,
		},
	];

	if (image.apps.length > 0) {
		tiers.push({
			tier: 'apps',
			resources: addOnResources(image.apps),
			env: [],
			run: addOnRun(image.apps, values),
			readable: `${image.apps.map(app => `${app.catalog.kind.id}${app.version.version}`).join('-')}-${framework.catalog.kind.id}${framework.version.version}`,
		});
	}

	if (image.patch) {
		const below = tiers.at(-1)!;
		tiers.push({
			tier: 'patch',
			resources: [resource('patch', `patch of ${image.name}`, image.patch.version)],
			env: [],
			run: image.patch.run,
			readable: `${below.readable}-p${image.patch.version}`,
		});
	}

	return tiers;
}

/** The declared secrets a command reads: it names `/run/secrets/<id>` (and not a longer id). */
export function secretsReadBy(command: string, secrets: readonly BuildSecret[]): BuildSecret[] {
	return secrets.filter(secret => {
		const path = secretPath(secret.id);
		let index = command.indexOf(path);
		while (index !== -1) {
			if (!/[A-Za-z0-9_.-]/.test(command[index + path.length] ?? '')) {
				return true;
			}

			index = command.indexOf(path, index + 1);
		}

		return false;
	});
}

function hashNode(parentHash: string, draft: Draft): string {
	// The secret ids change the RUN lines (their mounts), not the values; tiers without secrets keep their old hashes.
	const content = JSON.stringify([parentHash, draft.tier, draft.from ?? null, ...(draft.shell ? [draft.shell] : []), draft.resources, draft.env, draft.run, ...(draft.secrets ? [draft.secrets.map(secret => secret.id)] : [])]);
	return createHash('sha256').update(content).digest('hex');
}

/** Docker tags allow [A-Za-z0-9_.-], at most 128 characters. */
function tagSafe(readable: string, hash8: string): string {
	const clean = readable.replaceAll(/[^A-Za-z0-9_.-]/g, '-');
	return `${clean.slice(0, 127 - hash8.length - 1)}-${hash8}`;
}

const slug = (text: string) => text.toLowerCase().replaceAll(/[^a-z0-9]+/g, '-').replaceAll(/^-|-$/g, '');

/**
 * Merges the tiers of every image into one tree. Tiers with equal content below and equal content
 * of their own are one node, so two frameworks on one CUDA line share base, cuda and basic.
 */
export function planTierTree(catalog: Catalog, images: ResolvedImage[], registry?: string, secrets: readonly BuildSecret[] = []): TierTree {
	const byHash = new Map<string, TierNode>();
	const leaves = new Map<string, string>();
	for (const image of images) {
		let parent: TierNode | undefined;
		for (const plain of imageTiers(catalog, image)) {
			const used = secrets.filter(secret => plain.run.some(command => secretsReadBy(command, [secret]).length > 0));
			const draft: Draft = used.length > 0 ? {...plain, secrets: used} : plain;
			const contentHash = hashNode(parent?.contentHash ?? '', draft);
			let node = byHash.get(contentHash);
			if (!node) {
				const ref = `stackwiz/${draft.tier}:${tagSafe(draft.readable, contentHash.slice(0, 8))}`;
				node = {
					...draft,
					id: '',
					// The parent's hash until ids are assigned below.
					parent: parent?.contentHash ?? null,
					contentHash,
					ref,
					tag: registry ? `${registry}/${ref}` : ref,
					images: [],
					image: null,
				};
				byHash.set(contentHash, node);
			}

			if (!node.images.includes(image.name)) {
				node.images.push(image.name);
			}

			parent = node;
		}

		parent!.image ??= image.name;
		leaves.set(image.name, parent!.contentHash);
	}

	const nodes = [...byHash.values()];
	const idByHash = assignIds(nodes);
	for (const node of nodes) {
		node.id = idByHash.get(node.contentHash)!;
		node.parent = node.parent === null ? null : idByHash.get(node.parent)!;
	}

	return {
		...(registry ? {registry} : {}),
		nodes,
		leaves: new Map([...leaves].map(([image, hash]) => [image, idByHash.get(hash)!])),
		images,
	};
}

/** Readable, unique bake target names: "cuda-12-4-1-cudnn9-ubuntu22-04", with the hash only on a clash. */
function assignIds(nodes: TierNode[]): Map<string, string> {
	const base = (node: TierNode) => `${node.tier}-${slug(node.readable)}`.slice(0, 60).replace(/-$/, '');
	const counts = new Map<string, number>();
	for (const node of nodes) {
		counts.set(base(node), (counts.get(base(node)) ?? 0) + 1);
	}

	return new Map(nodes.map(node => [node.contentHash, counts.get(base(node))! > 1 ? `${base(node)}-${node.contentHash.slice(0, 8)}` : base(node)]));
}
