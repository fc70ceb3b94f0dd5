import {planJson} from '../core/generate.js';
import {exitCodes, UserError} from '../errors.js';
import {formatPlan} from '../services/plan-report.js';
import {catalogOptions, type Command} from './command.js';
import {planRecipeFile} from './shared.js';

/** `stackwiz plan RECIPE`: resolve and draw the tree; writes nothing and needs no Docker. */
export const planCommand: Command = {
	options: {...catalogOptions, json: {type: 'boolean'}},
	async run(values, positionals, io) {
		if (positionals.length > 1) {
			throw new UserError(`plan takes one recipe, got ${positionals.length}.`, 'Run `stackwiz plan RECIPE`.');
		}

		const {plan} = await planRecipeFile(positionals[0], values, 'plan');
		io.stdout(values['json'] ? `${JSON.stringify(planJson(plan.resolution, plan.tree), null, 2)}\n` : `${formatPlan(plan)}\n`);
		return exitCodes.ok;
	},
};
