// `npm run bench [-- --quick] [-- --only NAME]`: runs the benchmarks, writes bench/results/<name>.json
// and .md. Benchmarks are never part of the test run.
import {parseArgs} from 'node:util';
import {runPlannerBench} from './planner.js';
import {runRebuildBench} from './rebuild.js';
import {runStartupBench} from './startup.js';
import {runStorageBench} from './storage.js';
import {runWizardBench} from './wizard.js';

const {values} = parseArgs({options: {quick: {type: 'boolean'}, only: {type: 'string', multiple: true}}});
// Latency first: after the building benchmarks dockerd and the registry keep the CPUs busy for a while.
const benches = {wizard: runWizardBench, planner: runPlannerBench, startup: runStartupBench, storage: runStorageBench, rebuild: runRebuildBench};
const selected = values.only ?? Object.keys(benches);
for (const name of selected) {
	const bench = benches[name];
	if (!bench) {
		console.error(`unknown benchmark "${name}"; choose from ${Object.keys(benches).join(', ')}`);
		process.exitCode = 2;
		break;
	}

	console.error(`bench ${name}...`);
	const result = await bench({quick: Boolean(values.quick)});
	console.log(`\n## ${name}\n`);
	for (const row of result.rows) {
		console.log(JSON.stringify(row));
	}
}
