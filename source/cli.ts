import {readFileSync} from 'node:fs';
import path from 'node:path';
import {parseArgs} from 'node:util';
import {bakeArguments, generateFiles, planJson} from './core/generate.js';
import {planSelection, UnsatisfiableError, type Plan} from './core/plan.js';
import {exitCodes, formatUserError, UserError} from './errors.js';
import {loadCatalog} from './services/catalog-loader.js';
import {writeOutputDirectory} from './services/output-writer.js';
import {formatPlan} from './services/plan-report.js';
import {loadRecipe} from './services/recipe-loader.js';

const usage = `stackwiz: plan, build and push pinned tiers of GPU training images

Usage
  stackwiz                                   interactive wizard (needs a terminal)
  stackwiz --non-interactive RECIPE [options]  build the recipe's images (CI, scripts)
  stackwiz plan RECIPE [--json] [--catalog DIR]  resolve and show the tier tree; writes nothing
  stackwiz gpus [--catalog DIR]              list the GPU models stackwiz knows

Options
  --dry-run          write the Dockerfiles and docker-bake.json and print the bake command; build nothing
  --out DIR          output directory (default .stackwiz/<recipe name>)
  --catalog DIR      merge DIR/*.yaml over the bundled catalogs (repeatable)
  --json             machine-readable output on stdout
  -h, --help         show this help
  -v, --version      show the version

Exit codes: 0 ok, 1 build failed, 2 bad input / unsatisfiable / missing prerequisite, 130 interrupted.`;

type Io = {stdout: (text: string) => void; stderr: (text: string) => void};

const options = {
	'non-interactive': {type: 'boolean'},
	'dry-run': {type: 'boolean'},
	out: {type: 'string'},
	catalog: {type: 'string', multiple: true},
	json: {type: 'boolean'},
	help: {type: 'boolean', short: 'h'},
	version: {type: 'boolean', short: 'v'},
} as const;

function packageVersion(): string {
	const file = new URL('../package.json', import.meta.url);
	return (JSON.parse(readFileSync(file, 'utf8')) as {version: string}).version;
}

function parse(argv: string[]) {
	try {
		return parseArgs({args: argv, options, allowPositionals: true, strict: true});
	} catch (error) {
		throw new UserError(`${(error as Error).message.replace(/\.$/, '')}.`, 'Run `stackwiz --help` for the commands and options.');
	}
}

async function planRecipe(recipeFile: string | undefined, catalogDirectories: string[] | undefined, command: string): Promise<Plan> {
	if (!recipeFile) {
		throw new UserError(`${command} needs a recipe file.`, `Run \`stackwiz ${command} recipes/workstation-rtx4090.yaml\`, or see \`stackwiz --help\`.`);
	}

	const catalog = await loadCatalog(catalogDirectories);
	const selection = await loadRecipe(recipeFile, catalog);
	try {
		return planSelection(catalog, selection);
	} catch (error) {
		if (error instanceof UnsatisfiableError) {
			throw new UserError(`${recipeFile}: nothing fits.\n${error.message}`, 'Relax the recipe (another framework version, a cuda range, a newer driver) or run `stackwiz plan` on it to see each option with its reason.');
		}

		throw error;
	}
}

/** Runs one command line and returns its exit code; never calls process.exit itself. */
export async function run(argv: string[], io: Io): Promise<number> {
	try {
		const {values, positionals} = parse(argv);
		if (values.help) {
			io.stdout(`${usage}\n`);
			return exitCodes.ok;
		}

		if (values.version) {
			io.stdout(`${packageVersion()}\n`);
			return exitCodes.ok;
		}

		const [command, ...rest] = positionals;
		if (values['non-interactive']) {
			const plan = await planRecipe(command, values.catalog, '--non-interactive');
			const out = values.out ?? path.join('.stackwiz', plan.resolution.selection.name);
			await writeOutputDirectory(out, generateFiles(plan.resolution, plan.tree));
			const bake = ['docker', ...bakeArguments(plan.tree, {push: Boolean(plan.tree.registry)})].join(' ');
			if (values['dry-run']) {
				io.stderr(`wrote ${plan.tree.nodes.length} Dockerfiles and docker-bake.json to ${out}\n`);
				io.stdout(`cd ${out} && ${bake}\n`);
				return exitCodes.ok;
			}

			throw new UserError('building is not available in this version of stackwiz.', `Build the written files yourself: cd ${out} && ${bake}`);
		}

		switch (command) {
			case 'plan': {
				if (rest.length > 1) {
					throw new UserError(`plan takes one recipe, got ${rest.length}.`, 'Run `stackwiz plan RECIPE`.');
				}

				const plan = await planRecipe(rest[0], values.catalog, 'plan');
				io.stdout(values.json ? `${JSON.stringify(planJson(plan.resolution, plan.tree), null, 2)}\n` : `${formatPlan(plan)}\n`);
				return exitCodes.ok;
			}

			case 'gpus': {
				const catalog = await loadCatalog(values.catalog);
				const rows = catalog.gpus.map(gpu => `${gpu.name.padEnd(28)} ${gpu.computeCapability.padEnd(5)} ${gpu.architecture.padEnd(10)} ${gpu.segment}`);
				io.stdout(values.json ? `${JSON.stringify(catalog.gpus, null, 2)}\n` : `${rows.join('\n')}\n`);
				return exitCodes.ok;
			}

			case undefined: {
				if (!process.stdin.isTTY || !process.stdout.isTTY) {
					throw new UserError('the interactive wizard needs a terminal, and this run has none.', 'Run `stackwiz --non-interactive RECIPE` (see recipes/ for examples), or `stackwiz --help`.');
				}

				throw new UserError('the interactive wizard is not available in this version of stackwiz.', 'Run `stackwiz --non-interactive RECIPE --dry-run` or `stackwiz plan RECIPE`.');
			}

			default: {
				throw new UserError(`unknown command "${command}".`, 'Run `stackwiz --help` for the commands.');
			}
		}
	} catch (error) {
		if (error instanceof UserError) {
			io.stderr(`stackwiz: ${formatUserError(error)}\n`);
			return error.exitCode;
		}

		throw error;
	}
}
