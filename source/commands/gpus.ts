import {smName} from '../core/compat.js';
import {exitCodes} from '../errors.js';
import {catalogOptions, type Command} from './command.js';
import {loadCatalogFor} from './shared.js';

/** `stackwiz gpus`: the GPU models the catalogs know, with the names a recipe may use. */
export const gpusCommand: Command = {
	options: {...catalogOptions, json: {type: 'boolean'}},
	async run(values, _positionals, io) {
		const catalog = await loadCatalogFor(values);
		if (values['json']) {
			io.stdout(`${JSON.stringify(catalog.gpus, null, 2)}\n`);
			return exitCodes.ok;
		}

		const rows = catalog.gpus.map(gpu => [gpu.id.padEnd(22), gpu.name.padEnd(30), `${gpu.computeCapability} ${smName(gpu.computeCapability)}`.padEnd(12), gpu.architecture.padEnd(10), gpu.segment].join(' '));
		io.stdout(`${['id'.padEnd(22), 'name'.padEnd(30), 'capability'.padEnd(12), 'arch'.padEnd(10), 'segment'].join(' ')}\n${rows.join('\n')}\n`);
		return exitCodes.ok;
	},
};
