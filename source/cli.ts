import {readFileSync} from 'node:fs';
import path from 'node:path';
import {parseArgs} from 'node:util';
import type {Command, Io} from './commands/command.js';
import {exitCodes, formatUserError, UserError} from './errors.js';
import {packageRoot} from './services/package-files.js';

const usage = `stackwiz: plan, build and push pinned tiers of GPU training images

Usage
  stackwiz [--catalog DIR]                       interactive wizard (needs a terminal; writes a recipe)
  stackwiz --non-interactive RECIPE [options]    build the recipe's images (CI, scripts)
  stackwiz plan RECIPE [--json]                  resolve and show the tier tree; writes nothing
  stackwiz plan RECIPE --host [--json]           also say which images would start on this host
  stackwiz gpus [--json]                         list the GPU models stackwiz knows
  stackwiz doctor [--json]                       check GPUs, driver, Docker, NVIDIA Container Toolkit, buildx (exits 0)
  stackwiz verify IMAGE [--cpu] [--json]         check an image here, on the GPU where there is one (exit 1: a check failed)

Options
  --dry-run          write the Dockerfiles and docker-bake.json and print the bake command; build nothing
  --out DIR          output directory (default .stackwiz/<recipe name>)
  --no-reuse         rebuild tiers the registry already has (BuildKit's cache still applies)
  --no-push          build and load into the local image store; push nothing
  --builder NAME     the buildx builder to use
  --catalog DIR      merge DIR/*.yaml over the bundled catalogs (repeatable)
  --no-bundled       use only the --catalog directories, not the bundled catalogs
  --json             machine-readable output on stdout (a build: one JSON event per line)
  -h, --help         show this help
  -v, --version      show the version

Exit codes: 0 ok, 1 build failed, 2 bad input / unsatisfiable / missing prerequisite, 130 interrupted.`;

/** Subcommands load lazily so `--help` and `plan` never pay for Ink or Docker code. */
const commands: Record<string, () => Promise<Command>> = {
	plan: async () => (await import('./commands/plan.js')).planCommand,
	gpus: async () => (await import('./commands/gpus.js')).gpusCommand,
	doctor: async () => (await import('./commands/doctor.js')).doctorCommand,
	verify: async () => (await import('./commands/verify.js')).verifyCommand,
	'--non-interactive': async () => (await import('./commands/non-interactive.js')).nonInteractiveCommand,
	wizard: async () => (await import('./commands/wizard.js')).wizardCommand,
};

function packageVersion(): string {
	const file = path.join(packageRoot, 'package.json');
	return (JSON.parse(readFileSync(file, 'utf8')) as {version: string}).version;
}

/** Options whose value may follow as the next word, which is then not a command (`stackwiz --catalog DIR`). */
const valueOptions = new Set(['--catalog', '--out', '--builder']);

/** The subcommand a command line names: `--non-interactive` anywhere, else the first word. */
function commandName(argv: string[]): string | undefined {
	if (argv.includes('--non-interactive')) {
		return '--non-interactive';
	}

	for (let index = 0; index < argv.length; index++) {
		const argument = argv[index]!;
		if (valueOptions.has(argument)) {
			index++;
		} else if (!argument.startsWith('-')) {
			return argument;
		}
	}

	return undefined;
}

/** node:util's parse errors differ between Node releases; say the same short thing on all of them. */
function parseErrorMessage(error: Error & {code?: string}): string {
	const option = /'(-[^']*)'/.exec(error.message)?.[1] ?? '';
	switch (error.code) {
		case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
			return `unknown option ${option}.`;
		}

		case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
			return `option ${option.split(' ')[0] ?? option} needs a value.`;
		}

		default: {
			return `${error.message.replace(/\.$/, '')}.`;
		}
	}
}

/** Runs one command line and returns its exit code; never calls process.exit itself. */
export async function run(argv: string[], io: Io, signal: AbortSignal = new AbortController().signal): Promise<number> {
	try {
		if (argv.includes('--help') || argv.includes('-h')) {
			io.stdout(`${usage}\n`);
			return exitCodes.ok;
		}

		if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
			io.stdout(`${packageVersion()}\n`);
			return exitCodes.ok;
		}

		const name = commandName(argv);
		const load = name === undefined ? commands['wizard'] : commands[name];
		if (!load) {
			throw name === undefined
				? new UserError('the interactive wizard is not available in this version of stackwiz.', 'Run `stackwiz --non-interactive RECIPE --dry-run` or `stackwiz plan RECIPE`.')
				: new UserError(`unknown command "${name}".`, 'Run `stackwiz --help` for the commands.');
		}

		const command = await load();
		let parsed;
		try {
			parsed = parseArgs({args: argv, options: command.options, allowPositionals: true, strict: true});
		} catch (error) {
			throw new UserError(parseErrorMessage(error as Error & {code?: string}), 'Run `stackwiz --help` for the commands and options.');
		}

		const positionals = name === undefined || name.startsWith('-') ? parsed.positionals : parsed.positionals.slice(1);
		return await command.run(parsed.values as Record<string, string | boolean | string[] | undefined>, positionals, io, signal);
	} catch (error) {
		if (error instanceof UserError) {
			io.stderr(`stackwiz: ${formatUserError(error)}\n`);
			return error.exitCode;
		}

		throw error;
	}
}
