import path from 'node:path';
import {bakeArguments, builderNamePattern, generateFiles, shellQuote} from '../core/generate.js';
import {exitCodes, UserError} from '../errors.js';
import {jsonReporter} from '../reporters/json.js';
import {plainReporter} from '../reporters/plain.js';
import {buildTree} from '../services/docker/build-tree.js';
import {writeOutputDirectory, WriteInterruptedError} from '../services/output-writer.js';
import {catalogOptions, type Command} from './command.js';
import {planRecipeFile} from './shared.js';

/**
 * `stackwiz --non-interactive RECIPE`: plan, write the files and (unless --dry-run) build them with
 * `docker buildx bake`, pushing every tier to the recipe's registry and reusing the tiers it has.
 */
export const nonInteractiveCommand: Command = {
	options: {
		...catalogOptions,
		'non-interactive': {type: 'boolean'},
		'dry-run': {type: 'boolean'},
		out: {type: 'string'},
		json: {type: 'boolean'},
		builder: {type: 'string'},
		'no-reuse': {type: 'boolean'},
		'no-push': {type: 'boolean'},
	},
	async run(values, positionals, io, signal) {
		if (positionals.length > 1) {
			throw new UserError(`--non-interactive takes one recipe, got ${positionals.length}.`, 'Run `stackwiz --non-interactive RECIPE`.');
		}

		const {plan} = await planRecipeFile(positionals[0], values, '--non-interactive');
		if (signal.aborted) {
			io.stderr('stackwiz: interrupted while resolving the recipe; nothing was written.\n');
			return exitCodes.interrupted;
		}

		const out = (values['out'] as string | undefined) ?? path.join('.stackwiz', plan.resolution.selection.name);
		const builder = values['builder'] as string | undefined;
		if (builder !== undefined && !builderNamePattern.test(builder)) {
			throw new UserError(`--builder "${builder}" is not a builder name.`, 'Pass a name from `docker buildx ls`, e.g. --builder default.');
		}

		const push = Boolean(plan.tree.registry) && !values['no-push'];
		const files = generateFiles(plan.resolution, plan.tree);
		try {
			await writeOutputDirectory(out, files, signal);
		} catch (error) {
			if (error instanceof WriteInterruptedError) {
				io.stderr(`stackwiz: interrupted while writing; ${out} was not changed.\n`);
				return exitCodes.interrupted;
			}

			throw error;
		}

		if (values['dry-run']) {
			const bake = ['docker', ...bakeArguments(plan.tree, {push, ...(builder ? {builder} : {})})].join(' ');
			io.stderr(`wrote ${plan.tree.nodes.length} Dockerfiles and docker-bake.json to ${out}\n`);
			const secretVariables = [...new Set(plan.tree.nodes.flatMap(node => node.secrets ?? []).map(secret => `$${secret.env}`))];
			if (secretVariables.length > 0) {
				// buildx 0.13 hands a secret whose variable is unset to the step as an empty file, without an error.
				io.stderr(`bake reads build secrets from ${secretVariables.join(', ')}: export ${secretVariables.length === 1 ? 'it' : 'them'} before running the command below.\n`);
			}

			io.stdout(`cd ${shellQuote(out)} && ${bake}\n`);
			return exitCodes.ok;
		}

		if (signal.aborted) {
			io.stderr(`stackwiz: interrupted; the files in ${out} are complete, nothing was built.\n`);
			return exitCodes.interrupted;
		}

		const reporter = values['json'] ? jsonReporter(io) : plainReporter(io);
		try {
			const {exitCode} = await buildTree({
				recipe: plan.resolution.selection.name,
				tree: plan.tree,
				files,
				out,
				push,
				reuse: !values['no-reuse'],
				...(builder ? {builder} : {}),
				signal,
				onEvent: event => {
					reporter.event(event);
				},
			});
			return exitCode;
		} catch (error) {
			// Ctrl-C during preflight or the registry look-ups: whatever failed, it failed because of that.
			if (signal.aborted) {
				io.stderr('stackwiz: interrupted before the build started; nothing was built.\n');
				return exitCodes.interrupted;
			}

			throw error;
		}
	},
};
