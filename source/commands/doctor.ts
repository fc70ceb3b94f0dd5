import type {Catalog} from '../core/catalog.js';
import {buildHostReport, formatHostReport, hostReportJson} from '../core/host-report.js';
import {exitCodes, UserError} from '../errors.js';
import {probeHost} from '../services/host/probe-host.js';
import {catalogOptions, type Command, type ParsedValues} from './command.js';
import {loadCatalogFor} from './shared.js';

/** The catalogs, or why they did not load: doctor reports a broken catalog as a finding, not a crash. */
export async function catalogOrProblem(values: ParsedValues): Promise<{catalog?: Catalog; problem?: string}> {
	try {
		return {catalog: await loadCatalogFor(values)};
	} catch (error) {
		if (error instanceof UserError) {
			const [first = '', ...rest] = error.message.split('\n');
			return {problem: rest.length > 0 ? `${first} (and ${rest.length} more)` : first};
		}

		throw error;
	}
}

/**
 * `stackwiz doctor`: GPUs, driver and the CUDA it runs, Docker and its runtimes, the NVIDIA Container
 * Toolkit, CDI specs, buildx and registry logins, each as a check with a fix. It reports and exits 0;
 * a failing check is a finding, not an error.
 */
export const doctorCommand: Command = {
	options: {...catalogOptions, json: {type: 'boolean'}},
	async run(values, positionals, io, signal) {
		if (positionals.length > 0) {
			throw new UserError(`doctor takes no arguments, got "${positionals.join(' ')}".`, 'Run `stackwiz doctor` or `stackwiz doctor --json`.');
		}

		const [{catalog, problem}, probes] = await Promise.all([catalogOrProblem(values), probeHost({signal})]);
		if (signal.aborted) {
			return exitCodes.interrupted;
		}

		const report = buildHostReport(probes, catalog, problem);
		io.stdout(values['json'] ? `${JSON.stringify(hostReportJson(report), null, 2)}\n` : `${formatHostReport(report)}\n`);
		return exitCodes.ok;
	},
};
