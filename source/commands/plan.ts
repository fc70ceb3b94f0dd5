import {planJson} from '../core/generate.js';
import {buildHostReport, formatPlanOnHost, planOnHost} from '../core/host-report.js';
import {exitCodes, UserError} from '../errors.js';
import {formatPlan} from '../services/plan-report.js';
import {catalogOptions, type Command} from './command.js';
import {planRecipeFile} from './shared.js';

/**
 * `stackwiz plan RECIPE`: resolve and draw the tree; writes nothing and needs no Docker. `gpus: [auto]`
 * and `driver: auto` read this host's nvidia-smi; `--host` also says which images would start here.
 */
export const planCommand: Command = {
	options: {...catalogOptions, json: {type: 'boolean'}, host: {type: 'boolean'}},
	async run(values, positionals, io, signal) {
		if (positionals.length > 1) {
			throw new UserError(`plan takes one recipe, got ${positionals.length}.`, 'Run `stackwiz plan RECIPE`.');
		}

		// Host probing pulls in execa; load it only when a recipe or --host needs it.
		const detectHost = async () => (await import('../services/host/detect-host.js')).detectHostFacts({signal});
		const {plan, catalog} = await planRecipeFile(positionals[0], values, 'plan', detectHost);
		if (!values['host']) {
			io.stdout(values['json'] ? `${JSON.stringify(planJson(plan.resolution, plan.tree), null, 2)}\n` : `${formatPlan(plan)}\n`);
			return exitCodes.ok;
		}

		const {probeGpus} = await import('../services/host/probe-host.js');
		const probes = await probeGpus({signal});
		if (signal.aborted) {
			return exitCodes.interrupted;
		}

		const onHost = planOnHost(plan.tree, buildHostReport(probes, catalog));
		io.stdout(values['json']
			? `${JSON.stringify({...planJson(plan.resolution, plan.tree), host: onHost}, null, 2)}\n`
			: `${formatPlan(plan)}\n\n${formatPlanOnHost(onHost)}\n`);
		return exitCodes.ok;
	},
};
