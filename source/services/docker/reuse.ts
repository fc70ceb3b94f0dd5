import {randomBytes} from 'node:crypto';
import {rename, rm, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {hclLiteral, type BakeFile} from '../../core/generate.js';
import type {TierImage} from '../../core/build-events.js';
import type {TierNode, TierTree} from '../../core/tier-tree.js';
import {unwritableError} from '../output-writer.js';
import {inspectImage} from './registry.js';

/**
 * The bake file without the tiers the registry already has: they leave the group and the targets,
 * and each child that is still built gets its parent as `docker-image://<tag>@<digest>` instead of
 * `target:<parent>`. Pure; the input is not changed.
 */
export function withReusedTiers(bake: BakeFile, tree: TierTree, reused: ReadonlyMap<string, string>): BakeFile {
	const nodes = new Map(tree.nodes.map(node => [node.id, node]));
	const target: BakeFile['target'] = {};
	for (const [id, entry] of Object.entries(bake.target)) {
		if (reused.has(id)) {
			continue;
		}

		const parent = nodes.get(id)?.parent;
		const digest = parent ? reused.get(parent) : undefined;
		target[id] = parent && digest ? {...entry, contexts: {...entry.contexts, parent: `docker-image://${hclLiteral(nodes.get(parent)!.tag)}@${digest}`}} : entry;
	}

	return {
		...bake,
		group: Object.fromEntries(Object.entries(bake.group).map(([name, group]) => [name, {...group, targets: group.targets.filter(id => !reused.has(id))}])),
		target,
	};
}

/** Asks the registry for every tier's content-addressed tag, all at once. Tiers it has come back with their manifest. */
export async function findReusableTiers(nodes: readonly TierNode[], signal?: AbortSignal): Promise<Map<string, TierImage>> {
	const found = await Promise.all(nodes.map(async node => [node.id, await inspectImage(node.tag, signal)] as const));
	return new Map(found.filter((entry): entry is readonly [string, TierImage] => entry[1] !== null && entry[1].digest !== null));
}

/**
 * Replaces a file atomically: a new temporary sibling (exclusive create, so never written through an
 * existing file or link), then a rename over the original. A full disk or a read-only directory is a
 * UserError that says the original is unchanged.
 */
export async function writeFileAtomic(file: string, content: string): Promise<void> {
	const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
	try {
		await writeFile(temporary, content, {flag: 'wx'});
		await rename(temporary, file);
	} catch (error) {
		await rm(temporary, {force: true});
		throw unwritableError(error, file, `${path.basename(file)} was not changed`) ?? error;
	}
}
