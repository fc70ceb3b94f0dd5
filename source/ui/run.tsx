import {render} from 'ink';
import type {Catalog} from '../core/catalog.js';
import type {HostHints} from '../core/wizard-state.js';
import {App} from './app.js';
import type {WizardServices} from './services.js';

export type RunWizardOptions = {
	catalog: Catalog;
	host?: HostHints;
	hostNote?: string;
	services: WizardServices;
	noColor: boolean;
	/** Aborted by SIGINT/SIGTERM: the app stops a running bake and exits 130. */
	signal?: AbortSignal;
};

/**
 * Renders the wizard on the terminal and resolves with the exit code. Only the wizard command
 * imports this module, so no other command loads Ink. Ctrl+C is handled by the app (it stops a
 * running bake first), hence exitOnCtrlC: false.
 */
export async function runWizard(options: RunWizardOptions): Promise<number> {
	let code = 0;
	let epilogue: string[] = [];
	// Nothing else reads stdin before the wizard, but a paused stdin would make Ink exit at once.
	process.stdin.resume();
	const instance = render(
		<App
			catalog={options.catalog}
			{...(options.host ? {host: options.host} : {})}
			{...(options.hostNote ? {hostNote: options.hostNote} : {})}
			services={options.services}
			noColor={options.noColor}
			{...(options.signal ? {signal: options.signal} : {})}
			onExit={(exitCode, lines) => {
				code = exitCode;
				epilogue = lines;
			}}
		/>,
		{exitOnCtrlC: false, patchConsole: true, maxFps: 30},
	);
	try {
		await instance.waitUntilExit();
	} catch {
		// Ink rejects when a component throws; never exit 0 after an error.
		return code === 0 ? 1 : code;
	} finally {
		instance.cleanup();
		process.stdin.pause();
	}

	// Printed after Ink's last frame and unwrapped, so the terminal soft-wraps and copying keeps each command whole.
	if (epilogue.length > 0) {
		process.stdout.write(`${epilogue.join('\n')}\n`);
	}

	return code;
}
