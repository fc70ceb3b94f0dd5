import {mkdir, stat} from 'node:fs/promises';
import path from 'node:path';
import type {BuildEvent} from '../core/build-events.js';
import type {HostHints} from '../core/wizard-state.js';
import {exitCodes, UserError} from '../errors.js';
import {writeOutputDirectory} from '../services/output-writer.js';
import type {BuildRequest, WizardServices} from '../ui/services.js';
import {catalogOptions, type Command, type Io} from './command.js';
import {loadCatalogFor} from './shared.js';

type Streams = {stdin: {isTTY?: boolean; setRawMode?: unknown}; stdout: {isTTY?: boolean}};

/**
 * Why the wizard cannot run here, or undefined when it can: it needs raw keys on stdin and a
 * terminal to draw on, and CI runs are headless by definition.
 */
export function interactiveProblem(streams: Streams, env: Record<string, string | undefined>): string | undefined {
	if (!streams.stdin.isTTY || typeof streams.stdin.setRawMode !== 'function') {
		return 'stdin is not a terminal';
	}

	if (!streams.stdout.isTTY) {
		return 'stdout is not a terminal';
	}

	const ci = env['CI'] ?? env['CONTINUOUS_INTEGRATION'];
	if (ci !== undefined && ci !== '0' && ci !== 'false') {
		return 'CI is set';
	}

	return undefined;
}

/** Turns the callback-driven build into the event stream the build screen reads. */
async function * buildEvents(request: BuildRequest, signal: AbortSignal): AsyncGenerator<BuildEvent> {
	const {buildTree} = await import('../services/docker/build-tree.js');
	const queue: BuildEvent[] = [];
	let wake: (() => void) | undefined;
	let done = false;
	let failure: unknown;
	const running = buildTree({
		recipe: request.recipe,
		tree: request.plan.tree,
		files: request.files,
		out: request.out,
		push: request.push,
		reuse: request.push,
		signal,
		onEvent(event) {
			queue.push(event);
			wake?.();
		},
	}).catch((error: unknown) => {
		failure = error;
	}).finally(() => {
		done = true;
		wake?.();
	});

	while (true) {
		if (queue.length > 0) {
			yield queue.shift()!;
			continue;
		}

		if (done) {
			break;
		}

		await new Promise<void>(resolve => {
			wake = resolve;
		});
		wake = undefined;
	}

	await running;
	if (failure) {
		throw failure;
	}
}

/** The wizard's side effects, on the real file system, registry and docker. */
export function wizardServices(): WizardServices {
	return {
		async saveRecipe(file, text) {
			const {writeFileAtomic} = await import('../services/docker/reuse.js');
			await mkdir(path.dirname(path.resolve(file)), {recursive: true});
			await writeFileAtomic(path.resolve(file), text);
		},
		async fileExists(file) {
			return stat(path.resolve(file)).then(() => true, () => false);
		},
		writeFiles: writeOutputDirectory,
		async checkRegistry(registry, nodes, signal) {
			const [{checkRegistry, withDeadline}, {findReusableTiers}] = await Promise.all([import('../services/docker/registry.js'), import('../services/docker/reuse.js')]);
			// AbortSignal.timeout inside AbortSignal.any can be collected before it fires on Node 20.
			const limited = withDeadline(signal, 20_000);
			try {
				// An unreachable registry rejects here, so the review says it could not ask instead of "0 found".
				await checkRegistry(registry, limited.signal);
				const found = await findReusableTiers(nodes, limited.signal);
				return new Set(found.keys());
			} finally {
				limited.done();
			}
		},
		build: buildEvents,
	};
}

async function hostHints(): Promise<{host?: HostHints; note: string}> {
	try {
		const {detectHostFacts} = await import('../services/host/detect-host.js');
		const facts = await detectHostFacts({timeoutMs: 5000});
		if (facts.gpuNames.length === 0) {
			return {note: 'No NVIDIA GPU seen here (nvidia-smi): pick the models of the nodes the images will run on.'};
		}

		return {
			host: facts,
			note: `Pre-selected from nvidia-smi: ${facts.gpuNames.join(', ')}${facts.driver ? `, driver ${facts.driver}` : ''}.`,
		};
	} catch {
		return {note: 'GPU detection failed: pick the models of the nodes the images will run on.'};
	}
}

function explainHeadless(io: Io, why: string): number {
	io.stderr(`stackwiz: the interactive wizard needs a terminal (${why}).\nRun \`stackwiz --non-interactive RECIPE\` instead (add --dry-run to only write the files); \`stackwiz --help\` shows the rest.\n`);
	return exitCodes.badInput;
}

/**
 * `stackwiz` with no command: the interactive wizard. The terminal check comes first and Ink is
 * imported only after it, so a pipe, CI or `--help` never load it.
 */
export const wizardCommand: Command = {
	options: {...catalogOptions},
	async run(values, positionals, io, signal) {
		if (positionals.length > 0) {
			throw new UserError(`unknown command "${positionals[0]}".`, 'Run `stackwiz` alone for the wizard, or `stackwiz --help` for the commands.');
		}

		const why = interactiveProblem(process, process.env);
		if (why) {
			return explainHeadless(io, why);
		}

		const noColor = Boolean(process.env['NO_COLOR']);
		if (noColor && process.env['FORCE_COLOR'] === undefined) {
			// Chalk reads this once when Ink loads: no ANSI colour at all.
			process.env['FORCE_COLOR'] = '0';
		}

		// React's development build checks every render twice over; a user's terminal wants the production one.
		process.env['NODE_ENV'] ??= 'production';
		// Loading Ink and React takes most of the start-up; do it while the catalogs load and nvidia-smi answers.
		const ui = import('../ui/run.js');
		ui.catch(() => undefined);
		const [catalog, {host, note}] = await Promise.all([loadCatalogFor(values), hostHints()]);
		const {runWizard} = await ui;
		return runWizard({catalog, ...(host ? {host} : {}), hostNote: note, services: wizardServices(), noColor, signal});
	},
};
