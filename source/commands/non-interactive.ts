import path from 'node:path';
import {bakeArguments, generateFiles} from '../core/generate.js';
import {exitCodes, UserError} from '../errors.js';
import {writeOutputDirectory} from '../services/output-writer.js';
import {catalogOptions, type Command} from './command.js';
import {planRecipeFile} from './shared.js';

/** `stackwiz --non-interactive RECIPE`: plan, write the files and (unless --dry-run) build them. */
export const nonInteractiveCommand: Command = {
	options: {...catalogOptions, 'non-interactive': {type: 'boolean'}, 'dry-run': {type: 'boolean'}, out: {type: 'string'}},
	async run(values, positionals, io) {
		if (positionals.length > 1) {
			throw new UserError(`--non-interactive takes one recipe, got ${positionals.length}.`, 'Run `stackwiz --non-interactive RECIPE`.');
		}

		const {plan} = await planRecipeFile(positionals[0], values, '--non-interactive');
		const out = (values['out'] as string | undefined) ?? path.join('.stackwiz', plan.resolution.selection.name);
		await writeOutputDirectory(out, generateFiles(plan.resolution, plan.tree));
		const bake = ['docker', ...bakeArguments(plan.tree, {push: Boolean(plan.tree.registry)})].join(' ');
		if (values['dry-run']) {
			io.stderr(`wrote ${plan.tree.nodes.length} Dockerfiles and docker-bake.json to ${out}\n`);
			io.stdout(`cd ${out} && ${bake}\n`);
			return exitCodes.ok;
		}

		throw new UserError('building is not available in this version of stackwiz.', `Build the written files yourself: cd ${out} && ${bake}`);
	},
};
